// Command b2 is benchmark scenario B2 of the design (§9): real-time two-way sync under a steady
// trickle of edits, 1 edit per second on each side, measuring change→reflection latency — from the
// moment an edit is made on one system to the moment the other system shows it — through the
// webhook path (Salesforce Outbound Messages, Jira webhooks) and through the polling path alone.
// It runs a real Temporal dev server, PostgreSQL and both emulators on loopback, with the
// production worker registrations, and merges its results into bench/results.json.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/activities"
	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/logging"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/worker/ingress"
	"github.com/sfjira/sfjira/workflows"
)

func main() {
	duration := flag.Duration("duration", 60*time.Second, "how long each path is driven")
	pairs := flag.Int("pairs", 20, "record pairs the edits are spread over")
	out := flag.String("out", "bench/results.json", "results file to merge the B2 scenarios into")
	cli := flag.String("temporal", "bin/temporal", "Temporal CLI")
	flag.Parse()
	if err := run(*duration, *pairs, *out, *cli); err != nil {
		fmt.Fprintln(os.Stderr, "b2:", err)
		os.Exit(1)
	}
}

// env is the whole connector on loopback.
type env struct {
	ctx   context.Context
	tc    client.Client
	acts  *activities.Activities
	sf    *salesforce.Client
	jira  *jira.Client
	sfE   *sfemu.Server
	jE    *jiraemu.Server
	pair  string
	queue string
}

func run(duration time.Duration, pairs int, out, cli string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 4*duration+10*time.Minute)
	defer cancel()
	e, cleanup, err := start(ctx, pairs, cli)
	if err != nil {
		return err
	}
	defer cleanup()
	var recs []salesforce.Record
	if err := e.sf.QueryEach(ctx, "SELECT Id, Jira_Issue_Id__c FROM Opportunity ORDER BY Id", func(r salesforce.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		return err
	}
	var scenarios []map[string]any
	for _, path := range []string{"webhook", "polling"} {
		if path == "polling" {
			// Stop the push deliveries: only the pollers (1 s Salesforce, 1 s Jira) see changes.
			e.sfE.SetFaults(sfemu.Faults{OutboundDropRate: 1})
			e.jE.SetFaults(jiraemu.Faults{WebhookDropRate: 1})
		}
		sfLat, jiraLat, misses := drive(e, recs, duration)
		for _, side := range []struct {
			name string
			lat  []time.Duration
		}{{"sf→jira", sfLat}, {"jira→sf", jiraLat}} {
			s := summarize(side.lat)
			fmt.Printf("B2 %-8s %-8s edits %3d  p50 %6.0f ms  p95 %6.0f ms  max %6.0f ms\n", path, side.name, len(side.lat), s.p50, s.p95, s.max)
		}
		all := append(append([]time.Duration{}, sfLat...), jiraLat...)
		s := summarize(all)
		scenarios = append(scenarios, map[string]any{
			"name": "B2-" + path, "records": len(all), "seconds": duration.Seconds(), "edits_per_s": 2.0,
			"p50_ms": s.p50, "p95_ms": s.p95, "max_ms": s.max, "missed": misses,
			"p50_ms_sf_to_jira": summarize(sfLat).p50, "p95_ms_sf_to_jira": summarize(sfLat).p95,
			"p50_ms_jira_to_sf": summarize(jiraLat).p50, "p95_ms_jira_to_sf": summarize(jiraLat).p95,
			"target": map[string]any{"p50_ms": 300, "p95_ms": 1000},
		})
	}
	return mergeResults(out, scenarios)
}

// drive makes one edit per second on each side, alternating pairs, and measures how long each
// takes to show on the other side.
func drive(e *env, recs []salesforce.Record, duration time.Duration) (sfToJira, jiraToSF []time.Duration, misses int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	end := time.Now().Add(duration)
	for i := 0; time.Now().Before(end); i++ {
		<-tick.C
		sfRec := recs[(2*i)%len(recs)]
		jrRec := recs[(2*i+1)%len(recs)]
		wg.Add(2)
		go func(i int) { // Salesforce edit → Jira summary
			defer wg.Done()
			name := fmt.Sprintf("B2 sf edit %d %s", i, uuid.NewString()[:6])
			t0 := time.Now()
			if err := e.sf.Update(e.ctx, "Opportunity", sfRec.ID(), map[string]any{"Name": name}); err != nil {
				return
			}
			id := fmt.Sprint(sfRec["Jira_Issue_Id__c"])
			_, ok := waitFor(10*time.Second, func() bool {
				is, err := e.jira.GetIssue(e.ctx, id, []string{"summary"}, nil)
				return err == nil && is.FieldString("summary") == name
			})
			mu.Lock()
			defer mu.Unlock()
			if ok {
				sfToJira = append(sfToJira, time.Since(t0))
			} else {
				misses++
			}
		}(i)
		go func(i int) { // Jira edit → Salesforce Name
			defer wg.Done()
			name := fmt.Sprintf("B2 jira edit %d %s", i, uuid.NewString()[:6])
			id := fmt.Sprint(jrRec["Jira_Issue_Id__c"])
			t0 := time.Now()
			if err := e.jira.EditIssue(e.ctx, id, map[string]any{"summary": name}); err != nil {
				return
			}
			_, ok := waitFor(10*time.Second, func() bool {
				r, err := e.sf.Get(e.ctx, "Opportunity", jrRec.ID(), "Name")
				return err == nil && r["Name"] == name
			})
			mu.Lock()
			defer mu.Unlock()
			if ok {
				jiraToSF = append(jiraToSF, time.Since(t0))
			} else {
				misses++
			}
		}(i)
	}
	wg.Wait()
	return sfToJira, jiraToSF, misses
}

func waitFor(max time.Duration, ok func() bool) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < max {
		if ok() {
			return time.Since(start), true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return max, false
}

type summary struct{ p50, p95, max float64 }

func summarize(ds []time.Duration) summary {
	if len(ds) == 0 {
		return summary{math.NaN(), math.NaN(), math.NaN()}
	}
	ms := make([]float64, len(ds))
	for i, d := range ds {
		ms[i] = float64(d.Microseconds()) / 1000
	}
	sort.Float64s(ms)
	pct := func(p float64) float64 { return math.Round(ms[int(math.Ceil(p*float64(len(ms))))-1]) }
	return summary{pct(0.50), pct(0.95), math.Round(ms[len(ms)-1])}
}

// mergeResults replaces the B2 scenarios in results.json and keeps the others.
func mergeResults(path string, scenarios []map[string]any) error {
	doc := map[string]any{}
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &doc)
	}
	host, _ := os.Hostname()
	if _, ok := doc["machine"]; !ok {
		doc["machine"] = fmt.Sprintf("%s, %d cores", host, numCPU())
	}
	var kept []any
	if old, ok := doc["scenarios"].([]any); ok {
		for _, s := range old {
			if m, ok := s.(map[string]any); ok && strings.HasPrefix(fmt.Sprint(m["name"]), "B2") {
				continue
			}
			kept = append(kept, s)
		}
	}
	for _, s := range scenarios {
		kept = append(kept, s)
	}
	doc["scenarios"] = kept
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// start brings up the stack: dev server, throwaway database, emulators with push deliveries to
// the worker's HTTP receivers, pollers, and the backfilled pairs.
func start(ctx context.Context, pairs int, cli string) (*env, func(), error) {
	var cleanups []func()
	cleanup := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	fail := func(err error) (*env, func(), error) { cleanup(); return nil, func() {}, err }
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/sfjira?sslmode=disable"
	}
	u, err := url.Parse(base)
	if err != nil {
		return fail(err)
	}
	u.Path = "/sfjira_bench_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	dbURL := u.String()
	if _, err := store.EnsureDatabase(ctx, dbURL); err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, func() { _ = store.DropDatabase(context.Background(), dbURL) })
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, st.Close)
	if _, err := st.Migrate(ctx); err != nil {
		return fail(err)
	}
	var attrs []temporal.SearchAttributeUpdate
	for _, k := range []temporal.SearchAttributeKeyKeyword{workflows.SfObjectTypeKey, workflows.SfRecordIDKey, workflows.JiraIssueKeyKey,
		workflows.JiraProjectKey, workflows.SyncDirectionKey, workflows.SyncOutcomeKey, workflows.SyncTriggerKey, workflows.ErrorCodeKey} {
		attrs = append(attrs, k.ValueSet(""))
	}
	log := zap.NewNop()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{ExistingPath: cli, LogLevel: "error",
		SearchAttributes: temporal.NewSearchAttributes(attrs...), ClientOptions: &client.Options{Logger: logging.NewTemporal(log)}})
	if err != nil {
		return fail(fmt.Errorf("dev server (%s): %w", cli, err))
	}
	cleanups = append(cleanups, func() { _ = srv.Stop() })
	tc := srv.Client()

	sfOpts := sfemu.DemoOptions()
	sfOpts.OutboundRetryBase = 200 * time.Millisecond
	sfE := sfemu.New(sfOpts)
	sfE.Seed(sfemu.SeedOptions{Accounts: 5, Opportunities: pairs})
	sfHTTP := httptest.NewServer(sfE)
	cleanups = append(cleanups, sfHTTP.Close, sfE.Close)
	jOpts := jiraemu.DemoOptions()
	jOpts.WebhookRetryBase = 200 * time.Millisecond
	jE := jiraemu.New(jOpts)
	jHTTP := httptest.NewServer(jE)
	cleanups = append(cleanups, jHTTP.Close, jE.Close)
	sfc, err := salesforce.New(salesforce.Config{LoginURL: sfHTTP.URL, ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret"})
	if err != nil {
		return fail(err)
	}
	jc, err := jira.New(jira.Config{BaseURL: jHTTP.URL, Email: "integration@sfjira.demo", APIToken: "sfjira-demo-token"})
	if err != nil {
		return fail(err)
	}
	ms, err := mappings.LoadDir("mappings/default")
	if err != nil {
		return fail(err)
	}
	set, err := activities.NewMappingSet(ms, jc)
	if err != nil {
		return fail(err)
	}
	queue := "sfjira-bench"
	acts := &activities.Activities{SF: sfc, Jira: jc, Store: st, Mappings: set, Log: log, Actor: "integration@sfjira.demo",
		Syncs: &workflows.Starter{Client: tc, TaskQueue: queue}}
	w := worker.New(tc, queue, worker.Options{MaxConcurrentActivityExecutionSize: 200, MaxConcurrentWorkflowTaskPollers: 4, MaxConcurrentActivityTaskPollers: 8})
	w.RegisterWorkflow(workflows.RecordSync)
	w.RegisterWorkflow(workflows.Backfill)
	w.RegisterWorkflow(workflows.ChangePoller)
	w.RegisterActivity(acts)
	if err := w.Start(); err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, w.Stop)
	// The API activities run on the Salesforce and Jira task queues.
	for _, q := range []string{workflows.SalesforceTaskQueue(queue), workflows.JiraTaskQueue(queue)} {
		aw := worker.New(tc, q, worker.Options{MaxConcurrentActivityExecutionSize: 200, MaxConcurrentActivityTaskPollers: 8, DisableWorkflowWorker: true})
		aw.RegisterActivity(acts)
		if err := aw.Start(); err != nil {
			return fail(err)
		}
		cleanups = append(cleanups, aw.Stop)
	}
	m, _ := set.ForObject("Opportunity")
	e := &env{ctx: ctx, tc: tc, acts: acts, sf: sfc, jira: jc, sfE: sfE, jE: jE, pair: m.Pair, queue: queue}

	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "b2-backfill", TaskQueue: queue}, workflows.Backfill,
		workflows.BackfillInput{Pair: m.Pair, SfObject: "Opportunity", JiraProject: "SFJ"})
	if err != nil {
		return fail(err)
	}
	var res workflows.BackfillResult
	if err := run.Get(ctx, &res); err != nil || res.Failed > 0 {
		return fail(errors.Join(err, fmt.Errorf("backfill: %+v", res)))
	}

	in := &ingress.Ingress{Acts: acts, JiraSecret: benchSecret, Log: log}
	hs := httptest.NewServer(in.Handler())
	cleanups = append(cleanups, hs.Close)
	if _, err := sfE.AddOutbound(sfemu.OutboundConfig{Object: "Opportunity", URL: hs.URL + "/webhooks/salesforce", Fields: []string{"Id", "Jira_Issue_Id__c"}}); err != nil {
		return fail(err)
	}
	if _, err := jc.RegisterWebhook(ctx, jira.Webhook{Name: "sfjira", URL: hs.URL + "/webhooks/jira", Secret: benchSecret, Enabled: true,
		Events: []string{"jira:issue_created", "jira:issue_updated", "comment_created"}, JQL: `project in ("SFJ")`}); err != nil {
		return fail(err)
	}
	for _, src := range []string{activities.SourceSalesforce, activities.SourceJira} {
		if _, err := workflows.StartPoller(ctx, tc, queue, workflows.PollerInput{Pair: m.Pair, Source: src, IntervalSeconds: 1}); err != nil {
			return fail(err)
		}
	}
	time.Sleep(3 * time.Second) // let the echoes of the backfill settle
	return e, cleanup, nil
}

// benchSecret signs the Jira emulator's webhook deliveries in the benchmark.
const benchSecret = "b2-webhook-secret"

func numCPU() int { return runtime.NumCPU() }
