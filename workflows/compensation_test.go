package workflows_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/workflows"
)

func sp(s string) *string { return &s }

// TestRecordSyncCompensatesInReverseOrder: the pass creates the Epic and moves it to In Progress,
// then Salesforce refuses the back-link for good. The run undoes the transition, then deletes the
// issue (newest first), and only then keeps the dead letter.
func TestRecordSyncCompensatesInReverseOrder(t *testing.T) {
	env := newEnv(t)
	unlinked := &activities.FetchSalesforceResult{Found: true, SfID: sfID, Modstamp: "2026-11-25T10:00:00.000+0000"}
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(unlinked, nil)
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(&activities.JiraState{}, nil).Once()
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil)
	env.OnActivity(a.Transform, mock.Anything, mock.MatchedBy(func(in activities.TransformInput) bool { return !in.Jira.Found })).
		Return(&activities.TransformResult{CreateJira: true, Status: "In Progress", JiraProject: "SFJ", JiraIssueType: "Epic"}, nil).Once()
	plan := inStep()
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(plan, nil)
	env.OnActivity(a.WriteJira, mock.Anything, mock.Anything).Return(&activities.WriteJiraResult{IssueID: "10001", IssueKey: "SFJ-1", Created: true,
		Changes: []activities.FieldChange{{Action: "create", Field: "summary"}, {Action: "transition", Field: "status", Label: "Status", Before: sp("To Do"), After: sp("In Progress")}}}, nil).Once()
	env.OnActivity(a.WriteSalesforce, mock.Anything, mock.Anything).Return(nil,
		temporal.NewNonRetryableApplicationError("SF_VALIDATION: FIELD_CUSTOM_VALIDATION_EXCEPTION", string(catalog.SalesforceValidation), nil)).Once()
	var undone []string
	env.OnActivity(a.Compensate, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.CompensateInput) (*activities.CompensateResult, error) {
		undone = append(undone, in.Step.Kind+":"+in.Step.IssueID)
		require.Equal(t, "sf/"+sfID, in.Step.OriginKey)
		require.Contains(t, in.Cause, "FIELD_CUSTOM_VALIDATION_EXCEPTION")
		if in.Step.Kind == "fields" {
			require.Len(t, in.Step.Changes, 1)
			require.Equal(t, "status", in.Step.Changes[0].Field)
		}
		return &activities.CompensateResult{}, nil
	}).Twice()
	var deadLetter activities.RecordFailureInput
	env.OnActivity(a.RecordFailure, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RecordFailureInput) error {
		require.Len(t, undone, 2, "compensation runs before the dead letter is kept")
		deadLetter = in
		return nil
	}).Once()

	env.ExecuteWorkflow(workflows.RecordSync, input())
	err := env.GetWorkflowError()
	require.Error(t, err)
	require.Equal(t, string(catalog.SalesforceValidation), activities.ErrorCode(err))
	require.Equal(t, []string{"fields:10001", "create:10001"}, undone, "newest first")
	require.Equal(t, string(catalog.SalesforceValidation), deadLetter.Code)
	env.AssertExpectations(t)
}

// TestRecordSyncDoesNotUndoRecordedPasses: a failure after the pass was recorded undoes nothing.
func TestRecordSyncDoesNotUndoRecordedPasses(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(linkedSF(), nil)
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil)
	plan := inStep()
	plan.JiraFields = map[string]any{"summary": "New"}
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(plan, nil)
	env.OnActivity(a.WriteJira, mock.Anything, mock.Anything).Return(&activities.WriteJiraResult{IssueID: "10001", IssueKey: "SFJ-1",
		Changes: []activities.FieldChange{{Action: "update", Field: "summary", Before: sp("Old"), After: sp("New")}}}, nil)
	env.OnActivity(a.VerifyPair, mock.Anything, mock.Anything).Return(&activities.VerifyPairResult{SFSide: side(), JiraSide: side()}, nil)
	env.OnActivity(a.CommitSync, mock.Anything, mock.Anything).Return(&activities.CommitSyncResult{}, nil)
	env.OnActivity(a.MirrorComments, mock.Anything, mock.Anything).Return(nil)
	env.ExecuteWorkflow(workflows.RecordSync, input())
	require.NoError(t, env.GetWorkflowError())
	env.AssertNotCalled(t, "Compensate", mock.Anything, mock.Anything)

	// The same write failing verification for good: the Jira update is restored.
	env2 := newEnv(t)
	env2.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(linkedSF(), nil)
	env2.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil)
	env2.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(plan, nil)
	env2.OnActivity(a.WriteJira, mock.Anything, mock.Anything).Return(&activities.WriteJiraResult{IssueID: "10001", IssueKey: "SFJ-1",
		Changes: []activities.FieldChange{{Action: "update", Field: "summary", Before: sp("Old"), After: sp("New")}}}, nil)
	env2.OnActivity(a.VerifyPair, mock.Anything, mock.Anything).Return(nil,
		temporal.NewNonRetryableApplicationError("VERIFY_MISMATCH: summary reads Old", string(catalog.VerifyMismatch), nil))
	env2.OnActivity(a.Compensate, mock.Anything, mock.MatchedBy(func(in activities.CompensateInput) bool {
		return in.Step.Kind == "fields" && in.Step.IssueID == "10001" && *in.Step.Changes[0].Before == "Old"
	})).Return(&activities.CompensateResult{}, nil).Once()
	env2.OnActivity(a.RecordFailure, mock.Anything, mock.Anything).Return(nil)
	env2.ExecuteWorkflow(workflows.RecordSync, input())
	require.Error(t, env2.GetWorkflowError())
	env2.AssertExpectations(t)
}
