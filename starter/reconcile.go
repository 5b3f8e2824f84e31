package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/internal/temporalconn"
	"github.com/sfjira/sfjira/workflows"
)

func reconcileCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Find and repair drift between Salesforce, Jira and the last-synced state",
		Long: `reconcile compares both systems with the pair state: records without an issue (missing_target),
links whose records are gone (orphan_link), sides that changed without an event (field_drift), pairs
last synced with another version of their mapping (mapping_changed, synced again with the current one) and
issues carrying an origin linked elsewhere (unlinked_duplicate). It runs on the schedule that
` + "`sfjira setup`" + ` creates; run it now with ` + "`reconcile run`" + ` and read the last reports with ` + "`reconcile report`" + `.`,
	}
	cmd.AddCommand(reconcileRunCmd(g), reconcileReportCmd(g))
	return cmd
}

func reconcileRunCmd(g *globals) *cobra.Command {
	var object string
	var dryRun, full, asJSON bool
	cmd := &cobra.Command{
		Use:     "run --object <Object> [--dry-run] [--full]",
		Short:   "Reconcile one object pair now and print the report",
		Example: "  sfjira reconcile run --object Opportunity --dry-run",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			m, err := pairFor(cfg, object)
			if err != nil {
				return err
			}
			tc, err := temporalconn.Dial(cmd.Context(), cfg.Temporal, log)
			if err != nil {
				return err
			}
			defer tc.Close()
			id := workflows.ReconcileScheduleID(m.Pair) + "/manual-" + time.Now().UTC().Format("20060102T150405.000Z")
			run, err := tc.ExecuteWorkflow(cmd.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: cfg.Temporal.TaskQueue,
				WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
				StaticSummary:            fmt.Sprintf("Reconcile %s (dry run: %v)", m.Pair, dryRun)},
				workflows.Reconcile, workflows.ReconcileInput{Pair: m.Pair, DryRun: dryRun, Full: full})
			if err != nil {
				return fmt.Errorf("start reconcile: %w", err)
			}
			out := cmd.OutOrStdout()
			if !asJSON {
				fmt.Fprintf(out, "reconcile %s (run %s)\n  %s\n", run.GetID(), run.GetRunID(), runURL(cfg, run.GetID(), run.GetRunID()))
			}
			var rep activities.ReconcileReport
			if err := run.Get(cmd.Context(), &rep); err != nil {
				return fmt.Errorf("reconcile failed: %s", describeFailure(err))
			}
			if asJSON {
				return json.NewEncoder(out).Encode(rep)
			}
			fmt.Fprintln(out, workflows.ReportMarkdown(&rep))
			return nil
		},
	}
	cmd.Flags().StringVar(&object, "object", "", "Salesforce object of the pair, e.g. Opportunity")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only report; write nothing")
	cmd.Flags().BoolVar(&full, "full", false, "read every Jira issue in full, not only those changed since the last repair")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	_ = cmd.MarkFlagRequired("object")
	return cmd
}

func reconcileReportCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "report [--json]",
		Short: "Print the latest reconcile report of every pair",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.load()
			if err != nil {
				return err
			}
			st, err := store.Open(cmd.Context(), cfg.Database.URL)
			if err != nil {
				return err
			}
			defer st.Close()
			runs, err := st.LatestReconcileRuns(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			var reps []activities.ReconcileReport
			for _, r := range runs {
				var rep activities.ReconcileReport
				if err := json.Unmarshal(r.Report, &rep); err != nil {
					return fmt.Errorf("reconcile run %d of pair %s has an unreadable report: %w", r.ID, r.Pair, err)
				}
				reps = append(reps, rep)
			}
			if asJSON {
				if reps == nil {
					reps = []activities.ReconcileReport{}
				}
				return json.NewEncoder(out).Encode(reps)
			}
			if len(reps) == 0 {
				fmt.Fprintln(out, "no reconcile run yet (run `sfjira reconcile run --object <Object>` or wait for the schedule)")
				return nil
			}
			for i, rep := range reps {
				fmt.Fprintf(out, "%s (run %s, finished %s)\n", runs[i].Pair, runs[i].WorkflowID, runs[i].FinishedAt.Format(time.RFC3339))
				fmt.Fprintln(out, workflows.ReportMarkdown(&rep))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the reports as JSON")
	return cmd
}
