package activities

import (
	"context"
	"time"

	"github.com/sfjira/sfjira/internal/budget"
)

// NewBudgetGuard builds the API budget guard over the activities' clients and store: Salesforce's
// daily request usage (Sforce-Limit-Info), Jira's rate-limit headers, shared through PostgreSQL so
// every worker slows and pauses batch work together.
func NewBudgetGuard(a *Activities, thresholds map[budget.System]budget.Thresholds, recheck time.Duration, worker string) *budget.Guard {
	sources := map[budget.System]budget.Source{}
	if a.SF != nil {
		sf := a.SF
		sources[budget.Salesforce] = func() (budget.Observation, bool) {
			used, max, at, ok := sf.APIUsageAt()
			return budget.Observation{Remaining: max - used, Limit: max, At: at}, ok
		}
	}
	if a.Jira != nil {
		jc := a.Jira
		sources[budget.Jira] = func() (budget.Observation, bool) {
			rl, ok := jc.Budget()
			return budget.Observation{Remaining: rl.Remaining, Limit: rl.Limit, ThrottledUntil: rl.RetryUntil, At: rl.At}, ok
		}
	}
	var shared budget.Shared
	if a.Store != nil {
		shared = a.Store
	}
	var m budget.Metrics
	if a.Metrics != nil {
		m = a.Metrics
	}
	return budget.New(budget.Options{Sources: sources, Shared: shared, Thresholds: thresholds, Recheck: recheck,
		Worker: worker, Log: a.Log, Metrics: m})
}

// BudgetGateInput asks the guard about one unit of batch work.
type BudgetGateInput struct {
	// Class is "batch" (backfill, reconcile) or "realtime".
	Class string
}

// BudgetGateResult is the guard's decision, for a workflow to wait on with a durable timer.
type BudgetGateResult struct {
	State   string // ok, slow or paused
	DelayMS int64
	Reason  string
}

// BudgetGate is the budget guard for workflows (run as a local activity): it answers at once,
// and the workflow waits on a timer, so a paused backfill holds no activity slot and survives
// worker restarts. Without a guard configured it always answers ok.
func (a *Activities) BudgetGate(ctx context.Context, in BudgetGateInput) (*BudgetGateResult, error) {
	if a == nil || a.Budget == nil {
		return &BudgetGateResult{State: budget.StateOK.String()}, nil
	}
	c := budget.ClassBatch
	if in.Class == budget.ClassRealtime.String() {
		c = budget.ClassRealtime
	}
	d := a.Budget.Decide(ctx, c)
	return &BudgetGateResult{State: d.State.String(), DelayMS: d.Delay.Milliseconds(), Reason: d.Reason}, nil
}
