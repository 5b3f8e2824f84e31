package main

import (
	"context"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	operatorservice "go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/internal/temporalconn"
	"github.com/sfjira/sfjira/workflows"
)

func setupCmd(g *globals) *cobra.Command {
	var dbOnly bool
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Create the database, apply migrations and register search attributes on the Temporal namespace",
		Long: `setup is idempotent: run it on every deploy. It creates the PostgreSQL database if it is missing,
applies the versioned migrations, and registers sfjira's typed search attributes on the configured
Temporal namespace (skipping those that exist).`,
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
			return nil
		},
	}
	cmd.Flags().BoolVar(&dbOnly, "db-only", false, "only create and migrate the database")
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
