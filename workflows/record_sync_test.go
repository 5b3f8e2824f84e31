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

func desired() *activities.TransformResult {
	return &activities.TransformResult{
		Fields:         map[string]any{"summary": "Müller – Fleet renewal", "customfield_10050": 125000.0},
		Projection:     mappings.Projection{"summary": "Müller – Fleet renewal", "customfield_10050": "125000.00", "status": "In Progress", "resolution": ""},
		Status:         "In Progress",
		MappingVersion: "abc123",
		JiraProject:    "SFJ",
		JiraIssueType:  "Epic",
	}
}

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.RecordSync)
	env.RegisterActivity(a)
	return env
}

func TestRecordSyncCreatesLinksVerifiesAndRecords(t *testing.T) {
	env := newEnv(t)
	src := &activities.FetchSalesforceResult{SfID: sfID, Values: map[string]any{"Name": "Müller – Fleet renewal"}, Modstamp: "2026-11-25T10:00:00.000+0000"}
	env.OnActivity(a.FetchSalesforce, mock.Anything, activities.FetchSalesforceInput{Pair: "opportunity-epic", SfID: sfID}).Return(src, nil).Once()
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(desired(), nil).Once()
	env.OnActivity(a.FetchJira, mock.Anything, activities.FetchJiraInput{Pair: "opportunity-epic", OriginKey: "sf/" + sfID}).Return(&activities.JiraState{}, nil).Once()
	env.OnActivity(a.WriteJira, mock.Anything, mock.MatchedBy(func(in activities.WriteJiraInput) bool {
		return in.OriginKey == "sf/"+sfID && !in.Current.Found && in.Desired.Status == "In Progress"
	})).Return(&activities.WriteJiraResult{IssueID: "10001", IssueKey: "SFJ-1", Created: true,
		Changes: []activities.FieldChange{{Action: "create", Field: "summary"}}}, nil).Once()
	env.OnActivity(a.LinkSalesforce, mock.Anything, activities.LinkSalesforceInput{Pair: "opportunity-epic", SfID: sfID, IssueID: "10001", IssueKey: "SFJ-1"}).
		Return(&activities.LinkSalesforceResult{Changes: []activities.FieldChange{{Action: "link", Field: "Jira_Issue_Id__c"}}}, nil).Once()
	env.OnActivity(a.VerifyJira, mock.Anything, activities.VerifyJiraInput{Pair: "opportunity-epic", IssueID: "10001", Expected: desired().Projection}).
		Return(&activities.VerifyJiraResult{Projection: desired().Projection, Updated: "2026-11-25T10:00:01.000+0000"}, nil).Once()
	var committed activities.CommitSyncInput
	env.OnActivity(a.CommitSync, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.CommitSyncInput) error {
		committed = in
		return nil
	}).Once()

	env.ExecuteWorkflow(workflows.RecordSync, input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RecordSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.OutcomeCreated, res.Outcome)
	require.Equal(t, "SFJ-1", res.IssueKey)
	require.Equal(t, 1, res.Passes)
	require.Equal(t, "10001", committed.IssueID)
	require.Equal(t, 1, committed.Pass)
	require.Len(t, committed.JiraChanges, 1)
	require.Len(t, committed.SfChanges, 1)
	require.Equal(t, desired().Projection, committed.SfProjection)
	env.AssertExpectations(t)
}

func TestRecordSyncInStepWritesNothing(t *testing.T) {
	env := newEnv(t)
	d := desired()
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(&activities.FetchSalesforceResult{SfID: sfID, LinkedIssueID: "10001", LinkedIssueKey: "SFJ-1"}, nil)
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(d, nil)
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).Return(&activities.JiraState{Found: true, IssueID: "10001", IssueKey: "SFJ-1",
		Projection: d.Projection, SnapshotHash: d.Projection.Hash()}, nil)
	env.ExecuteWorkflow(workflows.RecordSync, input())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RecordSyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.OutcomeUnchanged, res.Outcome)
	env.AssertNotCalled(t, "WriteJira", mock.Anything, mock.Anything)
	env.AssertNotCalled(t, "LinkSalesforce", mock.Anything, mock.Anything)
	env.AssertNotCalled(t, "CommitSync", mock.Anything, mock.Anything)
}

func TestRecordSyncBadRecordFailsWithCodeAndDeadLetter(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(&activities.FetchSalesforceResult{SfID: sfID}, nil)
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
	d := desired()
	fetches := 0
	env.OnActivity(a.FetchSalesforce, mock.Anything, mock.Anything).Return(func(_ context.Context, _ activities.FetchSalesforceInput) (*activities.FetchSalesforceResult, error) {
		fetches++
		return &activities.FetchSalesforceResult{SfID: sfID, LinkedIssueID: "10001", LinkedIssueKey: "SFJ-1"}, nil
	})
	env.OnActivity(a.Transform, mock.Anything, mock.Anything).Return(d, nil)
	env.OnActivity(a.FetchJira, mock.Anything, mock.Anything).After(2*time.Second).Return(&activities.JiraState{Found: true, IssueID: "10001", IssueKey: "SFJ-1",
		Projection: d.Projection, SnapshotHash: d.Projection.Hash()}, nil)
	// Three change events arrive while the first pass runs: they coalesce into one more pass.
	for i := 0; i < 3; i++ {
		env.RegisterDelayedCallback(func() {
			env.SignalWorkflow(workflows.SyncSignal, workflows.SyncRequest{Trigger: "poll", Source: "salesforce"})
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
