package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/workflows"
)

func TestBulkBackfillPagesInIDOrderAndReportsProgress(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.BulkBackfill)
	env.RegisterActivity(a)
	env.OnActivity(a.CountInScope, mock.Anything, activities.CountInScopeInput{Pair: "opportunity-epic"}).Return(5000, nil).Once()
	pages := []activities.BulkPageResult{
		{Records: 2000, LastID: "006A", Created: 1990, AlreadyLinked: 5, Failed: 5, HandedOff: 5,
			Failures: []activities.BulkFailure{{SfID: "006x", Code: string(catalog.MappingRequiredValueMissing)}}},
		{Records: 2000, LastID: "006B", Created: 2000},
		{Records: 1000, LastID: "006C", Created: 999, Adopted: 1, Last: true},
	}
	var cursors []string
	call := 0
	env.OnActivity(a.BulkSyncPage, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BulkPageInput) (*activities.BulkPageResult, error) {
		cursors = append(cursors, in.AfterID)
		if call == 1 && len(cursors) == 2 {
			// The first attempt of page 2 dies with its worker; the retry finishes it.
			return nil, temporal.NewApplicationError("worker lost", "Timeout")
		}
		res := pages[call]
		call++
		return &res, nil
	})
	var mid workflows.BulkBackfillProgress
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.ProgressQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&mid))
	}, 500*time.Millisecond)
	env.ExecuteWorkflow(workflows.BulkBackfill, workflows.BulkBackfillInput{Pair: "opportunity-epic", SfObject: "Opportunity", JiraProject: "SFJ"})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var p workflows.BulkBackfillProgress
	require.NoError(t, env.GetWorkflowResult(&p))
	require.Equal(t, []string{"", "006A", "006A", "006B"}, cursors, "each page starts after the last id of the one before; a retried page keeps its cursor")
	require.Equal(t, 5000, p.Total)
	require.Equal(t, 5000, p.Done)
	require.Equal(t, 4989, p.Created)
	require.Equal(t, 1, p.Adopted)
	require.Equal(t, 5, p.Failed)
	require.Equal(t, 5, p.HandedOff)
	require.Equal(t, 3, p.Pages)
	require.True(t, p.Finished)
	require.Len(t, p.Failures, 1)
	require.Equal(t, 5000, mid.Total, "the progress query answers while pages run")
	require.Equal(t, "[██████████░░░░░░░░░░]", workflows.ProgressBar(50, 100, 20))
}

func TestBulkBackfillDryRunOnlyCounts(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.BulkBackfill)
	env.RegisterActivity(a)
	env.OnActivity(a.CountInScope, mock.Anything, mock.Anything).Return(42, nil).Once()
	env.ExecuteWorkflow(workflows.BulkBackfill, workflows.BulkBackfillInput{Pair: "opportunity-epic", SfObject: "Opportunity", DryRun: true})
	require.NoError(t, env.GetWorkflowError())
	var p workflows.BulkBackfillProgress
	require.NoError(t, env.GetWorkflowResult(&p))
	require.Equal(t, 42, p.Done)
	env.AssertNotCalled(t, "BulkSyncPage", mock.Anything, mock.Anything)
}

func TestBulkBackfillContinuesAsNewWithCursor(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.BulkBackfill)
	env.RegisterActivity(a)
	env.OnActivity(a.BulkSyncPage, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BulkPageInput) (*activities.BulkPageResult, error) {
		return &activities.BulkPageResult{Records: 10, LastID: in.AfterID + "x", Created: 10}, nil
	})
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	env.ExecuteWorkflow(workflows.BulkBackfill, workflows.BulkBackfillInput{Pair: "opportunity-epic", SfObject: "Opportunity", PageSize: 10,
		AfterID: "006", Progress: workflows.BulkBackfillProgress{Total: 10000, StartedAt: start}})
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can))
	var next workflows.BulkBackfillInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, 500, next.Progress.Done)
	require.Equal(t, 50, next.Progress.Pages)
	require.Len(t, next.AfterID, 3+50)
	require.Equal(t, start, next.Progress.StartedAt)
}
