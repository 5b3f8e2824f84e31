// Package jira is the connector's Jira Cloud REST v3 client, used by the Temporal
// activities. It authenticates with an API token (basic auth) or any oauth2.TokenSource,
// maps error responses to *APIError so callers can classify them (retryable, not found,
// Retry-After), and tracks the latest rate-limit headers for the budget guard.
package jira

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// DefaultTimeout bounds each HTTP request; it is shorter than the activity timeouts so a
// hung call fails inside the activity and gets retried by Temporal.
const DefaultTimeout = 20 * time.Second

// MaxBulkCreate is Jira's per-request limit for POST /rest/api/3/issue/bulk; BulkCreate
// splits larger inputs into requests of this size.
const MaxBulkCreate = 50

// Config holds what is needed to talk to one Jira Cloud site with an API token.
type Config struct {
	BaseURL    string        // site, e.g. https://acme.atlassian.net or http://127.0.0.1:8420
	Email      string        // API-token basic auth user
	APIToken   string        // API token of Email
	Timeout    time.Duration // per HTTP request; default 20s (shorter than activity timeouts)
	HTTPClient *http.Client  // optional base client (its Transport is wrapped for auth)
	// Reload, when set, re-reads the credentials (e.g. a rotated API token file) when Jira
	// answers 401; the client then retries the call once. Nil retries with the same ones.
	Reload func() (email, apiToken string, err error)
}

// Client is a Jira Cloud REST v3 client; it is safe for concurrent use and reuses one
// http.Client (and so its connection pool) for every call.
type Client struct {
	base    *url.URL
	http    *http.Client
	timeout time.Duration
	ts      oauth2.TokenSource

	rlMu sync.Mutex
	rl   RateLimit

	auth    *authSource
	reauths atomic.Int64
}

// RateLimit is the latest X-RateLimit-Limit / X-RateLimit-Remaining pair seen by a
// client, which feeds the connector's shared rate budget.
type RateLimit struct {
	Limit, Remaining int
	// RetryUntil is when the latest Retry-After or beta-retry-after runs out (zero if none).
	RetryUntil time.Time
	// At is when the answer carrying these headers came.
	At time.Time
	ok bool
}

// Budget returns the latest rate-limit state (ok=false before any answer carried rate-limit
// headers), for the budget guard.
func (c *Client) Budget() (RateLimit, bool) {
	c.rlMu.Lock()
	defer c.rlMu.Unlock()
	return c.rl, c.rl.ok
}

// New builds a client that authenticates with basic auth (email + API token) carried by
// an oauth2.Transport, so basic and OAuth 3LO clients share one code path.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.Email) == "" {
		return nil, errors.New("jira: config: Email is required (the Atlassian account e-mail of the API token)")
	}
	if strings.TrimSpace(cfg.APIToken) == "" {
		return nil, errors.New("jira: config: APIToken is required")
	}
	email, apiToken := cfg.Email, cfg.APIToken
	src := oauth2.TokenSource(tokenFunc(func() (*oauth2.Token, error) {
		e, t := email, apiToken
		if cfg.Reload != nil {
			var err error
			if e, t, err = cfg.Reload(); err != nil {
				return nil, fmt.Errorf("jira: reload credentials after 401: %w", err)
			}
		}
		return &oauth2.Token{AccessToken: base64.StdEncoding.EncodeToString([]byte(e + ":" + t)), TokenType: "Basic"}, nil
	}))
	return newClient(cfg.BaseURL, src, cfg.Timeout, cfg.HTTPClient)
}

// NewWithTokenSource builds a client whose Authorization header comes from ts (OAuth 2.0
// 3LO access tokens, refreshed by the source); baseURL is then typically
// https://api.atlassian.com/ex/jira/{cloudId}.
func NewWithTokenSource(baseURL string, ts oauth2.TokenSource, timeout time.Duration) (*Client, error) {
	if ts == nil {
		return nil, errors.New("jira: config: token source is required")
	}
	return newClient(baseURL, ts, timeout, nil)
}

func newClient(baseURL string, ts oauth2.TokenSource, timeout time.Duration, hc *http.Client) (*Client, error) {
	if strings.TrimSpace(baseURL) == "" {
		return nil, errors.New("jira: config: BaseURL is required (e.g. https://your-site.atlassian.net)")
	}
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("jira: config: BaseURL %q must be an absolute http(s) URL such as https://your-site.atlassian.net", baseURL)
	}
	if timeout < 0 {
		return nil, fmt.Errorf("jira: config: Timeout must not be negative, got %s", timeout)
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	var baseRT http.RoundTripper
	out := &http.Client{}
	if hc != nil {
		baseRT = hc.Transport
		out.CheckRedirect = hc.CheckRedirect
		out.Jar = hc.Jar
	}
	auth := &authSource{base: ts}
	out.Transport = &oauth2.Transport{Source: auth, Base: baseRT}
	return &Client{base: u, http: out, timeout: timeout, ts: ts, auth: auth}, nil
}

// tokenFunc adapts a function to oauth2.TokenSource.
type tokenFunc func() (*oauth2.Token, error)

func (f tokenFunc) Token() (*oauth2.Token, error) { return f() }

// authSource caches the credential of the underlying source until a 401 invalidates it, so the
// one retry after a 401 asks the source again (a re-read API token, a refreshed OAuth token).
type authSource struct {
	base oauth2.TokenSource
	mu   sync.Mutex
	tok  *oauth2.Token
}

func (a *authSource) Token() (*oauth2.Token, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok != nil && a.tok.Valid() {
		return a.tok, nil
	}
	t, err := a.base.Token()
	if err != nil {
		return nil, err
	}
	a.tok = t
	return t, nil
}

// invalidate drops the cached credential unless another call already replaced it.
func (a *authSource) invalidate(used *oauth2.Token) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok == used {
		a.tok = nil
		// An OAuth source (Jira 3LO) caches its access token too: make it refresh.
		if inv, ok := a.base.(interface{ Invalidate() }); ok {
			inv.Invalidate()
		}
	}
}

// Reauthentications counts the calls retried after a 401, for tests and metrics.
func (c *Client) Reauthentications() int64 { return c.reauths.Load() }

// RateLimit returns the latest rate-limit headers seen (ok=false before any response
// carried them), so callers can slow down non-urgent work before Jira throttles.
func (c *Client) RateLimit() (limit, remaining int, ok bool) {
	c.rlMu.Lock()
	defer c.rlMu.Unlock()
	return c.rl.Limit, c.rl.Remaining, c.rl.ok
}

func (c *Client) recordRateLimit(h http.Header) {
	l, errL := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	r, errR := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	now := time.Now()
	// Retry-After comes with 429 and 503; beta-retry-after with answers Jira already throttles softly.
	ra := parseRetryAfter(h.Get("Retry-After"), now)
	if b := parseRetryAfter(h.Get("beta-retry-after"), now); b > ra {
		ra = b
	}
	if errL != nil && errR != nil && ra == 0 {
		return
	}
	c.rlMu.Lock()
	defer c.rlMu.Unlock()
	c.rl.At = now
	if ra > 0 {
		c.rl.RetryUntil = now.Add(ra)
	}
	if errL == nil {
		c.rl.Limit = l
	}
	if errR == nil {
		c.rl.Remaining = r
	}
	c.rl.ok = true
}

// ---- errors ---------------------------------------------------------------------------

// APIError is a non-2xx answer from Jira with its error collection, so activities can
// classify failures (retryable or not) and surface Jira's own field messages.
type APIError struct {
	Status     int
	Method     string
	Path       string
	Messages   []string
	Errors     map[string]string
	RetryAfter time.Duration

	body []byte // raw error body (bounded), for callers that need more than the collection
}

// Error renders the call, status and Jira's messages, e.g.
// `jira: POST /rest/api/3/issue: 400: customfield_10050: Operation value must be a number`.
func (e *APIError) Error() string {
	var parts []string
	parts = append(parts, e.Messages...)
	keys := make([]string, 0, len(e.Errors))
	for k := range e.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+": "+e.Errors[k])
	}
	if len(parts) == 0 {
		parts = append(parts, http.StatusText(e.Status))
	}
	return fmt.Sprintf("jira: %s %s: %d: %s", e.Method, e.Path, e.Status, strings.Join(parts, "; "))
}

// Retryable reports whether retrying the same call may succeed (429 and 5xx), so the
// activity layer can mark other 4xx answers as non-retryable.
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// IsNotFound reports whether err is a Jira 404 (issue, property or project missing).
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func newAPIError(method, path string, resp *http.Response) *APIError {
	ae := &APIError{Status: resp.StatusCode, Method: method, Path: path,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	ae.body = body
	var ec struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
		Message       string            `json:"message"`
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&ec); err == nil {
		ae.Messages = ec.ErrorMessages
		if len(ec.Errors) > 0 {
			ae.Errors = ec.Errors
		}
		if ec.Message != "" {
			ae.Messages = append(ae.Messages, ec.Message)
		}
	} else if txt := strings.TrimSpace(string(body)); txt != "" && !strings.HasPrefix(txt, "<") {
		if len(txt) > 300 {
			txt = txt[:300] + "…"
		}
		ae.Messages = []string{txt}
	}
	return ae
}

// ---- transport ------------------------------------------------------------------------

// do performs one call. in (if non-nil) is sent as JSON; out (if non-nil) receives the
// JSON body of a 2xx answer. It returns the HTTP status of successful calls.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = query.Encode()
	var payload []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("jira: %s %s: encode request: %w", method, path, err)
		}
		payload = b
	}
	// One re-authentication on 401: the credential is read again and the call retried once.
	for attempt := 0; ; attempt++ {
		used, _ := c.auth.Token()
		status, err := c.doOnce(ctx, method, path, u.String(), payload, out)
		if status == http.StatusUnauthorized && attempt == 0 {
			c.auth.invalidate(used)
			c.reauths.Add(1)
			continue
		}
		return status, err
	}
}

func (c *Client) doOnce(ctx context.Context, method, path, fullURL string, payload []byte, out any) (int, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, fullURL, body)
	if err != nil {
		return 0, fmt.Errorf("jira: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return 0, fmt.Errorf("jira: %s %s: request timed out after %s: %w", method, path, c.timeout, err)
		}
		return 0, fmt.Errorf("jira: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	c.recordRateLimit(resp.Header)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, newAPIError(method, path, resp)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
		if err != nil {
			return 0, fmt.Errorf("jira: %s %s: read response: %w", method, path, err)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, newMalformed(method, path, resp, raw, err)
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// maxResponseBytes bounds one success body read into memory (a search page of 100 issues with
// all fields is a few MB).
const maxResponseBytes = 64 << 20

// MalformedResponseError is a 2xx answer whose body is not the JSON the call expects: truncated,
// empty, an HTML page from a proxy or login redirect, or a field of the wrong type. It is kept
// apart from transport errors so the activity layer gives it its own catalog code
// (JIRA_MALFORMED_RESPONSE), and it quotes the start of the body so the operator sees what
// answered.
type MalformedResponseError struct {
	Method, Path, ContentType string
	Status                    int
	// Excerpt is the start of the body (at most 200 bytes), or "(empty body)".
	Excerpt string
	Err     error
}

func (e *MalformedResponseError) Error() string {
	return fmt.Sprintf("jira: %s %s: %d response (%s) is not the JSON expected: %v; body starts: %s",
		e.Method, e.Path, e.Status, e.ContentType, e.Err, e.Excerpt)
}

func (e *MalformedResponseError) Unwrap() error { return e.Err }

func newMalformed(method, path string, resp *http.Response, raw []byte, err error) *MalformedResponseError {
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "no content type"
	}
	return &MalformedResponseError{Method: method, Path: path, Status: resp.StatusCode, ContentType: ct,
		Excerpt: bodyExcerpt(raw), Err: err}
}

// bodyExcerpt quotes the start of a body on one line.
func bodyExcerpt(raw []byte) string {
	txt := strings.Join(strings.Fields(string(raw)), " ")
	if txt == "" {
		return "(empty body)"
	}
	if len(txt) > 200 {
		txt = strings.ToValidUTF8(txt[:200], "") + "…"
	}
	return strconv.QuoteToGraphic(txt)
}

func issuePath(idOrKey string) string { return "/rest/api/3/issue/" + url.PathEscape(idOrKey) }

// ---- users ----------------------------------------------------------------------------

// User is a Jira account as returned by /myself and user endpoints.
type User struct {
	AccountID    string `json:"accountId"`
	DisplayName  string `json:"displayName"`
	EmailAddress string `json:"emailAddress"`
	Active       bool   `json:"active"`
}

// Myself returns the authenticated user; preflight uses it to check credentials.
func (c *Client) Myself(ctx context.Context) (*User, error) {
	var u User
	if _, err := c.do(ctx, http.MethodGet, "/rest/api/3/myself", nil, nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// ---- fields ---------------------------------------------------------------------------

// FieldSchema is the type information of a field, used to validate and convert mapped
// values (e.g. number vs string custom fields).
type FieldSchema struct {
	Type     string `json:"type"`
	Items    string `json:"items"`
	System   string `json:"system"`
	Custom   string `json:"custom"`
	CustomID int64  `json:"customId"`
}

// Field describes one system or custom field, so mappings can refer to fields by name and
// be resolved to ids such as customfield_10050.
type Field struct {
	ID     string      `json:"id"`
	Key    string      `json:"key"`
	Name   string      `json:"name"`
	Custom bool        `json:"custom"`
	Schema FieldSchema `json:"schema"`
}

// Fields lists all fields visible to the user (GET /rest/api/3/field).
func (c *Client) Fields(ctx context.Context) ([]Field, error) {
	var out []Field
	if _, err := c.do(ctx, http.MethodGet, "/rest/api/3/field", nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}
