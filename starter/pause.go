package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/internal/temporalconn"
)

// scheduleNotePrefix marks schedules paused by `sfjira pause`, so `sfjira resume` unpauses those
// and leaves alone any an operator paused by hand.
const scheduleNotePrefix = "sfjira pause"

func pauseCmd(g *globals) *cobra.Command {
	var reason string
	var recheck time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "pause [--reason TEXT] [--recheck 15s]",
		Short: "Start a maintenance window: pollers, schedules and new sync passes hold; webhooks are still accepted and queue up",
		Long: "Pause records the maintenance state in PostgreSQL and pauses the namespace's Temporal schedules.\n" +
			"Change pollers and record syncs look at the state before each poll or pass and wait while paused;\n" +
			"webhooks and outbound messages are still accepted and signalled to the pairs' workflows, which run\n" +
			"them after `sfjira resume`. Nothing is lost. The state shows in `sfjira status` and, for held runs,\n" +
			"in the Temporal UI's current details.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if recheck < time.Second {
				return usagef("--recheck %s is too short (fix: use 1s or more)", recheck)
			}
			return setMaintenance(cmd, g, true, reason, int(recheck/time.Second), asJSON)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (shown in status and in the UI)")
	cmd.Flags().DurationVar(&recheck, "recheck", 15*time.Second, "how often held workflows look whether the window has ended")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the new state as JSON")
	return cmd
}

func resumeCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "resume",
		Short: "End a maintenance window: held pollers and syncs continue with everything that arrived meanwhile",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return setMaintenance(cmd, g, false, "", 0, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the new state as JSON")
	return cmd
}

func setMaintenance(cmd *cobra.Command, g *globals, paused bool, reason string, recheck int, asJSON bool) error {
	cfg, log, err := g.load()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	st, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	by := os.Getenv("USER")
	if by == "" {
		by = "sfjira"
	}
	m, err := st.SetMaintenance(ctx, paused, reason, by, recheck)
	if err != nil {
		return err
	}
	tc, err := temporalconn.Dial(ctx, cfg.Temporal, log)
	if err != nil {
		return fmt.Errorf("maintenance state saved (paused=%v), but the schedules were not changed: %w", paused, err)
	}
	defer tc.Close()
	changed, err := toggleSchedules(ctx, tc, paused, reason)
	if err != nil {
		return fmt.Errorf("maintenance state saved (paused=%v), but changing the schedules failed after %v: %w (fix: run the command again)", paused, changed, err)
	}
	out := cmd.OutOrStdout()
	if asJSON {
		return json.NewEncoder(out).Encode(struct {
			*store.Maintenance
			Schedules []string `json:"schedules_changed"`
		}{m, changed})
	}
	if paused {
		fmt.Fprintf(out, "paused at %s by %s", m.ChangedAt.UTC().Format(time.RFC3339), m.ChangedBy)
		if m.Reason != "" {
			fmt.Fprintf(out, " (%s)", m.Reason)
		}
		fmt.Fprintf(out, "\n  pollers and new sync passes hold (they look again every %ds); %d schedule(s) paused: %s\n", m.RecheckSeconds, len(changed), strings.Join(changed, ", "))
		fmt.Fprintln(out, "  webhooks and outbound messages are still accepted and run after `sfjira resume`")
		return nil
	}
	fmt.Fprintf(out, "resumed at %s by %s; held pollers and syncs continue within %ds; %d schedule(s) unpaused: %s\n",
		m.ChangedAt.UTC().Format(time.RFC3339), m.ChangedBy, m.RecheckSeconds, len(changed), strings.Join(changed, ", "))
	return nil
}

// toggleSchedules pauses every running schedule of the namespace, or unpauses those paused by
// sfjira, and returns the ids it changed.
func toggleSchedules(ctx context.Context, tc client.Client, pause bool, reason string) ([]string, error) {
	it, err := tc.ScheduleClient().List(ctx, client.ScheduleListOptions{PageSize: 100})
	if err != nil {
		return nil, err
	}
	var changed []string
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return changed, err
		}
		h := tc.ScheduleClient().GetHandle(ctx, e.ID)
		switch {
		case pause && !e.Paused:
			note := scheduleNotePrefix
			if reason != "" {
				note += ": " + reason
			}
			if err := h.Pause(ctx, client.SchedulePauseOptions{Note: note}); err != nil {
				return changed, err
			}
			changed = append(changed, e.ID)
		case !pause && e.Paused:
			d, err := h.Describe(ctx)
			if err != nil {
				return changed, err
			}
			if d.Schedule.State == nil || !strings.HasPrefix(d.Schedule.State.Note, scheduleNotePrefix) {
				continue // paused by someone else: not ours to resume
			}
			if err := h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: "sfjira resume"}); err != nil {
				return changed, err
			}
			changed = append(changed, e.ID)
		}
	}
	return changed, nil
}
