package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

func preflightCmd(g *globals) *cobra.Command {
	var asJSON bool
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
database only to read stored OAuth grants (jira.auth: oauth, salesforce.auth_flow: refresh_token).`,
		Example: "  sfjira preflight\n  sfjira preflight mappings/custom/case-bug.yaml --json",
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
			rep, err := activities.PreflightWith(cmd.Context(), sf, jc, ms, opts)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				problems := make([]string, len(rep.Problems))
				for i, p := range rep.Problems {
					problems[i] = p.Error()
				}
				if err := json.NewEncoder(out).Encode(map[string]any{"ok": len(rep.Problems) == 0, "problems": problems,
					"warnings": rep.Warnings, "notes": rep.Notes}); err != nil {
					return err
				}
			} else {
				printPreflight(cmd, ms, rep)
			}
			if len(rep.Problems) > 0 {
				return errProblems{len(rep.Problems)}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
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
