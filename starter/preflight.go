package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/mappings"
)

func preflightCmd(g *globals) *cobra.Command {
	var asJSON, data bool
	cmd := &cobra.Command{
		Use:   "preflight [FILE|DIR...]",
		Short: "Check mappings against the live Salesforce org and Jira site; exit 1 when anything blocks a sync",
		Long: `preflight reads the live schemas (Salesforce describe; Jira fields, createmeta, the issue type's
workflow and the integration user's project permissions) and checks every mapping against them:
fields exist with fitting types; text lengths fit or have a max_length policy; every active value of
the status picklist has a Jira status; every target status is reachable from the initial status
through the workflow (by the shortest transition path, not only direct transitions); fields Jira
requires on create are written; fields written to Salesforce are updateable (createable when issues
create records); the Jira user may browse, create, edit, transition, resolve and (for
on_delete: delete) delete issues. Problems are printed as file:line: message (fix: …).
Without paths it checks the mappings directory of the config. It writes nothing and needs no database.

--data also reads every Salesforce record in each mapping's scope (its SOQL where) and runs it
through the sync's transform, printing per mapped field how many records are empty, invalid
(rejected by the type conversion or a named transform), too long (beyond max_length or the Jira
field's limit) or unmapped (picklist values, stages and e-mails without a target), with counts and
the first record ids; it exits 1 when any record would fail to sync.`,
		Example: "  sfjira preflight\n  sfjira preflight mappings/custom/case-bug.yaml --json\n  sfjira preflight --data",
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, _, err := g.load()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				args = []string{cfg.Mappings.Dir}
			}
			ms, err := loadMappingPaths(args)
			if err != nil {
				return printProblems(cmd.OutOrStdout(), err)
			}
			sfCfg, err := activities.SalesforceConfig(cfg, nil) // client credentials or JWT bearer
			if err != nil {
				return fmt.Errorf("%s: salesforce: %w", cfg.File, err)
			}
			sf, err := salesforce.New(sfCfg)
			if err != nil {
				return fmt.Errorf("%s: salesforce: %w", cfg.File, err)
			}
			jc, err := jira.New(jira.Config{BaseURL: cfg.Jira.BaseURL, Email: cfg.Jira.Email, APIToken: cfg.Jira.APIToken, Timeout: cfg.Jira.Timeout})
			if err != nil {
				return fmt.Errorf("%s: jira: %w", cfg.File, err)
			}
			rep, err := activities.Preflight(cmd.Context(), sf, jc, ms)
			if err != nil {
				return err
			}
			var reports []*mappings.DataReport
			failing := 0
			if data {
				// Bind problems are already in rep (same Jira fields); the data report skips those mappings.
				if reports, _, err = activities.PreflightData(cmd.Context(), sf, jc, ms); err != nil {
					return err
				}
				for _, r := range reports {
					failing += r.Failing.N
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				problems := make([]string, len(rep.Problems))
				for i, p := range rep.Problems {
					problems[i] = p.Error()
				}
				doc := map[string]any{"ok": len(rep.Problems) == 0 && failing == 0, "problems": problems,
					"warnings": rep.Warnings, "notes": rep.Notes}
				if data {
					doc["data"] = reports
				}
				if err := json.NewEncoder(out).Encode(doc); err != nil {
					return err
				}
			} else {
				printPreflight(cmd, ms, rep)
				for _, r := range reports {
					printDataReport(out, r)
				}
				if data && failing > 0 {
					fmt.Fprintf(out, "preflight --data failed: %d record(s) would fail to sync; clean them up in Salesforce or adjust the mapping\n", failing)
				}
			}
			if len(rep.Problems) > 0 || failing > 0 {
				return errProblems{len(rep.Problems) + failing}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().BoolVar(&data, "data", false, "also report data quality per mapped field over the Salesforce records in scope")
	return cmd
}

func printPreflight(cmd *cobra.Command, ms []*mappings.Mapping, rep *mappings.PreflightReport) {
	out := cmd.OutOrStdout()
	for _, n := range rep.Notes {
		fmt.Fprintln(out, "  ok   ", n)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(out, "warning:", w)
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(out, p.Error())
	}
	if len(rep.Problems) == 0 {
		fmt.Fprintf(out, "preflight ok: %d mapping(s), %d warning(s)\n", len(ms), len(rep.Warnings))
	} else {
		fmt.Fprintf(out, "preflight failed: %d problem(s) block a sync, %d warning(s)\n", len(rep.Problems), len(rep.Warnings))
	}
}

// printDataReport prints one mapping's data-quality report as a table, then the unmapped values
// with their counts and first record ids.
func printDataReport(out io.Writer, r *mappings.DataReport) {
	scope := ""
	if r.Scope != "" {
		scope = " where " + r.Scope
	}
	fmt.Fprintf(out, "\ndata %s (%s%s): %d record(s), %d would fail to sync", r.Pair, r.Object, scope, r.Records, r.Failing.N)
	if len(r.Failing.Examples) > 0 {
		fmt.Fprintf(out, " (e.g. %s)", strings.Join(r.Failing.Examples, ", "))
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  LINE\tSALESFORCE\tJIRA\tEMPTY\tINVALID\tTOO LONG\tUNMAPPED\tFAILING\tEXAMPLES")
	for _, f := range r.Fields {
		empty := strconv.Itoa(f.Empty.N)
		if f.Required && f.Empty.N > 0 {
			empty += " (required)"
		}
		long := strconv.Itoa(f.TooLong.N)
		if f.Limit > 0 {
			long += fmt.Sprintf(" (>%d", f.Limit)
			if f.Truncated > 0 {
				long += fmt.Sprintf(", %d truncated", f.Truncated)
			}
			long += ")"
		}
		var ex []string
		for _, c := range []struct {
			what string
			c    mappings.Count
			show bool
		}{{"empty", f.Empty, f.Required}, {"invalid", f.Invalid, true}, {"too long", f.TooLong, f.TooLong.N > f.Truncated}, {"unmapped", f.Unmapped, true}} {
			if c.show && c.c.N > 0 {
				ex = append(ex, c.what+": "+strings.Join(c.c.Examples, ", "))
			}
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%s\n", f.Line, f.SF, f.Jira, empty, f.Invalid.N, long, f.Unmapped.N, f.Failing, strings.Join(ex, "; "))
	}
	tw.Flush()
	for _, f := range r.Fields {
		if len(f.Values) == 0 {
			continue
		}
		var vs []string
		for _, v := range f.Values {
			vs = append(vs, fmt.Sprintf("%q ×%d (%s)", v.Value, v.N, strings.Join(v.Examples, ", ")))
		}
		fmt.Fprintf(out, "  %s:%d: unmapped %s values: %s\n", r.File, f.Line, f.SF, strings.Join(vs, "; "))
	}
}
