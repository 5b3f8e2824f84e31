package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
)

// Token store rows of the OAuth grants `sfjira auth` stores.
const (
	TokenJira       = "jira"
	TokenSalesforce = "salesforce"
)

// TokenStoreFromConfig opens the encrypted token store when the keyring is configured; nil
// without a keyring (basic auth and client credentials need no stored tokens).
func TokenStoreFromConfig(cfg *config.Config, st *store.Store) (*store.TokenStore, error) {
	kr, err := codec.KeyringFromConfig(cfg.Security)
	if err != nil || kr == nil {
		return nil, err
	}
	return st.Tokens(kr)
}

// SalesforceConfig builds the Salesforce client config for the configured auth flow. tokens is
// needed by the refresh_token flow only (the refresh token is stored encrypted).
func SalesforceConfig(cfg *config.Config, tokens *store.TokenStore) (salesforce.Config, error) {
	sc := salesforce.Config{LoginURL: cfg.Salesforce.LoginURL, ClientID: cfg.Salesforce.ClientID, ClientSecret: cfg.Salesforce.ClientSecret,
		APIVersion: cfg.Salesforce.APIVersion, Timeout: cfg.Salesforce.Timeout, Flow: cfg.Salesforce.AuthFlow}
	switch cfg.Salesforce.AuthFlow {
	case salesforce.FlowJWTBearer:
		sc.Username, sc.JWTPrivateKey, sc.JWTAudience = cfg.Salesforce.Username, cfg.Salesforce.JWTKey, cfg.Salesforce.JWTAudience
	case salesforce.FlowRefreshToken:
		if tokens == nil {
			return sc, errors.New("salesforce.auth_flow refresh_token keeps the refresh token encrypted in PostgreSQL and needs a keyring (fix: `sfjira keys generate`, export SFJIRA_KEYRING)")
		}
		sc.RefreshToken = func(ctx context.Context) (string, error) {
			t, err := tokens.Get(ctx, TokenSalesforce)
			if err != nil {
				return "", err
			}
			return t.RefreshToken, nil
		}
		sc.SaveRefreshToken = func(ctx context.Context, rt string) error {
			_, err := tokens.Update(ctx, TokenSalesforce, func(cur *store.Token) (*store.Token, error) {
				next := *cur
				next.RefreshToken = rt
				return &next, nil
			})
			return err
		}
	}
	return sc, nil
}

// JiraOAuthConfig is the 3LO app of the config.
func JiraOAuthConfig(cfg *config.Config) jira.OAuthConfig {
	o := cfg.Jira.OAuth
	return jira.OAuthConfig{ClientID: o.ClientID, ClientSecret: o.ClientSecret, AuthURL: o.AuthURL, TokenURL: o.TokenURL,
		APIURL: o.APIURL, RedirectURL: o.RedirectURL, Scopes: o.Scopes}
}

// NewJiraClient builds the Jira client for the configured auth: basic auth with the API token, or
// OAuth 2.0 (3LO) through api.atlassian.com/ex/jira/{cloudId} with the stored, rotating grant.
func NewJiraClient(ctx context.Context, cfg *config.Config, tokens *store.TokenStore) (*jira.Client, error) {
	if cfg.Jira.Auth != "oauth" {
		return jira.New(jira.Config{BaseURL: cfg.Jira.BaseURL, Email: cfg.Jira.Email, APIToken: cfg.Jira.APIToken, Timeout: cfg.Jira.Timeout,
			HTTPClient: countedClient("jira"),
			// A rotated API token is read again after a 401 (one re-authentication).
			Reload: func() (string, string, error) {
				t, err := cfg.ReloadJiraToken()
				return cfg.Jira.Email, t, err
			}})
	}
	if tokens == nil {
		return nil, errors.New("jira.auth oauth keeps the grant encrypted in PostgreSQL and needs a keyring (fix: `sfjira keys generate`, export SFJIRA_KEYRING)")
	}
	t, err := tokens.Get(ctx, TokenJira)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("jira.auth is oauth but no grant is stored (fix: run `sfjira auth jira` once)")
	}
	if err != nil {
		return nil, err
	}
	cloud := t.Extra["cloud_id"]
	if cloud == "" {
		return nil, errors.New("the stored Jira grant names no cloud id (fix: run `sfjira auth jira` again)")
	}
	oc := JiraOAuthConfig(cfg)
	c, err := jira.NewWithTokenSource(oc.APIBase(cloud), &jira.RotatingTokenSource{Conf: oc, Tokens: tokens, Name: TokenJira}, cfg.Jira.Timeout)
	if err != nil {
		return nil, fmt.Errorf("jira oauth: %w", err)
	}
	return c, nil
}
