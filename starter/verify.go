package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sfjira/sfjira/activities"
)

func verifyCmd(g *globals) *cobra.Command {
	var object string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify --object <Object> [--json]",
		Short: "Compare every record in scope with its Jira issue (read-only); exit 1 on any difference",
		Long: `verify reads both sides in bulk and checks, for every record in the mapping's scope, that exactly
one Jira issue carries its origin, that the back-links on both sides agree, and that the mapped
values match. It writes nothing.`,
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
			acts, err := activities.New(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer acts.Store.Close()
			rep, err := acts.CheckPair(cmd.Context(), m.Pair)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := json.NewEncoder(out).Encode(rep); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(out, "%s: %d records, %d Jira issues, %d in step, %d problems\n", rep.Pair, rep.Records, rep.Issues, rep.InSync, len(rep.Problems))
				for _, p := range rep.Problems {
					fmt.Fprintf(out, "  %-16s %s %s: %s\n", p.Kind, p.SfID, p.IssueKey, p.Detail)
				}
			}
			if !rep.OK() {
				return fmt.Errorf("%d of %d records are out of step", len(rep.Problems), rep.Records)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&object, "object", "", "Salesforce object to verify, e.g. Opportunity")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	_ = cmd.MarkFlagRequired("object")
	return cmd
}
