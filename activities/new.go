package activities

import (
	"context"
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/metrics"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

// New builds the activities and their dependencies from config: the Salesforce and Jira clients,
// the PostgreSQL store (migrated) and the mapping files. Close the returned store when done.
func New(ctx context.Context, cfg *config.Config, log *zap.Logger) (*Activities, error) {
	if _, err := store.EnsureDatabase(ctx, cfg.Database.URL); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if role := cfg.Security.DatabaseRole; role != "" {
		st.Close() // migrations ran as the owner; the worker itself runs with the restricted role
		if st, err = store.OpenAs(ctx, cfg.Database.URL, role); err != nil {
			return nil, err
		}
	}
	fail := func(err error) (*Activities, error) {
		st.Close()
		return nil, err
	}
	// OAuth grants (Jira 3LO, Salesforce refresh tokens) live encrypted in the store.
	tokens, err := TokenStoreFromConfig(cfg, st)
	if err != nil {
		return fail(err)
	}
	sfCfg, err := SalesforceConfig(cfg, tokens)
	if err != nil {
		return fail(fmt.Errorf("%s: salesforce: %w", cfg.File, err))
	}
	sfCfg.HTTPClient = countedClient("salesforce")
	sf, err := salesforce.New(sfCfg)
	if err != nil {
		return fail(fmt.Errorf("%s: salesforce: %w", cfg.File, err))
	}
	jc, err := NewJiraClient(ctx, cfg, tokens)
	if err != nil {
		return fail(fmt.Errorf("%s: jira: %w", cfg.File, err))
	}
	ms, err := mappings.LoadDir(cfg.Mappings.Dir)
	if err != nil {
		return fail(err)
	}
	set, err := NewMappingSet(ms, jc)
	if err != nil {
		return fail(err)
	}
	actor := cfg.Jira.Email
	if actor == "" {
		actor = "sfjira (" + cfg.Jira.Auth + ")"
	}
	kr, err := codec.KeyringFromConfig(cfg.Security)
	if err != nil {
		return fail(err)
	}
	if kr == nil && cfg.Audit.PII != config.AuditPIIClear {
		for _, m := range ms {
			if len(m.PIIFields()) > 0 {
				log.Warn("no keyring: the audit keeps PII-marked fields as \"" + PIIRedactedValue + "\" instead of keyed hashes (fix: `sfjira keys generate`, export SFJIRA_KEYRING)")
				break
			}
		}
	}
	return &Activities{SF: sf, Jira: jc, Store: st, Mappings: set, Log: log, Actor: actor, AuditPII: cfg.Audit.PII, Keyring: kr}, nil
}

// countedClient is an HTTP client with a pooled transport whose calls count in
// sfjira_api_calls_total, so API calls per synced record can be watched in production.
func countedClient(system string) *http.Client {
	return &http.Client{Transport: metrics.CountingTransport(system, nil)}
}
