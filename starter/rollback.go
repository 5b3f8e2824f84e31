package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/temporalconn"
	"github.com/sfjira/sfjira/workflows"
)

// parseWhen reads an operator's time: RFC 3339, or "2006-01-02 15:04[:05]" / "2006-01-02" in UTC.
func parseWhen(flag, v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, usagef("--%s %q is not a time (use RFC 3339 such as 2026-11-26T02:30:00Z, or 2026-11-26 02:30 in UTC)", flag, v)
}

// rollbackScope builds the scope from the flags; exactly one form is allowed.
func rollbackScope(workflowID, record, to, since, until string) (activities.RollbackScope, error) {
	var sc activities.RollbackScope
	forms := 0
	if workflowID != "" {
		forms++
		sc.WorkflowID = workflowID
	}
	if record != "" {
		forms++
		if _, _, err := workflows.ParseOriginKey(record); err != nil {
			return sc, usagef("--record: %v", err)
		}
		if to == "" {
			return sc, usagef("--record needs --to TIME: the record is restored to how it was at that time")
		}
		t, err := parseWhen("to", to)
		if err != nil {
			return sc, err
		}
		sc.OriginKey, sc.Since = record, t
	} else if to != "" {
		return sc, usagef("--to goes with --record")
	}
	if since != "" || until != "" {
		forms++
		if since == "" {
			return sc, usagef("--until needs --since")
		}
		t, err := parseWhen("since", since)
		if err != nil {
			return sc, err
		}
		sc.Since = t
		if until != "" {
			u, err := parseWhen("until", until)
			if err != nil {
				return sc, err
			}
			if !u.After(t) {
				return sc, usagef("--until %s is not after --since %s", until, since)
			}
			sc.Until = u
		}
	}
	if forms != 1 {
		return sc, usagef("give exactly one of --workflow ID, --record sf/<id> --to TIME, or --since TIME [--until TIME]")
	}
	return sc, nil
}

func rollbackCmd(g *globals) *cobra.Command {
	var workflowID, record, to, since, until string
	var dryRun, force, asJSON bool
	cmd := &cobra.Command{
		Use:   "rollback (--workflow ID | --record sf/<id> --to TIME | --since TIME [--until TIME]) [--dry-run] [--force]",
		Short: "Restore the before-images of sync writes from the audit trail (a run, a record, or a time window)",
		Long: `Restore field values the connector wrote, from the before-images in the audit trail, through a
Rollback workflow (visible in the Temporal UI). A field a person changed after the sync being rolled
back is refused with a message, unless --force. Created issues, deletes and back-links are listed, not
undone. Rollback writes are audited and are not synced back to the other side. Exit code 1 when a field
was refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := rollbackScope(workflowID, record, to, since, until)
			if err != nil {
				return err
			}
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			tc, err := temporalconn.Dial(cmd.Context(), cfg.Temporal, log)
			if err != nil {
				return err
			}
			defer tc.Close()
			who := os.Getenv("USER")
			if who == "" {
				who = "operator"
			}
			id := workflows.RollbackWorkflowID(uuid.NewString())
			run, err := tc.ExecuteWorkflow(cmd.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: cfg.Temporal.TaskQueue,
				StaticSummary: "Rollback: " + strings.Join(strings.Fields(fmt.Sprintf("%s %s %s %s %s", workflowID, record, to, since, until)), " ")},
				workflows.Rollback, workflows.RollbackInput{Scope: sc, DryRun: dryRun, Force: force, RequestedBy: who})
			if err != nil {
				return fmt.Errorf("start rollback: %w", err)
			}
			var res workflows.RollbackResult
			if err := run.Get(cmd.Context(), &res); err != nil {
				return fmt.Errorf("rollback %s failed: %w", id, err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := json.NewEncoder(out).Encode(res); err != nil {
					return err
				}
			} else {
				verb := "restored"
				if res.DryRun {
					verb = "would restore (dry run)"
				}
				fmt.Fprintf(out, "rollback %s: %s %d field(s) on %d target(s)\n", id, verb, len(res.Restored), res.Targets)
				for _, r := range res.Restored {
					fmt.Fprintln(out, "  ", r)
				}
				for _, r := range res.NotRestorable {
					fmt.Fprintln(out, "  not undone:", r)
				}
				for _, r := range res.Refused {
					fmt.Fprintln(out, "  refused:", r)
				}
			}
			if len(res.Refused) > 0 {
				return fmt.Errorf("%d field(s) were changed by someone after the sync and were left as they are; re-run with --force to overwrite them", len(res.Refused))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&workflowID, "workflow", "", "roll back every write of this workflow id (e.g. sync/sf/006…)")
	cmd.Flags().StringVar(&record, "record", "", "roll back one pair by origin key (sf/<id> or jira/<issue id>); needs --to")
	cmd.Flags().StringVar(&to, "to", "", "with --record: restore the record to how it was at this time")
	cmd.Flags().StringVar(&since, "since", "", "roll back every write from this time")
	cmd.Flags().StringVar(&until, "until", "", "with --since: up to this time (default now)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would be restored and refused; write nothing")
	cmd.Flags().BoolVar(&force, "force", false, "also overwrite fields someone changed after the sync")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
