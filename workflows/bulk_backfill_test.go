package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

func TestBulkBackfillRunsPlannedPagesAtOnceAndReportsProgress(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.BulkBackfill)
	env.RegisterActivity(a)
	env.OnActivity(a.CountInScope, mock.Anything, activities.CountInScopeInput{Pair: "opportunity-epic"}).Return(5000, nil).Once()
	env.OnActivity(a.BulkPageBounds, mock.Anything, activities.BulkBoundsInput{Pair: "opportunity-epic", MaxPages: 50}).
		Return(&activities.BulkBounds{Ends: []string{"006A", "006B"}, Complete: true}, nil).Once()
	// Pages by their range. The middle range grew while it waited (records were inserted into
	// it): its page ends before its bound and a follow-up page finishes the range.
	pages := map[[2]string]activities.BulkPageResult{
		{"", "006A"}: {Records: 2000, LastID: "006A", Last: true, Created: 1990, AlreadyLinked: 5, Failed: 5, HandedOff: 5,
			Failures: []activities.BulkFailure{{SfID: "006x", Code: string(catalog.MappingRequiredValueMissing)}}},
		{"006A", "006B"}:  {Records: 2000, LastID: "006AZ", Created: 2000},
		{"006AZ", "006B"}: {Records: 1, LastID: "006B", Last: true, Created: 1},
		{"006B", ""}:      {Records: 999, LastID: "006C", Created: 998, Adopted: 1, Last: true},
	}
	var mu sync.Mutex
	var ranges [][2]string
	failedOnce := false
	env.OnActivity(a.BulkSyncPage, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BulkPageInput) (*activities.BulkPageResult, error) {
		mu.Lock()
		defer mu.Unlock()
		k := [2]string{in.AfterID, in.UpTo}
		ranges = append(ranges, k)
		if k == [2]string{"006A", "006B"} && !failedOnce {
			// The first attempt of this page dies with its worker; the retry finishes it.
			failedOnce = true
			return nil, temporal.NewApplicationError("worker lost", "Timeout")
		}
		res, ok := pages[k]
		require.True(t, ok, "unexpected page range %v", k)
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
	require.ElementsMatch(t, [][2]string{{"", "006A"}, {"006A", "006B"}, {"006A", "006B"}, {"006AZ", "006B"}, {"006B", ""}}, ranges,
		"each planned range once (the failed one retried with the same range), then the rest of the range that grew")
	require.Equal(t, 5000, p.Total)
	require.Equal(t, 5000, p.Done)
	require.Equal(t, 4989, p.Created)
	require.Equal(t, 1, p.Adopted)
	require.Equal(t, 5, p.Failed)
	require.Equal(t, 5, p.HandedOff)
	require.Equal(t, 4, p.Pages)
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
	var ends []string
	for i := 0; i < 50; i++ {
		ends = append(ends, fmt.Sprintf("006%03d", i))
	}
	env.OnActivity(a.BulkPageBounds, mock.Anything, activities.BulkBoundsInput{Pair: "opportunity-epic", AfterID: "006", PageSize: 10, MaxPages: 50}).
		Return(&activities.BulkBounds{Ends: ends}, nil).Once()
	var mu sync.Mutex
	inFlight, most := 0, 0
	env.OnActivity(a.BulkSyncPage, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BulkPageInput) (*activities.BulkPageResult, error) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		return &activities.BulkPageResult{Records: 10, LastID: in.UpTo, Last: true, Created: 10}, nil
	})
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	env.ExecuteWorkflow(workflows.BulkBackfill, workflows.BulkBackfillInput{Pair: "opportunity-epic", SfObject: "Opportunity", PageSize: 10, PagesInFlight: 3,
		AfterID: "006", Progress: workflows.BulkBackfillProgress{Total: 10000, StartedAt: start}})
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can))
	var next workflows.BulkBackfillInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, 500, next.Progress.Done)
	require.Equal(t, 50, next.Progress.Pages)
	require.Equal(t, "006049", next.AfterID, "the next run starts after the last planned page")
	require.Equal(t, start, next.Progress.StartedAt)
	require.LessOrEqual(t, most, 3, "at most PagesInFlight pages at once")
}
