package main

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/activities"
	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

var stages = []string{"Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
	"Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"}

// TestConvergence is the seeded, property-based test of two-way sync: many pairs, random
// interleaved edits on both sides (including the same field on both sides at once, deletes, and
// lost, duplicated and reordered webhooks and outbound messages). After quiescence both sides
// must agree per mapping and policies, every conflict must be decided by policy or queued (and
// the queued ones applied once decided), no pair may have two issues, and the connector must not
// write more often than there were edits and conflicts (no ping-pong).
//
// Defaults: 200 pairs, 2,000 edits, seed 7. Larger runs: SFJIRA_CONVERGENCE_PAIRS,
// SFJIRA_CONVERGENCE_EDITS, SFJIRA_CONVERGENCE_SEED.
func TestConvergence(t *testing.T) {
	pairs := envInt("SFJIRA_CONVERGENCE_PAIRS", 200)
	edits := envInt("SFJIRA_CONVERGENCE_EDITS", 2000)
	seed := int64(envInt("SFJIRA_CONVERGENCE_SEED", 7))
	s := newStackWith(t, stackOptions{Opportunities: pairs, MappingDir: "testdata/live"})
	ctx := s.ctx
	started := time.Now()
	res := s.backfill()
	require.Equal(t, pairs, res.Created, "%+v", res)
	t.Logf("backfill of %d pairs: %s", pairs, time.Since(started).Round(time.Millisecond))

	s.goLive(t, 1, 2)
	s.jiraEmu.SetFaults(jiraemu.Faults{Seed: seed, WebhookDropRate: 0.15, WebhookDupRate: 0.1, WebhookReorder: true})
	s.sfEmu.SetFaults(sfemu.Faults{Seed: seed, OutboundDropRate: 0.15, OutboundDupRate: 0.1, OutboundReorder: true})

	var recs []convRec
	require.NoError(t, s.sf.QueryEach(ctx, "SELECT Id, Jira_Issue_Id__c, Jira_Issue_Key__c FROM Opportunity ORDER BY Id", func(r salesforce.Record) error {
		recs = append(recs, convRec{sf: r.ID(), issue: fmt.Sprint(r["Jira_Issue_Id__c"]), key: fmt.Sprint(r["Jira_Issue_Key__c"])})
		return nil
	}))
	require.Len(t, recs, pairs)

	var phaseStart time.Time
	require.NoError(t, s.store.Pool().QueryRow(ctx, `SELECT now()`).Scan(&phaseStart))
	rng := rand.New(rand.NewSource(seed))
	deleted := map[int]bool{}
	realEdits, sameField := 0, 0
	word := func() string {
		return fmt.Sprintf("v%d-%s", rng.Intn(1_000_000), []string{"Ærø", "Zoë", "東京", "Ñandú", "🚀", "plain"}[rng.Intn(6)])
	}
	sfEdit := func(r convRec, fields map[string]any) {
		require.NoError(t, s.sf.Update(ctx, "Opportunity", r.sf, fields))
		realEdits++
	}
	jiraEdit := func(r convRec, fields map[string]any) {
		require.NoError(t, s.jira.EditIssue(ctx, r.issue, fields))
		realEdits++
	}
	editStart := time.Now()
	for i := 0; i < edits; {
		idx := rng.Intn(len(recs))
		if deleted[idx] {
			continue
		}
		r := recs[idx]
		switch op := rng.Intn(100); {
		case op < 12:
			sfEdit(r, map[string]any{"Name": "Deal " + word()})
		case op < 20:
			sfEdit(r, map[string]any{"Amount": float64(rng.Intn(500000)) + 0.5})
		case op < 27:
			sfEdit(r, map[string]any{"StageName": stages[rng.Intn(len(stages))]})
		case op < 32:
			sfEdit(r, map[string]any{"CloseDate": time.Date(2027, time.Month(1+rng.Intn(12)), 1+rng.Intn(28), 0, 0, 0, 0, time.UTC).Format("2006-01-02")})
		case op < 37:
			sfEdit(r, map[string]any{"Description": "From Salesforce " + word() + "\n\nsecond paragraph"})
		case op < 49:
			jiraEdit(r, map[string]any{"summary": "Epic " + word()})
		case op < 55:
			jiraEdit(r, map[string]any{"duedate": time.Date(2028, time.Month(1+rng.Intn(12)), 1+rng.Intn(28), 0, 0, 0, 0, time.UTC).Format("2006-01-02")})
		case op < 60:
			jiraEdit(r, map[string]any{"description": adf("From Jira " + word())})
		case op < 64:
			// Salesforce owns the amount: an edit in Jira is put back.
			jiraEdit(r, map[string]any{"customfield_10050": float64(rng.Intn(1000))})
		case op < 74:
			ts, err := s.jira.Transitions(ctx, r.issue)
			require.NoError(t, err)
			if len(ts) > 0 {
				tr := ts[rng.Intn(len(ts))]
				require.NoError(t, s.jira.DoTransition(ctx, r.issue, tr.ID, nil))
				realEdits++
			}
		case op < 99:
			// The same field on both sides at (almost) the same time.
			sameField++
			switch rng.Intn(3) {
			case 0:
				sfEdit(r, map[string]any{"Name": "Both " + word()})
				jiraEdit(r, map[string]any{"summary": "Both " + word()})
			case 1:
				sfEdit(r, map[string]any{"Description": "Both SF " + word()})
				jiraEdit(r, map[string]any{"description": adf("Both Jira " + word())})
			default:
				sfEdit(r, map[string]any{"CloseDate": "2029-03-03"})
				jiraEdit(r, map[string]any{"duedate": "2029-04-04"})
			}
		default:
			if len(deleted) < 5 {
				require.NoError(t, s.sf.Delete(ctx, "Opportunity", r.sf))
				deleted[idx] = true
				realEdits++
			}
		}
		i++
		// Interleave edits with the syncs they trigger rather than landing them all at once.
		if rng.Intn(4) == 0 {
			time.Sleep(time.Duration(rng.Intn(20)) * time.Millisecond)
		}
	}
	t.Logf("%d edits (%d API writes, %d same-field pairs, %d deletes) issued in %s", edits, realEdits, sameField, len(deleted), time.Since(editStart).Round(time.Millisecond))

	// Quiescence: deletes need the getDeleted window (over a minute) and lost events the pollers.
	wait := time.Duration(envInt("SFJIRA_CONVERGENCE_WAIT_MINUTES", 6)) * time.Minute
	s.quiesceAll(t, recs, deleted, wait)
	t.Logf("quiescent %s after the last edit", time.Since(editStart).Round(time.Second))

	// Decide every queued conflict, alternating sides, and let the syncs apply them.
	open, err := s.store.OpenConflicts(ctx, "")
	require.NoError(t, err)
	queued := len(open)
	for i, c := range open {
		take := []string{"sf", "jira"}[i%2]
		require.NoError(t, s.store.ResolveConflict(ctx, c.ID, take, "test"))
		req := activities.SyncStart{OriginKey: c.OriginKey, Pair: c.Pair, SfObject: "Opportunity", SfID: c.OriginKey[3:], Trigger: "conflict_resolved", Source: "operator"}
		require.NoError(t, s.acts.Syncs.StartSync(ctx, req))
	}
	s.quiesceAll(t, recs, deleted, wait)
	open, err = s.store.OpenConflicts(ctx, "")
	require.NoError(t, err)
	require.Empty(t, open, "every decided conflict is applied")

	// Both sides agree per mapping and policies; no pair has two issues; deleted ones are marked.
	rep, err := s.acts.CheckPair(ctx, s.mapping.Pair)
	require.NoError(t, err)
	require.Empty(t, rep.Problems, "after quiescence")
	require.Equal(t, pairs-len(deleted), rep.InSync)
	issues := 0
	require.NoError(t, s.jira.SearchEach(ctx, jira.SearchRequest{JQL: `project = SFJ`, Fields: []string{"labels"}, MaxResults: 100}, func(*jira.Issue) error { issues++; return nil }))
	require.Equal(t, pairs, issues, "zero duplicates: one issue per pair, deleted pairs marked, not removed")
	for idx := range deleted {
		is, err := s.jira.GetIssue(ctx, recs[idx].issue, []string{"labels"}, nil)
		require.NoError(t, err)
		require.Contains(t, string(is.Fields["labels"]), activities.DeletedLabel)
	}

	// No ping-pong: passes that wrote ≤ real edits + conflicts decided by policy or by an operator.
	var writePasses, decided int
	require.NoError(t, s.store.Pool().QueryRow(ctx, `SELECT count(DISTINCT (run_id, pass)) FROM audit WHERE at >= $1`, phaseStart).Scan(&writePasses))
	require.NoError(t, s.store.Pool().QueryRow(ctx, `SELECT count(DISTINCT (origin_key, run_id, pass)) FROM audit WHERE at >= $1
		AND decided_by IN ('last_writer_wins', 'owner_wins', 'resolved_by_operator')`, phaseStart).Scan(&decided))
	t.Logf("pairs %d, real edits %d, passes that wrote %d, conflicts decided by policy or operator %d, manual conflicts queued %d",
		pairs, realEdits, writePasses, decided, queued)
	require.LessOrEqual(t, writePasses, realEdits+decided+queued)
	require.Positive(t, queued, "the seed produces same-field edits on the manual Description")
}

// quiesceAll waits until no sync runs, every deleted record's pair is closed and the pollers have
// polled since, so lost events have been picked up.
func (s *stack) quiesceAll(t *testing.T, recs []convRec, deleted map[int]bool, max time.Duration) {
	t.Helper()
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		closed := true
		for idx := range deleted {
			l, err := s.store.LinkBySalesforceID(s.ctx, s.mapping.Pair, recs[idx].sf)
			if err != nil || l.State != "deleted" {
				closed = false
			}
		}
		if closed {
			s.quiesce(t, 4*time.Second, time.Until(deadline))
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("deleted pairs not closed within %s", max)
}

// convRec is one pair of the convergence test.
type convRec struct{ sf, issue, key string }
