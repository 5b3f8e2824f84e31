package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/internal/config"
)

func TestSecuritySectionResolvesTokensAndRejectsMistakes(t *testing.T) {
	p := write(t, good+`security:
  api_tokens:
    - {name: grafana, role: viewer, token_env: TEST_VIEWER}
    - {name: root, role: admin, token_file: admin-token}
  allow_cidrs: [10.0.0.0/8, 127.0.0.1/32]
  database_role: sfjira_app
`)
	dir := filepath.Dir(p)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "jira-token"), []byte("tok"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "admin-token"), []byte("admin-token-0123456789\n"), 0o600))
	t.Setenv("TEST_SF_SECRET", "s")
	t.Setenv("TEST_VIEWER", "viewer-token-0123456789")
	cfg, err := config.Load(p)
	require.NoError(t, err)
	require.Equal(t, "viewer-token-0123456789", cfg.Security.APITokens[0].Token)
	require.Equal(t, "admin-token-0123456789", cfg.Security.APITokens[1].Token)
	require.Len(t, cfg.Security.Prefixes, 2)
	require.Equal(t, "SFJIRA_KEYRING", cfg.Temporal.KeyringEnv, "the Temporal clients learn where the keyring is")
	require.EqualValues(t, 5<<20, cfg.Security.Webhooks.MaxBodyBytes)

	bad := write(t, strings.Replace(good, "  host_port: 127.0.0.1:7233\n", "  host_port: 127.0.0.1:7233\n  tls: {cert_file: c.pem}\n", 1)+`security:
  require_encryption: true
  keyring_env: TEST_NO_SUCH_KEYRING
  api_tokens:
    - {name: x, role: superuser, token_env: TEST_SHORT}
  allow_cidrs: [10.0.0.0/33]
  http_cert_file: cert.pem
`)
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(bad), "jira-token"), []byte("tok"), 0o600))
	t.Setenv("TEST_SHORT", "short")
	_, err = config.Load(bad)
	require.Error(t, err)
	for _, want := range []string{"require_encryption", `role "superuser"`, "shorter than 16", "10.0.0.0/33", "http_key_file", "cert_file and key_file"} {
		require.Contains(t, err.Error(), want)
	}
	require.NotContains(t, err.Error(), "short\"", "a token value is never echoed")
}

func TestAuthFlowsConfig(t *testing.T) {
	jwt := strings.Replace(good, "  client_secret_env: TEST_SF_SECRET\n", "  auth_flow: jwt_bearer\n  username: integration@sfjira.demo\n  jwt_key_file: key.pem\n", 1)
	jwt = strings.Replace(jwt, "  email: integration@sfjira.demo\n  api_token_file: jira-token\n", "  auth: oauth\n  oauth:\n    client_id: app\n    client_secret_env: TEST_JIRA_OAUTH\n", 1)
	p := write(t, jwt)
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(p), "key.pem"), []byte("-----BEGIN PRIVATE KEY-----\n"), 0o600))
	t.Setenv("TEST_JIRA_OAUTH", "oauth-secret")
	cfg, err := config.Load(p)
	require.NoError(t, err, "no client secret for JWT bearer, no API token for OAuth")
	require.Contains(t, string(cfg.Salesforce.JWTKey), "PRIVATE KEY")
	require.Equal(t, "https://auth.atlassian.com/oauth/token", cfg.Jira.OAuth.TokenURL)
	require.Contains(t, cfg.Jira.OAuth.Scopes, "offline_access")
	require.Equal(t, "oauth-secret", cfg.Jira.OAuth.ClientSecret)

	missing := strings.Replace(jwt, "  username: integration@sfjira.demo\n", "", 1)
	missing = strings.Replace(missing, "    client_id: app\n", "", 1)
	p = write(t, missing)
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(p), "key.pem"), []byte("x"), 0o600))
	_, err = config.Load(p)
	require.ErrorContains(t, err, "salesforce.username")
	require.ErrorContains(t, err, "jira.oauth.client_id")
}

// audit.pii defaults to hash (PII-marked fields are audited as keyed hashes), takes clear, and
// names the key and the fix for anything else.
func TestAuditPIISetting(t *testing.T) {
	t.Setenv("TEST_SF_SECRET", "s")
	for body, want := range map[string]string{"": config.AuditPIIHash, "audit:\n  pii: clear\n": config.AuditPIIClear} {
		p := write(t, good+body)
		require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(p), "jira-token"), []byte("tok"), 0o600))
		cfg, err := config.Load(p)
		require.NoError(t, err)
		require.Equal(t, want, cfg.Audit.PII)
	}
	p := write(t, good+"audit:\n  pii: sometimes\n")
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(p), "jira-token"), []byte("tok"), 0o600))
	_, err := config.Load(p)
	require.ErrorContains(t, err, `audit.pii: "sometimes" is not hash or clear`)
}
