package main

import (
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sfjira/sfjira/activities"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/budget"
	"github.com/sfjira/sfjira/workflows"
)

// TestBudgetGuardPausesBackfillButNotRealtime spends most of the Salesforce emulator's daily API
// quota, then starts a backfill: the guard pauses it (no page listed, no record synced), while a
// real-time sync of a record goes through. The metric, the log line and the shared budget row
// say so. When the org's limit is raised, the backfill resumes by itself and completes.
func TestBudgetGuardPausesBackfillButNotRealtime(t *testing.T) {
	s := newStack(t, 6)
	ctx := s.ctx
	core, logs := observer.New(zap.InfoLevel)
	ga := *s.acts
	ga.Log = zap.New(core)
	s.acts.Budget = activities.NewBudgetGuard(&ga, map[budget.System]budget.Thresholds{
		budget.Salesforce: {SlowBelow: 0.6, PauseBelow: 0.5, SlowDelay: 100 * time.Millisecond},
	}, 500*time.Millisecond, "it-worker")

	// Spend the day's quota down to 40 requests left of at least 100.
	for i := 0; i < 60; i++ {
		_, err := s.sf.Query(ctx, "SELECT Id FROM Account LIMIT 1")
		require.NoError(t, err)
	}
	used, _, ok := s.sf.APIUsage()
	require.True(t, ok)
	s.sfEmu.SetFaults(sfemu.Faults{DailyAPILimit: used + 40})
	ids, err := s.sf.Query(ctx, "SELECT Id FROM Opportunity ORDER BY Id")
	require.NoError(t, err)
	used, max, _ := s.sf.APIUsage()
	require.Less(t, float64(max-used)/float64(max), 0.5, "usage %d/%d", used, max)

	run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.BackfillWorkflowID(s.mapping.Pair, uuid.NewString()), TaskQueue: s.queue},
		workflows.Backfill, workflows.BackfillInput{Pair: s.mapping.Pair, SfObject: "Opportunity", JiraProject: "SFJ", Concurrency: 5})
	require.NoError(t, err)

	// A real-time change is never held: a sync of one record completes while the backfill waits.
	_, out, err := s.sync(ids.Records[0].ID())
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeCreated, out.Outcome)

	time.Sleep(2 * time.Second)
	q, err := s.tc.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), "progress")
	require.NoError(t, err)
	var progress workflows.BackfillResult
	require.NoError(t, q.Get(&progress))
	require.Zero(t, progress.Pages, "paused before listing: %+v", progress)
	require.Zero(t, progress.Done)
	// The run's current details in the Temporal UI say why it waits.
	mq, err := s.tc.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), "__temporal_workflow_metadata")
	require.NoError(t, err)
	var md sdkpb.WorkflowMetadata
	require.NoError(t, mq.Get(&md))
	require.Contains(t, md.GetCurrentDetails(), "paused by the API budget guard")

	// The metric, the log line and the shared row say so.
	rec := httptest.NewRecorder()
	s.acts.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	require.Contains(t, string(body), `sfjira_api_budget_guard_state{system="salesforce"} 2`)
	require.Contains(t, string(body), `sfjira_api_budget_throttled_total{class="batch",state="paused",system="salesforce"}`)
	var paused bool
	for _, e := range logs.All() {
		paused = paused || strings.Contains(e.Message, "pausing backfill and reconcile (real-time changes continue)")
	}
	require.True(t, paused, "log line: %v", logs.All())
	var remaining, lim int
	require.NoError(t, s.store.Pool().QueryRow(ctx, `SELECT remaining, lim FROM api_budget WHERE system = 'salesforce'`).Scan(&remaining, &lim))
	require.Less(t, float64(remaining)/float64(lim), 0.5)

	// The org's limit is raised: the next answer shows it and the backfill resumes on its own.
	s.sfEmu.SetFaults(sfemu.Faults{DailyAPILimit: 1_000_000})
	_, err = s.sf.Query(ctx, "SELECT Id FROM Account LIMIT 1")
	require.NoError(t, err)
	var res workflows.BackfillResult
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, 6, res.Total)
	require.Equal(t, 5, res.Created, "%+v", res)
	require.Equal(t, 1, res.Unchanged)
	require.Zero(t, res.Failed)
	rec = httptest.NewRecorder()
	s.acts.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ = io.ReadAll(rec.Body)
	require.Contains(t, string(body), `sfjira_api_budget_guard_state{system="salesforce"} 0`)
	if dir := os.Getenv("SFJIRA_RECORD_HISTORY"); dir != "" {
		saveHistory(t, s, run.GetID(), run.GetRunID(), filepath.Join(dir, "backfill_budget_paused.json"))
	}
}
