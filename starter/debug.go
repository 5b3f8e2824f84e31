package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/worker"

	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/workflows"
)

func debugCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "debug", Short: "Tools for engineers"}
	var history, keyringEnv string
	replay := &cobra.Command{
		Use:   "replay --history FILE",
		Short: "Replay a workflow history (JSON from the Temporal UI or CLI) against this build and report non-determinism",
		Long: `replay runs a downloaded workflow history through the workflow code of this build, the way a worker
would after a deploy. It exits 0 when the code reproduces the history, 1 with the non-determinism
error otherwise. Download a history with the UI's "Download" button or
  temporal workflow show -w <id> -o json > history.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if history == "" {
				return usagef("--history FILE is required")
			}
			// Histories written with the payload codec need the keyring to replay; plain ones
			// replay either way.
			var opts worker.WorkflowReplayerOptions
			kr, err := codec.LoadKeyring(keyringEnv, "")
			if err != nil {
				return err
			}
			if kr != nil {
				opts.DataConverter = codec.DataConverter(kr)
				opts.FailureConverter = codec.FailureConverter(opts.DataConverter)
			}
			r, err := worker.NewWorkflowReplayerWithOptions(opts)
			if err != nil {
				return err
			}
			r.RegisterWorkflow(workflows.RecordSync)
			r.RegisterWorkflow(workflows.Backfill)
			r.RegisterWorkflow(workflows.ChangePoller)
			r.RegisterWorkflow(workflows.BulkBackfill)
			r.RegisterWorkflow(workflows.Reconcile)
			r.RegisterWorkflow(workflows.Rollback)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, history); err != nil {
				return fmt.Errorf("%s does not replay on this build: %w (fix: guard the change with workflow.GetVersion, or let old runs finish on the old build)", history, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s replays cleanly on this build\n", history)
			return nil
		},
	}
	replay.Flags().StringVar(&history, "history", "", "workflow history JSON file")
	replay.Flags().StringVar(&keyringEnv, "keyring-env", "SFJIRA_KEYRING", "environment variable holding the payload keyring (for encrypted histories)")
	cmd.AddCommand(replay)
	return cmd
}
