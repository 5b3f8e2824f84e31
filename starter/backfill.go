package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/temporalconn"
	"github.com/sfjira/sfjira/workflows"
)

func backfillCmd(g *globals) *cobra.Command {
	var object string
	var wait, dryRun, asJSON, perRecord, noProgress bool
	var concurrency, bulkCalls, pagesInFlight int
	cmd := &cobra.Command{
		Use:   "backfill --object <Object> [--dry-run] [--wait] [--per-record]",
		Short: "Sync every record of an object that is in the mapping's scope",
		Long: `backfill syncs every record in the mapping's scope. By default it uses the bulk APIs (SOQL pages
of 2,000, Jira bulk create and bulk transitions, Salesforce composite collections), checkpointed
so a restarted worker resumes; records that fail go on to their own per-record sync. With
--per-record it runs one RecordSync workflow per record instead (slower; for small objects or
to compare).`,
		Example: `  sfjira backfill --object Opportunity --wait
  sfjira backfill --object Opportunity --per-record --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			m, err := pairFor(cfg, object)
			if err != nil {
				return err
			}
			if dryRun { // plans each record in the CLI (starter/dryrun.go); writes nothing
				return dryRunBackfill(cmd, cfg, log, m, asJSON)
			}
			tc, err := temporalconn.Dial(cmd.Context(), cfg.Temporal, log)
			if err != nil {
				return err
			}
			defer tc.Close()
			id := workflows.BackfillWorkflowID(m.Pair, time.Now().UTC().Format("20060102T150405.000Z"))
			if !perRecord {
				return runBulkBackfill(cmd, cfg, tc, m, id, bulkOptions{dryRun: dryRun, wait: wait, asJSON: asJSON, progress: !noProgress,
					calls: bulkCalls, pages: pagesInFlight})
			}
			run, err := tc.ExecuteWorkflow(cmd.Context(), client.StartWorkflowOptions{
				ID:                       id,
				TaskQueue:                cfg.Temporal.TaskQueue,
				WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
				StaticSummary:            fmt.Sprintf("Backfill %s → Jira %s %s", m.Salesforce.Object, m.Jira.Project, m.Jira.IssueType),
				StaticDetails:            fmt.Sprintf("pair `%s`, mapping `%s` (version %s), dry run: %v", m.Pair, m.File, m.Version, dryRun),
				TypedSearchAttributes: temporal.NewSearchAttributes(workflows.SfObjectTypeKey.ValueSet(m.Salesforce.Object),
					workflows.JiraProjectKey.ValueSet(m.Jira.Project), workflows.SyncTriggerKey.ValueSet(workflows.TriggerBackfill),
					workflows.SyncDirectionKey.ValueSet(activities.DirectionSFToJira)),
			}, workflows.Backfill, workflows.BackfillInput{Pair: m.Pair, SfObject: m.Salesforce.Object, JiraProject: m.Jira.Project,
				Concurrency: concurrency, DryRun: dryRun})
			if err != nil {
				return fmt.Errorf("start backfill: %w", err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "backfill %s (run %s)\n  %s\n", run.GetID(), run.GetRunID(), runURL(cfg, run.GetID(), run.GetRunID()))
			if !wait {
				return nil
			}
			var res workflows.BackfillResult
			if err := run.Get(cmd.Context(), &res); err != nil {
				return fmt.Errorf("backfill failed: %s", describeFailure(err))
			}
			if asJSON {
				if err := json.NewEncoder(out).Encode(res); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(out, "%d records in scope: %d created, %d updated, %d unchanged, %d joined running syncs, %d failed\n",
					res.Total, res.Created, res.Updated, res.Unchanged, res.Joined, res.Failed)
				for _, f := range res.Failures {
					fmt.Fprintf(out, "  failed %s %s: %s\n", m.Salesforce.Object, f.SfID, f.Message)
				}
			}
			if res.Failed > 0 {
				return fmt.Errorf("%d of %d records failed; see `sfjira` dead letters and the runs with ErrorCode set in the Temporal UI", res.Failed, res.Total)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&object, "object", "", "Salesforce object to backfill, e.g. Opportunity")
	cmd.Flags().BoolVar(&wait, "wait", false, "block until the backfill ends; exit 1 if any record failed")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the field writes syncing each record in scope would make, write nothing")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (with --wait)")
	cmd.Flags().IntVar(&concurrency, "concurrency", workflows.DefaultBackfillConcurrency, "record syncs running at once (with --per-record)")
	cmd.Flags().BoolVar(&perRecord, "per-record", false, "run one RecordSync workflow per record instead of the bulk backfill")
	cmd.Flags().IntVar(&bulkCalls, "bulk-calls", activities.DefaultBulkConcurrency, "bulk API calls each page keeps in flight (bulk backfill)")
	cmd.Flags().IntVar(&pagesInFlight, "pages-in-flight", workflows.DefaultPagesInFlight, "pages of 2,000 records synced at once (bulk backfill)")
	cmd.Flags().BoolVar(&noProgress, "no-progress", false, "with --wait, do not draw the progress bar")
	_ = cmd.MarkFlagRequired("object")
	return cmd
}
