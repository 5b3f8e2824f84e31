package jira

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Demo OAuth 2.0 (3LO) app credentials and site id shared by the emulator and the demo config.
const (
	DemoOAuthClientID     = "sfjira-jira-demo"
	DemoOAuthClientSecret = "sfjira-jira-demo-secret"
	// DemoCloudID is the site's cloud id, as accessible-resources reports it.
	DemoCloudID = "5f3b7c1e-2a4d-4e8f-9b6a-0c1d2e3f4a5b"
)

// Atlassian's rotation rules: every refresh returns a new refresh token; the one sent stays
// usable for a reuse interval (10 minutes) and reusing it later revokes the whole family.
const (
	defaultReuseInterval = 10 * time.Minute
	defaultAccessTTL     = time.Hour
	oauthCodeTTL         = 10 * time.Minute
)

type oauthCode struct {
	redirect, scope string
	expires         time.Time
}

type oauthFamily struct {
	revoked bool
	scope   string
}

type refreshTok struct {
	family string
	usedAt time.Time // zero while it is the family's current token
}

type accessTok struct {
	family  string
	expires time.Time
}

// oauthState holds the 3LO grants the emulator has issued.
type oauthState struct {
	mu       sync.Mutex
	codes    map[string]oauthCode
	families map[string]*oauthFamily
	refresh  map[string]*refreshTok
	access   map[string]accessTok
	revoked  int // families revoked for reuse, reported by /__admin/oauth
	reused   int // refreshes with an already-rotated token inside the reuse interval
}

func (s *Server) oauthInit() {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	s.oauth.codes = map[string]oauthCode{}
	s.oauth.families = map[string]*oauthFamily{}
	s.oauth.refresh = map[string]*refreshTok{}
	s.oauth.access = map[string]accessTok{}
}

func (s *Server) oauthClient() (id, secret string) {
	id, secret = s.opts.OAuthClientID, s.opts.OAuthClientSecret
	if id == "" {
		id, secret = DemoOAuthClientID, DemoOAuthClientSecret
	}
	return id, secret
}

func (s *Server) cloudID() string {
	if s.opts.CloudID != "" {
		return s.opts.CloudID
	}
	return DemoCloudID
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// serveOAuth answers the 3LO endpoints (authorize, token, accessible-resources) and strips the
// /ex/jira/{cloudId} prefix of API calls made through api.atlassian.com. It reports whether it
// wrote the response.
func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case r.URL.Path == "/authorize" && r.Method == http.MethodGet:
		s.handleOAuthAuthorize(w, r)
		return true
	case r.URL.Path == "/oauth/token" && r.Method == http.MethodPost:
		s.handleOAuthToken(w, r)
		return true
	case r.URL.Path == "/oauth/token/accessible-resources" && r.Method == http.MethodGet:
		s.handleAccessibleResources(w, r)
		return true
	case strings.HasPrefix(r.URL.Path, "/ex/jira/"):
		rest := strings.TrimPrefix(r.URL.Path, "/ex/jira/")
		cloud, path, _ := strings.Cut(rest, "/")
		if cloud != s.cloudID() {
			writeErr(w, http.StatusNotFound, []string{"No site with cloud id " + cloud}, nil)
			return true
		}
		r.URL.Path = "/" + path
		r.URL.RawPath = ""
	}
	return false
}

// handleOAuthAuthorize consents on the user's behalf and redirects back with a code.
func (s *Server) handleOAuthAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, _ := s.oauthClient()
	if q.Get("client_id") != id {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	redirect := q.Get("redirect_uri")
	u, err := url.Parse(redirect)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		http.Error(w, "redirect_uri is not registered for this app", http.StatusBadRequest)
		return
	}
	if q.Get("response_type") != "code" || q.Get("audience") != "api.atlassian.com" {
		http.Error(w, "response_type must be code and audience api.atlassian.com", http.StatusBadRequest)
		return
	}
	code := "code-" + randHex(16)
	s.oauth.mu.Lock()
	s.oauth.codes[code] = oauthCode{redirect: redirect, scope: q.Get("scope"), expires: s.now().Add(oauthCodeTTL)}
	s.oauth.mu.Unlock()
	back := u.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	u.RawQuery = back.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Code         string `json:"code"`
	RedirectURI  string `json:"redirect_uri"`
	RefreshToken string `json:"refresh_token"`
}

func (s *Server) handleOAuthToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Request body must be JSON")
		return
	}
	id, secret := s.oauthClient()
	if req.ClientID != id || subtle.ConstantTimeCompare([]byte(req.ClientSecret), []byte(secret)) != 1 {
		oauthError(w, http.StatusUnauthorized, "access_denied", "Unauthorized")
		return
	}
	now := s.now()
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	var family string
	switch req.GrantType {
	case "authorization_code":
		c, ok := s.oauth.codes[req.Code]
		delete(s.oauth.codes, req.Code)
		if !ok || now.After(c.expires) || c.redirect != req.RedirectURI {
			oauthError(w, http.StatusForbidden, "invalid_grant", "Invalid authorization code")
			return
		}
		family = "fam-" + randHex(8)
		s.oauth.families[family] = &oauthFamily{scope: c.scope}
	case "refresh_token":
		rt, ok := s.oauth.refresh[req.RefreshToken]
		if !ok || s.oauth.families[rt.family].revoked {
			oauthError(w, http.StatusForbidden, "invalid_grant", "Unknown or invalid refresh token.")
			return
		}
		if !rt.usedAt.IsZero() {
			if now.Sub(rt.usedAt) > s.reuseInterval() {
				// Reuse after the interval: someone holds a stale copy — revoke everything.
				s.revokeFamilyLocked(rt.family)
				oauthError(w, http.StatusForbidden, "invalid_grant", "Unknown or invalid refresh token.")
				return
			}
			s.oauth.reused++
		} else {
			rt.usedAt = now
		}
		family = rt.family
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
		return
	}
	access := "jat-" + randHex(24)
	refresh := "jrt-" + randHex(24)
	ttl := s.opts.OAuthAccessTTL
	if ttl <= 0 {
		ttl = defaultAccessTTL
	}
	s.oauth.access[access] = accessTok{family: family, expires: now.Add(ttl)}
	s.oauth.refresh[refresh] = &refreshTok{family: family}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "refresh_token": refresh, "expires_in": int(ttl.Seconds()),
		"token_type": "Bearer", "scope": s.oauth.families[family].scope})
}

func (s *Server) reuseInterval() time.Duration {
	if s.opts.OAuthReuseInterval > 0 {
		return s.opts.OAuthReuseInterval
	}
	return defaultReuseInterval
}

func (s *Server) revokeFamilyLocked(family string) {
	f := s.oauth.families[family]
	if f == nil || f.revoked {
		return
	}
	f.revoked = true
	s.oauth.revoked++
	for tok, a := range s.oauth.access {
		if a.family == family {
			delete(s.oauth.access, tok)
		}
	}
}

// bearerOK reports whether an Authorization header carries a live 3LO access token.
func (s *Server) bearerOK(header string) bool {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || tok == "" {
		return false
	}
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	a, ok := s.oauth.access[tok]
	return ok && s.now().Before(a.expires) && !s.oauth.families[a.family].revoked
}

func (s *Server) handleAccessibleResources(w http.ResponseWriter, r *http.Request) {
	if !s.bearerOK(r.Header.Get("Authorization")) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 401, "message": "Unauthorized"})
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	writeJSON(w, http.StatusOK, []map[string]any{{
		"id": s.cloudID(), "name": "sfjira emulator", "url": scheme + "://" + r.Host,
		"scopes":    []string{"read:jira-work", "write:jira-work", "read:jira-user", "manage:jira-webhook"},
		"avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png",
	}})
}

// OAuthStats reports the 3LO grants: families issued and revoked, and tolerated reuses.
type OAuthStats struct {
	Families int `json:"families"`
	Revoked  int `json:"revoked"`
	Reused   int `json:"reused_within_interval"`
}

// OAuthStats is the Go form of GET /__admin/oauth.
func (s *Server) OAuthStats() OAuthStats {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	return OAuthStats{Families: len(s.oauth.families), Revoked: s.oauth.revoked, Reused: s.oauth.reused}
}

// ExpireOAuthAccessTokens invalidates every issued access token (refresh tokens stay valid), so
// tests can drive a client through its refresh path.
func (s *Server) ExpireOAuthAccessTokens() {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	s.oauth.access = map[string]accessTok{}
}
