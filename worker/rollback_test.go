package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/workflows"
)

// TestRollbackRestoresBeforeImagesRefusesHumanEditsAndDoesNotEcho: a sync writes a new Name and
// Amount to the Epic; an operator rolls the record back to before it. The dry run writes nothing;
// a field a person edited in Jira since is refused (kept) while the others are restored; the
// restore is audited and a following sync writes nothing back; --force restores the refused one.
func TestRollbackRestoresBeforeImagesRefusesHumanEditsAndDoesNotEcho(t *testing.T) {
	s := newStack(t, 2)
	ctx := s.ctx
	res := s.backfill()
	require.Equal(t, 2, res.Created)
	fieldID := map[string]string{}
	fields, err := s.jira.Fields(ctx)
	require.NoError(t, err)
	for _, f := range fields {
		fieldID[f.Name] = f.ID
	}
	deal := fieldID["Deal Amount"]
	recs, err := s.sf.Query(ctx, "SELECT Id, Name, Amount, Jira_Issue_Id__c FROM Opportunity ORDER BY Id LIMIT 1")
	require.NoError(t, err)
	rec := recs.Records[0]
	id := rec.ID()
	issueID, _ := rec.Value("Jira_Issue_Id__c")
	issue := issueID.(string)
	readJira := func() (string, float64) {
		is, err := s.jira.GetIssue(ctx, issue, []string{"summary", deal}, nil)
		require.NoError(t, err)
		var amt float64
		require.NoError(t, json.Unmarshal(is.Fields[deal], &amt))
		return is.FieldString("summary"), amt
	}
	oldSummary, oldAmount := readJira()

	time.Sleep(50 * time.Millisecond)
	before := time.Now().UTC()
	require.NoError(t, s.sf.Update(ctx, "Opportunity", id, map[string]any{"Amount": 424242.0, "Name": "Renamed by sync"}))
	_, out, err := s.sync(id)
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeUpdated, out.Outcome)
	sum, amt := readJira()
	require.Equal(t, "Renamed by sync", sum)
	require.InDelta(t, 424242.0, amt, 0.001)

	rollback := func(in workflows.RollbackInput) (client.WorkflowRun, workflows.RollbackResult) {
		run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.RollbackWorkflowID(uuid.NewString()), TaskQueue: s.queue}, workflows.Rollback, in)
		require.NoError(t, err)
		var r workflows.RollbackResult
		require.NoError(t, run.Get(ctx, &r))
		return run, r
	}
	scope := activities.RollbackScope{OriginKey: "sf/" + id, Since: before}

	// Dry run: says what it would do, writes nothing.
	_, dry := rollback(workflows.RollbackInput{Scope: scope, DryRun: true, RequestedBy: "test"})
	require.True(t, dry.DryRun)
	require.Len(t, dry.Restored, 2, "%+v", dry)
	sum, amt = readJira()
	require.Equal(t, "Renamed by sync", sum)
	require.InDelta(t, 424242.0, amt, 0.001)

	// A person edits the summary in Jira after the sync: the rollback keeps their edit.
	require.NoError(t, s.jira.EditIssue(ctx, issue, map[string]any{"summary": "Edited by a person"}))
	run, r := rollback(workflows.RollbackInput{Scope: scope, RequestedBy: "test"})
	require.Len(t, r.Restored, 1, "%+v", r)
	require.Contains(t, r.Restored[0], deal)
	require.Len(t, r.Refused, 1)
	require.Contains(t, r.Refused[0], "someone changed it since")
	sum, amt = readJira()
	require.Equal(t, "Edited by a person", sum)
	require.InDelta(t, oldAmount, amt, 0.001, "Deal Amount back to its before-image")

	// Audited, and not synced back: Salesforce keeps its Amount; a sync writes no Deal Amount.
	audit, err := s.store.AuditFor(ctx, "sf/"+id)
	require.NoError(t, err)
	var rolled []string
	for _, e := range audit {
		if e.Action == "rollback" {
			rolled = append(rolled, e.Field)
			require.Contains(t, e.DecidedBy, "operator rollback by test")
			require.Equal(t, run.GetID(), e.WorkflowID)
		}
	}
	require.Equal(t, []string{deal}, rolled)
	// The next sync must not carry the restored Jira value back into Salesforce. (Deal Amount is
	// owned by Salesforce, one way: a later sync applies Salesforce's current value again, which
	// is the mapping's rule, not an echo of the rollback.)
	_, _, err = s.sync(id)
	require.NoError(t, err)
	sfRec, err := s.sf.Get(ctx, "Opportunity", id, "Amount")
	require.NoError(t, err)
	require.InDelta(t, 424242.0, sfRec["Amount"].(float64), 0.001, "Salesforce was not rolled back through an echo")

	// --force restores the refused field too.
	_, forced := rollback(workflows.RollbackInput{Scope: activities.RollbackScope{OriginKey: "sf/" + id, Since: before}, Force: true, RequestedBy: "test"})
	joined := strings.Join(forced.Restored, "\n")
	require.Contains(t, joined, "summary", "%+v", forced)
	sum, _ = readJira()
	require.Equal(t, oldSummary, sum)

	if dir := os.Getenv("SFJIRA_RECORD_HISTORY"); dir != "" {
		saveHistory(t, s, run.GetID(), run.GetRunID(), filepath.Join(dir, "rollback.json"))
	}
}
