package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
)

// openBrowser is how the consent URL reaches the user; the URL is always printed as well. Tests
// replace it with an HTTP client that plays the user.
var openBrowser = func(string) {}

func authCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Grant sfjira access as a user (OAuth authorization code on a loopback redirect); tokens are stored encrypted",
	}
	cmd.AddCommand(authJiraCmd(g), authSalesforceCmd(g))
	return cmd
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// loopbackCode starts serving the redirect URL on the loopback interface (before the consent URL
// is shown, so the browser cannot come back too early); wait returns the code once the browser
// comes back (state checked), or fails when the context ends or timeout passes.
func loopbackCode(redirect, state string) (wait func(ctx context.Context, timeout time.Duration) (string, error), err error) {
	u, err := url.Parse(redirect)
	if err != nil || u.Scheme != "http" {
		return nil, fmt.Errorf("redirect URL %q must be an http://127.0.0.1:<port>/… loopback URL", redirect)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" {
		return nil, fmt.Errorf("redirect URL %q is not on the loopback interface (fix: use http://127.0.0.1:<port>/callback and register it in the app)", redirect)
	}
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s for the OAuth redirect: %w (fix: free the port or change the redirect URL in the config and the app)", u.Host, err)
	}
	type result struct {
		code string
		err  error
	}
	done := make(chan result, 1)
	mux := http.NewServeMux()
	mux.HandleFunc(u.Path, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case q.Get("state") != state:
			http.Error(w, "state does not match this sign-in; start `sfjira auth` again", http.StatusBadRequest)
			return
		case q.Get("error") != "":
			fmt.Fprintf(w, "sfjira: access was not granted: %s", html.EscapeString(q.Get("error_description")))
			select {
			case done <- result{err: fmt.Errorf("access not granted: %s: %s", q.Get("error"), q.Get("error_description"))}:
			default:
			}
			return
		case q.Get("code") == "":
			http.Error(w, "no code in the redirect", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, "sfjira: access granted. You can close this tab.")
		select {
		case done <- result{code: q.Get("code")}:
		default:
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck
	return func(ctx context.Context, timeout time.Duration) (string, error) {
		defer srv.Close()
		tctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		select {
		case r := <-done:
			return r.code, r.err
		case <-tctx.Done():
			return "", fmt.Errorf("no answer on %s within %s (fix: open the printed URL in a browser on this machine)", redirect, timeout)
		}
	}, nil
}

// tokenStore opens the store (migrated) and the encrypted token store.
func tokenStore(ctx context.Context, cfg *config.Config) (*store.Store, *store.TokenStore, *codec.Keyring, error) {
	kr, err := codec.KeyringFromConfig(cfg.Security)
	if err != nil {
		return nil, nil, nil, err
	}
	if kr == nil {
		return nil, nil, nil, store.ErrNoKeyring
	}
	if _, err := store.EnsureDatabase(ctx, cfg.Database.URL); err != nil {
		return nil, nil, nil, err
	}
	st, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	ts, err := st.Tokens(kr)
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return st, ts, kr, nil
}

func authJiraCmd(g *globals) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "jira [--timeout 5m]",
		Short: "Consent to the Jira OAuth 2.0 (3LO) app as the integration user and store the rotating grant encrypted",
		Long: `auth jira prints Atlassian's consent URL and waits on the loopback redirect URL
(jira.oauth.redirect_url, default http://127.0.0.1:8765/callback) for the authorization code. It
exchanges the code, resolves the site's cloud id through accessible-resources (the site of
jira.base_url), and stores the access and refresh tokens in PostgreSQL, encrypted with the keyring.
Workers then refresh the grant under a row lock, so the rotating refresh token is spent once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.load()
			if err != nil {
				return err
			}
			if cfg.Jira.Auth != "oauth" {
				return usagef("jira.auth in %s is %q; set it to oauth (and jira.oauth.*) to use `sfjira auth jira`", cfg.File, cfg.Jira.Auth)
			}
			ctx := cmd.Context()
			st, ts, kr, err := tokenStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			oc := activities.JiraOAuthConfig(cfg)
			state := randomString(24)
			consent := oc.AuthCodeURL(state)
			wait, err := loopbackCode(oc.RedirectURL, state)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Open this URL as the Jira integration user and allow access:\n\n  %s\n\nwaiting on %s …\n", consent, oc.RedirectURL)
			openBrowser(consent)
			code, err := wait(ctx, timeout)
			if err != nil {
				return err
			}
			tok, err := oc.Exchange(ctx, code)
			if err != nil {
				return err
			}
			if tok.RefreshToken == "" {
				return errors.New("Jira returned no refresh token (fix: add offline_access to jira.oauth.scopes)")
			}
			res, err := oc.CloudID(ctx, tok.AccessToken, cfg.Jira.BaseURL)
			if err != nil {
				return err
			}
			tok.Extra = map[string]string{"cloud_id": res.ID, "site_url": res.URL}
			if err := ts.Put(ctx, activities.TokenJira, tok); err != nil {
				return err
			}
			fmt.Fprintf(out, "stored the Jira grant for %s (cloud id %s, scopes %q), encrypted with key %s\n", res.URL, res.ID, tok.Scope, kr.ActiveID())
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the browser to come back")
	return cmd
}

func authSalesforceCmd(g *globals) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "salesforce [--timeout 5m]",
		Short: "Consent to the connected app as a Salesforce user (authorization code + PKCE) and store the refresh token encrypted",
		Long: `auth salesforce is for salesforce.auth_flow refresh_token (setups that must act as a named user);
client_credentials and jwt_bearer need no consent. It prints the authorize URL, waits on
salesforce.redirect_url (default http://127.0.0.1:8766/callback), exchanges the code with PKCE and
stores the refresh token and instance URL encrypted in PostgreSQL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.load()
			if err != nil {
				return err
			}
			if cfg.Salesforce.AuthFlow != salesforce.FlowRefreshToken {
				return usagef("salesforce.auth_flow in %s is %q; `sfjira auth salesforce` is for refresh_token", cfg.File, cfg.Salesforce.AuthFlow)
			}
			ctx := cmd.Context()
			st, ts, kr, err := tokenStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			state, verifier := randomString(24), randomString(48)
			sum := sha256.Sum256([]byte(verifier))
			consent := salesforce.AuthorizeURL(cfg.Salesforce.LoginURL, cfg.Salesforce.ClientID, cfg.Salesforce.RedirectURL, state,
				base64.RawURLEncoding.EncodeToString(sum[:]))
			wait, err := loopbackCode(cfg.Salesforce.RedirectURL, state)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Open this URL as the Salesforce user sfjira should act as:\n\n  %s\n\nwaiting on %s …\n", consent, cfg.Salesforce.RedirectURL)
			openBrowser(consent)
			code, err := wait(ctx, timeout)
			if err != nil {
				return err
			}
			tr, err := salesforce.ExchangeCode(ctx, nil, cfg.Salesforce.LoginURL, cfg.Salesforce.ClientID, cfg.Salesforce.ClientSecret, code,
				cfg.Salesforce.RedirectURL, verifier)
			if err != nil {
				return err
			}
			if tr.RefreshToken == "" {
				return errors.New("Salesforce returned no refresh token (fix: give the connected app the refresh_token / offline_access scope)")
			}
			tok := &store.Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, Scope: tr.Scope, IssuedAt: time.Now(),
				Extra: map[string]string{"instance_url": tr.InstanceURL, "identity": tr.ID}}
			if err := ts.Put(ctx, activities.TokenSalesforce, tok); err != nil {
				return err
			}
			fmt.Fprintf(out, "stored the Salesforce refresh token for %s, encrypted with key %s\n", tr.InstanceURL, kr.ActiveID())
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the browser to come back")
	return cmd
}
