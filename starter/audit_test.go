package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/internal/store"
)

func TestAuditRecordAndExport(t *testing.T) {
	cfg, dbURL := testConfig(t, "")
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	defer st.Close()
	_, err = st.Migrate(ctx)
	require.NoError(t, err)
	_, err = st.Pool().Exec(ctx, `INSERT INTO links (origin_key, pair, sf_object, sf_id, jira_issue_id, jira_issue_key, state)
		VALUES ('sf/0068d0000B00CYzAQM', 'opportunity-epic', 'Opportunity', '0068d0000B00CYzAQM', '10001', 'SFJ-1', 'linked')`)
	require.NoError(t, err)
	for i, f := range []string{"summary", "duedate"} {
		_, err = st.Pool().Exec(ctx, `INSERT INTO audit (at, actor, workflow_id, run_id, pass, origin_key, pair, direction, target_system, target_id, action, field, before_value, after_value, mapping_version)
			VALUES (now() - make_interval(mins => $1), 'integration@sfjira.demo', 'sync/sf/0068d0000B00CYzAQM', 'run-1', 1, 'sf/0068d0000B00CYzAQM', 'opportunity-epic', 'sf_to_jira', 'jira', '10001', 'update', $2, 'old', 'new', 'v1')`, 30-i, f)
		require.NoError(t, err)
	}
	// An old row outside the export window.
	_, err = st.Pool().Exec(ctx, `INSERT INTO audit (at, actor, workflow_id, run_id, pass, origin_key, pair, direction, target_system, target_id, action, field, before_value, after_value, mapping_version)
		VALUES (now() - interval '3 days', 'integration@sfjira.demo', 'sync/sf/0068d0000B00CYzAQM', 'run-0', 1, 'sf/0068d0000B00CYzAQM', 'opportunity-epic', 'sf_to_jira', 'jira', '10001', 'create', 'summary', NULL, 'old', 'v1')`)
	require.NoError(t, err)

	var out, errb bytes.Buffer
	for _, ref := range []string{"sf/0068d0000B00CYz", "sf/0068d0000B00CYzAQM", "jira/SFJ-1", "jira/sfj-1", "jira/10001"} {
		out.Reset()
		require.Equal(t, 0, executeTo([]string{"--config", cfg, "audit", "--record", ref}, &out, &errb), "%s: %s", ref, errb.String())
		require.Contains(t, out.String(), "audit of sf/0068d0000B00CYzAQM (3 rows)", ref)
		require.Contains(t, out.String(), "by integration@sfjira.demo, run run-1")
	}
	require.Equal(t, 1, executeTo([]string{"--config", cfg, "audit", "--record", "jira/SFJ-404"}, &out, &errb))
	require.Equal(t, 2, executeTo([]string{"--config", cfg, "audit", "--record", "zendesk/1"}, &out, &errb))
	require.Equal(t, 2, executeTo([]string{"--config", cfg, "audit"}, &out, &errb))

	// Export: the last day as JSON lines, with who/what/when/before/after/run on every row.
	out.Reset()
	errb.Reset()
	require.Equal(t, 0, executeTo([]string{"--config", cfg, "audit", "export", "--since", "24h", "--format", "jsonl"}, &out, &errb), errb.String())
	require.Contains(t, errb.String(), "exported 2 audit rows")
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	var lines []map[string]any
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		lines = append(lines, m)
	}
	require.Len(t, lines, 2)
	for _, m := range lines {
		for _, k := range []string{"id", "at", "actor", "workflow_id", "run_id", "target_system", "target_id", "action", "field", "before", "after"} {
			require.NotEmpty(t, m[k], "field %s in %v", k, m)
		}
	}
	require.Equal(t, "summary", lines[0]["field"], "write order")
	// To a new file only (never overwrites); bad flags are usage errors.
	file := filepath.Join(t.TempDir(), "audit.jsonl")
	require.Equal(t, 0, executeTo([]string{"--config", cfg, "audit", "export", "--since", "2000-01-01", "-o", file}, &out, &errb))
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, 3, strings.Count(string(b), "\n"))
	require.Equal(t, 1, executeTo([]string{"--config", cfg, "audit", "export", "--since", "2000-01-01", "-o", file}, &out, &errb))
	require.Equal(t, 2, executeTo([]string{"--config", cfg, "audit", "export", "--since", "yesterday"}, &out, &errb))
	require.Equal(t, 2, executeTo([]string{"--config", cfg, "audit", "export", "--since", "24h", "--format", "csv"}, &out, &errb))
	require.Equal(t, 2, executeTo([]string{"--config", cfg, "audit", "export"}, &out, &errb))
}
