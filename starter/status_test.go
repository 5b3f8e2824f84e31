package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/sfjira/sfjira/internal/metrics"
	"github.com/sfjira/sfjira/internal/store/storetest"
)

// TestPauseStatusResumeAgainstDevServer runs the CLI as an operator would, against a real dev
// server and PostgreSQL: pause (with a schedule to hold), status in both formats, resume.
func TestPauseStatusResumeAgainstDevServer(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL and bin/temporal")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cli := os.Getenv("TEMPORAL_CLI_PATH")
	if cli == "" {
		cli, _ = filepath.Abs("../bin/temporal")
	}
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("Temporal CLI not found at %s (fix: run `make test` or set TEMPORAL_CLI_PATH)", cli)
	}
	st, dbURL := storetest.Open(t, "sfjira_test")
	_, err := st.Pool().Exec(ctx, `INSERT INTO dead_letters (origin_key, pair, workflow_id, run_id, code, message, remediation, replay_input)
		VALUES ('sf/006A', 'opportunity-epic', 'sync/sf/006A', 'r1', 'SF_AUTH', 'refused', 'fix it', '{}')`)
	require.NoError(t, err)

	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{ExistingPath: cli, LogLevel: "error",
		ClientOptions: &client.Options{Namespace: "default"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	tc := srv.Client()
	_, err = tc.ScheduleClient().Create(ctx, client.ScheduleOptions{ID: "sfjira-reconcile-test", Spec: client.ScheduleSpec{
		Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}}},
		Action: &client.ScheduleWorkflowAction{ID: "reconcile-test", Workflow: "Reconcile", TaskQueue: "sfjira-status-test"}})
	require.NoError(t, err)

	// A stand-in for the worker's /metrics, so status can show the API budget it last saw.
	m := metrics.New()
	m.SetSources(metrics.Sources{Budgets: func() []metrics.Budget {
		return []metrics.Budget{{System: "salesforce", Remaining: 14000, Limit: 15000}, {System: "jira", Remaining: 3, Limit: 100}}
	}})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := &http.Server{Handler: m.Handler()}
	go hs.Serve(l) //nolint:errcheck
	t.Cleanup(func() { _ = hs.Close() })

	dir := t.TempDir()
	mdir, _ := filepath.Abs("../mappings/default")
	cfg := filepath.Join(dir, "sfjira.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`temporal:
  host_port: `+srv.FrontendHostPort()+`
  namespace: default
  task_queue: sfjira-status-test
database:
  url: `+dbURL+`
salesforce:
  login_url: http://127.0.0.1:1
  client_id: x
  client_secret_env: SFJIRA_TEST_SECRET
jira:
  base_url: http://127.0.0.1:1
  email: x@example.com
  api_token_env: SFJIRA_TEST_SECRET
mappings:
  dir: `+mdir+`
worker:
  http_addr: `+l.Addr().String()+"\n"), 0o644))
	t.Setenv("SFJIRA_TEST_SECRET", "test-secret-value")
	t.Setenv("DATABASE_URL", "")
	sfjira := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := executeTo(append([]string{"--config", cfg}, args...), &out, &errb)
		return code, out.String(), errb.String()
	}

	code, out, errOut := sfjira("pause", "--reason", "db upgrade", "--recheck", "2s")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "paused at")
	require.Contains(t, out, "sfjira-reconcile-test")
	d, err := tc.ScheduleClient().GetHandle(ctx, "sfjira-reconcile-test").Describe(ctx)
	require.NoError(t, err)
	require.True(t, d.Schedule.State.Paused, "pause holds the schedules")

	code, out, errOut = sfjira("status")
	require.Equal(t, 0, code, errOut)
	t.Logf("sfjira status:\n%s", out)
	for _, want := range []string{"PAUSED since", "db upgrade", "SF_AUTH 1", "conflicts:     0 pending", "salesforce 14000 of 15000 left",
		"jira API budget low: 3 of 100 left", "no worker polls task queue sfjira-status-test", "last reconcile: none recorded"} {
		require.Contains(t, out, want)
	}
	code, out, errOut = sfjira("status", "--json")
	require.Equal(t, 0, code, errOut)
	var s Status
	require.NoError(t, json.Unmarshal([]byte(out), &s))
	require.True(t, s.Maintenance.Paused)
	require.Equal(t, map[string]int64{"SF_AUTH": 1}, s.DeadLetters)
	require.Len(t, s.Budgets, 2)
	require.Len(t, s.Workers, 4, "workflow and activity task queues, and the Salesforce and Jira activity queues")

	code, out, errOut = sfjira("resume")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "1 schedule(s) unpaused: sfjira-reconcile-test")
	d, err = tc.ScheduleClient().GetHandle(ctx, "sfjira-reconcile-test").Describe(ctx)
	require.NoError(t, err)
	require.False(t, d.Schedule.State.Paused)
	m2, err := st.GetMaintenance(ctx)
	require.NoError(t, err)
	require.False(t, m2.Paused)
}
