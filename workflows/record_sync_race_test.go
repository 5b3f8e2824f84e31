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
	"go.temporal.io/sdk/workflow"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/workflows"
)

// A person reopens the issue while the pass that wrote it verifies: verification reports the
// field as edited after the write, the pass is recorded, and another pass merges the edit at once
// (without waiting for its webhook).
func TestRecordSyncRunsAnotherPassWhenVerifySeesALaterEdit(t *testing.T) {
	env := newEnv(t)
	plan := inStep()
	plan.Status = "Done"
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(linkedSF(), nil)
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil)
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(plan, nil).Once()
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(inStep(), nil).Once()
	env.OnActivity(a.WriteJira, mock.Anything, mock.Anything).
		Return(&activities.WriteJiraResult{IssueID: "10001", IssueKey: "SFJ-1", Changes: []activities.FieldChange{{Action: "transition", Field: "status", Label: "Status"}}}, nil).Once()
	var verifyIn activities.VerifyPairInput
	env.OnActivity(a.VerifyPair, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.VerifyPairInput) (*activities.VerifyPairResult, error) {
		verifyIn = in
		return &activities.VerifyPairResult{SFSide: side(), JiraSide: side(), EditedAfterWrite: []string{"Status"}}, nil
	}).Once()
	env.OnActivity(a.CommitSync, mock.Anything, mock.Anything).Return(&activities.CommitSyncResult{}, nil)
	env.ExecuteWorkflow(workflows.RecordSync, input())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RecordSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 2, res.Passes, "the edit seen by verification gets a pass of its own")
	require.Equal(t, workflows.OutcomeUpdated, res.Outcome)
	require.Equal(t, foundJira().Updated, verifyIn.JiraReadUpdated, "verification learns when the pass read the issue")
	require.Contains(t, res.Warnings, "changed on Jira after this pass wrote it: Status")
	env.AssertExpectations(t)
}

// Change events that arrive while a run is failing are not dropped: the dead letter is recorded
// and the pair continues as a new run that reads both sides afresh (once; a persistent failure
// then stays in the dead letters).
func TestRecordSyncRetriesOnceWhenChangesArriveDuringAFailure(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(linkedSF(), nil)
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).After(2*time.Second).Return(foundJira(), nil)
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(nil,
		temporal.NewNonRetryableApplicationError("Opportunity "+sfID+": Account.Name is required but empty", string(catalog.MappingRequiredValueMissing), nil))
	dead := 0
	env.OnActivity(a.RecordFailure, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RecordFailureInput) error {
		dead++
		return nil
	})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SyncSignal, workflows.SyncRequest{Trigger: "jira_webhook", Source: "jira"})
	}, time.Second)
	env.ExecuteWorkflow(workflows.RecordSync, input())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "got %v", env.GetWorkflowError())
	var next workflows.RecordSyncInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, 1, next.RetriesAfterFailure)
	require.Equal(t, workflows.TriggerJiraRetry, next.Trigger)
	require.Equal(t, sfID, next.SfID)
	require.Equal(t, 1, dead, "the failure is in the dead letters before the retry")

	// The retry run fails again with a change pending: this time it ends failed, with its code.
	env2 := newEnv(t)
	env2.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(linkedSF(), nil)
	env2.OnActivity(a.FetchJira, mock.Anything, mock.Anything).After(2*time.Second).Return(foundJira(), nil)
	env2.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(nil,
		temporal.NewNonRetryableApplicationError("still empty", string(catalog.MappingRequiredValueMissing), nil))
	env2.OnActivity(a.RecordFailure, mock.Anything, mock.Anything).Return(nil).Once()
	env2.RegisterDelayedCallback(func() {
		env2.SignalWorkflow(workflows.SyncSignal, workflows.SyncRequest{Trigger: "jira_webhook", Source: "jira"})
	}, time.Second)
	env2.ExecuteWorkflow(workflows.RecordSync, next)
	var app *temporal.ApplicationError
	require.True(t, errors.As(env2.GetWorkflowError(), &app), "got %v", env2.GetWorkflowError())
	require.Equal(t, string(catalog.MappingRequiredValueMissing), app.Type())
}
