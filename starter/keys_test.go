package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/internal/store/storetest"
)

// testConfig writes a config whose database is a throwaway one and returns its path and URL.
func testConfig(t *testing.T, extra string) (string, string) {
	t.Helper()
	dbURL := storetest.URL(t, "sfjira_cli_test")
	mdir, _ := filepath.Abs("../mappings/default")
	cfg := filepath.Join(t.TempDir(), "sfjira.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`database:
  url_env: ""
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
  dir: `+mdir+"\n"+extra), 0o644))
	t.Setenv("SFJIRA_TEST_SECRET", "x")
	return cfg, dbURL
}

func TestKeysGenerateRotateStatus(t *testing.T) {
	cfg, dbURL := testConfig(t, "security:\n  keyring_env: SFJIRA_TEST_KEYRING\n")
	var out, errb bytes.Buffer
	require.Equal(t, 0, executeTo([]string{"keys", "generate", "--id", "k1"}, &out, &errb), errb.String())
	k1 := strings.TrimSpace(out.String())
	require.True(t, strings.HasPrefix(k1, "k1:"))
	require.Equal(t, 2, executeTo([]string{"keys", "generate", "--id", "bad id"}, &out, &errb))

	// A token sealed with k1, as `sfjira auth jira` would store it.
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	defer st.Close()
	_, err = st.Migrate(ctx)
	require.NoError(t, err)
	kr1, err := codec.ParseKeyring(k1)
	require.NoError(t, err)
	ts, _ := st.Tokens(kr1)
	require.NoError(t, ts.Put(ctx, "jira", &store.Token{AccessToken: "a", RefreshToken: "r"}))

	out.Reset()
	require.Equal(t, 0, executeTo([]string{"keys", "generate", "--id", "k2"}, &out, &errb))
	k2 := strings.TrimSpace(out.String())
	t.Setenv("SFJIRA_TEST_KEYRING", k2+"\n"+k1)
	out.Reset()
	require.Equal(t, 0, executeTo([]string{"--config", cfg, "keys", "status"}, &out, &errb), errb.String())
	require.Contains(t, out.String(), "active key: k2")
	require.Contains(t, out.String(), "k1=1")
	require.NotContains(t, out.String(), strings.TrimPrefix(k1, "k1:"), "status never prints key material")
	out.Reset()
	require.Equal(t, 0, executeTo([]string{"--config", cfg, "keys", "rotate"}, &out, &errb), errb.String())
	require.Contains(t, out.String(), "re-encrypted 1 token(s) with key k2; tokens by key now: k2=1")

	// With k1 gone, status still finds every token readable.
	t.Setenv("SFJIRA_TEST_KEYRING", k2)
	out.Reset()
	require.Equal(t, 0, executeTo([]string{"--config", cfg, "keys", "status"}, &out, &errb), errb.String())
	kr2, _ := codec.ParseKeyring(k2)
	ts2, _ := st.Tokens(kr2)
	got, err := ts2.Get(ctx, "jira")
	require.NoError(t, err)
	require.Equal(t, "r", got.RefreshToken)
}
