package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/internal/catalog"
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

func TestDebugReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("../workflows/testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	// record_sync_encrypted.json was written with the test-only key of worker/codec_test.go.
	t.Setenv("SFJIRA_KEYRING", "test-k1:c2ZqaXJhLXRlc3Qta2V5LW5vdC1hLXNlY3JldC0wMDA=")
	for _, f := range files {
		require.Equal(t, 0, execute([]string{"debug", "replay", "--history", f}), f)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"events":[]}`), 0o644))
	require.Equal(t, 1, execute([]string{"debug", "replay", "--history", bad}))
	require.Equal(t, 2, execute([]string{"dlq", "replay"}), "replay needs an id, --code or --all")
}

func TestErrorsDocIsGeneratedFromTheCatalog(t *testing.T) {
	want, err := os.ReadFile("../docs/errors.md")
	require.NoError(t, err)
	require.Equal(t, string(want), errorsMarkdown(catalog.All()), "docs/errors.md is stale: run `go run ./starter errors --markdown > docs/errors.md`")
}
