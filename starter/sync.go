package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/temporalconn"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/workflows"
)

// pairFor finds the mapping that syncs a Salesforce object, from the mapping files alone.
func pairFor(cfg *config.Config, object string) (*mappings.Mapping, error) {
	ms, err := mappings.LoadDir(cfg.Mappings.Dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range ms {
		if strings.EqualFold(m.Salesforce.Object, object) {
			return m, nil
		}
		names = append(names, m.Salesforce.Object)
	}
	return nil, usagef("no mapping in %s syncs Salesforce object %q (mapped objects: %s)", cfg.Mappings.Dir, object, strings.Join(names, ", "))
}

func syncCmd(g *globals) *cobra.Command {
	var sfRef string
	var wait, asJSON, dryRun bool
	cmd := &cobra.Command{
		Use:     "sync --sf <Object>/<id> [--wait] [--dry-run]",
		Short:   "Sync one record now (Signal-With-Start on the pair's workflow)",
		Example: `  sfjira sync --sf Opportunity/006Hs00001AbCdEIAV --wait`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			object, id, ok := strings.Cut(sfRef, "/")
			if !ok || object == "" || id == "" {
				return usagef("--sf must look like Opportunity/006…, got %q", sfRef)
			}
			id18, err := salesforce.NormalizeID(id)
			if err != nil {
				return usagef("--sf %s: %v", sfRef, err)
			}
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			m, err := pairFor(cfg, object)
			if err != nil {
				return err
			}
			if dryRun {
				return dryRunSync(cmd, cfg, log, m, id18, asJSON)
			}
			tc, err := temporalconn.Dial(cmd.Context(), cfg.Temporal, log)
			if err != nil {
				return err
			}
			defer tc.Close()
			run, err := startSync(cmd.Context(), tc, cfg.Temporal.TaskQueue, m, id18, workflows.TriggerManual)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "sync %s (run %s)\n  %s\n", run.GetID(), run.GetRunID(), runURL(cfg, run.GetID(), run.GetRunID()))
			if !wait {
				return nil
			}
			var res workflows.RecordSyncResult
			if err := run.Get(cmd.Context(), &res); err != nil {
				return fmt.Errorf("sync of %s %s failed: %s", m.Salesforce.Object, id18, describeFailure(err))
			}
			if asJSON {
				return json.NewEncoder(out).Encode(res)
			}
			fmt.Fprintf(out, "%s: Jira %s (%s, %d pass(es))", res.Outcome, res.IssueKey, res.IssueID, res.Passes)
			if len(res.Changed) > 0 {
				fmt.Fprintf(out, ", changed: %s", strings.Join(res.Changed, ", "))
			}
			fmt.Fprintln(out)
			for _, w := range res.Warnings {
				fmt.Fprintln(out, "warning:", w)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&sfRef, "sf", "", "Salesforce record as <Object>/<id>")
	cmd.Flags().BoolVar(&wait, "wait", false, "block until the sync ends; exit 1 if it failed")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (with --wait or --dry-run)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the field writes the sync would make (before → after), write nothing")
	_ = cmd.MarkFlagRequired("sf")
	return cmd
}

// startSync signals the pair's RecordSync workflow, starting it when no run is open, so a sync
// asked for while one is running joins it instead of racing it.
func startSync(ctx context.Context, tc client.Client, taskQueue string, m *mappings.Mapping, sfID, trigger string) (client.WorkflowRun, error) {
	st := &workflows.Starter{Client: tc, TaskQueue: taskQueue}
	return st.Start(ctx, activities.SyncStart{OriginKey: workflows.SalesforceOriginKey(sfID), Pair: m.Pair, SfObject: m.Salesforce.Object,
		SfID: sfID, JiraProject: m.Jira.Project, Trigger: trigger, Source: "operator"})
}

func runURL(cfg *config.Config, id, runID string) string {
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history", strings.TrimRight(cfg.Temporal.UIURL, "/"), cfg.Temporal.Namespace,
		strings.ReplaceAll(id, "/", "%2F"), runID)
}

// describeFailure prints a workflow failure as its catalog code, message and fix.
func describeFailure(err error) string {
	code := activities.ErrorCode(err)
	if code == "" {
		return err.Error()
	}
	msg := err.Error()
	if e, ok := lookupFix(code); ok {
		msg += " (fix: " + e + ")"
	}
	return msg
}

// fillPair completes a sync request with the object and project of its pair's mapping.
func fillPair(cfg *config.Config, req *activities.SyncStart) error {
	ms, err := mappings.LoadDir(cfg.Mappings.Dir)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Pair == req.Pair {
			req.SfObject, req.JiraProject = m.Salesforce.Object, m.Jira.Project
			return nil
		}
	}
	return fmt.Errorf("no mapping in %s defines pair %q", cfg.Mappings.Dir, req.Pair)
}
