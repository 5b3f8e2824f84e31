package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Task queues of the API activities. Salesforce calls and Jira calls each run on a queue of their
// own, named after the workflow's task queue (sfjira → sfjira-salesforce, sfjira-jira), so the
// worker can set TaskQueueActivitiesPerSecond per system and the server enforces it across every
// worker polling that queue. Deriving the names from the workflow's own queue keeps them out of
// workflow inputs and lets tests run isolated stacks side by side.
const (
	SalesforceQueueSuffix = "-salesforce"
	JiraQueueSuffix       = "-jira"
)

// SalesforceTaskQueue is the queue of the Salesforce activities of workflows running on queue.
func SalesforceTaskQueue(queue string) string { return queue + SalesforceQueueSuffix }

// JiraTaskQueue is the queue of the Jira activities of workflows running on queue.
func JiraTaskQueue(queue string) string { return queue + JiraQueueSuffix }

// System names an external system an activity calls, which picks its task queue.
type System int

// Systems. SystemNone activities (PostgreSQL only) stay on the workflow's own queue. Activities
// that read both systems (verify, comment mirroring) run on the Jira queue: Jira's cost-based
// limits are the tighter of the two, and such activities make one call to each side at most.
const (
	SystemNone System = iota
	SystemSalesforce
	SystemJira
)

// Step is the kind of an activity, which picks its retry policy.
type Step int

// Steps with their own retry policies (see Policy).
const (
	StepRead Step = iota
	StepWrite
	StepVerify
	StepRecord
	StepDeadLetter
	StepCompensate
)

// Policy is the retry policy of a step. Every policy is exponential with a cap on the interval and
// on the attempts, so a record that cannot sync ends as a dead letter rather than retrying forever:
//
//	read        1s ×2 → 30s, 10 attempts (≈ 4 min): fetches and listing, idempotent
//	write       2s ×2 → 1m,   8 attempts (≈ 4 min): writes are idempotent (upsert, create intent)
//	verify      2s ×2 → 20s,  6 attempts (≈ 1 min): re-reads both sides, so it must ride out a
//	            burst of 503s, but a value that does not stick is not fixed by waiting long
//	record     0.5s ×2 → 10s, 10 attempts: PostgreSQL, survives a restart or a killed connection
//	dead letter 1s ×2 → 30s, 30 attempts: losing the dead letter would lose the failure
//	compensate  2s ×2 → 1m,  10 attempts: undoing a partial write is worth waiting for
//
// Temporal adds no jitter to retry intervals. Jitter comes from the activity side: the worker's
// retry interceptor (activities.RetryJitter) answers every retryable failure with a
// NextRetryDelay drawn around this policy's interval for the attempt, and never below a
// Retry-After the server sent (429, 503, Salesforce's daily limit). Catalog codes that are not
// retryable fail at once: classification at the edge marks them NonRetryable.
func Policy(step Step) *temporal.RetryPolicy {
	switch step {
	case StepWrite:
		return &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 8}
	case StepVerify:
		return &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 20 * time.Second, MaximumAttempts: 6}
	case StepRecord:
		return &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second, MaximumAttempts: 10}
	case StepDeadLetter:
		return &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 30}
	case StepCompensate:
		return &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 10}
	default:
		return &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 10}
	}
}

// apiCtx returns the activity options of one step that calls system: its retry policy, and its
// task queue (the system's rate-limited queue).
func apiCtx(ctx workflow.Context, system System, step Step, summary string) workflow.Context {
	opts := workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		HeartbeatTimeout:    20 * time.Second,
		Summary:             summary,
		RetryPolicy:         Policy(step),
	}
	queue := workflow.GetInfo(ctx).TaskQueueName
	switch system {
	case SystemSalesforce:
		opts.TaskQueue = SalesforceTaskQueue(queue)
	case SystemJira:
		opts.TaskQueue = JiraTaskQueue(queue)
	}
	return workflow.WithActivityOptions(ctx, opts)
}
