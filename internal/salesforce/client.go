// Package salesforce is the Salesforce REST client the connector's Temporal activities use: OAuth 2.0
// client credentials, SOQL queries with paging, sObject CRUD/upsert, describe and limits, with errors
// classified so activities can tell retryable failures from validation problems.
package salesforce

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultAPIVersion is the REST API version used when Config.APIVersion is empty.
const DefaultAPIVersion = "v62.0"

// Config says where and how to reach an org; secrets come from the caller's config, never from here.
type Config struct {
	LoginURL     string        // token endpoint host, e.g. https://acme.my.salesforce.com or http://127.0.0.1:8410
	ClientID     string        // connected app consumer key
	ClientSecret string        // connected app consumer secret
	APIVersion   string        // default "v62.0"
	Timeout      time.Duration // per HTTP request; default 20s (kept shorter than activity timeouts)
	HTTPClient   *http.Client  // optional base client (transport reuse); nil = default with keep-alive pool

	// Flow picks the OAuth flow: FlowClientCredentials (default), FlowJWTBearer or FlowRefreshToken.
	Flow string
	// JWT bearer: the integration user's username and the connected app certificate's private key
	// (PEM); JWTAudience defaults to https://login.salesforce.com (https://test.salesforce.com
	// for sandboxes).
	Username      string
	JWTPrivateKey []byte
	JWTAudience   string
	// Refresh token flow: RefreshToken returns the current refresh token (e.g. from the encrypted
	// token store); SaveRefreshToken, when set, stores a rotated one.
	RefreshToken     func(ctx context.Context) (string, error)
	SaveRefreshToken func(ctx context.Context, token string) error
}

// Client talks to one Salesforce org. It is safe for concurrent use and authenticates lazily.
type Client struct {
	cfg     Config
	http    *http.Client
	jwtKey  *rsa.PrivateKey
	authSem chan struct{} // serialises token fetches without ignoring ctx

	mu          sync.RWMutex
	accessToken string
	instanceURL string
	gen         uint64 // bumps on every successful authentication
	orgID       string // from the token response's identity URL
	scope       string // the scopes the latest token response granted (space-separated)

	usage atomic.Pointer[apiUsage]
}

type apiUsage struct {
	used, max int
	at        time.Time
}

// APIUsageAt is APIUsage with the time of the answer that carried it, for the budget guard.
func (c *Client) APIUsageAt() (used, max int, at time.Time, ok bool) {
	u := c.usage.Load()
	if u == nil {
		return 0, 0, time.Time{}, false
	}
	return u.used, u.max, u.at, true
}

var reVersion = regexp.MustCompile(`^v\d{2,3}\.\d$`)

// New validates cfg and returns a client; the first API call authenticates.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.LoginURL) == "" {
		return nil, errors.New("salesforce: config: LoginURL is required (e.g. https://acme.my.salesforce.com)")
	}
	u, err := url.Parse(strings.TrimRight(cfg.LoginURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("salesforce: config: LoginURL %q must be an absolute http(s) URL such as https://acme.my.salesforce.com", cfg.LoginURL)
	}
	cfg.LoginURL = u.Scheme + "://" + u.Host
	if cfg.ClientID == "" {
		return nil, errors.New("salesforce: config: ClientID is required (the connected app's consumer key)")
	}
	var jwtKey *rsa.PrivateKey
	switch cfg.Flow {
	case "", FlowClientCredentials:
		cfg.Flow = FlowClientCredentials
		if cfg.ClientSecret == "" {
			return nil, errors.New("salesforce: config: ClientSecret is required (the connected app's consumer secret)")
		}
	case FlowJWTBearer:
		if cfg.Username == "" {
			return nil, errors.New("salesforce: config: Username is required for the JWT bearer flow (the integration user's username)")
		}
		k, err := ParseRSAPrivateKey(cfg.JWTPrivateKey)
		if err != nil {
			return nil, err
		}
		jwtKey = k
		if cfg.JWTAudience == "" {
			cfg.JWTAudience = "https://login.salesforce.com"
		}
	case FlowRefreshToken:
		if cfg.RefreshToken == nil {
			return nil, errors.New("salesforce: config: the refresh token flow needs a refresh token source (fix: run `sfjira auth salesforce`)")
		}
	default:
		return nil, fmt.Errorf("salesforce: config: unknown auth flow %q (use client_credentials, jwt_bearer or refresh_token)", cfg.Flow)
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	if !strings.HasPrefix(cfg.APIVersion, "v") {
		cfg.APIVersion = "v" + cfg.APIVersion
	}
	if !reVersion.MatchString(cfg.APIVersion) {
		return nil, fmt.Errorf("salesforce: config: APIVersion %q must look like v62.0", cfg.APIVersion)
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("salesforce: config: Timeout must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 20 * time.Second
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 64
		tr.MaxIdleConnsPerHost = 32
		tr.IdleConnTimeout = 90 * time.Second
		hc = &http.Client{Transport: tr}
	}
	return &Client{
		cfg:     cfg,
		http:    hc,
		jwtKey:  jwtKey,
		authSem: make(chan struct{}, 1),
	}, nil
}

// APIVersion returns the REST API version the client uses (e.g. "v62.0").
func (c *Client) APIVersion() string { return c.cfg.APIVersion }

// APIUsage returns the org's daily API usage from the latest Sforce-Limit-Info header, so a budget
// guard can slow down non-urgent work; ok is false until a response carried the header.
func (c *Client) APIUsage() (used, max int, ok bool) {
	u := c.usage.Load()
	if u == nil {
		return 0, 0, false
	}
	return u.used, u.max, true
}

var reUsage = regexp.MustCompile(`(?:^|[^-])api-usage=(\d+)/(\d+)`)

func (c *Client) recordUsage(h http.Header) {
	v := h.Get("Sforce-Limit-Info")
	if v == "" {
		return
	}
	m := reUsage.FindStringSubmatch(v)
	if m == nil {
		return
	}
	used, _ := strconv.Atoi(m[1])
	max, _ := strconv.Atoi(m[2])
	c.usage.Store(&apiUsage{used, max, time.Now()})
}

// session returns the current token and instance URL, authenticating first if needed.
func (c *Client) session(ctx context.Context) (token, instance string, gen uint64, err error) {
	c.mu.RLock()
	token, instance, gen = c.accessToken, c.instanceURL, c.gen
	c.mu.RUnlock()
	if token != "" {
		return token, instance, gen, nil
	}
	return c.authenticate(ctx, 0)
}

// authenticate fetches a new token unless another goroutine already replaced the one of generation
// stale (0 = no token yet), so a burst of 401s causes a single re-authentication.
func (c *Client) authenticate(ctx context.Context, stale uint64) (string, string, uint64, error) {
	select {
	case c.authSem <- struct{}{}:
	case <-ctx.Done():
		return "", "", 0, fmt.Errorf("salesforce: POST /services/oauth2/token: %w", ctx.Err())
	}
	defer func() { <-c.authSem }()
	c.mu.RLock()
	token, instance, gen := c.accessToken, c.instanceURL, c.gen
	c.mu.RUnlock()
	if token != "" && gen != stale {
		return token, instance, gen, nil
	}
	tctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	tok, err := c.fetchToken(tctx)
	if err != nil {
		return "", "", 0, err
	}
	identity := tok.ID
	instance = strings.TrimRight(tok.InstanceURL, "/")
	if instance == "" {
		instance = c.cfg.LoginURL
	}
	c.mu.Lock()
	c.gen++
	c.accessToken, c.instanceURL, gen = tok.AccessToken, instance, c.gen
	if org := orgFromIdentity(identity); org != "" {
		c.orgID = org
	}
	c.scope = tok.Scope
	c.mu.Unlock()
	return tok.AccessToken, instance, gen, nil
}

// call performs one REST request (re-authenticating once on 401) and hands a 2xx response to handle.
// path is relative to /services/data/<version> unless it starts with /services/.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body any, handle func(*http.Response) error) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("salesforce: %s %s: encode request: %w", method, path, err)
		}
	}
	full := path
	if !strings.HasPrefix(path, "/services/") {
		full = "/services/data/" + c.cfg.APIVersion + path
	}
	if len(query) > 0 {
		full += "?" + query.Encode()
	}
	for attempt := 0; ; attempt++ {
		token, instance, gen, err := c.session(ctx)
		if err != nil {
			return err
		}
		retry, err := c.once(ctx, method, path, instance+full, token, payload, handle)
		if retry && attempt == 0 {
			if _, _, _, err := c.authenticate(ctx, gen); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

// once sends a single request; retry reports a 401 that warrants re-authentication.
func (c *Client) once(ctx context.Context, method, path, fullURL, token string, payload []byte, handle func(*http.Response) error) (retry bool, err error) {
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(rctx, method, fullURL, rd)
	if err != nil {
		return false, fmt.Errorf("salesforce: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Sforce-Call-Options", "client=sfjira")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return false, transportError(method, path, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}()
	c.recordUsage(resp.Header)
	if resp.StatusCode == http.StatusUnauthorized {
		e := parseError(method, path, resp)
		return true, e
	}
	if resp.StatusCode >= 300 {
		return false, parseError(method, path, resp)
	}
	if handle == nil {
		return false, nil
	}
	if err := handle(resp); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			return false, err
		}
		var bad *MalformedResponseError
		if errors.As(err, &bad) {
			bad.Method, bad.Path = method, path
			return false, bad
		}
		return false, transportError(method, path, err)
	}
	return false, nil
}

func transportError(method, path string, err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("salesforce: %s %s: timed out: %w", method, path, err)
	}
	return fmt.Errorf("salesforce: %s %s: %w", method, path, err)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// maxResponseBytes bounds one success body read into memory (a query page of 2,000 records).
const maxResponseBytes = 64 << 20

// decode reads a JSON body into out; a body that is not that JSON is a *MalformedResponseError
// (call fills in the method and path).
func decode(out any) func(*http.Response) error {
	return func(resp *http.Response) error {
		raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
		if err != nil {
			return fmt.Errorf("read response: %w", err)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			ct := resp.Header.Get("Content-Type")
			if ct == "" {
				ct = "no content type"
			}
			return &MalformedResponseError{Status: resp.StatusCode, ContentType: ct, Excerpt: bodyExcerpt(raw), Err: err}
		}
		return nil
	}
}

// MalformedResponseError is a 2xx answer whose body is not the JSON the call expects: truncated,
// empty, an HTML page from a proxy or a login redirect, or a field of the wrong type. It is kept
// apart from transport errors so the activity layer gives it its own catalog code
// (SF_MALFORMED_RESPONSE), and it quotes the start of the body so the operator sees what answered.
type MalformedResponseError struct {
	Method, Path, ContentType string
	Status                    int
	// Excerpt is the start of the body (at most 200 bytes), or "(empty body)".
	Excerpt string
	Err     error
}

func (e *MalformedResponseError) Error() string {
	return fmt.Sprintf("salesforce: %s %s: %d response (%s) is not the JSON expected: %v; body starts: %s",
		e.Method, e.Path, e.Status, e.ContentType, e.Err, e.Excerpt)
}

func (e *MalformedResponseError) Unwrap() error { return e.Err }

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

// --- errors --------------------------------------------------------------------------------

// APIError is an error answer from Salesforce, kept structured so activities can classify it
// (retryable or not) and show the catalog code and fields to operators.
type APIError struct {
	Status  int
	Method  string
	Path    string
	Code    string // Salesforce errorCode, e.g. STRING_TOO_LONG; MULTIPLE_CHOICES for an ambiguous upsert
	Message string
	Fields  []string
	// RetryAfter is the Retry-After header of a 429 or 503 answer (0 when absent).
	RetryAfter time.Duration
}

// Error renders e.g. `salesforce: PATCH /sobjects/Opportunity/006…: 400 STRING_TOO_LONG: Name: data value too large (fields: Name)`.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("salesforce: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != "" {
		b.WriteByte(' ')
		b.WriteString(e.Code)
	}
	if msg := strings.Join(strings.Fields(e.Message), " "); msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if len(e.Fields) > 0 {
		b.WriteString(" (fields: ")
		b.WriteString(strings.Join(e.Fields, ", "))
		b.WriteByte(')')
	}
	return b.String()
}

// Retryable reports whether the same call may succeed later (server trouble, lock contention);
// validation and other 4xx errors need a fix first.
func (e *APIError) Retryable() bool {
	switch e.Code {
	case "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE":
		return true
	}
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// IsNotFound reports whether err means the record (or external id) does not exist or was deleted.
func IsNotFound(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	return e.Status == http.StatusNotFound || e.Code == "NOT_FOUND" || e.Code == "ENTITY_IS_DELETED"
}

// IsRetryable reports whether err is worth retrying: retryable API errors and transport failures
// or timeouts, but not caller cancellation or validation errors.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var e *APIError
	if errors.As(err, &e) {
		return e.Retryable()
	}
	return true
}

func parseError(method, path string, resp *http.Response) *APIError {
	e := &APIError{Status: resp.StatusCode, Method: method, Path: path}
	if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs > 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusMultipleChoices {
		var urls []string
		_ = json.Unmarshal(body, &urls)
		e.Code = "MULTIPLE_CHOICES"
		e.Message = fmt.Sprintf("external id matches %d records: %s", len(urls), strings.Join(urls, ", "))
		return e
	}
	var list []struct {
		Message   string   `json:"message"`
		ErrorCode string   `json:"errorCode"`
		Fields    []string `json:"fields"`
	}
	if json.Unmarshal(body, &list) == nil && len(list) > 0 {
		e.Code, e.Message, e.Fields = list[0].ErrorCode, list[0].Message, list[0].Fields
		for _, more := range list[1:] {
			e.Message += "; " + more.ErrorCode + ": " + more.Message
		}
		return e
	}
	var oauthErr struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &oauthErr) == nil && oauthErr.Error != "" {
		e.Code, e.Message = oauthErr.Error, oauthErr.Description
		return e
	}
	e.Code = "HTTP_" + strconv.Itoa(resp.StatusCode)
	e.Message = strings.TrimSpace(truncate(string(body), 300))
	if strings.HasPrefix(e.Message, "<") {
		// An HTML page (a proxy's 502, a maintenance page): its title says it, the markup does not.
		e.Message = htmlTitle(string(body))
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// htmlTitle returns the <title> of an HTML page, or a note that the answer was HTML.
func htmlTitle(page string) string {
	lower := strings.ToLower(page)
	i := strings.Index(lower, "<title>")
	j := strings.Index(lower, "</title>")
	if i < 0 || j < i {
		return "HTML page instead of an API answer"
	}
	return "HTML page: " + truncate(strings.Join(strings.Fields(page[i+len("<title>"):j]), " "), 120)
}

// orgFromIdentity takes the org id out of an identity URL
// https://login.salesforce.com/id/<orgId>/<userId>.
func orgFromIdentity(identity string) string {
	parts := strings.Split(strings.TrimRight(identity, "/"), "/")
	if len(parts) < 3 || parts[len(parts)-3] != "id" {
		return ""
	}
	return parts[len(parts)-2]
}

// OrganizationID returns the id of the org the client is authenticated to, as the token
// response's identity URL names it (authenticating first if needed). The webhook receiver uses it
// to accept Outbound Messages only from this org when no org id is configured.
func (c *Client) OrganizationID(ctx context.Context) (string, error) {
	if _, _, _, err := c.session(ctx); err != nil {
		return "", err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.orgID == "" {
		return "", errors.New("salesforce: the token response named no identity URL, so the org id is unknown (fix: set salesforce.org_id)")
	}
	return c.orgID, nil
}

// GrantedScopes returns the OAuth scopes of the client's session as the token response listed
// them (authenticating first if needed), so preflight can report scopes beyond what sfjira needs
// (least privilege). Empty when the org sent no scope.
func (c *Client) GrantedScopes(ctx context.Context) ([]string, error) {
	if _, _, _, err := c.session(ctx); err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return strings.Fields(c.scope), nil
}
