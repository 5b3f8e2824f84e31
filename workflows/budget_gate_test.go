package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/workflows"
)

// TestBackfillWaitsWhileTheBudgetGuardPauses: the guard answers paused twice, then slow, then ok.
// The backfill starts no child while paused, waits on durable timers (test time advances by the
// guard's delays), and then syncs every record.
func TestBackfillWaitsWhileTheBudgetGuardPauses(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.Backfill)
	env.RegisterWorkflow(workflows.RecordSync)
	env.RegisterActivity(a)
	ids := []string{"006000000000001AAA", "006000000000002AAA", "006000000000003AAA"}
	env.OnActivity(a.ListInScope, mock.Anything, mock.Anything).Return(&activities.ListInScopeResult{IDs: ids, Total: 3}, nil).Once()
	answers := []activities.BudgetGateResult{
		{State: "paused", DelayMS: 15000, Reason: "salesforce budget 5/100 left"},
		{State: "paused", DelayMS: 15000, Reason: "salesforce budget 6/100 left"},
		{State: "slow", DelayMS: 500, Reason: "salesforce budget 25/100 left"},
	}
	gates := 0
	var startedAt time.Time
	env.OnActivity(a.BudgetGate, mock.Anything, activities.BudgetGateInput{Class: "batch"}).Return(func(context.Context, activities.BudgetGateInput) (*activities.BudgetGateResult, error) {
		gates++
		if gates <= len(answers) {
			return &answers[gates-1], nil
		}
		return &activities.BudgetGateResult{State: "ok"}, nil
	})
	children := 0
	env.OnWorkflow(workflows.RecordSync, mock.Anything, mock.Anything).Return(func(ctx workflow.Context, in workflows.RecordSyncInput) (*workflows.RecordSyncResult, error) {
		if children == 0 {
			startedAt = workflow.Now(ctx)
		}
		children++
		return &workflows.RecordSyncResult{Outcome: workflows.OutcomeCreated}, nil
	})
	begin := env.Now()
	env.ExecuteWorkflow(workflows.Backfill, workflows.BackfillInput{Pair: "opportunity-epic", SfObject: "Opportunity", Concurrency: 1})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.BackfillResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 3, res.Created)
	require.Equal(t, 3, children)
	// Two pauses of 15 s and a slow-down of 0.5 s passed before the first record.
	require.GreaterOrEqual(t, startedAt.Sub(begin), 30*time.Second+500*time.Millisecond)
	// Asked before listing (paused ×2, then slow) and before each record while not ok.
	require.GreaterOrEqual(t, gates, 4)
}
