package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/logging"
	"github.com/sfjira/sfjira/workflows"
)

// rateProbe is an activity that reports when it started; it is registered on the two API queues
// of a production worker group, so its start times show the rate the server dispatches at.
func rateProbe(ctx context.Context) (int64, error) {
	return activity.GetInfo(ctx).StartedTime.UnixNano(), nil
}

// rateProbeWorkflow starts n probes on each API queue at once and returns their start times.
func rateProbeWorkflow(ctx workflow.Context, queue string, n int) (map[string][]int64, error) {
	futures := map[string][]workflow.Future{}
	for _, q := range []string{workflows.JiraTaskQueue(queue), workflows.SalesforceTaskQueue(queue)} {
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{TaskQueue: q, StartToCloseTimeout: time.Minute,
			ScheduleToCloseTimeout: 5 * time.Minute})
		for i := 0; i < n; i++ {
			futures[q] = append(futures[q], workflow.ExecuteActivity(actx, "RateProbe"))
		}
	}
	out := map[string][]int64{}
	for q, fs := range futures {
		for _, f := range fs {
			var at int64
			if err := f.Get(ctx, &at); err != nil {
				return nil, err
			}
			out[q] = append(out[q], at)
		}
	}
	return out, nil
}

// TestTaskQueueRateLimitsHoldPerSystem measures the rate-limit budget on a real dev server: with
// jira_activities_per_second at 5, N Jira activities take at least about N/5 seconds to start,
// while the Salesforce queue (at its default 50/s) starts its N at once beside them. The server
// enforces TaskQueueActivitiesPerSecond per queue across all workers, so this is the cap every
// worker process shares.
func TestTaskQueueRateLimitsHoldPerSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs bin/temporal")
	}
	const n, jiraRate, sfRate = 30, 5.0, 50.0
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cli := os.Getenv("TEMPORAL_CLI_PATH")
	if cli == "" {
		cli, _ = filepath.Abs("../bin/temporal")
	}
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("Temporal CLI not found at %s (fix: run `make test`, which builds bin/temporal, or set TEMPORAL_CLI_PATH)", cli)
	}
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{ExistingPath: cli, LogLevel: "error",
		ClientOptions: &client.Options{Namespace: "default", Logger: logging.NewTemporal(zap.NewNop())}})
	require.NoError(t, err)
	defer func() { _ = srv.Stop() }()
	tc := srv.Client()

	queue := "sfjira-rate-" + uuid.NewString()[:8]
	acts := &activities.Activities{Log: zap.NewNop()}
	g := NewWorkerWith(tc, WorkerOptions{TaskQueue: queue, MaxActivities: 200, SalesforcePerSecond: sfRate, JiraPerSecond: jiraRate}, acts)
	require.Len(t, g.workers, 3)
	for _, w := range g.workers[1:] { // the Salesforce and Jira queues, with the production options
		w.RegisterActivityWithOptions(rateProbe, activity.RegisterOptions{Name: "RateProbe"})
	}
	main, err := g.Main()
	require.NoError(t, err)
	main.RegisterWorkflowWithOptions(rateProbeWorkflow, workflow.RegisterOptions{Name: "RateProbeWorkflow"})
	require.NoError(t, g.Start())
	defer g.Stop()

	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "rate-probe-" + queue, TaskQueue: queue}, "RateProbeWorkflow", queue, n)
	require.NoError(t, err)
	var starts map[string][]int64
	require.NoError(t, run.Get(ctx, &starts))

	spread := func(q string) (time.Duration, float64) {
		ts := starts[q]
		require.Len(t, ts, n, q)
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
		d := time.Duration(ts[n-1] - ts[0])
		return d, float64(n-1) / d.Seconds()
	}
	jd, jr := spread(workflows.JiraTaskQueue(queue))
	sd, sr := spread(workflows.SalesforceTaskQueue(queue))
	t.Logf("Jira queue (cap %.0f/s): %d activities started over %s = %.2f/s; Salesforce queue (cap %.0f/s): %d over %s = %.1f/s",
		jiraRate, n, jd.Round(time.Millisecond), jr, sfRate, n, sd.Round(time.Millisecond), sr)

	// The server's limiter lets a burst of up to one second's worth through at once, then holds
	// the rate: N activities need at least (N - rate) / rate seconds.
	minJira := time.Duration((float64(n) - jiraRate) / jiraRate * float64(time.Second))
	require.GreaterOrEqual(t, jd, minJira*9/10, "the Jira cap of %.0f/s holds", jiraRate)
	require.LessOrEqual(t, jr, jiraRate*1.25, "the Jira queue does not start faster than its cap")
	require.Less(t, sd, 2*time.Second, "the Salesforce queue is not held back by the Jira cap")
	require.Less(t, sd, jd/2, fmt.Sprintf("Salesforce %s vs Jira %s", sd, jd))
}
