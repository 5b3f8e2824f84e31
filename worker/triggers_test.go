package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/worker"

	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/workflows"
)

// triggerCounts are what the won-deal trigger can create: versions in SFJ, Stories under an Epic.
func (s *stack) triggerCounts(t *testing.T, epicKey string) (versions int, stories []jira.Issue) {
	t.Helper()
	vs, err := s.jira.ProjectVersions(s.ctx, "SFJ")
	require.NoError(t, err)
	page, err := s.jira.Search(s.ctx, jira.SearchRequest{JQL: `parent = "` + epicKey + `" AND issue.property[` + mappings.TriggerProperty + `].trigger = "won-deal-delivery" ORDER BY key ASC`,
		Fields: []string{"summary", "fixVersions"}, MaxResults: 50})
	require.NoError(t, err)
	return len(vs), page.Issues
}

// The default pack's trigger on a real dev server, end to end: an Opportunity set to Closed Won
// with Amount 150,000 gets one Jira version (its Epic's fix version) and three Stories under its
// Epic, audited with action trigger; syncing again, replaying the run's history, and closing it
// again after a reopen create nothing new; a deal of 50,000 creates nothing.
func TestEndToEndTriggerWonDeal(t *testing.T) {
	s := newStack(t, 6)
	res := s.backfillPair("opportunity-epic", "Opportunity")
	require.Zero(t, len(res.Failures), "%+v", res.Failures)
	vs, err := s.jira.ProjectVersions(s.ctx, "SFJ")
	require.NoError(t, err)
	require.Empty(t, vs, "deals already won when first synced set the baseline, they do not fire")

	var open []salesforce.Record
	require.NoError(t, s.sf.QueryEach(s.ctx, "SELECT Id, Name, Account.Name, Jira_Issue_Id__c, Jira_Issue_Key__c FROM Opportunity WHERE IsClosed = false ORDER BY Id", func(r salesforce.Record) error {
		open = append(open, r)
		return nil
	}))
	require.GreaterOrEqual(t, len(open), 2, "the seed has open Opportunities")
	big, small := open[0], open[1]
	bigKey, _ := big.Value("Jira_Issue_Key__c")
	bigIssue, _ := big.Value("Jira_Issue_Id__c")
	epicKey, epicID := bigKey.(string), bigIssue.(string)

	require.NoError(t, s.sf.Update(s.ctx, "Opportunity", big.ID(), map[string]any{"StageName": "Closed Won", "Amount": 150000}))
	run, out, err := s.sync(big.ID())
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeUpdated, out.Outcome)
	var fired string
	for _, c := range out.Changed {
		if strings.HasPrefix(c, "trigger won-deal-delivery: ") {
			fired = c
		}
	}
	require.NotEmpty(t, fired, "the run reports what the trigger created: %v", out.Changed)
	name, _ := big.Value("Name")
	account, _ := big.Value("Account.Name")
	versionName := "Delivery: " + name.(string)
	require.Contains(t, fired, "version "+versionName)

	versions, stories := s.triggerCounts(t, epicKey)
	require.Equal(t, 1, versions)
	require.Len(t, stories, 3)
	require.Equal(t, "Kick-off with "+account.(string), stories[0].FieldString("summary"))
	epic := s.issue(t, epicID, "fixVersions", "status")
	require.Equal(t, "Done", epic.StatusName())
	require.Contains(t, string(epic.Fields["fixVersions"]), `"name":"`+versionName+`"`)
	for _, st := range stories {
		require.Contains(t, string(st.Fields["fixVersions"]), `"name":"`+versionName+`"`)
	}
	rows, err := s.store.AuditFor(s.ctx, workflows.SalesforceOriginKey(big.ID()))
	require.NoError(t, err)
	var audited []string
	for _, r := range rows {
		if r.Action == "trigger" {
			audited = append(audited, r.Field)
		}
	}
	require.Equal(t, []string{"won-deal-delivery: version", "won-deal-delivery: fixVersions",
		"won-deal-delivery: story-1", "won-deal-delivery: story-2", "won-deal-delivery: story-3"}, audited)

	// The run's history replays against the workflow code (the trigger step is deterministic).
	if dir := os.Getenv("SFJIRA_RECORD_HISTORY"); dir != "" {
		saveHistory(t, s, run.GetID(), run.GetRunID(), filepath.Join(dir, "record_sync_trigger.json"))
	}
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflow(workflows.RecordSync)
	iter := s.tc.GetWorkflowHistory(s.ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	require.NoError(t, replayer.ReplayWorkflowHistory(nil, h), "replay of the trigger run")

	// Synced again, and set again (the same values): nothing new anywhere.
	jiraWrites := writes(s.jiraEmu.Stats())
	require.NoError(t, s.sf.Update(s.ctx, "Opportunity", big.ID(), map[string]any{"StageName": "Closed Won", "Amount": 150000}))
	_, out, err = s.sync(big.ID())
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeUnchanged, out.Outcome, "%v", out.Changed)
	require.Equal(t, jiraWrites, writes(s.jiraEmu.Stats()), "no Jira write on a pass where the condition still holds")
	versions, stories = s.triggerCounts(t, epicKey)
	require.Equal(t, 1, versions)
	require.Len(t, stories, 3)

	// Reopened and won again: the trigger fires again, but finds its version and Stories.
	require.NoError(t, s.sf.Update(s.ctx, "Opportunity", big.ID(), map[string]any{"StageName": "Negotiation/Review"}))
	_, _, err = s.sync(big.ID())
	require.NoError(t, err)
	require.NoError(t, s.sf.Update(s.ctx, "Opportunity", big.ID(), map[string]any{"StageName": "Closed Won"}))
	_, out, err = s.sync(big.ID())
	require.NoError(t, err)
	for _, c := range out.Changed {
		require.False(t, strings.HasPrefix(c, "trigger "), "nothing new created: %v", out.Changed)
	}
	versions, stories = s.triggerCounts(t, epicKey)
	require.Equal(t, 1, versions)
	require.Len(t, stories, 3)

	// A small deal won: the condition is false, nothing is created.
	smallKey, _ := small.Value("Jira_Issue_Key__c")
	require.NoError(t, s.sf.Update(s.ctx, "Opportunity", small.ID(), map[string]any{"StageName": "Closed Won", "Amount": 50000}))
	_, out, err = s.sync(small.ID())
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeUpdated, out.Outcome)
	versions, stories = s.triggerCounts(t, smallKey.(string))
	require.Equal(t, 1, versions)
	require.Empty(t, stories)
	rows, err = s.store.AuditFor(s.ctx, workflows.SalesforceOriginKey(small.ID()))
	require.NoError(t, err)
	for _, r := range rows {
		require.NotEqual(t, "trigger", r.Action)
	}
	b, _ := json.Marshal(out.Changed)
	require.NotContains(t, string(b), "trigger")
}
