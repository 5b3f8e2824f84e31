package workflows_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/workflows"
)

// testKeyring is the test-only key (public in the repository) worker/codec_test.go records
// testdata/record_sync_encrypted.json with.
const testKeyring = "test-k1:c2ZqaXJhLXRlc3Qta2V5LW5vdC1hLXNlY3JldC0wMDA="

// replayerOptions gives the replayer the payload codec, as a worker has it: encrypted histories
// decode, and histories recorded before encryption pass through unchanged.
func replayerOptions(t *testing.T) worker.WorkflowReplayerOptions {
	kr, err := codec.ParseKeyring(testKeyring)
	require.NoError(t, err)
	dc := codec.DataConverter(kr)
	return worker.WorkflowReplayerOptions{DataConverter: dc, FailureConverter: codec.FailureConverter(dc)}
}

// TestEncryptedHistoryNeedsTheKey shows the recorded encrypted history really is encrypted: a
// replayer without the keyring cannot reproduce it.
func TestEncryptedHistoryNeedsTheKey(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	registerAll(r)
	require.Error(t, r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/record_sync_encrypted.json"))
	r2, err := worker.NewWorkflowReplayerWithOptions(replayerOptions(t))
	require.NoError(t, err)
	registerAll(r2)
	require.NoError(t, r2.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/record_sync_encrypted.json"))
}

func registerAll(r worker.WorkflowReplayer) {
	r.RegisterWorkflow(workflows.RecordSync)
	r.RegisterWorkflow(workflows.Backfill)
	r.RegisterWorkflow(workflows.ChangePoller)
}
