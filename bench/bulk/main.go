// Command bulk runs benchmark scenarios B1, B1' and B3 of the design (§9) in one run, each side by
// side with (a) a naive per-record loop (read, create, back-link one record at a time; no
// Temporal) and (b) the raw bulk ceiling (the same bulk calls in a tight loop; no Temporal, no
// PostgreSQL). The connector runs as a real worker in a child process (so its peak RSS is its own),
// against a Temporal dev server, PostgreSQL and both emulators over loopback HTTP. It prints a
// table and merges its scenarios into bench/results.json (replacing its own, keeping B2's).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/logging"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/workflows"
)

var (
	flagB1      = flag.Int("b1", 10000, "records of B1 and B1'")
	flagB3      = flag.Int("b3", 100000, "linked pairs of B3")
	flagNaive   = flag.Int("naive", 1000, "records the naive loop handles in B1 (its rate is per record)")
	flagNaiveL  = flag.Int("naive-latency", 100, "records the naive loop handles in B1' (50 ms a call)")
	flagOut     = flag.String("out", "bench/results.json", "results file to merge into")
	flagCLI     = flag.String("temporal", "bin/temporal", "Temporal CLI")
	flagOnly    = flag.String("only", "B1,B1',B1-kill,B3", "scenarios to run")
	flagWorker  = flag.Bool("worker", false, "internal: run as the worker process")
	flagProfile = flag.String("cpuprofile", "", "internal: CPU profile of the worker process")
	flagPages   = flag.Int("pages-in-flight", 0, "BulkBackfillInput.PagesInFlight of the connector runs (0: the workflow's default)")
)

func main() {
	flag.Parse()
	if *flagWorker {
		if err := runWorker(); err != nil {
			fmt.Fprintln(os.Stderr, "bench worker:", err)
			os.Exit(1)
		}
		return
	}
	if p := os.Getenv("BENCH_CPUPROFILE"); p != "" {
		stop, err := startCPUProfile(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer stop()
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// ---- environment ------------------------------------------------------------------------

type emus struct {
	sfE           *sfemu.Server
	jE            *jiraemu.Server
	sfURL, jURL   string
	sf            *salesforce.Client
	jira          *jira.Client
	bound         *mappings.Bound
	set           *activities.MappingSet
	closers       []func()
	sfBase, jBase int
}

func newEmus(ctx context.Context, n int, latencyMS int) (*emus, error) {
	e := &emus{}
	e.sfE = sfemu.New(sfemu.DemoOptions())
	e.sfE.Seed(sfemu.SeedOptions{Accounts: 200, Opportunities: n})
	sh := httptest.NewServer(e.sfE)
	jopts := jiraemu.DemoOptions()
	jopts.Workflows = []jiraemu.Workflow{benchWorkflow()}
	e.jE = jiraemu.New(jopts)
	jh := httptest.NewServer(e.jE)
	e.sfURL, e.jURL = sh.URL, jh.URL
	e.closers = append(e.closers, sh.Close, e.sfE.Close, jh.Close, e.jE.Close)
	var err error
	if e.sf, err = salesforce.New(salesforce.Config{LoginURL: sh.URL, ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret", APIVersion: "v62.0"}); err != nil {
		return nil, err
	}
	if e.jira, err = jira.New(jira.Config{BaseURL: jh.URL, Email: jiraemu.DemoEmail, APIToken: jiraemu.DemoAPIToken}); err != nil {
		return nil, err
	}
	ms, err := mappings.LoadDir("mappings/default")
	if err != nil {
		return nil, err
	}
	if e.set, err = activities.NewMappingSet(ms, e.jira); err != nil {
		return nil, err
	}
	if e.bound, err = e.set.Bound(ctx, "opportunity-epic"); err != nil {
		return nil, err
	}
	// Latency through the emulators' fault admin API, as an operator would set it.
	for _, u := range []string{sh.URL, jh.URL} {
		body, _ := json.Marshal(map[string]any{"latency_ms": latencyMS})
		resp, err := http.Post(u+"/__admin/faults", "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("set faults on %s: %s", u, resp.Status)
		}
	}
	e.mark()
	return e, nil
}

// benchWorkflow is the Epic workflow of the benchmark's Jira site: the emulator's default
// (To Do → In Progress → In Review → Done) plus a global "Won't Do" transition into Done whose
// post-function sets the resolution Won't Do, as a Jira admin adds for lost deals. The default
// mapping names it for Closed Lost, so those records move in bulk like the others.
func benchWorkflow() jiraemu.Workflow {
	w := jiraemu.DefaultWorkflow()
	w.IssueTypes = []string{"Epic"}
	w.Transitions = append(w.Transitions, jiraemu.WorkflowTransition{ID: "81", Name: "Won't Do", To: "Done", Resolution: "Won't Do"})
	return w
}

func (e *emus) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// mark remembers the call counters; calls() counts API calls since.
// endpointCounts snapshots both emulators' calls per endpoint (any status), for BENCH_ENDPOINTS.
func (e *emus) endpointCounts() map[string]int {
	out := map[string]int{}
	for sys, st := range map[string]map[string]map[string]int{"sf": e.sfE.Stats().Endpoints, "jira": e.jE.Stats().Endpoints} {
		for ep, byStatus := range st {
			for _, n := range byStatus {
				out[sys+" "+ep] += n
			}
		}
	}
	return out
}

// printEndpointDelta prints the calls per endpoint since before (BENCH_ENDPOINTS=1), to see
// where a scenario's API calls go.
func (e *emus) printEndpointDelta(before map[string]int) {
	now := e.endpointCounts()
	keys := make([]string, 0, len(now))
	for k := range now {
		if now[k] != before[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("    %6d  %s\n", now[k]-before[k], k)
	}
}

func (e *emus) mark()      { e.sfBase, e.jBase = e.sfE.Stats().Total, e.jE.Stats().Total }
func (e *emus) calls() int { return e.sfE.Stats().Total - e.sfBase + e.jE.Stats().Total - e.jBase }

type result struct {
	Name       string
	Records    int
	Seconds    float64
	Calls      int
	PeakRSSMB  float64
	Extra      map[string]any
	Naive      *result
	Ceiling    *result
	TargetNote string
}

func (r *result) rate() float64 {
	if r.Seconds <= 0 {
		return 0
	}
	return float64(r.Records) / r.Seconds
}

func (r *result) perRecord() float64 {
	if r.Records == 0 {
		return 0
	}
	return float64(r.Calls) / float64(r.Records)
}

// ---- main flow --------------------------------------------------------------------------

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var attrs []temporal.SearchAttributeUpdate
	for _, k := range []temporal.SearchAttributeKeyKeyword{workflows.SfObjectTypeKey, workflows.SfRecordIDKey, workflows.JiraIssueKeyKey,
		workflows.JiraProjectKey, workflows.SyncDirectionKey, workflows.SyncOutcomeKey, workflows.SyncTriggerKey, workflows.ErrorCodeKey} {
		attrs = append(attrs, k.ValueSet(""))
	}
	log := zap.NewNop()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{ExistingPath: *flagCLI, LogLevel: "error",
		SearchAttributes: temporal.NewSearchAttributes(attrs...), ClientOptions: &client.Options{Logger: logging.NewTemporal(log)}})
	if err != nil {
		return fmt.Errorf("dev server (%s): %w", *flagCLI, err)
	}
	defer func() { _ = srv.Stop() }()
	b := &bench{ctx: ctx, tc: srv.Client(), hostPort: srv.FrontendHostPort(), self: self}
	only := map[string]bool{}
	for _, s := range strings.Split(*flagOnly, ",") {
		only[strings.TrimSpace(s)] = true
	}
	var results []*result
	if only["B1"] {
		r, err := b.scenarioB1("B1", *flagB1, 0, *flagNaive)
		if err != nil {
			return fmt.Errorf("B1: %w", err)
		}
		results = append(results, r)
	}
	if only["B1'"] {
		r, err := b.scenarioB1("B1'", *flagB1, 50, *flagNaiveL)
		if err != nil {
			return fmt.Errorf("B1': %w", err)
		}
		results = append(results, r)
	}
	if only["B1-kill"] {
		r, err := b.scenarioKill(*flagB1)
		if err != nil {
			return fmt.Errorf("B1-kill: %w", err)
		}
		results = append(results, r)
	}
	if only["B3"] {
		r, err := b.scenarioB3(*flagB3)
		if err != nil {
			return fmt.Errorf("B3: %w", err)
		}
		results = append(results, r)
	}
	printTable(results)
	return mergeResults(*flagOut, results)
}

type bench struct {
	ctx      context.Context
	tc       client.Client
	hostPort string
	self     string
}

// connector is one run of the real connector: a fresh database and a worker process.
type connector struct {
	dbURL string
	st    *store.Store
	queue string
	cmd   *exec.Cmd
	e     *emus
	b     *bench
}

func (b *bench) newConnector(e *emus) (*connector, error) {
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/sfjira?sslmode=disable"
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	u.Path = "/sfjira_bench_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	c := &connector{dbURL: u.String(), queue: "sfjira-bench-" + uuid.NewString()[:8], e: e, b: b}
	if _, err := store.EnsureDatabase(b.ctx, c.dbURL); err != nil {
		return nil, err
	}
	if c.st, err = store.Open(b.ctx, c.dbURL); err != nil {
		return nil, err
	}
	if _, err := c.st.Migrate(b.ctx); err != nil {
		return nil, err
	}
	return c, c.startWorker()
}

func (c *connector) startWorker() error {
	cmd := exec.Command(c.b.self, "-worker")
	cmd.Env = append(os.Environ(), "BENCH_TEMPORAL="+c.b.hostPort, "BENCH_DB="+c.dbURL, "BENCH_SF="+c.e.sfURL, "BENCH_JIRA="+c.e.jURL, "BENCH_QUEUE="+c.queue)
	if p := os.Getenv("BENCH_WORKER_CPUPROFILE"); p != "" {
		cmd.Args = append(cmd.Args, "-cpuprofile", p)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	c.cmd = cmd
	return nil
}

// peakRSS reads the worker's high-water resident set (VmHWM) from /proc.
func (c *connector) peakRSS() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func (c *connector) stopWorker(sig syscall.Signal) {
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Signal(sig)
	_, _ = c.cmd.Process.Wait()
	c.cmd = nil
}

func (c *connector) close() {
	c.stopWorker(syscall.SIGTERM)
	c.st.Close()
	_ = store.DropDatabase(context.Background(), c.dbURL)
}

func (c *connector) backfill(id string) (client.WorkflowRun, error) {
	return c.b.tc.ExecuteWorkflow(c.b.ctx, client.StartWorkflowOptions{ID: id, TaskQueue: c.queue}, workflows.BulkBackfill,
		workflows.BulkBackfillInput{Pair: "opportunity-epic", SfObject: "Opportunity", JiraProject: "SFJ", HeartbeatTimeoutSeconds: 20, PagesInFlight: *flagPages})
}

// ---- B1 / B1' -----------------------------------------------------------------------------

func (b *bench) scenarioB1(name string, n, latency, naiveN int) (*result, error) {
	fmt.Printf("%s: %d Opportunities → Epics, %d ms added per API call\n", name, n, latency)
	// (b) ceiling
	e, err := newEmus(b.ctx, n, latency)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := ceilingBackfill(b.ctx, e); err != nil {
		e.close()
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	ceil := &result{Name: "bulk-ceiling", Records: n, Seconds: time.Since(t0).Seconds(), Calls: e.calls()}
	e.close()
	fmt.Printf("  ceiling   %8.0f records/s  %.4f calls/record\n", ceil.rate(), ceil.perRecord())
	// (a) naive
	e, err = newEmus(b.ctx, n, latency)
	if err != nil {
		return nil, err
	}
	t0 = time.Now()
	if err := naiveBackfill(b.ctx, e, naiveN); err != nil {
		e.close()
		return nil, fmt.Errorf("naive: %w", err)
	}
	naive := &result{Name: "naive", Records: naiveN, Seconds: time.Since(t0).Seconds(), Calls: e.calls()}
	e.close()
	fmt.Printf("  naive     %8.1f records/s  %.2f calls/record (%d records)\n", naive.rate(), naive.perRecord(), naiveN)
	// the connector
	e, err = newEmus(b.ctx, n, latency)
	if err != nil {
		return nil, err
	}
	defer e.close()
	c, err := b.newConnector(e)
	if err != nil {
		return nil, err
	}
	defer c.close()
	time.Sleep(time.Second) // the worker process connects
	e.mark()
	t0 = time.Now()
	run, err := c.backfill("bench-" + uuid.NewString()[:8])
	if err != nil {
		return nil, err
	}
	var p workflows.BulkBackfillProgress
	if err := run.Get(b.ctx, &p); err != nil {
		return nil, err
	}
	r := &result{Name: name, Records: n, Seconds: time.Since(t0).Seconds(), Calls: e.calls(), PeakRSSMB: c.peakRSS(), Naive: naive, Ceiling: ceil}
	if p.Failed > 0 || p.Created+p.Adopted != n {
		return nil, fmt.Errorf("backfill: created %d and adopted %d of %d, failed %d: %+v", p.Created, p.Adopted, n, p.Failed, p.Failures)
	}
	r.Extra = map[string]any{"pages_retried_adopted": p.Adopted}
	if err := checkLinked(b.ctx, e, n); err != nil {
		return nil, err
	}
	fmt.Printf("  connector %8.0f records/s  %.4f calls/record  peak RSS %.0f MB\n", r.rate(), r.perRecord(), r.PeakRSSMB)
	return r, nil
}

// checkLinked verifies n issues, one per origin, and every record back-linked.
func checkLinked(ctx context.Context, e *emus, n int) error {
	origins := map[string]int{}
	total := 0
	err := e.jira.SearchEach(ctx, jira.SearchRequest{JQL: "project = SFJ", Fields: []string{"key"}, Properties: []string{"sfjira"}, MaxResults: 100}, func(is *jira.Issue) error {
		total++
		var p struct{ Origin string }
		_ = json.Unmarshal(is.Properties["sfjira"], &p)
		origins[p.Origin]++
		return nil
	})
	if err != nil {
		return err
	}
	res, err := e.sf.Query(ctx, "SELECT COUNT() FROM Opportunity WHERE Jira_Issue_Id__c != null")
	if err != nil {
		return err
	}
	dups := 0
	for _, c := range origins {
		if c > 1 {
			dups += c - 1
		}
	}
	if total != n || len(origins) != n || dups != 0 || res.TotalSize != n {
		return fmt.Errorf("after the run: %d issues, %d distinct origins, %d duplicates, %d back-linked records (want %d each, 0 duplicates)", total, len(origins), dups, res.TotalSize, n)
	}
	return nil
}

// ---- B1-kill ------------------------------------------------------------------------------

func (b *bench) scenarioKill(n int) (*result, error) {
	fmt.Printf("B1-kill: %d Opportunities, the worker is killed with SIGKILL half-way and restarted\n", n)
	e, err := newEmus(b.ctx, n, 0)
	if err != nil {
		return nil, err
	}
	defer e.close()
	c, err := b.newConnector(e)
	if err != nil {
		return nil, err
	}
	defer c.close()
	time.Sleep(time.Second)
	e.mark()
	t0 := time.Now()
	run, err := c.backfill("bench-kill-" + uuid.NewString()[:8])
	if err != nil {
		return nil, err
	}
	for e.jE.Stats().Endpoints["POST /rest/api/3/issue/bulk"]["201"]*jira.MaxBulkCreate < n/2 {
		if time.Since(t0) > 5*time.Minute {
			return nil, errors.New("backfill made no progress")
		}
		time.Sleep(2 * time.Millisecond)
	}
	killedAt := e.jE.Stats().Endpoints["POST /rest/api/3/issue/bulk"]["201"] * jira.MaxBulkCreate
	rss := c.peakRSS()
	c.stopWorker(syscall.SIGKILL)
	fmt.Printf("  killed the worker after ~%d creates; restarting\n", killedAt)
	if err := c.startWorker(); err != nil {
		return nil, err
	}
	var p workflows.BulkBackfillProgress
	if err := run.Get(b.ctx, &p); err != nil {
		return nil, err
	}
	r := &result{Name: "B1-kill", Records: n, Seconds: time.Since(t0).Seconds(), Calls: e.calls(), PeakRSSMB: max(rss, c.peakRSS()),
		Extra: map[string]any{"killed_after_creates": killedAt, "created": p.Created, "adopted": p.Adopted, "failed": p.Failed}}
	if err := checkLinked(b.ctx, e, n); err != nil {
		return nil, err
	}
	r.Extra["duplicates"], r.Extra["gaps"] = 0, 0
	fmt.Printf("  resumed: created %d, adopted %d, failed %d; %d issues, 0 duplicates, 0 gaps, %.1fs\n", p.Created, p.Adopted, p.Failed, n, r.Seconds)
	return r, nil
}

// ---- B3 -----------------------------------------------------------------------------------

func (b *bench) scenarioB3(n int) (*result, error) {
	fmt.Printf("B3: reconcile %d linked pairs with 1%% drift\n", n)
	e, err := newEmus(b.ctx, n, 0)
	if err != nil {
		return nil, err
	}
	defer e.close()
	c, err := b.newConnector(e)
	if err != nil {
		return nil, err
	}
	defer c.close()
	time.Sleep(time.Second)
	t0 := time.Now()
	run, err := c.backfill("bench-b3-" + uuid.NewString()[:8])
	if err != nil {
		return nil, err
	}
	var p workflows.BulkBackfillProgress
	if err := run.Get(b.ctx, &p); err != nil {
		return nil, err
	}
	if p.Failed > 0 {
		return nil, fmt.Errorf("setup backfill: %d failed: %+v", p.Failed, p.Failures)
	}
	setup := time.Since(t0).Seconds()
	fmt.Printf("  setup: %d pairs backfilled in %.1fs (%.0f records/s)\n", n, setup, float64(n)/setup)
	t0 = time.Now()
	e.mark()
	clean, err := b.reconcile(c)
	if err != nil {
		return nil, err
	}
	fullSecs, fullCalls := time.Since(t0).Seconds(), e.calls()
	if clean.Total() != 0 {
		return nil, fmt.Errorf("the first reconcile after the backfill found drift: %v", clean.Found)
	}
	fmt.Printf("  first (full) reconcile: in step, %.1fs, %d calls\n", fullSecs, fullCalls)

	// Steady state: the scheduled reconcile runs long after the backfill. Right after it, the
	// incremental Jira scan (issues updated since the previous run's start minus the watermark
	// margin, which covers clock skew and JQL's minute precision) still covers every issue the
	// backfill wrote. So: wait out the margin, let one more (untimed, clean) run move the
	// watermark past the backfill, then seed the drift and time the next run.
	if wait := time.Until(t0.Add(activities.ReconcileWatermarkMargin + 65*time.Second)); wait > 0 { // + JQL minute truncation
		fmt.Printf("  waiting %.0fs for the watermark margin to pass the backfill\n", wait.Seconds())
		time.Sleep(wait)
	}
	if again, err := b.reconcile(c); err != nil {
		return nil, err
	} else if again.Total() != 0 {
		return nil, fmt.Errorf("the second reconcile after the backfill found drift: %v", again.Found)
	}

	// Seed 1 % drift behind change capture's back: half on each side.
	seeded, err := seedDrift(b.ctx, e, n/100)
	if err != nil {
		return nil, err
	}
	// The ceiling and naive loops read the clean snapshot hashes from memory.
	hashes, err := snapshotHashes(b.ctx, c.st)
	if err != nil {
		return nil, err
	}
	e.mark()
	before := e.endpointCounts()
	t0 = time.Now()
	rep, err := b.reconcile(c)
	if err != nil {
		return nil, err
	}
	if os.Getenv("BENCH_ENDPOINTS") != "" {
		e.printEndpointDelta(before)
	}
	r := &result{Name: "B3", Records: n, Seconds: time.Since(t0).Seconds(), Calls: e.calls(), PeakRSSMB: c.peakRSS(),
		Extra: map[string]any{"drift_seeded": len(seeded), "drift_found": rep.Found[activities.DriftField], "drift_repaired": rep.Repaired[activities.DriftField],
			"other_findings": rep.Total() - rep.Found[activities.DriftField], "full_scan_seconds": fullSecs, "full_scan_api_calls": fullCalls,
			"setup_backfill_records_per_s": float64(n) / setup}}
	fmt.Printf("  reconcile with drift: found %d, repaired %d of %d seeded, %.1fs, %d calls, peak RSS %.0f MB\n",
		rep.Found[activities.DriftField], rep.Repaired[activities.DriftField], len(seeded), r.Seconds, r.Calls, r.PeakRSSMB)
	if rep.Found[activities.DriftField] != len(seeded) || rep.Repaired[activities.DriftField] != len(seeded) || rep.Total() != len(seeded) {
		return nil, fmt.Errorf("reconcile found %v and repaired %v, seeded %d field drifts", rep.Found, rep.Repaired, len(seeded))
	}
	// Ceiling: the same reads and repairs in a tight loop on a copy of the drift, no Temporal/PostgreSQL.
	drift2, err := seedDrift(b.ctx, e, n/100)
	if err != nil {
		return nil, err
	}
	hashes, err = snapshotHashes(b.ctx, c.st)
	if err != nil {
		return nil, err
	}
	e.mark()
	t0 = time.Now()
	fixed, err := ceilingReconcile(b.ctx, e, hashes, time.Now().Add(-time.Minute))
	if err != nil {
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	r.Ceiling = &result{Name: "bulk-ceiling", Records: n, Seconds: time.Since(t0).Seconds(), Calls: e.calls(), Extra: map[string]any{"repaired": fixed, "seeded": len(drift2)}}
	fmt.Printf("  ceiling: repaired %d of %d, %.1fs, %d calls\n", fixed, len(drift2), r.Ceiling.Seconds, r.Ceiling.Calls)
	// Naive: read both sides of each pair one at a time (on a sample; its rate is per pair).
	e.mark()
	t0 = time.Now()
	sample := min(n, 2000)
	if err := naiveReconcile(b.ctx, e, hashes, sample); err != nil {
		return nil, fmt.Errorf("naive: %w", err)
	}
	r.Naive = &result{Name: "naive", Records: sample, Seconds: time.Since(t0).Seconds(), Calls: e.calls()}
	fmt.Printf("  naive: %.0f pairs/s, %.2f calls/pair (sample of %d)\n", r.Naive.rate(), r.Naive.perRecord(), sample)
	return r, nil
}

func (b *bench) reconcile(c *connector) (*activities.ReconcileReport, error) {
	run, err := b.tc.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "reconcile/bench-" + uuid.NewString()[:8], TaskQueue: c.queue},
		workflows.Reconcile, workflows.ReconcileInput{Pair: "opportunity-epic"})
	if err != nil {
		return nil, err
	}
	var rep activities.ReconcileReport
	return &rep, run.Get(b.ctx, &rep)
}

// seedDrift edits k linked pairs without events: half the Opportunity names (composite update),
// half the Epic summaries.
func seedDrift(ctx context.Context, e *emus, k int) ([]string, error) {
	var recs []salesforce.Record
	err := e.sf.QueryEach(ctx, "SELECT Id, Jira_Issue_Id__c FROM Opportunity ORDER BY Id", func(r salesforce.Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	step := len(recs) / k
	tag := uuid.NewString()[:6]
	var ups []salesforce.Record
	var out []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	var firstErr error
	for i := 0; i < k; i++ {
		r := recs[i*step+(i%step)]
		out = append(out, r.ID())
		if i%2 == 0 {
			ups = append(ups, salesforce.Record{"attributes": map[string]any{"type": "Opportunity"}, "Id": r.ID(), "Name": "Drifted in Salesforce " + tag + " " + strconv.Itoa(i)})
			continue
		}
		id := fmt.Sprint(r["Jira_Issue_Id__c"])
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := e.jira.EditIssue(ctx, id, map[string]any{"summary": "Drifted in Jira " + tag + " " + strconv.Itoa(i)}); err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	res, err := e.sf.CompositeUpdate(ctx, ups, false)
	if err != nil {
		return nil, err
	}
	for _, r := range res {
		if !r.Success {
			return nil, fmt.Errorf("seed drift: %+v", r.Errors)
		}
	}
	return out, nil
}

type pairHash struct {
	origin, sfID, issueID, issueKey string
	sfHash, jiraHash                string
}

func snapshotHashes(ctx context.Context, st *store.Store) (map[string]*pairHash, error) {
	out := map[string]*pairHash{}
	err := st.PairSummaries(ctx, "opportunity-epic", func(p store.PairSummary) error {
		out[p.SfID] = &pairHash{origin: p.OriginKey, sfID: p.SfID, issueID: p.JiraIssueID, issueKey: p.JiraIssueKey, sfHash: p.SfHash, jiraHash: p.JiraHash}
		return nil
	})
	return out, err
}

// ---- worker process ---------------------------------------------------------------------

func runWorker() error {
	ctx := context.Background()
	if *flagProfile != "" {
		stop, err := startCPUProfile(*flagProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	config.ApplyMemoryLimit(config.Default().Worker.MemoryLimitMB) // as worker/main.go with the default config
	if p := os.Getenv("BENCH_WORKER_PEAKHEAP"); p != "" {
		// The live heap at its largest (sampled every 200 ms): what the worker holds at its peak.
		go func() {
			var most uint64
			for range time.Tick(200 * time.Millisecond) {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > most {
					most = ms.HeapInuse
					runtime.GC()
					if f, err := os.Create(p); err == nil {
						_ = pprof.Lookup("heap").WriteTo(f, 0)
						f.Close()
					}
				}
			}
		}()
	}
	if p := os.Getenv("BENCH_WORKER_MEMPROFILE"); p != "" {
		// Allocations of the worker's whole life (go tool pprof -sample_index=alloc_space).
		defer func() {
			if f, err := os.Create(p); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	st, err := store.Open(ctx, os.Getenv("BENCH_DB"))
	if err != nil {
		return err
	}
	sfc, err := salesforce.New(salesforce.Config{LoginURL: os.Getenv("BENCH_SF"), ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret", APIVersion: "v62.0"})
	if err != nil {
		return err
	}
	jc, err := jira.New(jira.Config{BaseURL: os.Getenv("BENCH_JIRA"), Email: jiraemu.DemoEmail, APIToken: jiraemu.DemoAPIToken})
	if err != nil {
		return err
	}
	ms, err := mappings.LoadDir("mappings/default")
	if err != nil {
		return err
	}
	set, err := activities.NewMappingSet(ms, jc)
	if err != nil {
		return err
	}
	log := zap.NewNop()
	if os.Getenv("BENCH_TRACE") != "" {
		log, _ = zap.NewDevelopment()
	}
	tc, err := client.Dial(client.Options{HostPort: os.Getenv("BENCH_TEMPORAL"), Logger: logging.NewTemporal(zap.NewNop())})
	if err != nil {
		return err
	}
	queue := os.Getenv("BENCH_QUEUE")
	acts := &activities.Activities{SF: sfc, Jira: jc, Store: st, Mappings: set, Log: log, Actor: "integration@sfjira.demo", SearchLagWindow: time.Second,
		Syncs: &workflows.Starter{Client: tc, TaskQueue: queue}}
	// The production registrations (worker/main.go NewWorker).
	w := worker.New(tc, queue, worker.Options{MaxConcurrentActivityExecutionSize: 200, MaxConcurrentWorkflowTaskPollers: 4, MaxConcurrentActivityTaskPollers: 8})
	w.RegisterWorkflow(workflows.RecordSync)
	w.RegisterWorkflow(workflows.Backfill)
	w.RegisterWorkflow(workflows.ChangePoller)
	w.RegisterWorkflow(workflows.BulkBackfill)
	w.RegisterWorkflow(workflows.Reconcile)
	w.RegisterActivity(acts)
	return w.Run(worker.InterruptCh())
}

// ---- output -------------------------------------------------------------------------------

func printTable(rs []*result) {
	fmt.Println()
	fmt.Printf("%-8s %8s %9s %12s %12s %10s %10s %12s %12s %9s\n", "scenario", "records", "seconds", "records/s", "calls/rec", "api calls", "RSS MB", "naive r/s", "ceiling r/s", "%ceiling")
	for _, r := range rs {
		nr, cr := "-", "-"
		pc := "-"
		if r.Naive != nil {
			nr = fmt.Sprintf("%.1f", r.Naive.rate())
		}
		if r.Ceiling != nil {
			cr = fmt.Sprintf("%.0f", r.Ceiling.rate())
			pc = fmt.Sprintf("%.0f%%", 100*r.rate()/r.Ceiling.rate())
		}
		fmt.Printf("%-8s %8d %9.2f %12.0f %12.4f %10d %10.0f %12s %12s %9s\n", r.Name, r.Records, r.Seconds, r.rate(), r.perRecord(), r.Calls, r.PeakRSSMB, nr, cr, pc)
		if r.Naive != nil {
			fmt.Printf("%-8s   vs naive: %.0f×\n", "", r.rate()/r.Naive.rate())
		}
	}
}

func mergeResults(path string, rs []*result) error {
	doc := map[string]any{}
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &doc)
	}
	host, _ := os.Hostname()
	if _, ok := doc["machine"]; !ok {
		doc["machine"] = fmt.Sprintf("%s, %d cores", host, runtime.NumCPU())
	}
	mine := map[string]bool{}
	var out []map[string]any
	for _, r := range rs {
		mine[r.Name] = true
		s := map[string]any{"name": r.Name, "records": r.Records, "seconds": round(r.Seconds, 2), "records_per_s": round(r.rate(), 1),
			"api_calls": r.Calls, "api_calls_per_record": round(r.perRecord(), 4), "peak_rss_mb": round(r.PeakRSSMB, 0)}
		if r.Naive != nil {
			s["baseline"] = map[string]any{"name": "naive", "records_per_s": round(r.Naive.rate(), 2), "records": r.Naive.Records,
				"api_calls_per_record": round(r.Naive.perRecord(), 3)}
			s["ratio_vs_baseline"] = round(r.rate()/r.Naive.rate(), 1)
		}
		if r.Ceiling != nil {
			s["ceiling"] = map[string]any{"name": "bulk-ceiling", "records_per_s": round(r.Ceiling.rate(), 1), "api_calls": r.Ceiling.Calls,
				"api_calls_per_record": round(r.Ceiling.perRecord(), 4)}
			s["ratio_vs_ceiling"] = round(r.rate()/r.Ceiling.rate(), 3)
		}
		for k, v := range r.Extra {
			s[k] = v
		}
		out = append(out, s)
	}
	var kept []any
	if old, ok := doc["scenarios"].([]any); ok {
		for _, s := range old {
			if m, ok := s.(map[string]any); ok && mine[fmt.Sprint(m["name"])] {
				continue
			}
			kept = append(kept, s)
		}
	}
	for _, s := range out {
		kept = append(kept, s)
	}
	sort.SliceStable(kept, func(i, j int) bool {
		return fmt.Sprint(kept[i].(map[string]any)["name"]) < fmt.Sprint(kept[j].(map[string]any)["name"])
	})
	doc["scenarios"] = kept
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func round(x float64, digits int) float64 {
	p := 1.0
	for i := 0; i < digits; i++ {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}
