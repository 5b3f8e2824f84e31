package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/activities"
	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/logging"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/worker/ingress"
	"github.com/sfjira/sfjira/workflows"
)

func (s *stack) bulkBackfill(queue string, in workflows.BulkBackfillInput) (client.WorkflowRun, workflows.BulkBackfillProgress) {
	s.t.Helper()
	in.Pair, in.SfObject, in.JiraProject = s.mapping.Pair, "Opportunity", "SFJ"
	run, err := s.tc.ExecuteWorkflow(s.ctx, client.StartWorkflowOptions{ID: workflows.BackfillWorkflowID(s.mapping.Pair, uuid.NewString()), TaskQueue: queue},
		workflows.BulkBackfill, in)
	require.NoError(s.t, err)
	var res workflows.BulkBackfillProgress
	require.NoError(s.t, run.Get(s.ctx, &res))
	return run, res
}

// checkBackfilled asserts every Opportunity has exactly one Epic carrying its origin, in the
// status its stage maps to, with the back-link on the record and link + snapshot rows.
func (s *stack) checkBackfilled(n int) {
	t := s.t
	ctx := s.ctx
	byOrigin := map[string][]jira.Issue{}
	total := 0
	err := s.jira.SearchEach(ctx, jira.SearchRequest{JQL: "project = SFJ ORDER BY id ASC", Fields: []string{"status", "resolution"}, Properties: []string{"sfjira"}, MaxResults: 100},
		func(is *jira.Issue) error {
			total++
			o := string(is.Properties["sfjira"])
			i := strings.Index(o, `"origin":"`)
			require.GreaterOrEqual(t, i, 0, "issue %s has no origin property: %s", is.Key, o)
			origin := o[i+10:]
			origin = origin[:strings.IndexByte(origin, '"')]
			byOrigin[origin] = append(byOrigin[origin], *is)
			return nil
		})
	require.NoError(t, err)
	require.Equal(t, n, total, "issues in Jira (duplicates or gaps)")
	var recs []salesforce.Record
	require.NoError(t, s.sf.QueryEach(ctx, "SELECT Id, StageName, Jira_Issue_Id__c, Jira_Issue_Key__c, Jira_Status__c FROM Opportunity", func(r salesforce.Record) error {
		recs = append(recs, r)
		return nil
	}))
	require.Len(t, recs, n)
	for _, r := range recs {
		issues := byOrigin["sf/"+r.ID()]
		require.Len(t, issues, 1, "Epics for %s", r.ID())
		is := issues[0]
		id, _ := r.Value("Jira_Issue_Id__c")
		key, _ := r.Value("Jira_Issue_Key__c")
		require.Equal(t, is.ID, id, "back-link of %s", r.ID())
		require.Equal(t, is.Key, key)
		stage, _ := r.Value("StageName")
		want := stageTarget[stage.(string)]
		require.Equal(t, want[0], is.StatusName(), "status of %s (%s)", is.Key, stage)
		require.Equal(t, want[1], is.ResolutionName(), "resolution of %s (%s)", is.Key, stage)
		st, _ := r.Value("Jira_Status__c")
		require.Equal(t, want[0], st, "Jira_Status__c of %s", r.ID())
	}
	c, err := s.store.Counts(ctx)
	require.NoError(t, err)
	require.EqualValues(t, n, c.Linked)
	require.EqualValues(t, n, c.PairStates)
	require.Zero(t, c.OpenDeadLetters)
}

func TestEndToEndBulkBackfill(t *testing.T) {
	s := newStack(t, 300)
	firstRun, res := s.bulkBackfill(s.queue, workflows.BulkBackfillInput{PageSize: 120})
	require.Equal(t, 300, res.Total)
	require.Equal(t, 300, res.Created, "failures: %+v", res.Failures)
	require.Zero(t, res.Failed)
	require.Equal(t, 3, res.Pages)
	calls := s.jiraEmu.Stats().Total + s.sfEmu.Stats().Total
	s.checkBackfilled(300)
	t.Logf("bulk backfill of 300: %d API calls (%.3f per record): Jira %v, Salesforce %v", calls, float64(calls)/300, s.jiraEmu.Stats().Endpoints, s.sfEmu.Stats().Endpoints)
	// 30 Closed Lost records take their last transition one by one (a bulk transition cannot set
	// the Won't Do resolution); everything else is a fixed cost per page or per run.
	require.Less(t, float64(calls)/300, 0.3, "API calls per record")
	if dir := os.Getenv("SFJIRA_RECORD_HISTORY"); dir != "" {
		saveHistory(t, s, firstRun.GetID(), firstRun.GetRunID(), filepath.Join(dir, "bulk_backfill.json"))
	}

	// A second run finds everything linked and writes nothing.
	jiraBefore := writes(s.jiraEmu.Stats())
	_, again := s.bulkBackfill(s.queue, workflows.BulkBackfillInput{})
	require.Equal(t, 300, again.AlreadyLinked)
	require.Zero(t, again.Created)
	require.Equal(t, jiraBefore, writes(s.jiraEmu.Stats()))

	// A record Jira refuses leaves the bulk path for its own RecordSync, which keeps a dead letter.
	var bad salesforce.Record
	require.NoError(t, s.sf.QueryEach(s.ctx, "SELECT Id FROM Opportunity LIMIT 1", func(r salesforce.Record) error { bad = r; return nil }))
	newID, err := s.sf.Create(s.ctx, "Opportunity", map[string]any{"Name": "No account", "StageName": "Prospecting", "CloseDate": "2026-03-01"})
	require.NoError(t, err)
	_, third := s.bulkBackfill(s.queue, workflows.BulkBackfillInput{})
	require.Equal(t, 1, third.Failed, "%+v", third)
	require.Equal(t, 1, third.HandedOff)
	require.Equal(t, newID, third.Failures[0].SfID)
	require.Eventually(t, func() bool {
		dl, err := s.store.OpenDeadLetters(s.ctx)
		return err == nil && len(dl) == 1 && dl[0].OriginKey == "sf/"+newID
	}, 30*time.Second, 200*time.Millisecond, "the failed record ends as a dead letter of its RecordSync")
	_ = bad
}

// TestBulkBackfillSurvivesWorkerKill kills the worker process with SIGKILL in the middle of a
// page and starts another: the backfill resumes and ends with every record synced exactly once.
func TestBulkBackfillSurvivesWorkerKill(t *testing.T) {
	const n = 600
	s := newStack(t, n)
	queue := "sfjira-kill-" + uuid.NewString()[:8]
	// Slow Jira down so the kill lands inside a page.
	s.jiraEmu.SetFaults(jiraFaultsLatency(15))
	start := func() *exec.Cmd { return s.startWorkerProcess(queue) }
	first := start()
	in := workflows.BulkBackfillInput{Pair: s.mapping.Pair, SfObject: "Opportunity", JiraProject: "SFJ", PageSize: 200, Concurrency: 2, HeartbeatTimeoutSeconds: 3}
	run, err := s.tc.ExecuteWorkflow(s.ctx, client.StartWorkflowOptions{ID: workflows.BackfillWorkflowID(s.mapping.Pair, "kill"), TaskQueue: queue}, workflows.BulkBackfill, in)
	require.NoError(t, err)
	// Kill once the second page is part-way through its creates.
	require.Eventually(t, func() bool {
		return s.jiraEmu.Stats().Endpoints["POST /rest/api/3/issue/bulk"]["201"] >= 6
	}, time.Minute, 5*time.Millisecond)
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	_, _ = first.Process.Wait()
	createdAtKill := s.jiraEmu.Stats().Endpoints["POST /rest/api/3/issue/bulk"]["201"] * jira.MaxBulkCreate
	t.Logf("worker killed after about %d creates", createdAtKill)
	require.Less(t, createdAtKill, n, "the kill must land before the backfill ends")
	start()
	var res workflows.BulkBackfillProgress
	require.NoError(t, run.Get(s.ctx, &res))
	require.Zero(t, res.Failed, "%+v", res.Failures)
	require.Equal(t, n, res.Done)
	require.Equal(t, n, res.Created+res.Adopted+res.AlreadyLinked)
	t.Logf("after restart: created %d, adopted %d, already linked %d", res.Created, res.Adopted, res.AlreadyLinked)
	s.jiraEmu.SetFaults(jiraFaultsLatency(0))
	s.checkBackfilled(n)
}

// startWorkerProcess runs a worker in a process of its own (TestWorkerProcess of this test
// binary) against the stack's Temporal, database and emulators, so a test can kill it with
// SIGKILL as a crash or an OOM kill would. env adds SFJIRA_WP_* settings (see TestWorkerProcess).
func (s *stack) startWorkerProcess(queue string, env ...string) *exec.Cmd {
	s.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "SFJIRA_WORKER_PROCESS=1", "SFJIRA_WP_TEMPORAL="+s.hostPort, "SFJIRA_WP_DB="+s.dbURL,
		"SFJIRA_WP_SF="+s.sfURL, "SFJIRA_WP_JIRA="+s.jiraURL, "SFJIRA_WP_QUEUE="+queue)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(s.t, cmd.Start())
	s.t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	return cmd
}

// TestWorkerProcess is the worker process of the tests that kill a worker (it runs only when
// started by startWorkerProcess): the production registrations on the given task queue, until
// killed. With SFJIRA_WP_HTTP it also serves the worker's HTTP handler (webhook receivers
// checking SFJIRA_WP_WEBHOOK_SECRET) on that address, as the production worker does;
// SFJIRA_WP_SEARCH_LAG_WINDOW sets how long a retried create waits out Jira's search index.
func TestWorkerProcess(t *testing.T) {
	if os.Getenv("SFJIRA_WORKER_PROCESS") != "1" {
		t.Skip("helper process of the tests that kill a worker (startWorkerProcess)")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, os.Getenv("SFJIRA_WP_DB"))
	require.NoError(t, err)
	sfc, err := salesforce.New(salesforce.Config{LoginURL: os.Getenv("SFJIRA_WP_SF"), ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret", APIVersion: "v62.0"})
	require.NoError(t, err)
	jc, err := jira.New(jira.Config{BaseURL: os.Getenv("SFJIRA_WP_JIRA"), Email: "integration@sfjira.demo", APIToken: "sfjira-demo-token"})
	require.NoError(t, err)
	ms, err := mappings.LoadDir("../mappings/default")
	require.NoError(t, err)
	set, err := activities.NewMappingSet(ms, jc)
	require.NoError(t, err)
	log := zap.NewNop()
	tc, err := client.Dial(client.Options{HostPort: os.Getenv("SFJIRA_WP_TEMPORAL"), Logger: logging.NewTemporal(log)})
	require.NoError(t, err)
	queue := os.Getenv("SFJIRA_WP_QUEUE")
	lagWindow := time.Second
	if v := os.Getenv("SFJIRA_WP_SEARCH_LAG_WINDOW"); v != "" {
		lagWindow, err = time.ParseDuration(v)
		require.NoError(t, err, "SFJIRA_WP_SEARCH_LAG_WINDOW")
	}
	acts := &activities.Activities{SF: sfc, Jira: jc, Store: st, Mappings: set, Log: log, Actor: "integration@sfjira.demo", SearchLagWindow: lagWindow,
		Syncs: &workflows.Starter{Client: tc, TaskQueue: queue}}
	w := NewWorker(tc, queue, 200, acts)
	require.NoError(t, w.Start())
	if addr := os.Getenv("SFJIRA_WP_HTTP"); addr != "" {
		in := &ingress.Ingress{Acts: acts, JiraSecret: os.Getenv("SFJIRA_WP_WEBHOOK_SECRET"), Log: log}
		ln, err := net.Listen("tcp", addr)
		require.NoError(t, err, "listen on %s", addr)
		go func() { _ = http.Serve(ln, NewHTTPHandler(tc, acts, in)) }()
	}
	fmt.Fprintln(os.Stderr, "worker process up on", queue)
	select {}
}

func jiraFaultsLatency(ms int) jiraemu.Faults { return jiraemu.Faults{LatencyMS: ms} }

// TestBulkBackfillClosesLostDealsInBulk installs a "Won't Do" transition into Done whose
// post-function sets the resolution (the default mapping names it for Closed Lost): the backfill
// then moves every issue with bulk transitions or on create, with no per-issue transition call,
// and each stage still lands in its status and resolution. A per-record sync with the same
// workflow keeps Closed Won off that transition.
func TestBulkBackfillClosesLostDealsInBulk(t *testing.T) {
	const n = 300
	s := newStack(t, n)
	w := jiraemu.DefaultWorkflow()
	w.IssueTypes = []string{"Epic"}
	w.Transitions = append(w.Transitions, jiraemu.WorkflowTransition{ID: "81", Name: "Won't Do", To: "Done", Resolution: "Won't Do"})
	require.NoError(t, s.jiraEmu.SetWorkflow(w))
	_, res := s.bulkBackfill(s.queue, workflows.BulkBackfillInput{PageSize: 100})
	require.Zero(t, res.Failed, "%+v", res.Failures)
	require.Equal(t, n, res.Created)
	s.checkBackfilled(n)
	ep := s.jiraEmu.Stats().Endpoints
	single := 0
	for k, byStatus := range ep {
		if strings.HasPrefix(k, "POST ") && strings.HasSuffix(k, "/transitions") && !strings.Contains(k, "/bulk/") {
			for _, c := range byStatus {
				single += c
			}
		}
	}
	require.Zero(t, single, "no per-issue transition: %v", ep)
	calls := s.jiraEmu.Stats().Total + s.sfEmu.Stats().Total
	t.Logf("bulk backfill of %d with the Won't Do transition: %d API calls (%.3f per record)", n, calls, float64(calls)/n)

	// Per record: a lost deal won again, then lost again, through RecordSync.
	var rec salesforce.Record
	require.NoError(t, s.sf.QueryEach(s.ctx, "SELECT Id, Jira_Issue_Id__c FROM Opportunity WHERE StageName = 'Closed Lost' LIMIT 1", func(r salesforce.Record) error { rec = r; return nil }))
	issueID, _ := rec.Value("Jira_Issue_Id__c")
	for _, c := range [][3]string{{"Closed Won", "Done", "Done"}, {"Closed Lost", "Done", "Won't Do"}} {
		require.NoError(t, s.sf.Update(s.ctx, "Opportunity", rec.ID(), map[string]any{"StageName": c[0]}))
		_, _, err := s.sync(rec.ID())
		require.NoError(t, err)
		is, err := s.jira.GetIssue(s.ctx, issueID.(string), []string{"status", "resolution"}, nil)
		require.NoError(t, err)
		require.Equal(t, c[1], is.StatusName(), c[0])
		require.Equal(t, c[2], is.ResolutionName(), c[0])
	}
}
