package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/workflows"
)

// TestRecordSyncHoldsWhilePausedThenRuns: the pass waits through two paused checks (one recheck
// period each) and runs once the window ends; a signal sent meanwhile is coalesced into that pass.
func TestRecordSyncHoldsWhilePausedThenRuns(t *testing.T) {
	env := newEnv(t)
	paused := &activities.MaintenanceState{Paused: true, Reason: "upgrade", RecheckSeconds: 30}
	env.OnActivity(a.MaintenanceState, mock.Anything, "sync").Return(paused, nil).Twice()
	env.OnActivity(a.MaintenanceState, mock.Anything, "sync").Return(&activities.MaintenanceState{RecheckSeconds: 30}, nil)
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(linkedSF(), nil).Once()
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil).Once()
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(&activities.TransformResult{Skip: "neither_side_exists"}, nil).Once()
	// A run that ends with nothing to sync closes the pair's dead letter, if it has one.
	env.OnActivity(a.ResolveDeadLetters, mock.Anything, "sf/"+sfID).Return(nil).Once()
	start := env.Now()
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SyncSignal, workflows.SyncRequest{Trigger: "jira_webhook", Source: "jira"})
	}, 10*time.Second)
	var ended time.Time
	env.ExecuteWorkflow(workflows.RecordSync, input())
	ended = env.Now()
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RecordSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 1, res.Passes, "the signal sent while held is coalesced into the one pass")
	require.GreaterOrEqual(t, ended.Sub(start), 60*time.Second, "two recheck periods held")
	env.AssertExpectations(t)
}
