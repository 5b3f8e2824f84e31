package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExitCodes(t *testing.T) {
	require.Equal(t, 0, execute([]string{"errors"}))
	require.Equal(t, 0, execute([]string{"errors", "MAPPING_REQUIRED_VALUE_MISSING"}))
	require.Equal(t, 2, execute([]string{"errors", "NO_SUCH_CODE"}), "unknown code is a usage error")
	require.Equal(t, 2, execute([]string{"frobnicate"}), "unknown command")
	require.Equal(t, 2, execute([]string{"sync"}), "missing --sf")
	require.Equal(t, 2, execute([]string{"sync", "--sf", "Opportunity"}), "malformed --sf")
	require.Equal(t, 2, execute([]string{"sync", "--sf", "Opportunity/not-an-id"}), "malformed id")
	require.Equal(t, 2, execute([]string{"backfill", "--bogus"}), "unknown flag")
	require.Equal(t, 2, execute([]string{"emulate", "--jira-addr", "0.0.0.0:8420"}), "non-loopback without --allow-remote")
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	require.Equal(t, 1, execute([]string{"--config", missing, "sync", "--sf", "Opportunity/0068d0000B00CYzAQM"}), "unreadable config is a failure")
}

func TestBackfillUnknownObjectNamesTheMappedOnes(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sfjira.yaml")
	mdir, _ := filepath.Abs("../mappings/default")
	require.NoError(t, os.WriteFile(cfg, []byte(`salesforce:
  login_url: http://127.0.0.1:1
  client_id: x
  client_secret_env: SFJIRA_TEST_SECRET
jira:
  base_url: http://127.0.0.1:1
  email: x@example.com
  api_token_env: SFJIRA_TEST_SECRET
mappings:
  dir: `+mdir+"\n"), 0o644))
	t.Setenv("SFJIRA_TEST_SECRET", "x")
	require.Equal(t, 2, execute([]string{"--config", cfg, "backfill", "--object", "Widget__c"}))
}
