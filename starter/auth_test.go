package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/activities"
	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
)

func freeLoopbackPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestAuthCommandsStoreGrantsTheWorkersUse plays the user in the browser: `sfjira auth jira` and
// `sfjira auth salesforce` run the authorization-code flows against the emulators on loopback
// redirects, store the grants encrypted, and the worker's clients then work from them.
func TestAuthCommandsStoreGrantsTheWorkersUse(t *testing.T) {
	_, dbURL := testConfig(t, "")
	jE := jiraemu.New(jiraemu.DemoOptions())
	t.Cleanup(jE.Close)
	jHTTP := httptest.NewServer(jE)
	t.Cleanup(jHTTP.Close)
	sfOpts := sfemu.DemoOptions()
	sfOpts.RotateRefreshTokens = true
	sfE := sfemu.New(sfOpts)
	t.Cleanup(sfE.Close)
	sfHTTP := httptest.NewServer(sfE)
	t.Cleanup(sfHTTP.Close)
	jPort, sfPort := freeLoopbackPort(t), freeLoopbackPort(t)
	mdir, _ := filepath.Abs("../mappings/default")
	cfgPath := filepath.Join(t.TempDir(), "sfjira.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`database:
  url_env: ""
  url: %s
salesforce:
  login_url: %s
  client_id: sfjira-demo
  client_secret_env: SFJIRA_TEST_SECRET
  auth_flow: refresh_token
  redirect_url: http://127.0.0.1:%d/callback
jira:
  base_url: %s
  auth: oauth
  oauth:
    client_id: %s
    client_secret_env: SFJIRA_TEST_JIRA_OAUTH
    auth_url: %s/authorize
    token_url: %s/oauth/token
    api_url: %s
    redirect_url: http://127.0.0.1:%d/callback
mappings:
  dir: %s
security:
  keyring_env: SFJIRA_TEST_KEYRING
`, dbURL, sfHTTP.URL, sfPort, jHTTP.URL, jiraemu.DemoOAuthClientID, jHTTP.URL, jHTTP.URL, jHTTP.URL, jPort, mdir)), 0o644))
	t.Setenv("SFJIRA_TEST_SECRET", "sfjira-demo-secret")
	t.Setenv("SFJIRA_TEST_JIRA_OAUTH", jiraemu.DemoOAuthClientSecret)
	t.Setenv("SFJIRA_TEST_KEYRING", "k1:c2ZqaXJhLXRlc3Qta2V5LW5vdC1hLXNlY3JldC0wMDA=")

	// The "browser": follows the consent redirect back to the command's loopback listener.
	var visited []string
	openBrowser = func(u string) {
		visited = append(visited, u)
		go func() {
			resp, err := http.Get(u)
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	t.Cleanup(func() { openBrowser = func(string) {} })

	var out, errb bytes.Buffer
	require.Equal(t, 0, executeTo([]string{"--config", cfgPath, "auth", "jira", "--timeout", "20s"}, &out, &errb), errb.String())
	require.Contains(t, out.String(), "cloud id "+jiraemu.DemoCloudID)
	require.Contains(t, visited[0], "audience=api.atlassian.com")
	require.Contains(t, visited[0], "offline_access")
	out.Reset()
	require.Equal(t, 0, executeTo([]string{"--config", cfgPath, "auth", "salesforce", "--timeout", "20s"}, &out, &errb), errb.String())
	require.Contains(t, out.String(), "stored the Salesforce refresh token for "+sfHTTP.URL)
	require.Contains(t, visited[1], "code_challenge_method=S256")

	// The rows hold ciphertext only.
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	defer st.Close()
	rows, err := st.Pool().Query(ctx, `SELECT name, key_id, ciphertext FROM oauth_tokens ORDER BY name`)
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		var name, key string
		var ct []byte
		require.NoError(t, rows.Scan(&name, &key, &ct))
		require.Equal(t, "k1", key)
		require.NotContains(t, string(ct), "jrt-")
		require.NotContains(t, string(ct), "5Aep")
		n++
	}
	require.Equal(t, 2, n)

	// The worker's clients run from the stored grants.
	cfg, err := config.Load(cfgPath)
	require.NoError(t, err)
	tokens, err := activities.TokenStoreFromConfig(cfg, st)
	require.NoError(t, err)
	jc, err := activities.NewJiraClient(ctx, cfg, tokens)
	require.NoError(t, err)
	me, err := jc.Myself(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, me.AccountID)
	jE.ExpireOAuthAccessTokens()
	_, err = jc.Myself(ctx)
	require.NoError(t, err, "refreshed from the stored grant after a 401")
	sfCfg, err := activities.SalesforceConfig(cfg, tokens)
	require.NoError(t, err)
	sfc, err := salesforce.New(sfCfg)
	require.NoError(t, err)
	_, err = sfc.Limits(ctx)
	require.NoError(t, err)
	got, err := tokens.Get(ctx, activities.TokenSalesforce)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(got.RefreshToken, "5Aep"))

	// Wrong mode is a usage error, not a hang.
	require.Equal(t, 2, executeTo([]string{"--config", cfgPath[:0] + mustWrite(t, strings.Replace(readFile(t, cfgPath), "auth: oauth", "auth: api_token\n  email: x@example.com\n  api_token_env: SFJIRA_TEST_SECRET", 1)), "auth", "jira"}, &out, &errb))
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}

func mustWrite(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "cfg.yaml")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}
