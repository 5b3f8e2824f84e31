// Package salesforce is an in-memory, wire-faithful Salesforce REST API sandbox. Tests, the demo
// and the benchmarks run the connector against it (usually through httptest) instead of a real org.
package salesforce

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	mrand "math/rand"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sfjira/sfjira/emulators/internal/faultbody"
)

// Options configures a Server; zero values get production-like defaults so tests stay short.
type Options struct {
	ClientID, ClientSecret string           // accepted connected-app credentials
	Username               string           // integration user the tokens run as
	DailyAPILimit          int              // DailyApiRequests Max; default 100000
	TokenTTL               time.Duration    // session lifetime; 0 = 2h
	Now                    func() time.Time // clock; default time.Now

	// JWTCertPEM is the connected app's X.509 certificate (PEM); JWT bearer assertions must be
	// RS256-signed by its key. Empty disables the JWT bearer flow (invalid_grant for every assertion).
	JWTCertPEM string
	// JWTClockSkew is the tolerance on the assertion's exp claim (default 2m): exp may be up to
	// 3 minutes + skew in the future and up to skew in the past.
	JWTClockSkew time.Duration
	// RedirectURIs are the connected app's callback URLs for the authorization-code flow; empty
	// accepts any absolute http(s) URL.
	RedirectURIs []string
	// RotateRefreshTokens makes grant_type=refresh_token return a new refresh token and revoke
	// the old one (the connected app's refresh-token rotation setting).
	RotateRefreshTokens bool

	// Outbound are the Outbound Message actions active at start (more via POST /__admin/outbound).
	Outbound []OutboundConfig
	// OutboundRetryBase is the first retry delay of a failed delivery (default 1s); it doubles per
	// attempt up to OutboundRetryMax (default 2h, like the real service).
	OutboundRetryBase, OutboundRetryMax time.Duration
	// OutboundHTTPClient delivers outbound messages; nil = a client with a 60s timeout.
	OutboundHTTPClient *http.Client
}

// DemoOptions returns the credentials the demo config uses, so `sfjira emulate` and `make demo` agree;
// JWT bearer assertions signed with deploy/dev/jwt/demo-key.pem are accepted.
func DemoOptions() Options {
	return Options{ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret", Username: "integration@sfjira.demo",
		JWTCertPEM: DemoJWTCertPEM}
}

// Faults is the fault-injection state set through POST /__admin/faults; it lets tests and
// benchmarks exercise latency, transient errors, token expiry and quota exhaustion.
type Faults struct {
	LatencyMS     int     `json:"latency_ms,omitempty"`      // added to every /services/* call
	ErrorRate     float64 `json:"error_rate,omitempty"`      // 0..1 share of /services/data calls that fail
	ErrorStatus   int     `json:"error_status,omitempty"`    // status of injected errors; default 503
	ErrorCode     string  `json:"error_code,omitempty"`      // errorCode of injected errors; default from status
	FailNext      int     `json:"fail_next,omitempty"`       // the next N /services/data calls fail
	ExpireTokens  bool    `json:"expire_tokens,omitempty"`   // one-shot: invalidate all issued sessions now
	DailyAPILimit int     `json:"daily_api_limit,omitempty"` // one-shot: change DailyApiRequests Max

	JitterMS   int         `json:"jitter_ms,omitempty"`    // uniform 0..jitter_ms added on top of latency_ms
	TokenTTLMS int         `json:"token_ttl_ms,omitempty"` // session lifetime of new tokens; also caps live ones
	Seed       int64       `json:"seed,omitempty"`         // random source of every fault draw (0 = 7)
	Rules      []FaultRule `json:"rules,omitempty"`        // per-endpoint faults, checked before authentication

	OutboundDropRate      float64 `json:"outbound_drop_rate,omitempty"`       // 0..1 share of outbound messages silently lost
	OutboundDupRate       float64 `json:"outbound_dup_rate,omitempty"`        // 0..1 share of delivered messages sent twice
	OutboundReorder       bool    `json:"outbound_reorder,omitempty"`         // hold notifications and send them newest first
	OutboundReorderHoldMS int     `json:"outbound_reorder_hold_ms,omitempty"` // how long to hold for reordering; default 200
}

// Stats counts the calls the emulator served, so tests and benchmarks can measure API usage.
type Stats struct {
	Total     int                       `json:"total"`
	Endpoints map[string]map[string]int `json:"endpoints"` // "GET /services/data/{version}/query" → status → count
	Records   map[string]int            `json:"records"`   // live records per sObject type
	// Faults counts what the fault layer injected, by kind, so a chaos run can report the faults
	// that really fired: latency (calls delayed), status_429/status_5xx, reset, timeout,
	// sessions_expired (sessions invalidated by expire_tokens), outbound_dropped and
	// outbound_duplicated. Cumulative until Reset, like the endpoint counts.
	Faults map[string]int `json:"faults,omitempty"`
}

// Server is the emulated org; it implements http.Handler and is safe for concurrent use.
type Server struct {
	opts   Options
	now    func() time.Time
	clock  atomic.Pointer[func() time.Time]
	schema *schema
	orgID  string // 18 chars
	userID string

	mu       sync.RWMutex
	st       *store
	seedRand *mrand.Rand

	curMu   sync.Mutex
	cursors map[string]*queryResult
	curSeq  uint64

	tokMu   sync.Mutex
	tokens  map[string]time.Time
	codes   map[string]authCode // authorization codes awaiting exchange
	refresh map[string]string   // refresh token → client id

	apiUsed atomic.Int64
	apiMax  atomic.Int64

	statsMu  sync.Mutex
	total    int
	counts   map[string]map[string]int
	injected map[string]int // Stats.Faults

	// perms is what the integration user holds (scopes, object and field permissions).
	perms permissionSet

	faultMu    sync.Mutex
	faults     Faults
	faultRand  *mrand.Rand
	ruleAlways []bool // per rule: fires on every matching request (no error_rate, no fail_next)

	hookMu  sync.Mutex
	hookKey string
	hookFn  func()

	jwtCert   *x509.Certificate
	jwtErr    error
	createdAt time.Time

	out outbound
}

// New creates an empty emulated org; call Seed to add sample data.
func New(opts Options) *Server {
	if opts.DailyAPILimit <= 0 {
		opts.DailyAPILimit = 100000
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 2 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Username == "" {
		opts.Username = "integration@sfjira.demo"
	}
	s := &Server{
		opts:      opts,
		schema:    buildSchema(),
		orgID:     makeID("00D", 3521614606208+777),
		userID:    makeID("005", idCounterStart),
		cursors:   map[string]*queryResult{},
		tokens:    map[string]time.Time{},
		counts:    map[string]map[string]int{},
		faultRand: mrand.New(mrand.NewSource(7)),
		createdAt: opts.Now(),
	}
	clock := opts.Now
	s.clock.Store(&clock)
	s.now = func() time.Time { return (*s.clock.Load())() }
	if opts.JWTClockSkew <= 0 {
		s.opts.JWTClockSkew = 2 * time.Minute
	}
	if opts.JWTCertPEM != "" {
		s.jwtCert, s.jwtErr = parseCertPEM(opts.JWTCertPEM)
	}
	s.initOAuth()
	s.initOutbound()
	s.apiMax.Store(int64(opts.DailyAPILimit))
	s.resetData()
	return s
}

// resetData replaces the store with one that holds only the integration user. Caller holds mu or owns s.
func (s *Server) resetData() {
	s.st = newStore(s.schema)
	s.st.userID = s.userID
	s.st.perms = &s.perms
	s.seedRand = mrand.New(mrand.NewSource(20240131))
	u := s.schema.object("User")
	name := s.opts.Username
	vals := map[string]any{"Username": name, "Email": name, "FirstName": "Integration", "LastName": "User",
		"Alias": "integ", "IsActive": true}
	r := s.st.insertRaw(u, vals, s.now())
	// The user keeps the fixed id the tokens' identity URL refers to.
	t := s.st.tables["User"]
	delete(t.byID, r.id)
	r.id, r.vals["Id"] = s.userID, s.userID
	t.byID[r.id] = r
}

// Stats returns the same data as GET /__admin/stats.
func (s *Server) Stats() Stats {
	st := Stats{Endpoints: map[string]map[string]int{}, Records: map[string]int{}}
	s.statsMu.Lock()
	st.Total = s.total
	for k, m := range s.counts {
		c := make(map[string]int, len(m))
		for code, n := range m {
			c[code] = n
		}
		st.Endpoints[k] = c
	}
	st.Faults = maps.Clone(s.injected)
	s.statsMu.Unlock()
	s.out.mu.Lock()
	dropped, duplicated := s.out.stats.Dropped, s.out.stats.Duplicated
	s.out.mu.Unlock()
	for kind, n := range map[string]int{"outbound_dropped": dropped, "outbound_duplicated": duplicated} {
		if n > 0 {
			if st.Faults == nil {
				st.Faults = map[string]int{}
			}
			st.Faults[kind] = n
		}
	}
	s.mu.RLock()
	for name, t := range s.st.tables {
		st.Records[name] = t.live
	}
	s.mu.RUnlock()
	return st
}

// SetFaults replaces the fault-injection state (same semantics as POST /__admin/faults).
func (s *Server) SetFaults(f Faults) {
	if f.ExpireTokens {
		s.tokMu.Lock()
		n := len(s.tokens)
		clear(s.tokens)
		s.tokMu.Unlock()
		s.countFault("sessions_expired", n)
		f.ExpireTokens = false
	}
	if f.DailyAPILimit > 0 {
		s.apiMax.Store(int64(f.DailyAPILimit))
		f.DailyAPILimit = 0
	}
	if f.TokenTTLMS > 0 {
		limit := s.now().Add(time.Duration(f.TokenTTLMS) * time.Millisecond)
		s.tokMu.Lock()
		for t, exp := range s.tokens {
			if exp.After(limit) {
				s.tokens[t] = limit
			}
		}
		s.tokMu.Unlock()
	}
	f.Rules = append([]FaultRule(nil), f.Rules...)
	always := make([]bool, len(f.Rules))
	for i, r := range f.Rules {
		always[i] = r.ErrorRate <= 0 && r.FailNext <= 0
	}
	seed := f.Seed
	if seed == 0 {
		seed = 7
	}
	s.faultMu.Lock()
	s.faults = f
	s.ruleAlways = always
	s.faultRand = mrand.New(mrand.NewSource(seed))
	s.faultMu.Unlock()
	s.out.setFaults(f, seed)
}

// Reset clears all records, query cursors, statistics, API usage, faults and the outbound queue
// (Outbound Message actions stay), then seeds with o when it is non-nil; issued tokens stay valid.
func (s *Server) Reset(o *SeedOptions) {
	s.mu.Lock()
	s.resetData()
	s.mu.Unlock()
	s.curMu.Lock()
	clear(s.cursors)
	s.curMu.Unlock()
	s.statsMu.Lock()
	s.total = 0
	clear(s.counts)
	s.injected = nil
	s.statsMu.Unlock()
	s.apiUsed.Store(0)
	s.apiMax.Store(int64(s.opts.DailyAPILimit))
	s.out.mu.Lock()
	s.out.queue = nil
	s.out.stats = OutboundStatus{}
	s.out.mu.Unlock()
	s.SetFaults(Faults{})
	if o != nil {
		s.Seed(*o)
	}
}

// statusRecorder captures the response status for statistics.
type statusRecorder struct {
	http.ResponseWriter
	status int
	fault  string // "reset" or "timeout" when the connection was cut instead of answered
	// mangle, when set by a malformed fault, buffers the answer; ServeHTTP sends it mangled.
	mangle     *faultbody.Capture
	mangleKind string
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	if r.mangle != nil {
		r.mangle.WriteHeader(code)
		return
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.mangle != nil {
		return r.mangle.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

// ServeHTTP routes admin, OAuth and REST requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/__admin/") {
		s.serveAdmin(w, r)
		return
	}
	if r.Host != "" {
		if b := baseURL(r); b != s.out.lastBase.Load() {
			s.out.lastBase.Store(b)
		}
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	tmpl := s.serve(rec, r)
	if rec.mangle != nil {
		faultbody.Write(w, rec.mangleKind, rec.mangle)
	}
	code := strconv.Itoa(rec.status)
	if rec.fault != "" {
		code = rec.fault
	}
	s.statsMu.Lock()
	s.total++
	key := r.Method + " " + tmpl
	m := s.counts[key]
	if m == nil {
		m = map[string]int{}
		s.counts[key] = m
	}
	m[code]++
	s.statsMu.Unlock()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Salesforce sends & < > as they are, not as \u0026
	err := enc.Encode(v)
	b := bytes.TrimRight(buf.Bytes(), "\n")
	if err != nil {
		status, b = 500, []byte(`[{"message":"internal error","errorCode":"UNKNOWN_EXCEPTION"}]`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type wireError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

func writeErr(w http.ResponseWriter, e *apiError) {
	if e.Fields == nil {
		writeJSON(w, e.Status, []wireError{{Message: e.Message, ErrorCode: e.Code}})
		return
	}
	// Keep an explicit empty "fields":[] the way Salesforce sends it.
	writeJSON(w, e.Status, []struct {
		Message   string   `json:"message"`
		ErrorCode string   `json:"errorCode"`
		Fields    []string `json:"fields"`
	}{{e.Message, e.Code, e.Fields}})
}

var reVersion = regexp.MustCompile(`^v\d{2,3}\.\d$`)

// requestTemplate returns the statistics/fault key template of a request and, for REST data
// paths, the unescaped path segments after /services/data.
func requestTemplate(r *http.Request) (string, []string) {
	path := r.URL.Path
	switch {
	case !strings.HasPrefix(path, "/services/"):
		return "{other}", nil
	case path == "/services/oauth2/token", path == "/services/oauth2/authorize":
		return path, nil
	case !strings.HasPrefix(path, "/services/data"):
		return "/services/{other}", nil
	}
	if strings.Trim(strings.TrimPrefix(path, "/services/data"), "/") == "" {
		return "/services/data", nil
	}
	// Split the escaped path so an external id containing "/" (sent as %2F) stays one segment.
	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.EscapedPath(), "/services/data"), "/"), "/")
	for i, seg := range segs {
		if u, err := url.PathUnescape(seg); err == nil {
			segs[i] = u
		}
	}
	if !reVersion.MatchString(segs[0]) {
		return "/services/data/{other}", segs
	}
	return "/services/data/{version}" + templateFor(segs[1:]), segs
}

// serve handles one non-admin request and returns its path template for statistics.
func (s *Server) serve(w *statusRecorder, r *http.Request) string {
	path := r.URL.Path
	tmpl, segs := requestTemplate(r)
	if !strings.HasPrefix(path, "/services/") {
		writeErr(w, notFound())
		return tmpl
	}
	if s.applyFaults(w, r, r.Method+" "+tmpl) {
		return tmpl
	}
	s.runRequestHook(r.Method + " " + tmpl)
	switch path {
	case "/services/oauth2/token":
		s.handleToken(w, r)
		return tmpl
	case "/services/oauth2/authorize":
		s.handleAuthorize(w, r)
		return tmpl
	}
	if !strings.HasPrefix(path, "/services/data") {
		writeErr(w, notFound())
		return tmpl
	}
	if segs == nil {
		if r.Method != http.MethodGet {
			writeErr(w, methodNotAllowed(r.Method, "GET"))
		} else {
			s.handleVersions(w)
		}
		return tmpl
	}
	version := segs[0]
	if !reVersion.MatchString(version) {
		writeErr(w, notFound())
		return tmpl
	}
	if !s.authorized(r) {
		writeErr(w, errf(401, "INVALID_SESSION_ID", nil, "Session expired or invalid"))
		return tmpl
	}
	used := s.apiUsed.Add(1)
	max := s.apiMax.Load()
	if used > max {
		s.apiUsed.Add(-1)
		w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used-1, max))
		writeErr(w, errf(403, "REQUEST_LIMIT_EXCEEDED", nil, "TotalRequests Limit exceeded."))
		return tmpl
	}
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used, max))
	if e := s.injectedError(); e != nil {
		writeErr(w, e)
		return tmpl
	}
	s.route(w, r, version, segs[1:])
	return tmpl
}

func templateFor(segs []string) string {
	if len(segs) == 0 {
		return ""
	}
	switch segs[0] {
	case "limits":
		return "/limits"
	case "query", "queryAll":
		if len(segs) > 1 {
			return "/" + segs[0] + "/{locator}"
		}
		return "/" + segs[0]
	case "composite":
		switch {
		case len(segs) == 2 && segs[1] == "sobjects":
			return "/composite/sobjects"
		case len(segs) == 3 && segs[1] == "sobjects":
			return "/composite/sobjects/{object}"
		case len(segs) == 4 && segs[1] == "sobjects":
			return "/composite/sobjects/{object}/{field}"
		}
	case "sobjects":
		switch len(segs) {
		case 1:
			return "/sobjects"
		case 2:
			return "/sobjects/{object}"
		case 3:
			switch segs[2] {
			case "describe", "updated", "deleted":
				return "/sobjects/{object}/" + segs[2]
			}
			return "/sobjects/{object}/{id}"
		case 4:
			return "/sobjects/{object}/{field}/{value}"
		}
	}
	return "/{other}"
}

func methodNotAllowed(method, allowed string) *apiError {
	return errf(405, "METHOD_NOT_ALLOWED", nil, "HTTP Method '%s' not allowed. Allowed are %s", method, allowed)
}

func (s *Server) injectedError() *apiError {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	f := &s.faults
	fail := false
	if f.FailNext > 0 {
		f.FailNext--
		fail = true
	} else if f.ErrorRate > 0 && s.faultRand.Float64() < f.ErrorRate {
		fail = true
	}
	if !fail {
		return nil
	}
	e := faultError(f.ErrorStatus, f.ErrorCode)
	s.countFault("status_"+strconv.Itoa(e.Status), 1)
	return e
}

// faultError builds the Salesforce-shaped error an injected fault answers with.
func faultError(status int, code string) *apiError {
	if status == 0 {
		status = 503
	}
	msg := ""
	switch {
	case code == "UNABLE_TO_LOCK_ROW":
		msg = "unable to obtain exclusive access to this record or 1 records"
	case code != "":
		msg = "injected fault"
	case status == 503:
		code, msg = "SERVER_UNAVAILABLE", "Server temporarily unavailable"
	case status == 403 || status == 429:
		code, msg = "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
	case status == 401:
		code, msg = "INVALID_SESSION_ID", "Session expired or invalid"
	default:
		code, msg = "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: 1455118712-72838 (-1234567890)"
	}
	return &apiError{Status: status, Code: code, Message: msg}
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	var tok string
	switch {
	case strings.HasPrefix(h, "Bearer "):
		tok = h[7:]
	case strings.HasPrefix(h, "OAuth "):
		tok = h[6:]
	default:
		return false
	}
	s.tokMu.Lock()
	defer s.tokMu.Unlock()
	exp, ok := s.tokens[strings.TrimSpace(tok)]
	if !ok {
		return false
	}
	if !s.now().Before(exp) {
		delete(s.tokens, tok)
		return false
	}
	return true
}

// --- REST resources ------------------------------------------------------------------------

func (s *Server) handleVersions(w http.ResponseWriter) {
	type ver struct {
		Label   string `json:"label"`
		URL     string `json:"url"`
		Version string `json:"version"`
	}
	seasons := []string{"Winter", "Spring", "Summer"}
	var out []ver
	for v := 20; v <= 66; v++ {
		n := v - 20
		out = append(out, ver{
			Label:   fmt.Sprintf("%s '%02d", seasons[n%3], 11+n/3),
			URL:     fmt.Sprintf("/services/data/v%d.0", v),
			Version: fmt.Sprintf("%d.0", v),
		})
	}
	writeJSON(w, 200, out)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, version string, segs []string) {
	if len(segs) == 0 {
		if r.Method != http.MethodGet {
			writeErr(w, methodNotAllowed(r.Method, "GET,HEAD"))
			return
		}
		base := "/services/data/" + version
		writeJSON(w, 200, map[string]string{"limits": base + "/limits", "query": base + "/query",
			"queryAll": base + "/queryAll", "sobjects": base + "/sobjects"})
		return
	}
	switch segs[0] {
	case "limits":
		if len(segs) != 1 || r.Method != http.MethodGet {
			writeErr(w, notFound())
			return
		}
		s.handleLimits(w)
	case "query", "queryAll":
		if r.Method != http.MethodGet {
			writeErr(w, methodNotAllowed(r.Method, "GET,HEAD"))
			return
		}
		switch len(segs) {
		case 1:
			s.handleQuery(w, r, version, segs[0] == "queryAll")
		case 2:
			s.handleQueryMore(w, r, version, segs[1])
		default:
			writeErr(w, notFound())
		}
	case "sobjects":
		s.routeSObjects(w, r, version, segs[1:])
	case "composite":
		s.routeComposite(w, r, version, segs[1:])
	default:
		writeErr(w, notFound())
	}
}

func (s *Server) handleLimits(w http.ResponseWriter) {
	max := s.apiMax.Load()
	remaining := max - s.apiUsed.Load()
	if remaining < 0 {
		remaining = 0
	}
	type lim struct {
		Max       int64 `json:"Max"`
		Remaining int64 `json:"Remaining"`
	}
	writeJSON(w, 200, map[string]lim{
		"DailyApiRequests":                  {max, remaining},
		"DailyAsyncApexExecutions":          {250000, 250000},
		"DailyBulkApiBatches":               {15000, 15000},
		"DailyBulkV2QueryJobs":              {10000, 10000},
		"DailyBulkV2QueryFileStorageMB":     {976562, 976562},
		"DailyDurableStreamingApiEvents":    {10000, 10000},
		"DailyStreamingApiEvents":           {10000, 10000},
		"DataStorageMB":                     {1024, 1000},
		"FileStorageMB":                     {20480, 20480},
		"HourlyPublishedPlatformEvents":     {50000, 50000},
		"SingleEmail":                       {5000, 5000},
		"ConcurrentAsyncGetReportInstances": {200, 200},
	})
}

func batchSize(r *http.Request, def int) int {
	h := r.Header.Get("Sforce-Query-Options")
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "batchSize") {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return min(max(n, 200), 2000)
			}
		}
	}
	return def
}

func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request, version string, all bool) {
	q := r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		writeErr(w, errf(400, "MALFORMED_QUERY", nil, "A query string has to be specified"))
		return
	}
	s.mu.RLock()
	res, err := s.st.runQuery(q, version, all)
	s.mu.RUnlock()
	if err != nil {
		writeErr(w, err)
		return
	}
	s.writePage(w, version, res, "", 0, batchSize(r, 2000))
}

func (s *Server) handleQueryMore(w http.ResponseWriter, r *http.Request, version, locator string) {
	i := strings.LastIndexByte(locator, '-')
	var res *queryResult
	var offset int
	if i > 0 {
		offset, _ = strconv.Atoi(locator[i+1:])
		s.curMu.Lock()
		res = s.cursors[locator[:i]]
		s.curMu.Unlock()
	}
	if res == nil || offset <= 0 || offset > len(res.rows) {
		writeErr(w, errf(400, "INVALID_QUERY_LOCATOR", nil, "invalid query locator"))
		return
	}
	s.writePage(w, version, res, locator[:i], offset, batchSize(r, 2000))
}

// writePage renders one page of res starting at offset, registering a cursor when more remain.
func (s *Server) writePage(w http.ResponseWriter, version string, res *queryResult, locator string, offset, size int) {
	end := min(offset+size, len(res.rows))
	done := end >= len(res.rows)
	if !done && locator == "" {
		s.curMu.Lock()
		s.curSeq++
		locator = makeID("01g", idCounterStart+s.curSeq*7919) // 18 chars like 01gRO0000016PIAYA2
		now := s.now()
		res.created = now
		if len(s.cursors) >= 256 {
			for k, c := range s.cursors {
				if now.Sub(c.created) > 15*time.Minute {
					delete(s.cursors, k)
				}
			}
		}
		s.cursors[locator] = res
		s.curMu.Unlock()
	}
	size = 64
	for _, row := range res.rows[offset:end] {
		size += len(row) + 1
	}
	b := bytes.NewBuffer(make([]byte, 0, size+128))
	b.WriteString(`{"totalSize":`)
	b.WriteString(strconv.Itoa(res.totalSize))
	b.WriteString(`,"done":`)
	b.WriteString(strconv.FormatBool(done))
	if !done {
		b.WriteString(`,"nextRecordsUrl":"/services/data/`)
		b.WriteString(version)
		b.WriteString("/query/")
		b.WriteString(locator)
		b.WriteByte('-')
		b.WriteString(strconv.Itoa(end))
		b.WriteByte('"')
	}
	b.WriteString(`,"records":[`)
	for i, row := range res.rows[offset:end] {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(row)
	}
	b.WriteString("]}")
	writeRaw(w, 200, b.Bytes())
}

func decodeBody(r *http.Request) (map[string]any, *apiError) {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<20))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			return nil, errf(400, "JSON_PARSER_ERROR", nil, "No content to map due to end-of-input at [line:1, column:0]")
		}
		return nil, errf(400, "JSON_PARSER_ERROR", nil, "Unexpected character: %s at [line:1, column:%d]", err.Error(), dec.InputOffset()+1)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errf(400, "JSON_PARSER_ERROR", nil, "Cannot deserialize instance of SObject from %s value %s at [line:1, column:1]", jsonTokenName(v), jsonStart(v))
	}
	return m, nil
}

func (s *Server) routeSObjects(w http.ResponseWriter, r *http.Request, version string, segs []string) {
	if len(segs) == 0 {
		if r.Method != http.MethodGet {
			writeErr(w, methodNotAllowed(r.Method, "GET,HEAD"))
			return
		}
		s.handleDescribeGlobal(w, version)
		return
	}
	o := s.schema.object(segs[0])
	if o == nil {
		writeErr(w, notFound())
		return
	}
	switch len(segs) {
	case 1:
		switch r.Method {
		case http.MethodPost:
			s.handleCreate(w, r, o)
		case http.MethodGet:
			writeJSON(w, 200, map[string]any{"objectDescribe": s.applyObjectPermissions(describeGlobalEntry(o, version), o), "recentItems": []any{}})
		default:
			writeErr(w, methodNotAllowed(r.Method, "GET,HEAD,POST"))
		}
	case 2:
		if segs[1] == "updated" || segs[1] == "deleted" {
			if r.Method != http.MethodGet {
				writeErr(w, methodNotAllowed(r.Method, "GET,HEAD"))
				return
			}
			s.handleReplication(w, r, o, segs[1] == "deleted")
			return
		}
		if segs[1] == "describe" {
			if r.Method != http.MethodGet {
				writeErr(w, methodNotAllowed(r.Method, "GET,HEAD"))
				return
			}
			writeJSON(w, 200, s.applyObjectPermissions(describe(o, version), o))
			return
		}
		switch r.Method {
		case http.MethodGet:
			s.handleGet(w, r, o, version, segs[1])
		case http.MethodPatch:
			s.handleUpdate(w, r, o, segs[1])
		case http.MethodDelete:
			s.handleDelete(w, o, segs[1])
		default:
			writeErr(w, methodNotAllowed(r.Method, "GET,PATCH,HEAD,DELETE"))
		}
	case 3:
		switch r.Method {
		case http.MethodGet:
			s.handleGetByExternal(w, r, o, version, segs[1], segs[2])
		case http.MethodPatch:
			s.handleUpsert(w, r, o, version, segs[1], segs[2])
		default:
			writeErr(w, methodNotAllowed(r.Method, "GET,PATCH,HEAD"))
		}
	default:
		writeErr(w, notFound())
	}
}

type saveResult struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
	Errors  []any  `json:"errors"`
	Created *bool  `json:"created,omitempty"`
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, o *objectDef) {
	body, err := decodeBody(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.mu.Lock()
	rec, err := s.st.create(o, body, s.now())
	s.commitLocked()
	s.mu.Unlock()
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, 201, saveResult{ID: rec.id, Success: true, Errors: []any{}})
}

func (s *Server) selectFields(o *objectDef, param string) ([]*fieldDef, *apiError) {
	if param == "" {
		return nil, nil
	}
	var out []*fieldDef
	for _, name := range strings.Split(param, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		f := o.field(name)
		if f == nil {
			return nil, errf(400, "INVALID_FIELD", nil, "No such column '%s' on entity '%s'%s", name, o.Name, noSuchColumnHint)
		}
		out = append(out, f)
	}
	// Salesforce always adds Id to a field-restricted retrieve.
	for _, f := range out {
		if f.Name == "Id" {
			return out, nil
		}
	}
	return append(out, o.field("Id")), nil
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, o *objectDef, version, rawID string) {
	fields, err := s.selectFields(o, r.URL.Query().Get("fields"))
	if err != nil {
		writeErr(w, err)
		return
	}
	s.mu.RLock()
	rec, err := s.st.lookupRecord(o, rawID)
	var b []byte
	if err == nil {
		b = appendRecord(nil, rec, fields, version)
	}
	s.mu.RUnlock()
	if err != nil {
		writeErr(w, err)
		return
	}
	writeRaw(w, 200, b)
}

func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request, o *objectDef, rawID string) {
	body, err := decodeBody(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.mu.Lock()
	rec, err := s.st.lookupRecord(o, rawID)
	if err == nil {
		err = s.st.update(rec, body, s.now())
	}
	s.commitLocked()
	s.mu.Unlock()
	if err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleDelete(w http.ResponseWriter, o *objectDef, rawID string) {
	if !s.perms.get().objectFlag(o.Name, "deletable", o.Name != "User") {
		writeErr(w, errf(400, "INSUFFICIENT_ACCESS_OR_READONLY", []string{}, "insufficient access rights on object id"))
		return
	}
	s.mu.Lock()
	rec, err := s.st.lookupRecord(o, rawID)
	if err == nil {
		s.st.remove(rec, s.now())
	}
	s.mu.Unlock()
	if err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func recordURLs(recs []*record, version string) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = "/services/data/" + version + "/sobjects/" + r.obj.Name + "/" + r.id
	}
	return out
}

func (s *Server) handleGetByExternal(w http.ResponseWriter, r *http.Request, o *objectDef, version, field, value string) {
	fields, err := s.selectFields(o, r.URL.Query().Get("fields"))
	if err != nil {
		writeErr(w, err)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, recs, err := s.st.findByExternal(o, field, value)
	switch {
	case err != nil:
		writeErr(w, err)
	case len(recs) == 0:
		writeErr(w, notFound())
	case len(recs) > 1:
		writeJSON(w, http.StatusMultipleChoices, recordURLs(recs, version))
	default:
		writeRaw(w, 200, appendRecord(nil, recs[0], fields, version))
	}
}

func apiVersionNumber(version string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimPrefix(version, "v"), 64)
	return f
}

func (s *Server) handleUpsert(w http.ResponseWriter, r *http.Request, o *objectDef, version, field, value string) {
	body, err := decodeBody(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	updateOnly, _ := strconv.ParseBool(r.URL.Query().Get("updateOnly"))
	s.mu.Lock()
	f, recs, err := s.st.findByExternal(o, field, value)
	var rec *record
	created := false
	if err == nil {
		for k, v := range body {
			if strings.EqualFold(k, f.Name) {
				if sv, ok := v.(string); !ok || !strings.EqualFold(sv, value) {
					err = errf(400, "INVALID_FIELD", nil, "The value of the external ID field in the body doesn't match the value in the URL: %s", f.Name)
				}
				delete(body, k)
			}
		}
	}
	if err == nil {
		switch {
		case len(recs) > 1:
		case len(recs) == 1:
			rec = recs[0]
			err = s.st.update(rec, body, s.now())
		case updateOnly || f.Name == "Id":
			err = notFound()
		default:
			body[f.Name] = value
			rec, err = s.st.create(o, body, s.now())
			created = true
		}
	}
	s.commitLocked()
	s.mu.Unlock()
	switch {
	case err != nil:
		writeErr(w, err)
	case len(recs) > 1:
		writeJSON(w, http.StatusMultipleChoices, recordURLs(recs, version))
	case created:
		res := saveResult{ID: rec.id, Success: true, Errors: []any{}}
		if apiVersionNumber(version) >= 46 {
			res.Created = &created
		}
		writeJSON(w, http.StatusCreated, res)
	case apiVersionNumber(version) >= 46:
		writeJSON(w, http.StatusOK, saveResult{ID: rec.id, Success: true, Errors: []any{}, Created: &created})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// SetClock replaces the emulated org's clock, e.g. to give several writes the very same
// SystemModstamp in a test. It is safe to call while requests are served.
func (s *Server) SetClock(now func() time.Time) {
	s.clock.Store(&now)
}

// SetRequestHook makes the next request whose statistics key ("PATCH
// /services/data/{version}/sobjects/{object}/{id}") is key call fn before it is handled, once.
// Tests use it to change data at an exact point of a client's call sequence (a record deleted
// between a sync's read and its write), which timing cannot do reliably. fn may call the emulator
// over HTTP; nil clears the hook.
func (s *Server) SetRequestHook(key string, fn func()) {
	s.hookMu.Lock()
	s.hookKey, s.hookFn = key, fn
	s.hookMu.Unlock()
}

func (s *Server) runRequestHook(key string) {
	s.hookMu.Lock()
	fn := s.hookFn
	if fn == nil || s.hookKey != key {
		s.hookMu.Unlock()
		return
	}
	s.hookKey, s.hookFn = "", nil
	s.hookMu.Unlock()
	fn()
}

// countFault adds n injected faults of one kind to Stats.Faults.
func (s *Server) countFault(kind string, n int) {
	if n <= 0 {
		return
	}
	s.statsMu.Lock()
	if s.injected == nil {
		s.injected = map[string]int{}
	}
	s.injected[kind] += n
	s.statsMu.Unlock()
}
