package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	operatorservice "go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/internal/temporalconn"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/workflows"
)

func setupCmd(g *globals) *cobra.Command {
	var dbOnly, noWebhook, noPollers, noSchedules bool
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Create the database, apply migrations and register search attributes on the Temporal namespace",
		Long: `setup is idempotent: run it on every deploy. It creates the PostgreSQL database if it is missing,
applies the versioned migrations, and registers sfjira's typed search attributes on the configured
Temporal namespace (skipping those that exist), registers (or renews) the Jira admin webhook that
delivers issue and comment events to the worker, starts the change pollers of every pair, and
creates (or updates) each pair's Reconcile schedule (sync.reconcile_interval_minutes).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			created, err := store.EnsureDatabase(ctx, cfg.Database.URL)
			if err != nil {
				return err
			}
			st, err := store.Open(ctx, cfg.Database.URL)
			if err != nil {
				return err
			}
			defer st.Close()
			applied, err := st.Migrate(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "database: created=%v, migrations applied now: %v\n", created, applied)
			if dbOnly {
				return nil
			}
			tc, err := temporalconn.Dial(ctx, cfg.Temporal, log)
			if err != nil {
				return err
			}
			defer tc.Close()
			added, err := registerSearchAttributes(ctx, tc, cfg.Temporal.Namespace)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "search attributes on namespace %s: added %v\n", cfg.Temporal.Namespace, added)
			ms, err := mappings.LoadDir(cfg.Mappings.Dir)
			if err != nil {
				return err
			}
			if cfg.Jira.WebhookURL != "" && !noWebhook && cfg.Jira.Auth == "oauth" {
				// Admin webhooks (with the HMAC secret the receiver verifies) are managed with a Jira
				// admin's basic auth only; a 3LO grant has no scope for them.
				fmt.Fprintf(cmd.OutOrStdout(), "jira webhook → %s: skipped: jira.auth is oauth, and Jira manages admin webhooks only for an admin's API token (fix: create it once in Jira: Settings > System > WebHooks, URL %s, secret = the value of %s, events issue created/updated/deleted and comment created/updated; until then the pollers capture changes)\n",
					cfg.Jira.WebhookURL, cfg.Jira.WebhookURL, cfg.Jira.WebhookSecretEnv)
			} else if cfg.Jira.WebhookURL != "" && !noWebhook {
				jc, err := jira.New(jira.Config{BaseURL: cfg.Jira.BaseURL, Email: cfg.Jira.Email, APIToken: cfg.Jira.APIToken, Timeout: cfg.Jira.Timeout})
				if err != nil {
					return err
				}
				what, err := ensureWebhook(ctx, jc, cfg.Jira.WebhookURL, cfg.Jira.WebhookSecret, ms)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "jira webhook → %s: %s\n", cfg.Jira.WebhookURL, what)
			}
			if !noPollers {
				for _, m := range ms {
					for _, p := range []workflows.PollerInput{
						{Pair: m.Pair, Source: activities.SourceSalesforce, IntervalSeconds: cfg.Sync.PollSalesforceSeconds},
						{Pair: m.Pair, Source: activities.SourceJira, IntervalSeconds: cfg.Sync.PollJiraSeconds},
					} {
						if p.IntervalSeconds <= 0 {
							continue
						}
						run, err := workflows.StartPoller(ctx, tc, cfg.Temporal.TaskQueue, p)
						if err != nil {
							return fmt.Errorf("start poller %s: %w", workflows.PollerWorkflowID(p.Source, p.Pair), err)
						}
						fmt.Fprintf(cmd.OutOrStdout(), "poller %s running (every %ds)\n", run.GetID(), p.IntervalSeconds)
					}
				}
			}
			if !noSchedules && cfg.Sync.ReconcileIntervalMinutes > 0 {
				interval := time.Duration(cfg.Sync.ReconcileIntervalMinutes) * time.Minute
				catchup := time.Duration(cfg.Sync.ReconcileCatchupMinutes) * time.Minute
				for _, m := range ms {
					what, err := workflows.EnsureReconcileSchedule(ctx, tc, cfg.Temporal.TaskQueue, m.Pair, interval, catchup)
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "schedule %s: %s (every %s, overlap skip, catch-up %s)\n", workflows.ReconcileScheduleID(m.Pair), what, interval, catchup)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noSchedules, "no-schedules", false, "do not create or update the reconcile schedules")
	cmd.Flags().BoolVar(&dbOnly, "db-only", false, "only create and migrate the database")
	cmd.Flags().BoolVar(&noWebhook, "no-webhook", false, "do not register the Jira webhook")
	cmd.Flags().BoolVar(&noPollers, "no-pollers", false, "do not start the change pollers")
	return cmd
}

// registerSearchAttributes adds the attributes that are missing and fails when one exists with
// another type (which would make runs unsearchable).
func registerSearchAttributes(ctx context.Context, tc client.Client, namespace string) ([]string, error) {
	op := tc.OperatorService()
	existing, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range workflows.SearchAttributes() {
		if have, ok := existing.CustomAttributes[name]; ok {
			if have != typ {
				return nil, fmt.Errorf("search attribute %s exists as %s, sfjira needs %s (fix: remove it with `temporal operator search-attribute remove --name %s` and rerun setup)", name, have, typ, name)
			}
			continue
		}
		missing[name] = typ
	}
	if len(missing) == 0 {
		return nil, nil
	}
	if _, err := op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing}); err != nil {
		return nil, fmt.Errorf("add search attributes: %w (fix: on Temporal Cloud add them with tcld; on SQL visibility at most 10 Keyword attributes fit)", err)
	}
	names := make([]string, 0, len(missing))
	for n := range missing {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// webhookName identifies sfjira's admin webhook among the site's webhooks.
const webhookName = "sfjira"

// ensureWebhook registers the Jira admin webhook for every mapped project, replacing an older
// registration whose URL, events, filter or state differ, so running setup again is safe. The
// secret cannot be read back from Jira: rotate it by deleting the webhook and running setup.
func ensureWebhook(ctx context.Context, jc *jira.Client, url, secret string, ms []*mappings.Mapping) (string, error) {
	projects := map[string]bool{}
	for _, m := range ms {
		projects[m.Jira.Project] = true
	}
	var keys []string
	for p := range projects {
		keys = append(keys, `"`+p+`"`)
	}
	sort.Strings(keys)
	want := jira.Webhook{Name: webhookName, URL: url, Secret: secret, Enabled: true,
		Events: []string{"jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created", "comment_updated"},
		JQL:    "project in (" + strings.Join(keys, ", ") + ")"}
	existing, err := jc.Webhooks(ctx)
	if err != nil {
		return "", fmt.Errorf("list Jira webhooks: %w (fix: the integration user needs Jira admin rights to manage webhooks)", err)
	}
	for _, h := range existing {
		if h.Name != webhookName {
			continue
		}
		if h.URL == want.URL && h.JQL == want.JQL && strings.Join(h.Events, ",") == strings.Join(want.Events, ",") && h.Enabled {
			// Admin webhooks do not expire (only dynamic app webhooks do, after 30 days).
			return "already registered", nil
		}
		if err := jc.DeleteWebhook(ctx, h.ID); err != nil {
			return "", err
		}
	}
	if _, err := jc.RegisterWebhook(ctx, want); err != nil {
		return "", fmt.Errorf("register Jira webhook: %w", err)
	}
	return "registered", nil
}
