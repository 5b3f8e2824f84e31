package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
)

// `sfjira preflight` and `sfjira setup` with jira.auth: oauth: preflight reaches Jira through the
// stored 3LO grant (api.atlassian.com/ex/jira/{cloudId}, refreshing the rotating token when Jira
// expired it) and judges the grant's scopes; setup works without an API token and explains that
// the signed admin webhook must be created with an admin's credentials. Before, both used basic
// auth with the empty e-mail and token of an OAuth config and failed with 401.
func TestPreflightAndSetupWithJiraOAuth(t *testing.T) {
	_, dbURL := testConfig(t, "")
	cli := os.Getenv("TEMPORAL_CLI_PATH")
	if cli == "" {
		cli, _ = filepath.Abs("../bin/temporal")
	}
	if _, err := os.Stat(cli); err != nil {
		t.Skipf("needs the Temporal CLI at %s (TEMPORAL_CLI_PATH)", cli)
	}
	ctx := context.Background()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{ExistingPath: cli, LogLevel: "error",
		ClientOptions: &client.Options{Namespace: "default"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })

	jE := jiraemu.New(jiraemu.DemoOptions())
	t.Cleanup(jE.Close)
	jHTTP := httptest.NewServer(jE)
	t.Cleanup(jHTTP.Close)
	sfE := sfemu.New(sfemu.DemoOptions())
	sfE.SetPermissions(sfemu.DefaultPackIntegrationUser())
	t.Cleanup(sfE.Close)
	sfHTTP := httptest.NewServer(sfE)
	t.Cleanup(sfHTTP.Close)
	jPort := freeLoopbackPort(t)
	mdir, _ := filepath.Abs("../mappings/default")
	write := func(scopes string) string {
		p := filepath.Join(t.TempDir(), "sfjira.yaml")
		require.NoError(t, os.WriteFile(p, []byte(fmt.Sprintf(`temporal:
  host_port: %s
database:
  url_env: ""
  url: %s
salesforce:
  login_url: %s
  client_id: sfjira-demo
  client_secret_env: SFJIRA_TEST_SECRET
jira:
  base_url: %s
  auth: oauth
  webhook_url: http://127.0.0.1:8090/webhooks/jira
  webhook_secret_env: SFJIRA_TEST_HOOK
  oauth:
    client_id: %s
    client_secret_env: SFJIRA_TEST_JIRA_OAUTH
    auth_url: %s/authorize
    token_url: %s/oauth/token
    api_url: %s
    redirect_url: http://127.0.0.1:%d/callback
%smappings:
  dir: %s
security:
  keyring_env: SFJIRA_TEST_KEYRING
`, srv.FrontendHostPort(), dbURL, sfHTTP.URL, jHTTP.URL, jiraemu.DemoOAuthClientID, jHTTP.URL, jHTTP.URL, jHTTP.URL, jPort, scopes, mdir)), 0o644))
		return p
	}
	t.Setenv("SFJIRA_TEST_SECRET", "sfjira-demo-secret")
	t.Setenv("SFJIRA_TEST_JIRA_OAUTH", jiraemu.DemoOAuthClientSecret)
	t.Setenv("SFJIRA_TEST_HOOK", "oauth-preflight-hook-secret")
	t.Setenv("SFJIRA_TEST_KEYRING", "k1:c2ZqaXJhLXRlc3Qta2V5LW5vdC1hLXNlY3JldC0wMDA=")
	openBrowser = func(u string) {
		go func() {
			if resp, err := http.Get(u); err == nil {
				resp.Body.Close()
			}
		}()
	}
	t.Cleanup(func() { openBrowser = func(string) {} })
	consent := func(cfg string) {
		var out, errb bytes.Buffer
		require.Equal(t, 0, executeTo([]string{"--config", cfg, "auth", "jira", "--timeout", "20s"}, &out, &errb), errb.String())
	}

	// Before the consent, preflight says what to do instead of failing with 401.
	cfg := write("")
	code, out := run(t, "--config", cfg, "preflight")
	require.NotEqual(t, 0, code)
	require.Contains(t, out, "no grant is stored (fix: run `sfjira auth jira` once)")

	consent(cfg)
	code, out = run(t, "--config", cfg, "preflight")
	require.Equal(t, 0, code, out)
	// The one warning is the emulator's user lacking ADMINISTER_PROJECTS (the trigger's releases);
	// no scope is reported missing or in excess.
	require.Contains(t, out, "preflight ok: 3 mapping(s), 1 warning(s)", "the default scopes are exactly what the default pack needs")
	require.NotContains(t, out, "scope")
	require.Positive(t, jE.OAuthStats().Families)

	// Jira expired the access token: preflight refreshes through the stored grant.
	jE.ExpireOAuthAccessTokens()
	code, out = run(t, "--config", cfg, "preflight")
	require.Equal(t, 0, code, out)

	// A grant with a scope the mappings never need is reported; one lacking a needed scope blocks.
	wide := write("    scopes: [read:jira-work, write:jira-work, read:jira-user, manage:jira-project, manage:jira-configuration, offline_access]\n")
	consent(wide)
	code, out = run(t, "--config", wide, "preflight")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, `the Jira OAuth grant holds scope "manage:jira-configuration", which these mappings never need`)
	narrow := write("    scopes: [read:jira-work, read:jira-user, offline_access]\n")
	consent(narrow)
	code, out = run(t, "--config", narrow, "preflight")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "the Jira OAuth grant lacks scope write:jira-work, needed to create, edit and transition issues")

	// setup: database, search attributes, schedules and pollers; the admin webhook is explained,
	// not attempted with the grant.
	consent(cfg)
	code, out = run(t, "--config", cfg, "setup", "--no-pollers")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "search attributes on namespace default")
	require.Contains(t, out, "jira webhook → http://127.0.0.1:8090/webhooks/jira: skipped: jira.auth is oauth")
	require.Contains(t, out, "secret = the value of SFJIRA_TEST_HOOK")
	require.NotContains(t, out, "oauth-preflight-hook-secret", "the secret itself is never printed")
	require.Contains(t, out, "schedule reconcile/opportunity-epic: created")
}
