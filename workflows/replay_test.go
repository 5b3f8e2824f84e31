package workflows_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/sfjira/sfjira/workflows"
)

// TestReplayRecordedHistories replays histories recorded from a real dev server (by the
// integration test with SFJIRA_RECORD_HISTORY=workflows/testdata) against the current workflow
// code. A failure here means a change is not replay-safe: guard it with workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	types := map[string]int{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			types[workflowType(t, f)]++
			r, err := worker.NewWorkflowReplayerWithOptions(replayerOptions(t))
			require.NoError(t, err)
			r.RegisterWorkflow(workflows.RecordSync)
			r.RegisterWorkflow(workflows.Backfill)
			r.RegisterWorkflow(workflows.ChangePoller)
			r.RegisterWorkflow(workflows.BulkBackfill)
			r.RegisterWorkflow(workflows.Reconcile)
			r.RegisterWorkflow(workflows.Rollback)
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
	// Every workflow type has at least one recorded history, so this test cannot pass empty.
	require.Positive(t, types["RecordSync"], "no RecordSync history in testdata")
	require.Positive(t, types["Backfill"], "no Backfill history in testdata")
	require.Positive(t, types["ChangePoller"], "no ChangePoller history in testdata")
	require.Positive(t, types["BulkBackfill"], "no BulkBackfill history in testdata")
	require.Positive(t, types["Reconcile"], "no Reconcile history in testdata")
	require.Positive(t, types["Rollback"], "no Rollback history in testdata")
}

func workflowType(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var h struct {
		Events []struct {
			Attrs struct {
				WorkflowType struct{ Name string } `json:"workflowType"`
			} `json:"workflowExecutionStartedEventAttributes"`
		} `json:"events"`
	}
	require.NoError(t, json.Unmarshal(b, &h))
	require.NotEmpty(t, h.Events)
	return h.Events[0].Attrs.WorkflowType.Name
}
