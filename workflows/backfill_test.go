package workflows_test

import (
	"go.temporal.io/sdk/workflow"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/workflows"
)

func TestBackfillSyncsEveryRecordAndIsolatesFailures(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.Backfill)
	env.RegisterWorkflow(workflows.RecordSync)
	env.RegisterActivity(a)
	ids := []string{"006000000000001AAA", "006000000000002AAA", "006000000000003AAA", "006000000000004AAA", "006000000000005AAA"}
	env.OnActivity(a.ListInScope, mock.Anything, activities.ListInScopeInput{Pair: "opportunity-epic"}).
		Return(&activities.ListInScopeResult{IDs: ids[:3], NextRecordsURL: "/services/data/v62.0/query/01g-3", Total: 5}, nil).Once()
	env.OnActivity(a.ListInScope, mock.Anything, activities.ListInScopeInput{Pair: "opportunity-epic", NextRecordsURL: "/services/data/v62.0/query/01g-3"}).
		Return(&activities.ListInScopeResult{IDs: ids[3:], Total: 5}, nil).Once()
	seen := map[string]bool{}
	env.OnWorkflow(workflows.RecordSync, mock.Anything, mock.Anything).Return(func(_ workflow.Context, in workflows.RecordSyncInput) (*workflows.RecordSyncResult, error) {
		seen[in.SfID] = true
		switch in.SfID {
		case ids[1]:
			return nil, temporal.NewNonRetryableApplicationError("Account.Name is required but empty", string(catalog.MappingRequiredValueMissing), nil)
		case ids[2]:
			return &workflows.RecordSyncResult{Outcome: workflows.OutcomeUnchanged}, nil
		}
		return &workflows.RecordSyncResult{Outcome: workflows.OutcomeCreated}, nil
	})
	env.ExecuteWorkflow(workflows.Backfill, workflows.BackfillInput{Pair: "opportunity-epic", SfObject: "Opportunity", Concurrency: 2})
	require.True(t, env.IsWorkflowCompleted())
	// The first page continues as new; the test environment reports that as the result.
	var can *workflows.BackfillInput
	err := env.GetWorkflowError()
	if err != nil {
		require.True(t, isContinueAsNew(err, &can), "unexpected error: %v", err)
	}
	require.NotNil(t, can)
	require.Equal(t, 3, can.Tally.Done)
	require.Equal(t, 1, can.Tally.Failed)
	require.Equal(t, 1, can.Tally.Created)
	require.Equal(t, 1, can.Tally.Unchanged)
	require.Equal(t, string(catalog.MappingRequiredValueMissing), can.Tally.Failures[0].Code)
	require.Len(t, seen, 3)

	// Second page, continuing from the carried tally.
	env2 := s.NewTestWorkflowEnvironment()
	env2.RegisterWorkflow(workflows.Backfill)
	env2.RegisterWorkflow(workflows.RecordSync)
	env2.RegisterActivity(a)
	env2.OnActivity(a.ListInScope, mock.Anything, mock.Anything).Return(&activities.ListInScopeResult{IDs: ids[3:], Total: 5}, nil).Once()
	env2.OnWorkflow(workflows.RecordSync, mock.Anything, mock.Anything).Return(&workflows.RecordSyncResult{Outcome: workflows.OutcomeUpdated}, nil)
	env2.ExecuteWorkflow(workflows.Backfill, *can)
	require.NoError(t, env2.GetWorkflowError())
	var res workflows.BackfillResult
	require.NoError(t, env2.GetWorkflowResult(&res))
	require.Equal(t, 5, res.Done)
	require.Equal(t, 5, res.Total)
	require.Equal(t, 2, res.Updated)
	require.Equal(t, 1, res.Failed)
	require.Equal(t, 2, res.Pages)
}

func TestBackfillDryRunWritesNothing(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.Backfill)
	env.RegisterWorkflow(workflows.RecordSync)
	env.RegisterActivity(a)
	env.OnActivity(a.ListInScope, mock.Anything, mock.Anything).Return(&activities.ListInScopeResult{IDs: []string{"006000000000001AAA"}, Total: 1}, nil)
	env.ExecuteWorkflow(workflows.Backfill, workflows.BackfillInput{Pair: "opportunity-epic", SfObject: "Opportunity", DryRun: true})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.BackfillResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 1, res.Done)
	require.Equal(t, 0, res.Created)
	env.AssertNotCalled(t, "RecordSync", mock.Anything, mock.Anything)
}
