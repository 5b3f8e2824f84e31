package activities

import (
	"context"
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/metrics"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

// New builds the activities and their dependencies from config: the Salesforce and Jira clients,
// the PostgreSQL store (migrated) and the mapping files. Close the returned store when done.
func New(ctx context.Context, cfg *config.Config, log *zap.Logger) (*Activities, error) {
	sf, err := salesforce.New(salesforce.Config{
		LoginURL: cfg.Salesforce.LoginURL, ClientID: cfg.Salesforce.ClientID, ClientSecret: cfg.Salesforce.ClientSecret,
		APIVersion: cfg.Salesforce.APIVersion, Timeout: cfg.Salesforce.Timeout,
		HTTPClient: countedClient("salesforce"),
	})
	if err != nil {
		return nil, fmt.Errorf("%s: salesforce: %w", cfg.File, err)
	}
	jc, err := jira.New(jira.Config{BaseURL: cfg.Jira.BaseURL, Email: cfg.Jira.Email, APIToken: cfg.Jira.APIToken, Timeout: cfg.Jira.Timeout, HTTPClient: countedClient("jira")})
	if err != nil {
		return nil, fmt.Errorf("%s: jira: %w", cfg.File, err)
	}
	ms, err := mappings.LoadDir(cfg.Mappings.Dir)
	if err != nil {
		return nil, err
	}
	set, err := NewMappingSet(ms, jc)
	if err != nil {
		return nil, err
	}
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
	return &Activities{SF: sf, Jira: jc, Store: st, Mappings: set, Log: log, Actor: cfg.Jira.Email}, nil
}

// countedClient is an HTTP client with a pooled transport whose calls count in
// sfjira_api_calls_total, so API calls per synced record can be watched in production.
func countedClient(system string) *http.Client {
	return &http.Client{Transport: metrics.CountingTransport(system, nil)}
}
