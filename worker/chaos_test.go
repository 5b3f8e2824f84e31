package main

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/sfjira/sfjira/activities"
	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/workflows"
)

// TestChaos streams changes on both sides — Salesforce edits (Name, Amount) and Jira transitions —
// while the emulators inject 429s, 503s, connection resets, latency and token expiry, the worker's
// PostgreSQL connections are killed (pg_terminate_backend) and the worker is stopped and started
// again. Afterwards, with the faults lifted: every change is reflected on the other side (no lost
// update), every record has exactly one Epic (no duplicate), the only dead letter is the one
// genuinely bad record, and it replays once its cause is fixed.
//
// Sized for `make test` (about a minute); scale with SFJIRA_CHAOS_RECORDS, SFJIRA_CHAOS_ROUNDS and
// vary with SFJIRA_CHAOS_SEED.
func TestChaos(t *testing.T) {
	records, rounds := envInt("SFJIRA_CHAOS_RECORDS", 8), envInt("SFJIRA_CHAOS_ROUNDS", 3)
	seed := uint64(envInt("SFJIRA_CHAOS_SEED", 42))
	rng := rand.New(rand.NewPCG(seed, seed^0xC0FFEE))
	s := newStack(t, records)
	ctx := s.ctx
	start := time.Now()

	// One genuinely bad record: an Opportunity without an Account (Customer is required).
	badID, err := s.sf.Create(ctx, "Opportunity", map[string]any{"Name": "Chaos orphan", "StageName": "Qualification", "CloseDate": "2027-03-31", "Amount": 1})
	require.NoError(t, err)

	// Initial state: a backfill (already under faults).
	s.jiraEmu.SetFaults(jiraemu.Faults{Seed: int64(seed), LatencyMS: 2, JitterMS: 5,
		Rules: []jiraemu.FaultRule{{Endpoint: "POST /rest/api/3/issue", ErrorRate: 0.2, Status: 503, RetryAfterS: 1}}})
	res := s.backfill()
	require.Equal(t, records+1, res.Total)
	require.Equal(t, 1, res.Failed, "only the bad record fails: %+v", res.Failures)

	recs, err := s.sf.Query(ctx, "SELECT Id, Jira_Issue_Id__c FROM Opportunity WHERE AccountId != null ORDER BY Id")
	require.NoError(t, err)
	require.Len(t, recs.Records, records)
	ids := make([]string, 0, records)
	issueOf := map[string]string{}
	for _, r := range recs.Records {
		ids = append(ids, r.ID())
		v, _ := r.Value("Jira_Issue_Id__c")
		issueOf[r.ID()], _ = v.(string)
	}

	// What the last edit on each side was, to check nothing is lost.
	wantName, wantAmount := map[string]string{}, map[string]float64{}
	killDB := func() int {
		conn, err := pgx.Connect(ctx, s.store.Pool().Config().ConnString())
		require.NoError(t, err)
		defer conn.Close(ctx)
		var n int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()) k`).Scan(&n))
		return n
	}
	signal := func(id, source string) {
		err := s.acts.Syncs.StartSync(ctx, activities.SyncStart{OriginKey: workflows.SalesforceOriginKey(id), Pair: s.mapping.Pair,
			SfObject: "Opportunity", SfID: id, Trigger: source + "_chaos", Source: source, JiraProject: "SFJ"})
		require.NoError(t, err)
	}
	edits, transitions, kills, restarts := 0, 0, 0, 0
	for round := 0; round < rounds; round++ {
		// Faults of this round.
		s.jiraEmu.SetFaults(jiraemu.Faults{Seed: int64(seed) + int64(round), LatencyMS: 3, JitterMS: 10, ExpireTokens: 1, RetryAfterS: 1,
			Rules: []jiraemu.FaultRule{
				{Endpoint: "PUT /rest/api/3/issue/{issueIdOrKey}", ErrorRate: 0.15, Status: 503, RetryAfterS: 1},
				{Endpoint: "GET /rest/api/3/issue/{issueIdOrKey}", ErrorRate: 0.1, Status: 429, RetryAfterS: 1},
				{Endpoint: "GET /rest/api/3/issue/{issueIdOrKey}/transitions", ErrorRate: 0.1, Kind: "reset"},
			}})
		s.sfEmu.SetFaults(sfemu.Faults{Seed: int64(seed) + int64(round), LatencyMS: 2, JitterMS: 5, ExpireTokens: round%2 == 1,
			Rules: []sfemu.FaultRule{
				{Endpoint: "GET /services/data/{version}/query", ErrorRate: 0.1, Status: 503, RetryAfterS: 1},
				{Endpoint: "PATCH /services/data/{version}/sobjects/{object}/{id}", ErrorRate: 0.1, Status: 503},
			}})
		// A burst of changes on both sides.
		for i := 0; i < records; i++ {
			id := ids[rng.IntN(len(ids))]
			if rng.IntN(3) < 2 {
				name := fmt.Sprintf("Chaos %d/%d %s", round, i, id[len(id)-4:])
				amount := float64(1000 + rng.IntN(100000))
				if err := s.sf.Update(ctx, "Opportunity", id, map[string]any{"Name": name, "Amount": amount}); err != nil {
					continue // the emulator's own fault hit the test's edit: not a change
				}
				wantName[id], wantAmount[id] = name, amount
				edits++
				signal(id, "salesforce")
			} else {
				issue := issueOf[id]
				ts, err := s.jira.Transitions(ctx, issue)
				if err != nil || len(ts) == 0 {
					continue
				}
				if err := s.jira.DoTransition(ctx, issue, ts[rng.IntN(len(ts))].ID, nil); err != nil {
					continue
				}
				transitions++
				signal(id, "jira")
			}
		}
		// PostgreSQL loses the worker's connections mid-stream.
		time.Sleep(300 * time.Millisecond)
		kills += killDB()
		// The worker is stopped while syncs are in flight, and started again.
		time.Sleep(300 * time.Millisecond)
		s.workers.Stop()
		restarts++
		time.Sleep(200 * time.Millisecond)
		s.workers = NewWorker(s.tc, s.queue, 200, s.acts)
		require.NoError(t, s.workers.Start())
	}
	t.Cleanup(func() { s.workers.Stop() })

	// The faults end; everything in flight must settle by itself (no extra syncs from the test).
	s.jiraEmu.SetFaults(jiraemu.Faults{})
	s.sfEmu.SetFaults(sfemu.Faults{})
	waitIdle := func() {
		deadline := time.Now().Add(3 * time.Minute)
		for _, id := range append([]string{badID}, ids...) {
			for {
				d, err := s.tc.DescribeWorkflowExecution(ctx, workflows.SyncWorkflowID(workflows.SalesforceOriginKey(id)), "")
				if err == nil && d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
					break
				}
				require.True(t, time.Now().Before(deadline), "sync of %s did not settle", id)
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
	waitIdle()

	// No lost update, no duplicate: every record has one Epic, both ways in step.
	rep, err := s.acts.CheckPair(ctx, s.mapping.Pair)
	require.NoError(t, err)
	for _, p := range rep.Problems {
		require.Equal(t, badID, p.SfID, "problem on a good record: %+v", p)
	}
	final, err := s.sf.Query(ctx, "SELECT Id, Name, Amount, Jira_Status__c FROM Opportunity WHERE AccountId != null")
	require.NoError(t, err)
	for _, r := range final.Records {
		id := r.ID()
		if want, ok := wantName[id]; ok {
			name, _ := r.Value("Name")
			amount, _ := r.Value("Amount")
			require.Equal(t, want, name, id)
			require.InDelta(t, wantAmount[id], amount.(float64), 0.001, id)
		}
		is, err := s.jira.GetIssue(ctx, issueOf[id], []string{"summary", "status"}, nil)
		require.NoError(t, err)
		name, _ := r.Value("Name")
		require.Equal(t, name, is.FieldString("summary"), "Name → summary of %s", id)
		st, _ := r.Value("Jira_Status__c")
		require.Equal(t, is.StatusName(), st, "Jira status → Jira_Status__c of %s (lost update from Jira)", id)
	}

	// Dead letters: only the genuinely bad record, with its code; fixed, it replays and leaves.
	dead, err := s.store.OpenDeadLetters(ctx)
	require.NoError(t, err)
	require.Len(t, dead, 1, "dead letters: %+v", dead)
	require.Equal(t, "sf/"+badID, dead[0].OriginKey)
	require.Equal(t, string(catalog.MappingRequiredValueMissing), dead[0].Code)
	accounts, err := s.sf.Query(ctx, "SELECT Id FROM Account LIMIT 1")
	require.NoError(t, err)
	require.NoError(t, s.sf.Update(ctx, "Opportunity", badID, map[string]any{"AccountId": accounts.Records[0].ID()}))
	_, out, err := s.sync(badID)
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeCreated, out.Outcome)
	dead, err = s.store.OpenDeadLetters(ctx)
	require.NoError(t, err)
	require.Empty(t, dead)
	rep, err = s.acts.CheckPair(ctx, s.mapping.Pair)
	require.NoError(t, err)
	require.True(t, rep.OK(), "after the replay: %+v", rep.Problems)

	t.Logf("chaos seed %d: %d records, %d rounds, %d Salesforce edits, %d Jira transitions, %d PostgreSQL connections killed, %d worker restarts; "+
		"Jira 429/503/401: %d/%d/%d, Salesforce 503/401: %d/%d; 0 duplicates, 0 missing, 0 mismatched; 1 dead letter (bad record) replayed; %s",
		seed, records, rounds, edits, transitions, kills, restarts, statusCount(s.jiraEmu.Stats(), "429"), statusCount(s.jiraEmu.Stats(), "503"),
		statusCount(s.jiraEmu.Stats(), "401"), statusCount(s.sfEmu.Stats(), "503"), statusCount(s.sfEmu.Stats(), "401"), time.Since(start).Round(time.Second))
}
