package activities_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/activities"
)

// Hybrid mode: a field marked `sync: batch` is left to backfill and reconciliation; a pass
// triggered by change capture writes only the real-time fields and holds the batch field's
// snapshot, so the next batch pass still sees it as changed.
func TestHybridBatchFieldsWaitForTheBatchPath(t *testing.T) {
	src, err := os.ReadFile("../mappings/default/opportunity-epic.yaml")
	require.NoError(t, err)
	text := strings.Replace(string(src), "  - sf: Amount\n    jira: Deal Amount\n", "  - sf: Amount\n    jira: Deal Amount\n    sync: batch\n", 1)
	require.NotEqual(t, string(src), text, "the default pack changed: update this test")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "opportunity-epic.yaml"), []byte(text), 0o644))
	f := newFixtureDir(t, dir)
	id := f.firstOpportunity(t, "StageName = 'Prospecting'")
	f.syncOnce(t, id)
	require.NoError(t, f.acts.SF.Update(f.ctx, "Opportunity", id, map[string]any{"Amount": 777.0, "Name": "Edited in real time"}))

	sf, cur, _ := f.plan(t, id)
	plan := func(realtime bool) activities.TransformResult {
		v, err := f.env.ExecuteActivity(f.acts.Transform, activities.TransformInput{Pair: pair, OriginKey: "sf/" + id, SF: *sf, Jira: *cur, RealtimeOnly: realtime})
		require.NoError(t, err)
		var p activities.TransformResult
		require.NoError(t, v.Get(&p))
		return p
	}
	rt := plan(true)
	require.Equal(t, map[string]any{"summary": "Edited in real time"}, rt.JiraFields, "change capture writes only real-time fields")
	require.Contains(t, rt.Held, "j:customfield_10050", "the batch field keeps its snapshot base")
	batch := plan(false)
	require.Equal(t, map[string]any{"summary": "Edited in real time", "customfield_10050": 777.0}, batch.JiraFields, "backfill and reconcile write every field")
	require.NotContains(t, batch.Held, "j:customfield_10050")
}
