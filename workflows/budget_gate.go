package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/sfjira/sfjira/activities"
)

// budgetGuardVersion is the GetVersion change id of the budget guard in Backfill: histories
// recorded before it replay without the gate.
const budgetGuardVersion = "budget-guard"

// gateEvery is how many children a backfill starts between two questions to the guard while the
// budget is healthy; while it is low, it asks before every child.
const gateEvery = 10

// budgetGate asks the API budget guard (a local activity, answering at once) whether batch work
// may go on, and waits on a durable timer when it says slow or pause: a paused backfill holds no
// worker slot and outlives worker restarts. It returns the last state. If the guard cannot be
// asked, the backfill goes on (the APIs' own 429s and retries still protect the systems).
func budgetGate(ctx workflow.Context, what string) string {
	for {
		var d activities.BudgetGateResult
		if err := workflow.ExecuteLocalActivity(localCtx(ctx, "API budget guard", 3), "BudgetGate",
			activities.BudgetGateInput{Class: "batch"}).Get(ctx, &d); err != nil {
			workflow.GetLogger(ctx).Warn("API budget guard unavailable; going on", "Error", err)
			return "ok"
		}
		if d.State == "ok" || d.State == "" {
			return "ok"
		}
		delay := time.Duration(d.DelayMS) * time.Millisecond
		if delay <= 0 {
			delay = time.Second
		}
		label := "slowed"
		if d.State == "paused" {
			label = "paused"
		}
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s by the API budget guard** before %s: %s (real-time changes continue)", label, what, d.Reason))
		if err := workflow.NewTimerWithOptions(ctx, delay, workflow.TimerOptions{Summary: "API budget guard: " + label}).Get(ctx, nil); err != nil {
			return d.State
		}
		if d.State == "slow" {
			return d.State
		}
	}
}
