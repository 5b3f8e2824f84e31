package main

import (
	"errors"
	"fmt"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/workflows"
)

// WorkerOptions configures the worker group of one process.
type WorkerOptions struct {
	// TaskQueue is the main queue: workflows and PostgreSQL-only activities.
	TaskQueue string
	// MaxActivities bounds concurrent activities per worker (default 200).
	MaxActivities int
	// SalesforcePerSecond and JiraPerSecond are the TaskQueueActivitiesPerSecond of the two API
	// queues. The server enforces them per queue, across every worker polling it, so the limit
	// holds however many worker processes run. 0 means no limit. Every worker of a deployment
	// must use the same values: the server keeps the one polled last.
	SalesforcePerSecond float64
	JiraPerSecond       float64
}

// Workers is the group of Temporal workers one process runs: the main queue, the Salesforce
// activity queue and the Jira activity queue. They start and stop together.
type Workers struct {
	queues  []string
	workers []worker.Worker
}

// NewWorkerWith builds the worker group. Every worker registers every activity (an activity
// finds its dependencies in acts whichever queue runs it); the queue an activity runs on is chosen
// by the workflow (workflows.SalesforceTaskQueue, workflows.JiraTaskQueue).
func NewWorkerWith(c client.Client, o WorkerOptions, acts *activities.Activities) *Workers {
	g := &Workers{}
	main := newMainWorker(c, o.TaskQueue, o.MaxActivities, acts)
	g.add(o.TaskQueue, main)
	for _, q := range []struct {
		name string
		rate float64
	}{{workflows.SalesforceTaskQueue(o.TaskQueue), o.SalesforcePerSecond}, {workflows.JiraTaskQueue(o.TaskQueue), o.JiraPerSecond}} {
		opts := worker.Options{
			MaxConcurrentActivityExecutionSize: o.MaxActivities,
			MaxConcurrentActivityTaskPollers:   8,
			DisableWorkflowWorker:              true,
			Interceptors:                       activityInterceptors(acts),
		}
		if opts.MaxConcurrentActivityExecutionSize <= 0 {
			opts.MaxConcurrentActivityExecutionSize = 200
		}
		if q.rate > 0 {
			opts.TaskQueueActivitiesPerSecond = q.rate
		}
		w := worker.New(c, q.name, opts)
		w.RegisterActivity(acts)
		g.add(q.name, w)
	}
	return g
}

func (g *Workers) add(queue string, w worker.Worker) {
	g.queues = append(g.queues, queue)
	g.workers = append(g.workers, w)
}

// activityInterceptors are the worker interceptors of every sfjira worker: PII values scrubbed
// from activity errors (outermost, so it sees every error the worker reports), jittered retries.
func activityInterceptors(acts *activities.Activities) []interceptor.WorkerInterceptor {
	return []interceptor.WorkerInterceptor{&activities.PIIRedaction{Mappings: acts.Mappings}, &activities.RetryJitter{}}
}

// Queues lists the task queues the group polls.
func (g *Workers) Queues() []string { return append([]string(nil), g.queues...) }

// Start starts every worker; if one fails, the ones started are stopped again.
func (g *Workers) Start() error {
	for i, w := range g.workers {
		if err := w.Start(); err != nil {
			for j := i - 1; j >= 0; j-- {
				g.workers[j].Stop()
			}
			return fmt.Errorf("task queue %s: %w", g.queues[i], err)
		}
	}
	return nil
}

// Stop stops every worker, the main one last so its workflows can still complete activity results
// already handed to it.
func (g *Workers) Stop() {
	for i := len(g.workers) - 1; i >= 0; i-- {
		g.workers[i].Stop()
	}
}

var errNoWorkers = errors.New("no workers")

// Main returns the main queue's worker (workflow registrations live there).
func (g *Workers) Main() (worker.Worker, error) {
	if len(g.workers) == 0 {
		return nil, errNoWorkers
	}
	return g.workers[0], nil
}

// workerName names this process in shared state (the API budget rows): host and pid.
func workerName() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", h, os.Getpid())
}
