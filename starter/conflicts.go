package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/internal/temporalconn"
	"github.com/sfjira/sfjira/workflows"
)

func conflictsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "conflicts",
		Short: "List and resolve fields changed on both sides whose policy is manual",
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list [--json]",
		Short: "List conflicts waiting for a decision (and decided ones not yet applied)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.load()
			if err != nil {
				return err
			}
			st, err := openMigratedStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			cs, err := st.OpenConflicts(cmd.Context(), "")
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(cs)
			}
			if len(cs) == 0 {
				fmt.Fprintln(out, "no conflicts")
				return nil
			}
			for _, c := range cs {
				state := "waiting"
				if c.Resolution != "" {
					state = "take " + c.Resolution + " (applied by the next sync)"
				}
				fmt.Fprintf(out, "#%d  %s  %s  %s\n    Salesforce: %q\n    Jira:       %q\n    was:        %q\n",
					c.ID, c.OriginKey, c.Label, state, deref(c.SfValue), deref(c.JiraValue), deref(c.BaseSF))
			}
			return nil
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	var take string
	resolve := &cobra.Command{
		Use:   "resolve <id> --take sf|jira",
		Short: "Decide a conflict; the pair is synced at once and the chosen value written to the other side",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
			if err != nil {
				return usagef("conflict id %q is not a number (see `sfjira conflicts list`)", args[0])
			}
			if take != "sf" && take != "jira" {
				return usagef("--take must be sf or jira")
			}
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			st, err := store.Open(cmd.Context(), cfg.Database.URL)
			if err != nil {
				return err
			}
			defer st.Close()
			c, err := st.GetConflict(cmd.Context(), id)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no conflict #%d (see `sfjira conflicts list`)", id)
			}
			if err != nil {
				return err
			}
			if err := st.ResolveConflict(cmd.Context(), id, take, "cli"); err != nil {
				return fmt.Errorf("conflict #%d is already applied: %w", id, err)
			}
			tc, err := temporalconn.Dial(cmd.Context(), cfg.Temporal, log)
			if err != nil {
				return err
			}
			defer tc.Close()
			starter := &workflows.Starter{Client: tc, TaskQueue: cfg.Temporal.TaskQueue}
			req := activities.SyncStart{OriginKey: c.OriginKey, Pair: c.Pair, Trigger: "conflict_resolved", Source: "operator"}
			if sfID, ok := strings.CutPrefix(c.OriginKey, "sf/"); ok {
				req.SfID = sfID
			} else {
				req.JiraIssueID = strings.TrimPrefix(c.OriginKey, "jira/")
			}
			if err := fillPair(cfg, &req); err != nil {
				return err
			}
			run, err := starter.Start(cmd.Context(), req)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "conflict #%d on %s: taking the %s value; syncing %s\n", id, c.Label, take, run.GetID())
			var res workflows.RecordSyncResult
			if err := run.Get(cmd.Context(), &res); err != nil {
				return fmt.Errorf("the sync applying the decision failed: %s", describeFailure(err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: changed %s\n", res.Outcome, strings.Join(res.Changed, ", "))
			return nil
		},
	}
	resolve.Flags().StringVar(&take, "take", "", "the side whose value wins: sf or jira")
	_ = resolve.MarkFlagRequired("take")
	cmd.AddCommand(list, resolve)
	return cmd
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
