package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/workflows"
)

var a *activities.Activities

const sfID = "006000000000001AAA"

func input() workflows.RecordSyncInput {
	return workflows.RecordSyncInput{OriginKey: "sf/" + sfID, Pair: "opportunity-epic", SfObject: "Opportunity", SfID: sfID, Trigger: "manual", JiraProject: "SFJ"}
}

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.RecordSync)
	env.RegisterActivity(a)
	return env
}

func linkedSF() *activities.FetchSalesforceResult {
	return &activities.FetchSalesforceResult{Found: true, SfID: sfID, LinkedIssueID: "10001", LinkedIssueKey: "SFJ-1", Modstamp: "2026-11-25T10:00:00.000+0000"}
}

func foundJira() *activities.JiraState {
	return &activities.JiraState{Found: true, IssueID: "10001", IssueKey: "SFJ-1", Updated: "2026-11-25T10:00:00.000+0000"}
}

func side() mappings.Projection { return mappings.Projection{"j:summary": "Müller – Fleet renewal"} }

func inStep() *activities.TransformResult {
	s := side()
	return &activities.TransformResult{MappingVersion: "v1", JiraProject: "SFJ", JiraIssueType: "Epic", SFSide: s, JiraSide: s, ExpectSF: s, ExpectJira: s,
		SnapshotHash: s.Hash() + s.Hash(), SidesHash: s.Hash() + s.Hash()}
}

func TestRecordSyncCreatesIssueThenBackLinksVerifiesAndRecords(t *testing.T) {
	env := newEnv(t)
	unlinked := &activities.FetchSalesforceResult{Found: true, SfID: sfID, Modstamp: "2026-11-25T10:00:00.000+0000"}
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(unlinked, nil).Twice()
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(&activities.JiraState{}, nil).Once()
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil).Once()
	env.OnActivity(a.Transform, mock.Anything, mock.MatchedBy(func(in activities.TransformInput) bool { return !in.Jira.Found })).
		Return(&activities.TransformResult{CreateJira: true, JiraFields: map[string]any{"summary": "Müller – Fleet renewal"}, Status: "In Progress", JiraProject: "SFJ", JiraIssueType: "Epic"}, nil).Once()
	env.OnActivity(a.Transform, mock.Anything, mock.MatchedBy(func(in activities.TransformInput) bool { return in.Jira.Found })).Return(inStep(), nil).Once()
	env.OnActivity(a.WriteJira, mock.Anything, mock.MatchedBy(func(in activities.WriteJiraInput) bool {
		return in.Create && in.OriginKey == "sf/"+sfID && in.Status == "In Progress"
	})).Return(&activities.WriteJiraResult{IssueID: "10001", IssueKey: "SFJ-1", Created: true,
		Changes: []activities.FieldChange{{Action: "create", Field: "summary", Label: "Summary"}}}, nil).Once()
	env.OnActivity(a.WriteSalesforce, mock.Anything, mock.MatchedBy(func(in activities.WriteSalesforceInput) bool {
		return in.SfID == sfID && in.IssueID == "10001" && in.IssueKey == "SFJ-1" && in.CurrentIssueID == ""
	})).Return(&activities.WriteSalesforceResult{SfID: sfID, Changes: []activities.FieldChange{{Action: "link", Field: "Jira_Issue_Id__c"}}}, nil).Once()
	env.OnActivity(a.VerifyPair, mock.Anything, mock.Anything).Return(&activities.VerifyPairResult{SFSide: side(), JiraSide: side(), IssueKey: "SFJ-1"}, nil).Once()
	var committed activities.CommitSyncInput
	env.OnActivity(a.CommitSync, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.CommitSyncInput) (*activities.CommitSyncResult, error) {
		committed = in
		return &activities.CommitSyncResult{LatencyMS: 120}, nil
	}).Once()

	env.ExecuteWorkflow(workflows.RecordSync, input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RecordSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.OutcomeCreated, res.Outcome)
	require.Equal(t, "SFJ-1", res.IssueKey)
	require.Equal(t, []string{"Summary", "Jira_Issue_Id__c"}, res.Changed)
	require.Equal(t, "10001", committed.IssueID)
	require.Equal(t, side(), committed.SFSide)
	require.Len(t, committed.SfChanges, 1)
	require.EqualValues(t, 120, res.LatencyMS)
	env.AssertExpectations(t)
}

func TestRecordSyncInStepWritesNothing(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(linkedSF(), nil)
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil)
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(inStep(), nil)
	env.ExecuteWorkflow(workflows.RecordSync, input())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RecordSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.OutcomeUnchanged, res.Outcome)
	for _, act := range []string{"WriteJira", "WriteSalesforce", "VerifyPair", "CommitSync", "MirrorComments"} {
		env.AssertNotCalled(t, act, mock.Anything, mock.Anything)
	}
}

func TestRecordSyncWritesBothSidesOfAMerge(t *testing.T) {
	env := newEnv(t)
	plan := inStep()
	plan.JiraFields = map[string]any{"customfield_10050": 125000.0}
	plan.SFFields = map[string]any{"Jira_Status__c": "In Review"}
	plan.Decisions = []activities.Decision{{Key: "j:customfield_10050", Winner: "sf", Reason: "sf_changed"}, {Key: "s:Jira_Status__c", Winner: "jira", Reason: "jira_changed"}}
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(linkedSF(), nil)
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil)
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(plan, nil)
	env.OnActivity(a.WriteJira, mock.Anything, mock.MatchedBy(func(in activities.WriteJiraInput) bool {
		return !in.Create && in.IssueID == "10001" && len(in.Fields) == 1
	})).
		Return(&activities.WriteJiraResult{IssueID: "10001", IssueKey: "SFJ-1", Changes: []activities.FieldChange{{Action: "update", Field: "customfield_10050", Label: "Deal Amount"}}}, nil).Once()
	env.OnActivity(a.WriteSalesforce, mock.Anything, mock.MatchedBy(func(in activities.WriteSalesforceInput) bool { return in.Fields["Jira_Status__c"] == "In Review" })).
		Return(&activities.WriteSalesforceResult{SfID: sfID, Changes: []activities.FieldChange{{Action: "update", Field: "Jira_Status__c", Label: "Jira_Status__c"}}}, nil).Once()
	env.OnActivity(a.VerifyPair, mock.Anything, mock.Anything).Return(&activities.VerifyPairResult{SFSide: side(), JiraSide: side()}, nil).Once()
	var committed activities.CommitSyncInput
	env.OnActivity(a.CommitSync, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.CommitSyncInput) (*activities.CommitSyncResult, error) {
		committed = in
		return &activities.CommitSyncResult{}, nil
	}).Once()
	env.ExecuteWorkflow(workflows.RecordSync, input())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RecordSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.OutcomeUpdated, res.Outcome)
	require.Len(t, committed.Decisions, 2)
	require.Len(t, committed.JiraChanges, 1)
	require.Len(t, committed.SfChanges, 1)
}

func TestRecordSyncQueuesManualConflictWithoutWriting(t *testing.T) {
	env := newEnv(t)
	plan := inStep()
	plan.SnapshotHash = "stale"
	plan.Conflicts = []activities.ConflictNote{{Key: "j:summary", Label: "Summary", SFValue: "A", JiraValue: "B", BaseSF: "O", BaseJira: "O"}}
	plan.Held = []string{"j:summary"}
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(linkedSF(), nil)
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil)
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(plan, nil)
	var committed activities.CommitSyncInput
	env.OnActivity(a.CommitSync, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.CommitSyncInput) (*activities.CommitSyncResult, error) {
		committed = in
		return &activities.CommitSyncResult{}, nil
	}).Once()
	env.ExecuteWorkflow(workflows.RecordSync, input())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RecordSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, []string{"Summary"}, res.Conflicts)
	require.Equal(t, []string{"j:summary"}, committed.Held)
	require.Len(t, committed.Conflicts, 1)
	env.AssertNotCalled(t, "WriteJira", mock.Anything, mock.Anything)
	env.AssertNotCalled(t, "WriteSalesforce", mock.Anything, mock.Anything)
}

func TestRecordSyncAppliesDeletePolicy(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(&activities.FetchSalesforceResult{Deleted: true, SfID: sfID}, nil)
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil)
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(&activities.TransformResult{DeleteAction: "mark_jira"}, nil)
	env.OnActivity(a.WriteJira, mock.Anything, mock.MatchedBy(func(in activities.WriteJiraInput) bool {
		return in.DeleteAction == "mark_jira" && in.IssueID == "10001"
	})).
		Return(&activities.WriteJiraResult{IssueID: "10001", Changes: []activities.FieldChange{{Action: "mark_deleted", Field: "labels"}}}, nil).Once()
	var committed activities.CommitSyncInput
	env.OnActivity(a.CommitSync, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.CommitSyncInput) (*activities.CommitSyncResult, error) {
		committed = in
		return &activities.CommitSyncResult{}, nil
	}).Once()
	env.ExecuteWorkflow(workflows.RecordSync, input())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RecordSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.OutcomeDeleted, res.Outcome)
	require.True(t, committed.Deleted)
}

func TestRecordSyncJiraOriginCreatesSalesforceRecordAndMirrorsComments(t *testing.T) {
	env := newEnv(t)
	in := workflows.RecordSyncInput{OriginKey: "jira/10001", Pair: "opportunity-epic", SfObject: "Opportunity", JiraIssueID: "10001", Trigger: "jira_webhook"}
	env.OnActivity(a.FetchSalesforce, mock.Anything, activities.FetchSalesforceInput{Pair: "opportunity-epic", JiraIssueID: "10001"}).
		Return(&activities.FetchSalesforceResult{}, nil).Once()
	env.OnActivity(a.FetchSalesforce, mock.Anything, activities.FetchSalesforceInput{Pair: "opportunity-epic", SfID: sfID, JiraIssueID: "10001"}).Return(linkedSF(), nil).Once()
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil)
	env.OnActivity(a.Transform, mock.Anything, mock.MatchedBy(func(in activities.TransformInput) bool { return !in.SF.Found })).
		Return(&activities.TransformResult{CreateSalesforce: true, SFFields: map[string]any{"Name": "From Jira", "StageName": "Prospecting"}}, nil).Once()
	env.OnActivity(a.Transform, mock.Anything, mock.MatchedBy(func(in activities.TransformInput) bool { return in.SF.Found })).Return(inStep(), nil).Once()
	env.OnActivity(a.WriteSalesforce, mock.Anything, mock.MatchedBy(func(in activities.WriteSalesforceInput) bool { return in.Create && in.IssueID == "10001" })).
		Return(&activities.WriteSalesforceResult{SfID: sfID, Created: true}, nil).Once()
	env.OnActivity(a.WriteJira, mock.Anything, mock.MatchedBy(func(in activities.WriteJiraInput) bool {
		return in.MarkOrigin && in.SfID == sfID && in.IssueID == "10001"
	})).
		Return(&activities.WriteJiraResult{IssueID: "10001"}, nil).Once()
	env.OnActivity(a.MirrorComments, mock.Anything, activities.MirrorCommentsInput{Pair: "opportunity-epic", OriginKey: "jira/10001", SfID: sfID, IssueID: "10001"}).
		Return(&activities.MirrorCommentsResult{Posted: 2}, nil).Once()
	env.ExecuteWorkflow(workflows.RecordSync, in)
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RecordSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.OutcomeCreated, res.Outcome)
	require.Equal(t, sfID, res.SfID)
	env.AssertExpectations(t)
}

func TestRecordSyncBadRecordFailsWithCodeAndDeadLetter(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(linkedSF(), nil)
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(foundJira(), nil)
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(nil,
		temporal.NewNonRetryableApplicationError("Opportunity "+sfID+": Account.Name is required but empty", string(catalog.MappingRequiredValueMissing), nil))
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
	require.Equal(t, string(catalog.MappingRequiredValueMissing), app.Type())
	require.Equal(t, string(catalog.MappingRequiredValueMissing), dead.Code)
	require.Contains(t, dead.Message, "Account.Name")
	env.AssertNotCalled(t, "WriteJira", mock.Anything, mock.Anything)
}

func TestRecordSyncCoalescesSignalsIntoAnotherPass(t *testing.T) {
	env := newEnv(t)
	fetches := 0
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(func(_ context.Context, _ activities.FetchSalesforceInput) (*activities.FetchSalesforceResult, error) {
		fetches++
		return linkedSF(), nil
	})
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).After(2*time.Second).Return(foundJira(), nil)
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(inStep(), nil)
	// Three change events arrive while the first pass runs: they coalesce into one more pass.
	for i := 0; i < 3; i++ {
		env.RegisterDelayedCallback(func() {
			env.SignalWorkflow(workflows.SyncSignal, workflows.SyncRequest{Trigger: "salesforce_poll", Source: "salesforce"})
		}, time.Second)
	}
	env.ExecuteWorkflow(workflows.RecordSync, input())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RecordSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 2, res.Passes)
	require.Equal(t, 2, fetches)
}

func TestRecordSyncRejectsIncompleteInput(t *testing.T) {
	env := newEnv(t)
	env.ExecuteWorkflow(workflows.RecordSync, workflows.RecordSyncInput{Pair: "opportunity-epic"})
	var app *temporal.ApplicationError
	require.True(t, errors.As(env.GetWorkflowError(), &app))
	require.Equal(t, string(catalog.InvalidInput), app.Type())
}
