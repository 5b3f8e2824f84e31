package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

func preflightCmd(g *globals) *cobra.Command {
	var asJSON, data, fix, yes bool
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
It also reports least privilege: Salesforce object and field permissions and OAuth scopes, Jira
project permissions and 3LO scopes held beyond what the mappings need (warnings with the fix).
Without paths it checks the mappings directory of the config. It writes nothing; it needs the
database only to read stored OAuth grants (jira.auth: oauth, salesforce.auth_flow: refresh_token).

--data also reads every Salesforce record in each mapping's scope (its SOQL where) and runs it
through the sync's transform, printing per mapped field how many records are empty, invalid
(rejected by the type conversion or a named transform), too long (beyond max_length or the Jira
field's limit) or unmapped (picklist values, stages and e-mails without a target), with counts and
the first record ids; it exits 1 when any record would fail to sync.

--fix creates what Jira lacks after asking (y/N; --yes skips the question): custom fields the
mappings name (typed after the mapping type, with the value map's options, put on the default
screen) and select options the value maps need. It needs the Administer Jira permission. It
cannot create Salesforce fields (the REST data API has no such call): it prints their CustomField
metadata XML to deploy, or to follow in Setup → Object Manager. Then it runs preflight again.`,
		Example: "  sfjira preflight\n  sfjira preflight mappings/custom/case-bug.yaml --json\n  sfjira preflight --data\n  sfjira preflight --fix --yes",
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
			sf, jc, opts, closeStore, err := preflightClients(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeStore()
			if fix {
				if asJSON {
					return usagef("--fix prints its plan and asks before creating anything; run it without --json")
				}
				if err := runFix(cmd, sf, jc, ms, yes); err != nil {
					return err
				}
			}
			rep, err := activities.PreflightWith(cmd.Context(), sf, jc, ms, opts)
			if err != nil {
				return err
			}
			var reports []*mappings.DataReport
			var unbound mappings.ErrorList
			failing := 0
			if data {
				// Bind problems are already in rep (same Jira fields); the data report skips those mappings.
				if reports, unbound, err = activities.PreflightData(cmd.Context(), sf, jc, ms); err != nil {
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
				skipped := map[string]bool{}
				for _, p := range unbound {
					if !skipped[p.File] {
						skipped[p.File] = true
						fmt.Fprintf(out, "\ndata %s: not checked: its Jira fields do not resolve (fix the problems above, or run --fix)\n", p.File)
					}
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
	cmd.Flags().BoolVar(&fix, "fix", false, "create missing Jira custom fields and select options (after confirmation) and print the Salesforce fields to create")
	cmd.Flags().BoolVar(&yes, "yes", false, "with --fix: create without asking")
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

// preflightClients builds the clients preflight checks through, from the config's auth modes:
// API token / client credentials / JWT need nothing stored; a Jira 3LO grant or a Salesforce
// refresh token is read (encrypted) from the database, which is then opened and closed by the
// returned func. The Jira grant's scopes go into the least-privilege report.
func preflightClients(ctx context.Context, cfg *config.Config) (*salesforce.Client, *jira.Client, activities.PreflightOptions, func(), error) {
	var opts activities.PreflightOptions
	closeStore := func() {}
	var tokens *store.TokenStore
	if cfg.Jira.Auth == "oauth" || cfg.Salesforce.AuthFlow == salesforce.FlowRefreshToken {
		st, ts, _, err := tokenStore(ctx, cfg)
		if errors.Is(err, store.ErrNoKeyring) {
			return nil, nil, opts, closeStore, fmt.Errorf("%s: the stored OAuth grants are encrypted and need the keyring (fix: export %s)", cfg.File, cfg.Security.KeyringEnv)
		}
		if err != nil {
			return nil, nil, opts, closeStore, err
		}
		closeStore, tokens = st.Close, ts
	}
	fail := func(err error) (*salesforce.Client, *jira.Client, activities.PreflightOptions, func(), error) {
		closeStore()
		return nil, nil, opts, func() {}, err
	}
	sfCfg, err := activities.SalesforceConfig(cfg, tokens)
	if err != nil {
		return fail(fmt.Errorf("%s: salesforce: %w", cfg.File, err))
	}
	sf, err := salesforce.New(sfCfg)
	if err != nil {
		return fail(fmt.Errorf("%s: salesforce: %w", cfg.File, err))
	}
	jc, err := activities.NewJiraClient(ctx, cfg, tokens)
	if err != nil {
		return fail(fmt.Errorf("%s: jira: %w", cfg.File, err))
	}
	if cfg.Jira.Auth == "oauth" {
		grant, err := tokens.Get(ctx, activities.TokenJira)
		if err != nil {
			return fail(fmt.Errorf("%s: jira: read the stored grant: %w", cfg.File, err))
		}
		if scopes := strings.Fields(grant.Scope); len(scopes) > 0 {
			opts.JiraScopes = scopes // a grant stored without scopes is not judged
		}
	}
	return sf, jc, opts, closeStore, nil
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

// runFix prints what --fix would create, asks, creates the Jira side and prints the Salesforce
// field definitions; the caller then runs preflight again to show what is left.
func runFix(cmd *cobra.Command, sf *salesforce.Client, jc *jira.Client, ms []*mappings.Mapping, yes bool) error {
	out := cmd.OutOrStdout()
	plan, err := activities.PlanFixes(cmd.Context(), sf, jc, ms)
	if err != nil {
		return err
	}
	for _, f := range plan.JiraFields {
		opts := ""
		if len(f.Options) > 0 {
			opts = " with option(s) " + quoteList(f.Options)
		}
		fmt.Fprintf(out, "fix: create Jira custom field %q (%s)%s and add it to the default screen, for %s\n", f.Name, f.Type, opts, f.At)
	}
	for _, o := range plan.JiraOptions {
		fmt.Fprintf(out, "fix: add option(s) %s to Jira field %q (%s), for %s\n", quoteList(o.Options), o.FieldName, o.FieldID, o.At)
	}
	for _, s := range plan.JiraScreens {
		fmt.Fprintf(out, "fix: add Jira field %q (%s) to the default screen, for %s\n", s.FieldName, s.FieldID, s.At)
	}
	for _, m := range plan.Manual {
		fmt.Fprintln(out, "fix: by hand:", m)
	}
	if plan.Empty() {
		fmt.Fprintln(out, "fix: nothing to create in Jira")
	} else {
		if !yes {
			fmt.Fprintf(out, "Create %d Jira field(s), add option(s) to %d field(s) and put %d field(s) on the default screen? [y/N] ",
				len(plan.JiraFields), len(plan.JiraOptions), len(plan.JiraScreens))
			answer, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
			if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
				fmt.Fprintln(out, "fix: nothing was created")
				return errProblems{len(plan.JiraFields) + len(plan.JiraOptions) + len(plan.JiraScreens)}
			}
		}
		err := activities.ApplyJiraFixes(cmd.Context(), jc, plan, func(msg string) { fmt.Fprintln(out, "  done ", msg) })
		if err != nil {
			return err
		}
	}
	if len(plan.SFFields) > 0 {
		fmt.Fprintln(out, "\nSalesforce fields to create (the REST data API cannot create fields): deploy this metadata")
		fmt.Fprintln(out, "(sf project deploy start), or create each field in Setup → Object Manager → <object> → Fields & Relationships → New.")
		for _, f := range plan.SFFields {
			fmt.Fprintf(out, "\n<!-- force-app/main/default/objects/%s/fields/%s.field-meta.xml (for %s) -->\n%s", f.Object, f.Field, f.At, f.Metadata)
		}
		fmt.Fprintln(out)
	}
	return nil
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}
