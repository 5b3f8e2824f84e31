package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/sfjira/sfjira/internal/store"
)

// OAuthConfig is a Jira OAuth 2.0 (3LO) app. The URLs default to Atlassian's; tests and the demo
// point them at the emulator.
type OAuthConfig struct {
	ClientID, ClientSecret string
	AuthURL                string // https://auth.atlassian.com/authorize
	TokenURL               string // https://auth.atlassian.com/oauth/token
	APIURL                 string // https://api.atlassian.com
	RedirectURL            string
	Scopes                 []string
	HTTPClient             *http.Client
}

func (o OAuthConfig) client() *http.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	return &http.Client{Timeout: DefaultTimeout}
}

// AuthCodeURL is the consent page for the integration user; offline_access in Scopes is what
// yields a refresh token.
func (o OAuthConfig) AuthCodeURL(state string) string {
	q := url.Values{}
	q.Set("audience", "api.atlassian.com")
	q.Set("client_id", o.ClientID)
	q.Set("scope", strings.Join(o.Scopes, " "))
	q.Set("redirect_uri", o.RedirectURL)
	q.Set("state", state)
	q.Set("response_type", "code")
	q.Set("prompt", "consent")
	return o.AuthURL + "?" + q.Encode()
}

// OAuthError is a refusal from the token endpoint (invalid_grant when a refresh token is spent,
// expired or its family revoked).
type OAuthError struct {
	Status      int
	Code        string
	Description string
}

func (e *OAuthError) Error() string {
	msg := fmt.Sprintf("jira oauth: token endpoint answered %d %s: %s", e.Status, e.Code, e.Description)
	if e.Code == "invalid_grant" {
		msg += " (fix: the grant was revoked or expired; run `sfjira auth jira` to consent again)"
	}
	return msg
}

// tokenCall posts one JSON grant to the token endpoint (Atlassian takes JSON, not a form).
func (o OAuthConfig) tokenCall(ctx context.Context, body map[string]string) (*store.Token, error) {
	body["client_id"], body["client_secret"] = o.ClientID, o.ClientSecret
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.TokenURL, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := o.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("jira oauth: POST token endpoint: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		e := &OAuthError{Status: resp.StatusCode}
		var ae struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(raw, &ae) == nil && ae.Error != "" {
			e.Code, e.Description = ae.Error, ae.Description
		} else {
			e.Code, e.Description = "http_"+fmt.Sprint(resp.StatusCode), http.StatusText(resp.StatusCode)
		}
		return nil, e
	}
	var tr struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int    `json:"expires_in"`
		TokenType    string `json:"token_type"`
		Scope        string `json:"scope"`
	}
	if err := json.Unmarshal(raw, &tr); err != nil || tr.AccessToken == "" {
		return nil, errors.New("jira oauth: the token endpoint answered without an access_token")
	}
	now := time.Now()
	return &store.Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, TokenType: tr.TokenType, Scope: tr.Scope,
		Expiry: now.Add(time.Duration(tr.ExpiresIn) * time.Second), IssuedAt: now}, nil
}

// Exchange trades the authorization code from the consent redirect for the first token set.
func (o OAuthConfig) Exchange(ctx context.Context, code string) (*store.Token, error) {
	return o.tokenCall(ctx, map[string]string{"grant_type": "authorization_code", "code": code, "redirect_uri": o.RedirectURL})
}

// Refresh spends a refresh token for a new token set (with a new, rotated refresh token).
func (o OAuthConfig) Refresh(ctx context.Context, refreshToken string) (*store.Token, error) {
	return o.tokenCall(ctx, map[string]string{"grant_type": "refresh_token", "refresh_token": refreshToken})
}

// Resource is one site the grant reaches, from accessible-resources.
type Resource struct {
	ID     string   `json:"id"` // the cloud id
	Name   string   `json:"name"`
	URL    string   `json:"url"`
	Scopes []string `json:"scopes"`
}

// CloudID resolves the site's cloud id through accessible-resources: the resource whose url is
// siteURL, or the only one when siteURL is empty.
func (o OAuthConfig) CloudID(ctx context.Context, accessToken, siteURL string) (Resource, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(o.APIURL, "/")+"/oauth/token/accessible-resources", nil)
	if err != nil {
		return Resource{}, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := o.client().Do(req)
	if err != nil {
		return Resource{}, fmt.Errorf("jira oauth: accessible-resources: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Resource{}, fmt.Errorf("jira oauth: accessible-resources answered %d", resp.StatusCode)
	}
	var rs []Resource
	if err := json.NewDecoder(resp.Body).Decode(&rs); err != nil {
		return Resource{}, fmt.Errorf("jira oauth: accessible-resources: %w", err)
	}
	want := strings.TrimRight(siteURL, "/")
	var names []string
	for _, r := range rs {
		if want != "" && strings.EqualFold(strings.TrimRight(r.URL, "/"), want) {
			return r, nil
		}
		names = append(names, r.URL)
	}
	if want == "" && len(rs) == 1 {
		return rs[0], nil
	}
	return Resource{}, fmt.Errorf("jira oauth: the grant reaches %v, not %q (fix: set jira.base_url to one of them, or consent with the right site)", names, siteURL)
}

// APIBase is the REST base for a 3LO client: https://api.atlassian.com/ex/jira/{cloudId}.
func (o OAuthConfig) APIBase(cloudID string) string {
	return strings.TrimRight(o.APIURL, "/") + "/ex/jira/" + cloudID
}

// refreshSkew refreshes a little before the access token's expiry.
const refreshSkew = time.Minute

// RotatingTokenSource hands out 3LO access tokens from the encrypted token store and refreshes
// them under the row's lock (SELECT … FOR UPDATE). Atlassian rotates the refresh token on every
// refresh and revokes the whole grant when an old one is reused late, so two workers must never
// spend the same refresh token: the second one to take the lock finds the token the first stored
// and uses it instead of refreshing again.
type RotatingTokenSource struct {
	Conf   OAuthConfig
	Tokens *store.TokenStore
	Name   string // row name, "jira"

	mu        sync.Mutex
	cached    *store.Token
	refusedAt time.Time // when Jira last refused the cached token (401)
}

// Token implements oauth2.TokenSource.
func (s *RotatingTokenSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached != nil && time.Until(s.cached.Expiry) > refreshSkew {
		return toOAuth2(s.cached), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stale := ""
	if s.cached != nil {
		stale = s.cached.AccessToken
	}
	refused := s.refusedAt
	tok, err := s.Tokens.Update(ctx, s.Name, func(cur *store.Token) (*store.Token, error) {
		usable := cur.AccessToken != "" && cur.AccessToken != stale && time.Until(cur.Expiry) > refreshSkew
		if usable && !refused.IsZero() && !cur.IssuedAt.After(refused) {
			// Jira refused our token at `refused`; a stored token issued before that may have
			// been dropped by the same event, so only a newer one is trusted.
			usable = false
		}
		if usable {
			return cur, nil // another worker (or an earlier call) refreshed already
		}
		if cur.RefreshToken == "" {
			return nil, errors.New("jira oauth: the stored grant has no refresh token (fix: include offline_access in jira.oauth.scopes and run `sfjira auth jira`)")
		}
		next, err := s.Conf.Refresh(ctx, cur.RefreshToken)
		if err != nil {
			return nil, err
		}
		next.Extra = cur.Extra
		if next.Scope == "" {
			next.Scope = cur.Scope
		}
		return next, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("jira oauth: no grant stored (fix: run `sfjira auth jira`)")
	}
	if err != nil {
		return nil, err
	}
	s.cached = tok
	s.refusedAt = time.Time{}
	return toOAuth2(tok), nil
}

// Invalidate drops the cached access token after Jira refused it (401), so the next Token call
// refreshes — or picks up a token another worker refreshed meanwhile.
func (s *RotatingTokenSource) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusedAt = time.Now()
	if s.cached != nil {
		c := *s.cached
		c.Expiry = time.Time{}
		s.cached = &c
	}
}

func toOAuth2(t *store.Token) *oauth2.Token {
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: "Bearer", Expiry: t.Expiry}
}
