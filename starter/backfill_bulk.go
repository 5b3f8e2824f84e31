package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/workflows"
)

type bulkOptions struct {
	dryRun, wait, asJSON, progress bool
	// calls and pages bound the bulk calls a page keeps in flight and the pages that run at
	// once (0: the workflow's defaults); raise them where the sites' rate limits allow.
	calls, pages int
}

// runBulkBackfill starts the BulkBackfill workflow and, with --wait, draws its progress (done/total,
// rate, ETA from the workflow's progress query) until it ends.
func runBulkBackfill(cmd *cobra.Command, cfg *config.Config, tc client.Client, m *mappings.Mapping, id string, o bulkOptions) error {
	ctx := cmd.Context()
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                cfg.Temporal.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		StaticSummary:            fmt.Sprintf("Bulk backfill %s → Jira %s %s", m.Salesforce.Object, m.Jira.Project, m.Jira.IssueType),
		StaticDetails:            fmt.Sprintf("pair `%s`, mapping `%s` (version %s), dry run: %v", m.Pair, m.File, m.Version, o.dryRun),
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.SfObjectTypeKey.ValueSet(m.Salesforce.Object),
			workflows.JiraProjectKey.ValueSet(m.Jira.Project), workflows.SyncTriggerKey.ValueSet(workflows.TriggerBackfill),
			workflows.SyncDirectionKey.ValueSet(activities.DirectionSFToJira)),
	}, workflows.BulkBackfill, workflows.BulkBackfillInput{Pair: m.Pair, SfObject: m.Salesforce.Object, JiraProject: m.Jira.Project, DryRun: o.dryRun,
		Concurrency: o.calls, PagesInFlight: o.pages})
	if err != nil {
		return fmt.Errorf("start backfill: %w", err)
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "bulk backfill %s (run %s)\n  %s\n", run.GetID(), run.GetRunID(), runURL(cfg, run.GetID(), run.GetRunID()))
	if !o.wait {
		return nil
	}
	done := make(chan error, 1)
	var res workflows.BulkBackfillProgress
	go func() { done <- run.Get(ctx, &res) }()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	drew := false
	for {
		select {
		case err := <-done:
			if drew {
				drawProgress(cmd.ErrOrStderr(), res)
				fmt.Fprintln(cmd.ErrOrStderr())
			}
			if err != nil {
				return fmt.Errorf("backfill failed: %s", describeFailure(err))
			}
			if o.asJSON {
				if err := json.NewEncoder(out).Encode(res); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(out, "%d records in scope: %d created, %d adopted from an earlier attempt, %d already linked, %d failed (handed to per-record syncs: %d) in %d pages, %.0f records/s\n",
					res.Total, res.Created, res.Adopted, res.AlreadyLinked, res.Failed, res.HandedOff, res.Pages, res.RatePerSecond)
				for _, f := range res.Failures {
					fmt.Fprintf(out, "  failed %s %s: %s\n", m.Salesforce.Object, f.SfID, f.Message)
				}
			}
			if res.Failed > 0 {
				return fmt.Errorf("%d of %d records left the bulk path; their per-record syncs retry them and keep dead letters (`sfjira dlq list`)", res.Failed, res.Total)
			}
			return nil
		case <-tick.C:
			if !o.progress {
				continue
			}
			v, err := tc.QueryWorkflow(ctx, run.GetID(), "", workflows.ProgressQuery)
			if err != nil {
				continue
			}
			var p workflows.BulkBackfillProgress
			if v.Get(&p) == nil {
				drawProgress(cmd.ErrOrStderr(), p)
				drew = true
			}
		}
	}
}

// drawProgress rewrites one terminal line: bar, done/total, rate and ETA.
func drawProgress(w io.Writer, p workflows.BulkBackfillProgress) {
	fmt.Fprintf(w, "\r%s %d/%d records  %.0f/s  ETA %s   ", workflows.ProgressBar(p.Done, p.Total, 30), p.Done, p.Total, p.RatePerSecond,
		(time.Duration(p.ETASeconds) * time.Second).String())
}
