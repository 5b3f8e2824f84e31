package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.uber.org/zap"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sfjira/sfjira/activities"
	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/logging"
	"github.com/sfjira/sfjira/internal/metrics"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/internal/store/storetest"
	"github.com/sfjira/sfjira/internal/temporalconn"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/workflows"
)

// stack is one end-to-end environment: a real Temporal dev server, a throwaway PostgreSQL
// database, both emulators over real HTTP, and a worker running the production registrations.
type stack struct {
	t       *testing.T
	ctx     context.Context
	tc      client.Client
	queue   string
	sfEmu   *sfemu.Server
	jiraEmu *jiraemu.Server
	sf      *salesforce.Client
	jira    *jira.Client
	store   *store.Store
	acts    *activities.Activities
	mapping *mappings.Mapping
	// workers is the stack's worker group (tests that restart the worker stop it); nil with
	// stackOptions.ExternalWorker.
	workers *Workers
	// Addresses for tests that run a worker in another process.
	hostPort, dbURL, sfURL, jiraURL string
	// tokens records every access and refresh token the token endpoints handed the stack.
	tokens *tokenRecorder
	// devServer and devOpts restart the Temporal dev server (restartTemporal).
	devServer *testsuite.DevServer
	devOpts   testsuite.DevServerOptions
}

func newStack(t *testing.T, opportunities int) *stack {
	return newStackWith(t, stackOptions{Opportunities: opportunities, MappingDir: "../mappings/default"})
}

// stackOptions vary the end-to-end environment.
type stackOptions struct {
	Opportunities int
	MappingDir    string
	// More seeds the rest of the default pack's objects (Cases, Feature Requests, Activities).
	More sfemu.SeedOptions
	// Keyring, when set, gives the worker and the test's client the encrypting codec.
	Keyring *codec.Keyring
	// AppRole runs the worker's store as sfjira_app (no UPDATE/DELETE on the audit).
	AppRole bool
	// UIPort, when set, starts the dev server with its web UI on that port.
	UIPort string
	// Log, when set, is the logger of the whole worker (SDK client and activities).
	Log *zap.Logger
	// JiraOAuth makes the worker reach Jira through an OAuth 2.0 (3LO) grant with rotating
	// refresh tokens, stored encrypted in the store (needs Keyring), instead of an API token.
	JiraOAuth bool
	// TemporalFile keeps the dev server's state in a SQLite file (in the test's temp dir), so
	// restartTemporal can stop and start it without losing workflows, as a real cluster would.
	TemporalFile bool
	// DatabaseURL, when set, is the server the throwaway database is created on (default:
	// DATABASE_URL), e.g. a private PostgreSQL the test restarts.
	DatabaseURL string
	// ExternalWorker starts no worker in the test process: the test runs its own (in another
	// process, see startWorkerProcess).
	ExternalWorker bool
}

func newStackWith(t *testing.T, opts stackOptions) *stack {
	t.Helper()
	opportunities := opts.Opportunities
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL and bin/temporal")
	}
	// Ten minutes, or longer when the test binary was given more (larger convergence runs).
	limit := 10 * time.Minute
	if d, ok := t.Deadline(); ok && time.Until(d) > limit {
		limit = time.Until(d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	cli := os.Getenv("TEMPORAL_CLI_PATH")
	if cli == "" {
		cli, _ = filepath.Abs("../bin/temporal")
	}
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("Temporal CLI not found at %s (fix: run `make test`, which builds bin/temporal, or set TEMPORAL_CLI_PATH)", cli)
	}

	st, dbURL := storetest.OpenOn(t, opts.DatabaseURL, "sfjira_test")
	if opts.AppRole {
		var err error
		st, err = store.OpenAs(ctx, dbURL, "sfjira_app")
		require.NoError(t, err)
		t.Cleanup(st.Close)
	}

	log := zap.NewNop()
	if os.Getenv("SFJIRA_TEST_LOG") != "" {
		log, _ = zap.NewDevelopment()
	}
	if opts.Log != nil {
		log = opts.Log
	}
	tokens := &tokenRecorder{}
	attrs := []temporal.SearchAttributeUpdate{}
	for _, k := range []temporal.SearchAttributeKeyKeyword{workflows.SfObjectTypeKey, workflows.SfRecordIDKey, workflows.JiraIssueKeyKey,
		workflows.JiraProjectKey, workflows.SyncDirectionKey, workflows.SyncOutcomeKey, workflows.SyncTriggerKey, workflows.ErrorCodeKey} {
		attrs = append(attrs, k.ValueSet(""))
	}
	devOpts := testsuite.DevServerOptions{
		ExistingPath:     cli,
		LogLevel:         "error",
		EnableUI:         opts.UIPort != "",
		UIPort:           opts.UIPort,
		SearchAttributes: temporal.NewSearchAttributes(attrs...),
		ClientOptions:    &client.Options{Namespace: "default", Logger: logging.NewTemporal(log)},
	}
	if opts.TemporalFile {
		devOpts.DBFilename = filepath.Join(t.TempDir(), "temporal.db")
	}
	srv, err := testsuite.StartDevServer(ctx, devOpts)
	require.NoError(t, err)
	// A restart keeps the frontend port, so every client and worker reconnects to the same address.
	devOpts.ClientOptions.HostPort = srv.FrontendHostPort()
	s := &stack{devServer: srv, devOpts: devOpts}
	t.Cleanup(func() { _ = s.devServer.Stop() })
	tc := srv.Client()
	if opts.Keyring != nil {
		co := client.Options{HostPort: srv.FrontendHostPort(), Namespace: "default", Logger: logging.NewTemporal(log)}
		temporalconn.WithKeyring(&co, opts.Keyring)
		tc, err = client.Dial(co)
		require.NoError(t, err)
		t.Cleanup(tc.Close)
	}

	sfOpts := sfemu.DemoOptions()
	sfOpts.OutboundRetryBase = 200 * time.Millisecond
	sfE := sfemu.New(sfOpts)
	t.Cleanup(sfE.Close)
	sfE.Seed(sfemu.SeedOptions{Accounts: 10, Contacts: 20, Opportunities: opportunities,
		Cases: opts.More.Cases, FeatureRequests: opts.More.FeatureRequests, Activities: opts.More.Activities})
	sfHTTP := httptest.NewServer(sfE)
	t.Cleanup(sfHTTP.Close)
	jOpts := jiraemu.DemoOptions()
	jOpts.WebhookRetryBase = 200 * time.Millisecond
	jE := jiraemu.New(jOpts)
	t.Cleanup(jE.Close)
	jHTTP := httptest.NewServer(jE)
	t.Cleanup(jHTTP.Close)

	sfc, err := salesforce.New(salesforce.Config{LoginURL: sfHTTP.URL, ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret", APIVersion: "v62.0",
		HTTPClient: &http.Client{Transport: metrics.CountingTransport("salesforce", tokens.wrap(nil))}})
	require.NoError(t, err)
	var jc *jira.Client
	if opts.JiraOAuth {
		require.NotNil(t, opts.Keyring, "JiraOAuth stores the grant encrypted: give the stack a Keyring")
		jc = oauthJiraClient(t, ctx, st, opts.Keyring, jHTTP.URL, tokens)
	} else {
		jc, err = jira.New(jira.Config{BaseURL: jHTTP.URL, Email: "integration@sfjira.demo", APIToken: "sfjira-demo-token",
			HTTPClient: &http.Client{Transport: metrics.CountingTransport("jira", nil)}})
		require.NoError(t, err)
	}
	ms, err := mappings.LoadDir(opts.MappingDir)
	require.NoError(t, err)
	set, err := activities.NewMappingSet(ms, jc)
	require.NoError(t, err)
	m, err := set.ForObject("Opportunity")
	require.NoError(t, err)
	acts := &activities.Activities{SF: sfc, Jira: jc, Store: st, Mappings: set, Log: log, Actor: "integration@sfjira.demo", SearchLagWindow: 2 * time.Second,
		Keyring: opts.Keyring}

	queue := "sfjira-it-" + uuid.NewString()[:8]
	acts.Syncs = &workflows.Starter{Client: tc, TaskQueue: queue}
	acts.Metrics = metrics.New()
	// The worker's client reports the SDK's metrics to /metrics, as in production.
	wo := client.Options{Namespace: "default", Logger: logging.NewTemporal(log), MetricsHandler: acts.Metrics.TemporalHandler()}
	if opts.Keyring != nil {
		temporalconn.WithKeyring(&wo, opts.Keyring)
	}
	wc, err := client.NewClientFromExisting(tc, wo)
	require.NoError(t, err)
	t.Cleanup(wc.Close)
	acts.Metrics.SetSources(metricsSources(tc, "default", []string{queue}, acts))
	var w *Workers
	if !opts.ExternalWorker {
		w = NewWorker(wc, queue, 200, acts)
		require.NoError(t, w.Start())
		t.Cleanup(w.Stop)
	}
	s.t, s.ctx, s.tc, s.queue, s.sfEmu, s.jiraEmu, s.sf, s.jira, s.store, s.acts, s.mapping = t, ctx, tc, queue, sfE, jE, sfc, jc, st, acts, m
	s.hostPort, s.dbURL, s.sfURL, s.jiraURL, s.workers, s.tokens = srv.FrontendHostPort(), dbURL, sfHTTP.URL, jHTTP.URL, w, tokens
	return s
}

// restartTemporal stops the dev server (SIGINT, as an orchestrator would) and starts it again on
// the same port and state file: the stack's clients and any worker reconnect by themselves. It
// needs stackOptions.TemporalFile, without which the restart would lose every workflow.
func (s *stack) restartTemporal() time.Duration {
	s.t.Helper()
	require.NotEmpty(s.t, s.devOpts.DBFilename, "restartTemporal needs stackOptions.TemporalFile")
	began := time.Now()
	require.NoError(s.t, s.devServer.Stop())
	srv, err := testsuite.StartDevServer(s.ctx, s.devOpts)
	require.NoError(s.t, err, "restart the Temporal dev server on %s", s.devOpts.ClientOptions.HostPort)
	srv.Client().Close() // the stack keeps its own client, which reconnects
	s.devServer = srv
	return time.Since(began)
}

func (s *stack) backfill() workflows.BackfillResult {
	_, res := s.backfillRun()
	return res
}

func (s *stack) backfillRun() (client.WorkflowRun, workflows.BackfillResult) {
	s.t.Helper()
	run, err := s.tc.ExecuteWorkflow(s.ctx, client.StartWorkflowOptions{ID: workflows.BackfillWorkflowID(s.mapping.Pair, uuid.NewString()), TaskQueue: s.queue},
		workflows.Backfill, workflows.BackfillInput{Pair: s.mapping.Pair, SfObject: "Opportunity", JiraProject: "SFJ", Concurrency: 25})
	require.NoError(s.t, err)
	var res workflows.BackfillResult
	require.NoError(s.t, run.Get(s.ctx, &res))
	return run, res
}

func (s *stack) sync(sfID string) (client.WorkflowRun, *workflows.RecordSyncResult, error) {
	origin := workflows.SalesforceOriginKey(sfID)
	run, err := s.tc.SignalWithStartWorkflow(s.ctx, workflows.SyncWorkflowID(origin), workflows.SyncSignal,
		workflows.SyncRequest{Trigger: workflows.TriggerManual, Source: "operator"},
		client.StartWorkflowOptions{TaskQueue: s.queue, WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			StaticSummary: "Opportunity " + sfID + " → Jira (test)"},
		workflows.RecordSync, workflows.RecordSyncInput{OriginKey: origin, Pair: s.mapping.Pair, SfObject: "Opportunity", SfID: sfID, Trigger: workflows.TriggerManual, JiraProject: "SFJ"})
	require.NoError(s.t, err)
	var res workflows.RecordSyncResult
	err = run.Get(s.ctx, &res)
	return run, &res, err
}

// writes counts the calls that change data on each emulator.
func writes(stats any) int {
	b, _ := json.Marshal(stats)
	var st struct {
		Endpoints map[string]map[string]int `json:"endpoints"`
	}
	_ = json.Unmarshal(b, &st)
	n := 0
	for ep, byStatus := range st.Endpoints {
		method, _, _ := strings.Cut(ep, " ")
		if method == "GET" || strings.Contains(ep, "/oauth2/token") || strings.Contains(ep, "/search") || strings.Contains(ep, "/query") {
			continue
		}
		for _, c := range byStatus {
			n += c
		}
	}
	return n
}

// stageTarget is the default pack's stage → status/resolution table, written out independently
// of the mapping code so the test checks the mapping rather than repeating it.
var stageTarget = map[string][2]string{
	"Prospecting": {"To Do", ""}, "Qualification": {"To Do", ""},
	"Needs Analysis": {"In Progress", ""}, "Value Proposition": {"In Progress", ""}, "Id. Decision Makers": {"In Progress", ""},
	"Perception Analysis": {"In Progress", ""}, "Proposal/Price Quote": {"In Review", ""}, "Negotiation/Review": {"In Review", ""},
	"Closed Won": {"Done", "Done"}, "Closed Lost": {"Done", "Won't Do"},
}

func TestEndToEndFiftyOpportunities(t *testing.T) {
	s := newStack(t, 50)
	ctx := s.ctx

	// 1. Backfill: 50 Opportunities, one Epic each.
	res := s.backfill()
	require.Equal(t, 50, res.Total)
	require.Equal(t, 50, res.Created, "failures: %+v", res.Failures)
	require.Zero(t, res.Failed)

	fieldID := map[string]string{}
	fields, err := s.jira.Fields(ctx)
	require.NoError(t, err)
	for _, f := range fields {
		fieldID[f.Name] = f.ID
	}
	stages := map[string]bool{}
	var recs []salesforce.Record
	require.NoError(t, s.sf.QueryEach(ctx, "SELECT Id, Name, Amount, Probability, CloseDate, StageName, Account.Name, Jira_Issue_Id__c, Jira_Issue_Key__c FROM Opportunity", func(r salesforce.Record) error {
		recs = append(recs, r)
		return nil
	}))
	require.Len(t, recs, 50)
	for _, r := range recs {
		id := r.ID()
		issueID, _ := r.Value("Jira_Issue_Id__c")
		issueKey, _ := r.Value("Jira_Issue_Key__c")
		require.NotEmpty(t, issueID, "back-link id on %s", id)
		// Exactly one Epic carries this record's origin.
		page, err := s.jira.Search(ctx, jira.SearchRequest{JQL: fmt.Sprintf(`project = SFJ AND issue.property[sfjira].origin = "sf/%s"`, id), Fields: []string{"key"}})
		require.NoError(t, err)
		require.Len(t, page.Issues, 1, "Epics for %s", id)
		require.Equal(t, issueID, page.Issues[0].ID)
		require.Equal(t, issueKey, page.Issues[0].Key)

		is, err := s.jira.GetIssue(ctx, page.Issues[0].ID, []string{"summary", "duedate", "issuetype", fieldID["Deal Amount"], fieldID["Customer"], fieldID["Probability"], "status", "resolution"}, []string{"sfjira"})
		require.NoError(t, err)
		name, _ := r.Value("Name")
		account, _ := r.Value("Account.Name")
		closeDate, _ := r.Value("CloseDate")
		amount, _ := r.Value("Amount")
		stage, _ := r.Value("StageName")
		stages[stage.(string)] = true
		require.Equal(t, name, is.FieldString("summary"))
		require.Equal(t, account, is.FieldString(fieldID["Customer"]))
		require.Equal(t, closeDate, is.FieldString("duedate"))
		var issueType struct{ Name string }
		require.NoError(t, json.Unmarshal(is.Fields["issuetype"], &issueType))
		require.Equal(t, "Epic", issueType.Name)
		var deal *float64
		require.NoError(t, json.Unmarshal(is.Fields[fieldID["Deal Amount"]], &deal))
		if amount == nil {
			require.Nil(t, deal, "an empty Amount leaves Deal Amount empty (%s)", is.Key)
		} else {
			require.NotNil(t, deal, is.Key)
			require.InDelta(t, amount.(float64), *deal, 0.005)
		}
		want := stageTarget[stage.(string)]
		require.Equal(t, want[0], is.StatusName(), "status of %s (%s)", is.Key, stage)
		require.Equal(t, want[1], is.ResolutionName(), "resolution of %s (%s)", is.Key, stage)
		var prop struct{ Origin string }
		require.NoError(t, json.Unmarshal(is.Properties["sfjira"], &prop))
		require.Equal(t, "sf/"+id, prop.Origin)
	}
	require.Len(t, stages, 10, "the seed covers every default stage")
	counts, err := s.store.Counts(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 50, counts.Linked)
	require.EqualValues(t, 50, counts.PairStates)
	rep, err := s.acts.CheckPair(ctx, s.mapping.Pair)
	require.NoError(t, err)
	require.True(t, rep.OK(), "problems: %+v", rep.Problems)

	// 2. Sync everything again: nothing is created and nothing is written, on either side or in the store.
	sfWrites, jiraWrites := writes(s.sfEmu.Stats()), writes(s.jiraEmu.Stats())
	again := s.backfill()
	require.Equal(t, 50, again.Unchanged, "second backfill: %+v", again)
	require.Zero(t, again.Created+again.Updated+again.Failed)
	require.Equal(t, sfWrites, writes(s.sfEmu.Stats()), "Salesforce writes during the idempotent re-run")
	require.Equal(t, jiraWrites, writes(s.jiraEmu.Stats()), "Jira writes during the idempotent re-run")
	counts2, err := s.store.Counts(ctx)
	require.NoError(t, err)
	require.Equal(t, counts, counts2)

	// 3. An edit in Salesforce: the Epic follows and the audit holds before and after.
	target := recs[0]
	oldAmount, _ := target.Value("Amount")
	require.NoError(t, s.sf.Update(ctx, "Opportunity", target.ID(), map[string]any{"Amount": 98765.43, "StageName": "Closed Lost", "Name": "Renewal – Ærøskøbing Ferries"}))
	run, out, err := s.sync(target.ID())
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeUpdated, out.Outcome)
	issueKey, _ := target.Value("Jira_Issue_Key__c")
	is, err := s.jira.GetIssue(ctx, issueKey.(string), []string{"summary", "status", "resolution", fieldID["Deal Amount"]}, nil)
	require.NoError(t, err)
	require.Equal(t, "Renewal – Ærøskøbing Ferries", is.FieldString("summary"))
	require.Equal(t, "Done", is.StatusName())
	require.Equal(t, "Won't Do", is.ResolutionName())
	audit, err := s.store.AuditFor(ctx, "sf/"+target.ID())
	require.NoError(t, err)
	found := map[string]store.AuditEntry{}
	for _, e := range audit {
		if e.RunID == run.GetRunID() {
			found[e.Field] = e
		}
	}
	amt, ok := found[fieldID["Deal Amount"]]
	require.True(t, ok, "audit rows of the edit: %+v", found)
	require.NotNil(t, amt.Before)
	require.Equal(t, fmt.Sprintf("%.2f", oldAmount.(float64)), *amt.Before)
	require.Equal(t, "98765.43", *amt.After)
	require.Equal(t, "update", amt.Action)
	require.Equal(t, "Won't Do", *found["resolution"].After)
	require.Equal(t, "Renewal – Ærøskøbing Ferries", *found["summary"].After)
	// The audit is append-only.
	_, err = s.store.Pool().Exec(ctx, `UPDATE audit SET after_value = 'x'`)
	require.ErrorContains(t, err, "append-only")

	// 4. The run is findable in the Temporal UI by its record id.
	require.Eventually(t, func() bool {
		resp, err := s.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf(`SfRecordId = "%s" AND SyncOutcome = "updated"`, target.ID())})
		return err == nil && len(resp.Executions) >= 1
	}, 20*time.Second, 200*time.Millisecond)

	if dir := os.Getenv("SFJIRA_RECORD_HISTORY"); dir != "" {
		saveHistory(t, s, run.GetID(), run.GetRunID(), filepath.Join(dir, "record_sync_update.json"))
	}
}

func TestEndToEndBadRecordFailsAloneWithCode(t *testing.T) {
	s := newStack(t, 5)
	ctx := s.ctx
	// An Opportunity without an Account: the mapping requires Customer (Account.Name).
	badID, err := s.sf.Create(ctx, "Opportunity", map[string]any{"Name": "Orphan deal", "StageName": "Qualification", "CloseDate": "2027-03-31", "Amount": 1000})
	require.NoError(t, err)
	bfRun, res := s.backfillRun()
	require.Equal(t, 6, res.Total)
	require.Equal(t, 5, res.Created)
	require.Equal(t, 1, res.Failed)
	require.Equal(t, string(catalog.MappingRequiredValueMissing), res.Failures[0].Code)
	require.Equal(t, badID, res.Failures[0].SfID)
	require.Contains(t, res.Failures[0].Message, "Account.Name")

	_, _, err = s.sync(badID)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "error: %v", err)
	require.Equal(t, string(catalog.MappingRequiredValueMissing), app.Type())
	dead, err := s.store.OpenDeadLetters(ctx)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Equal(t, "sf/"+badID, dead[0].OriginKey)
	require.Equal(t, string(catalog.MappingRequiredValueMissing), dead[0].Code)
	require.NotEmpty(t, dead[0].Remediation)
	require.GreaterOrEqual(t, dead[0].Attempts, 2)

	// Fix the record: the next sync succeeds and the dead letter is resolved.
	accounts, err := s.sf.Query(ctx, "SELECT Id FROM Account LIMIT 1")
	require.NoError(t, err)
	require.NoError(t, s.sf.Update(ctx, "Opportunity", badID, map[string]any{"AccountId": accounts.Records[0].ID()}))
	run, out, err := s.sync(badID)
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeCreated, out.Outcome)
	dead, err = s.store.OpenDeadLetters(ctx)
	require.NoError(t, err)
	require.Empty(t, dead)
	if dir := os.Getenv("SFJIRA_RECORD_HISTORY"); dir != "" {
		saveHistory(t, s, run.GetID(), run.GetRunID(), filepath.Join(dir, "record_sync_create.json"))
		saveHistory(t, s, bfRun.GetID(), bfRun.GetRunID(), filepath.Join(dir, "backfill_with_failure.json"))
	}
}

// saveHistory writes a run's history as JSON (the format of the UI's and CLI's download), for the
// replay tests in workflows/.
func saveHistory(t *testing.T, s *stack, id, runID, path string) {
	iter := s.tc.GetWorkflowHistory(s.ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	t.Logf("saved history of %s to %s", id, path)
}
