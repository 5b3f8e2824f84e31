package main

import (
	"github.com/jackc/pgx/v5"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/workflows"
)

func (s *stack) reconcile(in workflows.ReconcileInput) (client.WorkflowRun, activities.ReconcileReport) {
	s.t.Helper()
	in.Pair = s.mapping.Pair
	run, err := s.tc.ExecuteWorkflow(s.ctx, client.StartWorkflowOptions{ID: workflows.ReconcileScheduleID(s.mapping.Pair) + "/" + uuid.NewString()[:8], TaskQueue: s.queue},
		workflows.Reconcile, in)
	require.NoError(s.t, err)
	var rep activities.ReconcileReport
	require.NoError(s.t, run.Get(s.ctx, &rep))
	return run, rep
}

// TestEndToEndReconcile seeds every kind of drift behind change capture's back and checks that
// a dry run only reports it, a repairing run repairs it, and the next run finds the pair in step.
func TestEndToEndReconcile(t *testing.T) {
	s := newStack(t, 200)
	ctx := s.ctx
	_, bf := s.bulkBackfill(s.queue, workflows.BulkBackfillInput{})
	require.Zero(t, bf.Failed)
	_, clean := s.reconcile(workflows.ReconcileInput{})
	require.Zero(t, clean.Total(), "right after a backfill nothing drifts: %+v", clean)
	require.True(t, clean.FullScan)
	require.Equal(t, 200, clean.Linked)

	var recs []salesforce.Record
	require.NoError(t, s.sf.QueryEach(ctx, "SELECT Id, Name, Jira_Issue_Id__c, Jira_Issue_Key__c FROM Opportunity ORDER BY Id", func(r salesforce.Record) error {
		recs = append(recs, r)
		return nil
	}))
	issueOf := func(r salesforce.Record) string { v, _ := r.Value("Jira_Issue_Id__c"); return v.(string) }
	// Field drift on each side (no events reach the worker in this stack).
	for i := 0; i < 3; i++ {
		require.NoError(t, s.sf.Update(ctx, "Opportunity", recs[i].ID(), map[string]any{"Name": "SF drift " + recs[i].ID()}))
		require.NoError(t, s.jira.EditIssue(ctx, issueOf(recs[10+i]), map[string]any{"summary": "Jira drift " + recs[10+i].ID()}))
	}
	// An orphan link, a missing target and an unlinked duplicate.
	require.NoError(t, s.jira.DeleteIssue(ctx, issueOf(recs[20])))
	newID, err := s.sf.Create(ctx, "Opportunity", map[string]any{"Name": "Added without an event", "StageName": "Prospecting", "CloseDate": "2027-01-31",
		"AccountId": mustAccount(t, s)})
	require.NoError(t, err)
	dup, err := s.jira.CreateIssue(ctx, jira.IssueInput{Fields: map[string]any{"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Epic"}, "summary": "copy"},
		Properties: []jira.EntityProperty{{Key: "sfjira", Value: map[string]any{"origin": "sf/" + recs[30].ID()}}}})
	require.NoError(t, err)

	jiraWrites, sfWrites := writes(s.jiraEmu.Stats()), writes(s.sfEmu.Stats())
	_, dry := s.reconcile(workflows.ReconcileInput{DryRun: true})
	want := map[string]int{activities.DriftField: 6, activities.DriftOrphanLink: 1, activities.DriftMissingTarget: 1, activities.DriftUnlinkedDuplicate: 1, activities.DriftMappingChanged: 0}
	require.Equal(t, want, dry.Found, "%s", workflows.ReportMarkdown(&dry))
	require.Equal(t, jiraWrites, writes(s.jiraEmu.Stats()), "a dry run writes nothing to Jira")
	require.Equal(t, sfWrites, writes(s.sfEmu.Stats()), "a dry run writes nothing to Salesforce")
	require.NotEmpty(t, dry.Examples)

	run, rep := s.reconcile(workflows.ReconcileInput{})
	require.Equal(t, want, rep.Found)
	require.Equal(t, 6, rep.Repaired[activities.DriftField], "%s", workflows.ReportMarkdown(&rep))
	require.Equal(t, 1, rep.Repaired[activities.DriftMissingTarget], "the missing target is created through the bulk path")
	require.Equal(t, 1, rep.HandedOff, "the orphan link goes to its RecordSync")
	for i := 0; i < 3; i++ {
		is, err := s.jira.GetIssue(ctx, issueOf(recs[i]), []string{"summary"}, nil)
		require.NoError(t, err)
		require.Equal(t, "SF drift "+recs[i].ID(), is.FieldString("summary"))
		r, err := s.sf.Get(ctx, "Opportunity", recs[10+i].ID(), "Name")
		require.NoError(t, err)
		require.Equal(t, "Jira drift "+recs[10+i].ID(), r["Name"])
	}
	r, err := s.sf.Get(ctx, "Opportunity", newID, "Jira_Issue_Id__c", "Jira_Status__c")
	require.NoError(t, err)
	require.NotNil(t, r["Jira_Issue_Id__c"], "the missing target is created and back-linked within the reconcile run")
	require.Equal(t, "To Do", r["Jira_Status__c"])
	l, err := s.store.GetLink(ctx, "sf/"+newID)
	require.NoError(t, err)
	require.Equal(t, "linked", l.State)
	require.Equal(t, r["Jira_Issue_Id__c"], l.JiraIssueID)
	ps, err := s.store.GetPairState(ctx, "sf/"+newID)
	require.NoError(t, err)
	require.NotEmpty(t, ps.JiraHash, "its snapshot is recorded, so the next run finds it in step")
	require.Eventually(t, func() bool {
		l, err := s.store.GetLink(ctx, "sf/"+recs[20].ID())
		return err == nil && l.State == "deleted"
	}, 30*time.Second, 200*time.Millisecond, "the orphan link is closed by its RecordSync")

	_, after := s.reconcile(workflows.ReconcileInput{})
	require.False(t, after.FullScan, "the next run reads Jira incrementally")
	require.Equal(t, map[string]int{activities.DriftField: 0, activities.DriftOrphanLink: 0, activities.DriftMissingTarget: 0, activities.DriftUnlinkedDuplicate: 1, activities.DriftMappingChanged: 0},
		after.Found, "%s", workflows.ReportMarkdown(&after))
	require.Equal(t, dup.Key, after.Examples[0].IssueKey)

	runs, err := s.store.LatestReconcileRuns(ctx)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	if dir := os.Getenv("SFJIRA_RECORD_HISTORY"); dir != "" {
		saveHistory(t, s, run.GetID(), run.GetRunID(), filepath.Join(dir, "reconcile.json"))
	}
}

// Pairs last synced with an older version of the mapping are synced again with the current one:
// here the older mapping had written summaries with a prefix the current one no longer has, and no
// event ever arrives for these records. Reconciliation finds them by mapping version, rewrites the
// summaries from the current mapping and records the new version.
func TestReconcileResyncsPairsOfAnOlderMappingVersion(t *testing.T) {
	s := newStack(t, 12)
	ctx := s.ctx
	_, bf := s.bulkBackfill(s.queue, workflows.BulkBackfillInput{})
	require.Zero(t, bf.Failed)
	var recs []salesforce.Record
	require.NoError(t, s.sf.QueryEach(ctx, "SELECT Id, Name, Jira_Issue_Id__c FROM Opportunity ORDER BY Id LIMIT 4", func(r salesforce.Record) error {
		recs = append(recs, r)
		return nil
	}))
	db, err := pgx.Connect(ctx, s.dbURL)
	require.NoError(t, err)
	defer db.Close(ctx)
	for _, r := range recs {
		issueID, _ := r.Value("Jira_Issue_Id__c")
		name, _ := r.Value("Name")
		old := "OLD MAPPING: " + name.(string)
		// What the older mapping left: the Jira summary and both snapshot sides with its wording.
		require.NoError(t, s.jira.EditIssue(ctx, issueID.(string), map[string]any{"summary": old}))
		tag, err := db.Exec(ctx, `UPDATE pair_state SET mapping_version = '0ld0ld0ld0ld',
			sf_snapshot = jsonb_set(sf_snapshot, '{j:summary}', to_jsonb($2::text)),
			jira_snapshot = jsonb_set(jira_snapshot, '{j:summary}', to_jsonb($2::text)) WHERE origin_key = $1`, "sf/"+r.ID(), old)
		require.NoError(t, err)
		require.EqualValues(t, 1, tag.RowsAffected())
	}

	_, dry := s.reconcile(workflows.ReconcileInput{DryRun: true})
	require.Equal(t, 4, dry.Found[activities.DriftMappingChanged], "%s", workflows.ReportMarkdown(&dry))
	require.Zero(t, dry.Found[activities.DriftField], "pairs of an older mapping are reported once, by version")

	_, rep := s.reconcile(workflows.ReconcileInput{})
	require.Equal(t, 4, rep.Found[activities.DriftMappingChanged])
	require.Equal(t, 4, rep.Repaired[activities.DriftMappingChanged], "%s", workflows.ReportMarkdown(&rep))
	for _, r := range recs {
		issueID, _ := r.Value("Jira_Issue_Id__c")
		name, _ := r.Value("Name")
		is, err := s.jira.GetIssue(ctx, issueID.(string), []string{"summary"}, nil)
		require.NoError(t, err)
		require.Equal(t, name, is.FieldString("summary"), "the current mapping's value replaces the old one")
		ps, err := s.store.GetPairState(ctx, "sf/"+r.ID())
		require.NoError(t, err)
		require.Equal(t, s.mapping.Version, ps.MappingVersion)
	}
	_, after := s.reconcile(workflows.ReconcileInput{})
	require.Zero(t, after.Total(), "%s", workflows.ReportMarkdown(&after))
}

func mustAccount(t *testing.T, s *stack) string {
	var id string
	require.NoError(t, s.sf.QueryEach(s.ctx, "SELECT Id FROM Account LIMIT 1", func(r salesforce.Record) error { id = r.ID(); return nil }))
	return id
}

// The schedule `sfjira setup` creates: idempotent, overlap skip, catch-up window, interval.
func TestReconcileScheduleIsIdempotent(t *testing.T) {
	s := newStack(t, 1)
	what, err := workflows.EnsureReconcileSchedule(s.ctx, s.tc, s.queue, s.mapping.Pair, 15*time.Minute, 20*time.Minute)
	require.NoError(t, err)
	require.Equal(t, "created", what)
	what, err = workflows.EnsureReconcileSchedule(s.ctx, s.tc, s.queue, s.mapping.Pair, 30*time.Minute, 10*time.Minute)
	require.NoError(t, err)
	require.Equal(t, "updated", what)
	d, err := s.tc.ScheduleClient().GetHandle(s.ctx, workflows.ReconcileScheduleID(s.mapping.Pair)).Describe(s.ctx)
	require.NoError(t, err)
	require.Equal(t, 30*time.Minute, d.Schedule.Spec.Intervals[0].Every)
	require.Equal(t, 10*time.Minute, d.Schedule.Policy.CatchupWindow)
	require.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, d.Schedule.Policy.Overlap)
	act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.True(t, ok)
	require.Equal(t, s.queue, act.TaskQueue)
}
