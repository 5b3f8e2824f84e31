package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/internal/temporalconn"
	"github.com/sfjira/sfjira/workflows"
)

func dlqCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "dlq", Short: "Dead letters: syncs that failed for good, with their code, fix and replay input"}
	var code string
	var asJSON bool
	open := func(cmd *cobra.Command) (*store.Store, []store.DeadLetter, error) {
		cfg, _, err := g.load()
		if err != nil {
			return nil, nil, err
		}
		st, err := store.Open(cmd.Context(), cfg.Database.URL)
		if err != nil {
			return nil, nil, err
		}
		dls, err := st.OpenDeadLetters(cmd.Context())
		if err != nil {
			st.Close()
			return nil, nil, err
		}
		return st, dls, nil
	}
	list := &cobra.Command{
		Use:   "list [--code C] [--json]",
		Short: "List open dead letters, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, dls, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			dls = filterCode(dls, code)
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(dls)
			}
			if len(dls) == 0 {
				fmt.Fprintln(out, "no dead letters")
				return nil
			}
			for _, d := range dls {
				fmt.Fprintf(out, "#%d  %-32s %-28s attempts %d  last %s\n", d.ID, d.OriginKey, d.Code, d.Attempts, d.LastFailed.Format("2006-01-02 15:04:05"))
			}
			return nil
		},
	}
	list.Flags().StringVar(&code, "code", "", "only this error code")
	list.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	show := &cobra.Command{
		Use:   "show <id>",
		Short: "Show one dead letter: the error, what to do, and what a replay will run",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
			if err != nil {
				return usagef("dead letter id %q is not a number", args[0])
			}
			st, dls, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			for _, d := range dls {
				if d.ID == id {
					fmt.Fprintf(cmd.OutOrStdout(), "#%d %s (pair %s)\n  code:        %s\n  error:       %s\n  what to do:  %s\n  attempts:    %d (first %s, last %s)\n  last run:    %s / %s\n  replay input: %s\n",
						d.ID, d.OriginKey, d.Pair, d.Code, d.Message, d.Remediation, d.Attempts, d.FirstFailed.Format("2006-01-02 15:04:05"),
						d.LastFailed.Format("2006-01-02 15:04:05"), d.WorkflowID, d.RunID, string(d.ReplayInput))
					return nil
				}
			}
			return fmt.Errorf("no open dead letter #%d (see `sfjira dlq list`)", id)
		},
	}
	var all, wait bool
	replay := &cobra.Command{
		Use:   "replay (<id> | --code C | --all) [--wait]",
		Short: "Sync the dead-lettered pairs again once the cause is fixed; a success closes the dead letter",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == (all || code != "") {
				return usagef("give one dead letter id, or --code C, or --all")
			}
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			st, dls, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			if len(args) == 1 {
				id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
				if err != nil {
					return usagef("dead letter id %q is not a number", args[0])
				}
				var pick []store.DeadLetter
				for _, d := range dls {
					if d.ID == id {
						pick = append(pick, d)
					}
				}
				if len(pick) == 0 {
					return fmt.Errorf("no open dead letter #%d (see `sfjira dlq list`)", id)
				}
				dls = pick
			} else {
				dls = filterCode(dls, code)
			}
			tc, err := temporalconn.Dial(cmd.Context(), cfg.Temporal, log)
			if err != nil {
				return err
			}
			defer tc.Close()
			starter := &workflows.Starter{Client: tc, TaskQueue: cfg.Temporal.TaskQueue}
			failed := 0
			for _, d := range dls {
				var in workflows.RecordSyncInput
				if err := json.Unmarshal(d.ReplayInput, &in); err != nil {
					return fmt.Errorf("dead letter #%d: replay input is unreadable: %w", d.ID, err)
				}
				run, err := starter.Start(cmd.Context(), activities.SyncStart{OriginKey: in.OriginKey, Pair: in.Pair, SfObject: in.SfObject,
					SfID: in.SfID, JiraIssueID: in.JiraIssueID, JiraProject: in.JiraProject, Trigger: "dlq_replay", Source: "operator"})
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "#%d %s: replaying as %s\n", d.ID, d.OriginKey, run.GetID())
				if wait {
					var res workflows.RecordSyncResult
					if err := run.Get(cmd.Context(), &res); err != nil {
						failed++
						fmt.Fprintf(cmd.OutOrStdout(), "  still failing: %s\n", describeFailure(err))
						continue
					}
					// A replay that ends without error may not commit (the record is gone on both
					// sides, or nothing differs): the dead letter is closed here all the same, so an
					// item whose replay succeeded leaves the list.
					if err := st.ResolveDeadLetters(cmd.Context(), d.OriginKey); err != nil {
						return fmt.Errorf("dead letter #%d replayed (%s) but could not be closed: %w", d.ID, res.Outcome, err)
					}
					fmt.Fprintf(cmd.OutOrStdout(), "  %s; dead letter closed\n", res.Outcome)
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d replays failed again", failed, len(dls))
			}
			return nil
		},
	}
	replay.Flags().StringVar(&code, "code", "", "replay every open dead letter with this code")
	replay.Flags().BoolVar(&all, "all", false, "replay every open dead letter")
	replay.Flags().BoolVar(&wait, "wait", false, "wait for each replay; exit 1 if any fails again")
	cmd.AddCommand(list, show, replay)
	return cmd
}

func filterCode(dls []store.DeadLetter, code string) []store.DeadLetter {
	if code == "" {
		return dls
	}
	var out []store.DeadLetter
	for _, d := range dls {
		if d.Code == code {
			out = append(out, d)
		}
	}
	return out
}
