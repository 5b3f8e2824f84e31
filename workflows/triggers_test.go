package workflows_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/workflows"
)

func wonDeal() mappings.TriggerAction {
	return mappings.TriggerAction{Trigger: "won-deal-delivery", VersionName: "Müller – Fleet renewal", FixVersion: true, StoryType: "Story",
		Stories: []mappings.StoryAction{{Item: "story-1", Summary: "Kick-off with Müller"}, {Item: "story-2", Summary: "Provision environments for Müller"}}}
}

// A pass whose plan fired a trigger writes and records the pair first, then runs the trigger's
// actions as an activity with the pair's issue; the commit carries the trigger states.
func TestRecordSyncRunsFiredTriggerAfterCommit(t *testing.T) {
	env := newEnv(t)
	plan := inStep()
	plan.Status, plan.Resolution = "Done", "Done"
	plan.FiredTriggers = []mappings.TriggerAction{wonDeal()}
	plan.TriggerStates = map[string]bool{"won-deal-delivery": false}
	var order []string
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(linkedSF(), nil)
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil)
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(plan, nil).Once()
	env.OnActivity(a.WriteJira, mock.Anything, mock.Anything).Return(&activities.WriteJiraResult{IssueID: "10001", IssueKey: "SFJ-1",
		Changes: []activities.FieldChange{{Action: "transition", Field: "status", Label: "Status"}}}, nil).Once()
	env.OnActivity(a.VerifyPair, mock.Anything, mock.Anything).Return(&activities.VerifyPairResult{SFSide: side(), JiraSide: side()}, nil).Once()
	var committed activities.CommitSyncInput
	env.OnActivity(a.CommitSync, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.CommitSyncInput) (*activities.CommitSyncResult, error) {
		order = append(order, "commit")
		committed = in
		return &activities.CommitSyncResult{}, nil
	}).Once()
	var ran activities.RunTriggerInput
	env.OnActivity(a.RunTrigger, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RunTriggerInput) (*activities.RunTriggerResult, error) {
		order = append(order, "trigger")
		ran = in
		return &activities.RunTriggerResult{Created: []string{"version Müller – Fleet renewal", "story SFJ-2", "story SFJ-3"}}, nil
	}).Once()

	env.ExecuteWorkflow(workflows.RecordSync, input())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RecordSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, []string{"commit", "trigger"}, order, "the trigger runs once the pass is recorded")
	require.Equal(t, map[string]bool{"won-deal-delivery": false}, committed.TriggerStates)
	require.Equal(t, "10001", ran.IssueID)
	require.Equal(t, "SFJ-1", ran.IssueKey)
	require.Equal(t, "sf/"+sfID, ran.OriginKey)
	require.Equal(t, 1, ran.Pass)
	require.Equal(t, wonDeal(), ran.Action)
	require.Contains(t, res.Changed, "trigger won-deal-delivery: version Müller – Fleet renewal, story SFJ-2, story SFJ-3")
}

// A pass with nothing to write still runs a fired trigger (its condition may read fields that are
// not synced), and a pass that fired nothing never calls RunTrigger.
func TestRecordSyncTriggerInStepAndNotFired(t *testing.T) {
	env := newEnv(t)
	plan := inStep()
	plan.FiredTriggers = []mappings.TriggerAction{wonDeal()}
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(linkedSF(), nil)
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil)
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(plan, nil).Once()
	env.OnActivity(a.RunTrigger, mock.Anything, mock.Anything).Return(&activities.RunTriggerResult{Existing: []string{"version Müller – Fleet renewal"}}, nil).Once()
	env.ExecuteWorkflow(workflows.RecordSync, input())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RecordSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.OutcomeUnchanged, res.Outcome)
	require.Empty(t, res.Changed, "nothing new was created")
	env.AssertNumberOfCalls(t, "RunTrigger", 1)

	env = newEnv(t)
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(linkedSF(), nil)
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil)
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(inStep(), nil).Once()
	env.OnActivity(a.RunTrigger, mock.Anything, mock.Anything).Return(&activities.RunTriggerResult{}, nil)
	env.ExecuteWorkflow(workflows.RecordSync, input())
	require.NoError(t, env.GetWorkflowError())
	env.AssertNotCalled(t, "RunTrigger", mock.Anything, mock.Anything)
}

// A trigger whose actions fail for good fails the run with a dead letter; the pass was recorded
// with the trigger still false, so replaying the dead letter fires it again.
func TestRecordSyncTriggerFailureKeepsDeadLetter(t *testing.T) {
	env := newEnv(t)
	plan := inStep()
	plan.Status = "Done"
	plan.FiredTriggers = []mappings.TriggerAction{wonDeal()}
	plan.TriggerStates = map[string]bool{"won-deal-delivery": false}
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(linkedSF(), nil)
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil)
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(plan, nil).Once()
	env.OnActivity(a.WriteJira, mock.Anything, mock.Anything).Return(&activities.WriteJiraResult{IssueID: "10001", IssueKey: "SFJ-1"}, nil).Once()
	env.OnActivity(a.VerifyPair, mock.Anything, mock.Anything).Return(&activities.VerifyPairResult{SFSide: side(), JiraSide: side()}, nil).Once()
	var committed activities.CommitSyncInput
	env.OnActivity(a.CommitSync, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.CommitSyncInput) (*activities.CommitSyncResult, error) {
		committed = in
		return &activities.CommitSyncResult{}, nil
	}).Once()
	env.OnActivity(a.RunTrigger, mock.Anything, mock.Anything).Return(nil,
		temporal.NewNonRetryableApplicationError("jira: POST /rest/api/3/version: 403: not allowed", string(catalog.JiraAuth), nil)).Once()
	var dead activities.RecordFailureInput
	env.OnActivity(a.RecordFailure, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RecordFailureInput) error {
		dead = in
		return nil
	}).Once()
	env.ExecuteWorkflow(workflows.RecordSync, input())
	err := env.GetWorkflowError()
	require.Error(t, err)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app))
	require.Equal(t, string(catalog.JiraAuth), dead.Code)
	require.False(t, committed.TriggerStates["won-deal-delivery"])
	require.NotNil(t, dead.ReplayInput, "the dead letter can be replayed")
}
