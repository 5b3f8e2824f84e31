package main

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/workflows"
)

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func planRows(p *activities.SyncPlan, keep func(activities.PlannedWrite) bool) []string {
	var out []string
	for _, w := range p.Writes {
		if keep(w) {
			out = append(out, w.System+"|"+w.Action+"|"+w.Field+"|"+deref(w.Before)+"|"+deref(w.After))
		}
	}
	sort.Strings(out)
	return out
}

func (s *stack) auditRows(t *testing.T, origin, runID string, keep func(system, action string) bool) []string {
	t.Helper()
	entries, err := s.store.AuditFor(s.ctx, origin)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if e.RunID == runID && keep(e.TargetSystem, e.Action) {
			out = append(out, e.TargetSystem+"|"+e.Action+"|"+e.Field+"|"+deref(e.Before)+"|"+deref(e.After))
		}
	}
	sort.Strings(out)
	return out
}

// A dry run prints exactly the writes the real sync then makes: the same fields, actions and
// before/after values the audit trail records, on both systems; after the sync a dry run plans
// nothing.
func TestDryRunEqualsRealWrites(t *testing.T) {
	s := newStack(t, 3)
	ctx := s.ctx
	var recs []salesforce.Record
	require.NoError(t, s.sf.QueryEach(ctx, "SELECT Id FROM Opportunity ORDER BY Id", func(r salesforce.Record) error {
		recs = append(recs, r)
		return nil
	}))
	id := recs[0].ID()
	origin := workflows.SalesforceOriginKey(id)

	// Create: the planned field values are the ones the issue is created with.
	plan, err := s.acts.PlanSync(ctx, s.mapping.Pair, id)
	require.NoError(t, err)
	require.True(t, plan.CreateJira)
	created := func(w activities.PlannedWrite) bool { return w.System == "jira" && w.Action == "create" }
	want := planRows(plan, created)
	require.NotEmpty(t, want)
	run, res, err := s.sync(id)
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeCreated, res.Outcome)
	require.Equal(t, want, s.auditRows(t, origin, run.GetRunID(), func(sys, act string) bool { return sys == "jira" && act == "create" }))

	// Update on both sides: Salesforce changes amount, stage and name; Jira changes the description.
	require.NoError(t, s.sf.Update(ctx, "Opportunity", id, map[string]any{"Amount": 4321.5, "StageName": "Closed Won", "Name": "Dry run – Ærø"}))
	require.NoError(t, s.jira.EditIssue(ctx, res.IssueID, map[string]any{"description": adf("Scope changed in Jira.\n\nSecond paragraph.")}))
	plan, err = s.acts.PlanSync(ctx, s.mapping.Pair, id)
	require.NoError(t, err)
	all := func(activities.PlannedWrite) bool { return true }
	want = planRows(plan, all)
	sfJira := 0
	for _, w := range plan.Writes {
		if w.System == "salesforce" {
			sfJira++
		}
	}
	require.Positive(t, sfJira, "the plan writes Salesforce too: %v", want)
	require.GreaterOrEqual(t, len(want), 5, "amount, name, status, resolution, description, Jira status: %v", want)
	run, res, err = s.sync(id)
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeUpdated, res.Outcome)
	require.Equal(t, want, s.auditRows(t, origin, run.GetRunID(), func(string, string) bool { return true }),
		"the dry run printed exactly what the sync wrote")

	// In step now: nothing planned.
	plan, err = s.acts.PlanSync(ctx, s.mapping.Pair, id)
	require.NoError(t, err)
	require.True(t, plan.Empty(), "%+v", plan.Writes)
}
