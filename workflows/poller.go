package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
)

// PollerInput is the single input of ChangePoller.
type PollerInput struct {
	Pair   string
	Source string // activities.SourceSalesforce or activities.SourceJira
	// IntervalSeconds is the poll interval while the API budget is healthy.
	IntervalSeconds int
	// Polls counts polls across continue-as-new, for the UI; Failures the polls failed in a row.
	Polls    int
	Failures int
}

// pollsPerRun bounds one run's history; the poller then continues as new.
const pollsPerRun = 200

// PollerWorkflowID is the one poller of a pair and source.
func PollerWorkflowID(source, pair string) string { return "poller/" + source + "/" + pair }

// ChangePoller is change capture by polling for one pair and one source (Salesforce
// SystemModstamp, or Jira `updated` as the fallback for lost webhooks). Each poll is an activity
// that hands the changes to the pairs' workflows and moves a durable watermark in PostgreSQL;
// the interval stretches as the API budget runs low. It continues as new to keep its history short.
func ChangePoller(ctx workflow.Context, in PollerInput) error {
	if in.Pair == "" || (in.Source != activities.SourceSalesforce && in.Source != activities.SourceJira) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("PollerInput needs Pair and Source salesforce|jira (got %+v)", in), string(catalog.InvalidInput), nil)
	}
	if in.IntervalSeconds <= 0 {
		in.IntervalSeconds = 10
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		Summary:             "poll " + in.Source + " changes of " + in.Pair,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute},
		// The poll reads the source system only: it runs on that system's rate-limited queue.
		TaskQueue: pollQueue(workflow.GetInfo(ctx).TaskQueueName, in.Source),
	})
	for i := 0; i < pollsPerRun; i++ {
		if err := holdWhilePaused(ctx, "poller", func(d string) { workflow.SetCurrentDetails(ctx, d) }); err != nil {
			if errors.Is(err, errHoldTooLong) {
				break
			}
			return err
		}
		var res activities.PollResult
		if err := workflow.ExecuteActivity(actx, a.PollChanges, activities.PollInput{Pair: in.Pair, Source: in.Source, BaseIntervalSeconds: in.IntervalSeconds}).Get(ctx, &res); err != nil {
			// A poll that fails for good (bad scope, lost permission) must not stop change
			// capture: report it where operators look and try again after a pause.
			in.Failures++
			workflow.GetLogger(ctx).Error("poll failed", "Error", err, "Failures", in.Failures)
			workflow.SetCurrentDetails(ctx, fmt.Sprintf("**poll failing** (%d in a row): %s — %v", in.Failures, activities.ErrorCode(err), err))
			if err := workflow.NewTimerWithOptions(ctx, time.Minute, workflow.TimerOptions{Summary: "retry after failed poll"}).Get(ctx, nil); err != nil {
				return err
			}
			continue
		}
		in.Failures = 0
		in.Polls++
		note := ""
		if res.BudgetNote != "" {
			note = "; " + res.BudgetNote
		}
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("poll %d: %d change(s) handed over, watermark %s%s", in.Polls, res.Events, res.Watermark, note))
		if res.More {
			continue
		}
		wait := time.Duration(res.NextIntervalSeconds) * time.Second
		if wait <= 0 {
			wait = time.Duration(in.IntervalSeconds) * time.Second
		}
		if err := workflow.NewTimerWithOptions(ctx, wait, workflow.TimerOptions{Summary: "next poll"}).Get(ctx, nil); err != nil {
			return err
		}
	}
	return workflow.NewContinueAsNewError(ctx, ChangePoller, in)
}

// pollQueue is the task queue of a poll of source (its system's rate-limited queue).
func pollQueue(queue, source string) string {
	if source == activities.SourceJira {
		return JiraTaskQueue(queue)
	}
	return SalesforceTaskQueue(queue)
}
