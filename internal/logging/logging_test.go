package logging_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/logging"
)

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(buf)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "not JSON: %s", sc.Text())
		out = append(out, m)
	}
	return out
}

// TestOneSchemaForWorkerAndSDK checks that sfjira's own lines and the Temporal SDK's lines (through
// the adapter) use the same keys for the same facts.
func TestOneSchemaForWorkerAndSDK(t *testing.T) {
	var buf bytes.Buffer
	log := logging.NewJSON(zapcore.AddSync(&buf), zapcore.DebugLevel)
	log.Warn("sync failed; kept as dead letter", zap.String(logging.KeyWorkflowID, "sync/sf/006A"), zap.String(logging.KeyRunID, "r1"),
		zap.String(logging.KeyPair, "opportunity-epic"), zap.String(logging.KeySfID, "006A"), zap.String(logging.KeyJiraKey, "SFJ-1"),
		zap.String(logging.KeyDirection, "sf_to_jira"), zap.String(logging.KeyCode, "MAPPING_REQUIRED_VALUE_MISSING"))
	sdk := logging.NewTemporal(log)
	sdk.Info("Activity completed", "WorkflowID", "sync/sf/006A", "RunID", "r1", "ActivityType", "WriteJira", "SfID", "006A", "JiraKey", "SFJ-1", "Failures", 2)
	got := lines(t, &buf)
	require.Len(t, got, 2)
	for _, m := range got {
		for _, k := range []string{"ts", "level", "msg", "workflow_id", "run_id", "sf_id", "jira_key"} {
			require.Contains(t, m, k, "line %v", m)
		}
		for k := range m {
			require.Equal(t, strings.ToLower(k), k, "key %q is not snake_case", k)
		}
	}
	require.Equal(t, "warn", got[0]["level"])
	require.Equal(t, "MAPPING_REQUIRED_VALUE_MISSING", got[0]["code"])
	require.Equal(t, "WriteJira", got[1]["activity_type"])
	require.EqualValues(t, 2, got[1]["failures"])
}

// TestLogsNeverCarrySecrets logs the loaded config, errors quoting auth headers, token responses
// and database URLs, and checks that no secret survives in the output.
func TestLogsNeverCarrySecrets(t *testing.T) {
	t.Setenv("SFJIRA_SF_CLIENT_SECRET", "sf-very-secret-value-1")
	t.Setenv("SFJIRA_JIRA_API_TOKEN", "jira-api-token-value-2")
	t.Setenv("SFJIRA_JIRA_WEBHOOK_SECRET", "webhook-hmac-secret-3")
	t.Chdir("../..")
	cfg, err := config.Load("deploy/dev/sfjira.yaml")
	require.NoError(t, err)
	secrets := []string{cfg.Salesforce.ClientSecret, cfg.Jira.APIToken, cfg.Jira.WebhookSecret}
	for _, s := range secrets {
		require.NotEmpty(t, s, "the dev config reads its secrets from the environment")
	}
	logging.RegisterSecrets(secrets...)

	var buf bytes.Buffer
	log := logging.NewJSON(zapcore.AddSync(&buf), zapcore.DebugLevel)
	log.Info("config loaded", zap.Any("config", cfg))
	log.Error("jira call failed", zap.Error(errors.New(`GET /rest/api/3/myself: 401 (request had Authorization: Basic aW50ZWdyYXRpb25Ac2ZqaXJhLmRlbW86c2ZqaXJhLWRlbW8tdG9rZW4=)`)))
	log.Error("token refresh failed", zap.String("body", `grant_type=refresh_token&refresh_token=5Aep861TSESvWeug_xvFHRBTTbf&client_secret=abc123XYZ&client_id=demo`))
	log.Warn("oauth answer", zap.Any("resp", map[string]any{"access_token": "00Dxx0000001gPL!AR8AQJXg", "instance_url": "https://acme.my.salesforce.com"}))
	log.Warn("db unreachable", zap.String("url", "postgres://sfjira:pg-Pa55word@db:5432/sfjira"), zap.String("hdr", "Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig"))
	sdk := logging.NewTemporal(log)
	sdk.Error("Activity error", "Error", errors.New("salesforce: POST /services/oauth2/token: client secret "+cfg.Salesforce.ClientSecret+" rejected"))

	out := buf.String()
	for _, leak := range append(secrets, "aW50ZWdyYXRpb25Ac2ZqaXJhLmRlbW86c2ZqaXJhLWRlbW8tdG9rZW4=", "5Aep861TSESvWeug_xvFHRBTTbf", "abc123XYZ",
		"00Dxx0000001gPL!AR8AQJXg", "pg-Pa55word", "eyJhbGciOiJIUzI1NiJ9.payload.sig") {
		require.NotContains(t, out, leak)
	}
	require.Contains(t, out, logging.Redacted)
	// What operators need is still there.
	require.Contains(t, out, "https://acme.my.salesforce.com")
	require.Contains(t, out, "client_id=demo")
	require.Len(t, lines(t, bytes.NewBufferString(out)), 6, "every line is still valid JSON")
}
