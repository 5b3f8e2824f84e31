package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/internal/config"
)

func write(t *testing.T, body string) string {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "maps"), 0o755))
	p := filepath.Join(dir, "sfjira.yaml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

const good = `temporal:
  host_port: 127.0.0.1:7233
salesforce:
  login_url: http://127.0.0.1:8410
  client_id: sfjira-demo
  client_secret_env: TEST_SF_SECRET
jira:
  base_url: http://127.0.0.1:8420
  email: integration@sfjira.demo
  api_token_file: jira-token
mappings:
  dir: maps
`

func TestLoadResolvesSecretsFromEnvAndFile(t *testing.T) {
	p := write(t, good)
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(p), "jira-token"), []byte("tok-123\n"), 0o600))
	t.Setenv("TEST_SF_SECRET", "s3cret")
	t.Setenv("DATABASE_URL", "postgres://x@db:5432/other")
	cfg, err := config.Load(p)
	require.NoError(t, err)
	require.Equal(t, "s3cret", cfg.Salesforce.ClientSecret)
	require.Equal(t, "tok-123", cfg.Jira.APIToken)
	require.Equal(t, "postgres://x@db:5432/other", cfg.Database.URL)
	require.Equal(t, "default", cfg.Temporal.Namespace)
	require.Equal(t, filepath.Join(filepath.Dir(p), "maps"), cfg.Mappings.Dir)
}

func TestLoadNamesFileLineAndFix(t *testing.T) {
	p := write(t, good+"  colour: blue\n")
	_, err := config.Load(p)
	require.Error(t, err)
	require.Contains(t, err.Error(), p+":13")
	require.Contains(t, err.Error(), `unknown key "colour"`)
	require.Contains(t, err.Error(), "fix:")

	p = write(t, "jira:\n  timeout: soon\n")
	_, err = config.Load(p)
	require.ErrorContains(t, err, p+":2")

	p = write(t, good)
	os.Unsetenv("TEST_SF_SECRET")
	_, err = config.Load(p)
	require.ErrorContains(t, err, "TEST_SF_SECRET is not set")
	require.ErrorContains(t, err, p+":6")
}
