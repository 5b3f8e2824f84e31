package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
)

func auditCmd(g *globals) *cobra.Command {
	var sfRef, origin string
	var asJSON bool
	var last int
	cmd := &cobra.Command{
		Use:   "audit (--sf <Object>/<id> | --origin sf/<id>|jira/<id>) [--last N] [--json]",
		Short: "Show the audit trail of one record pair: every field written, before and after, and why",
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
			switch {
			case origin != "":
			case sfRef != "":
				object, id, ok := strings.Cut(sfRef, "/")
				if !ok {
					return usagef("--sf must look like Opportunity/006…")
				}
				id18, err := salesforce.NormalizeID(id)
				if err != nil {
					return usagef("--sf %s: %v", sfRef, err)
				}
				m, err := pairFor(cfg, object)
				if err != nil {
					return err
				}
				l, err := st.LinkBySalesforceID(cmd.Context(), m.Pair, id18)
				if err != nil {
					return fmt.Errorf("no pair for %s %s: %w", object, id18, err)
				}
				origin = l.OriginKey
			default:
				return usagef("give --sf <Object>/<id> or --origin <key>")
			}
			rows, err := st.AuditFor(cmd.Context(), origin)
			if err != nil {
				return err
			}
			if last > 0 && len(rows) > last {
				rows = rows[len(rows)-last:]
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(rows)
			}
			fmt.Fprintf(out, "audit of %s (%d rows)\n", origin, len(rows))
			for _, r := range rows {
				why := r.DecidedBy
				if why == "" {
					why = "-"
				}
				lat := ""
				if r.LatencyMS != nil {
					lat = fmt.Sprintf(" %dms", *r.LatencyMS)
				}
				fmt.Fprintf(out, "%s  %-10s %-10s %-22s %q → %q  (%s%s)\n", r.At.Format("15:04:05.000"), r.TargetSystem, r.Action, r.Field,
					deref(r.Before), deref(r.After), why, lat)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&sfRef, "sf", "", "Salesforce record as <Object>/<id>")
	cmd.Flags().StringVar(&origin, "origin", "", "the pair's origin key")
	cmd.Flags().IntVar(&last, "last", 0, "only the last N rows")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
