package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/mappings"
)

// dryRunSync prints what syncing one record would write, field by field, without writing:
// the read half of a sync pass runs in the CLI against both systems and the store.
func dryRunSync(cmd *cobra.Command, cfg *config.Config, log *zap.Logger, m *mappings.Mapping, sfID string, asJSON bool) error {
	acts, err := activities.New(cmd.Context(), cfg, log)
	if err != nil {
		return err
	}
	defer acts.Store.Close()
	p, err := acts.PlanSync(cmd.Context(), m.Pair, sfID)
	if err != nil {
		return fmt.Errorf("dry run of %s %s: %s", m.Salesforce.Object, sfID, describeFailure(err))
	}
	return printPlans(cmd.OutOrStdout(), []*activities.SyncPlan{p}, asJSON)
}

// dryRunBackfill plans every record in the pair's scope, one by one, and prints the writes a
// per-record backfill would make; nothing is written.
func dryRunBackfill(cmd *cobra.Command, cfg *config.Config, log *zap.Logger, m *mappings.Mapping, asJSON bool) error {
	acts, err := activities.New(cmd.Context(), cfg, log)
	if err != nil {
		return err
	}
	defer acts.Store.Close()
	var plans []*activities.SyncPlan
	next, failed := "", 0
	for {
		page, err := acts.ListInScope(cmd.Context(), activities.ListInScopeInput{Pair: m.Pair, NextRecordsURL: next})
		if err != nil {
			return fmt.Errorf("list %s in scope: %s", m.Salesforce.Object, describeFailure(err))
		}
		for _, id := range page.IDs {
			p, err := acts.PlanSync(cmd.Context(), m.Pair, id)
			if err != nil {
				failed++
				p = &activities.SyncPlan{Pair: m.Pair, SfObject: m.Salesforce.Object, SfID: id, Warnings: []string{"would fail: " + describeFailure(err)}}
			}
			plans = append(plans, p)
		}
		if next = page.NextRecordsURL; next == "" {
			break
		}
	}
	if err := printPlans(cmd.OutOrStdout(), plans, asJSON); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("dry run: %d of %d records would fail", failed, len(plans))
	}
	return nil
}

func printPlans(out io.Writer, plans []*activities.SyncPlan, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(out).Encode(plans)
	}
	creates, updates, writes, same := 0, 0, 0, 0
	for _, p := range plans {
		p.Print(out)
		switch {
		case p.CreateJira || p.CreateSalesforce:
			creates++
		case p.Empty():
			same++
		default:
			updates++
		}
		writes += len(p.Writes) + len(p.Activities)
	}
	fmt.Fprintf(out, "dry run: %d record(s): %d would be created, %d updated, %d already in step; %d field write(s) planned; nothing was written\n",
		len(plans), creates, updates, same, writes)
	return nil
}
