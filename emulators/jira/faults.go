package jira

import (
	"crypto/subtle"
	"encoding/json"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sfjira/sfjira/emulators/internal/faultbody"
)

// Faults is the fault-injection configuration accepted by POST /__admin/faults (and
// SetFaults). Every random decision draws from a generator seeded with Seed, so the same
// seed and the same sequence of requests give the same faults. Setting faults resets all
// counters and the generator.
type Faults struct {
	// LatencyMS delays every REST call; JitterMS adds a uniform 0..JitterMS on top.
	LatencyMS int `json:"latency_ms,omitempty"`
	JitterMS  int `json:"jitter_ms,omitempty"`
	// ErrorRate fails this fraction of all REST calls with ErrorStatus (default 503).
	ErrorRate   float64 `json:"error_rate,omitempty"`
	ErrorStatus int     `json:"error_status,omitempty"`
	// RetryAfterS is sent as Retry-After on injected 429/5xx answers (429 default 1).
	RetryAfterS int `json:"retry_after_s,omitempty"`
	// RateLimit429Every answers every Nth REST call with 429 (burst limit).
	RateLimit429Every int `json:"rate_limit_429_every,omitempty"`
	// SearchLagMS hides created/updated issues from JQL search for this long.
	SearchLagMS int `json:"search_lag_ms,omitempty"`
	// Seed seeds the fault generator (0 = the default seed).
	Seed int64 `json:"seed,omitempty"`
	// Rules inject faults per endpoint (stats template such as "POST /rest/api/3/issue",
	// or "*" for all); the first firing rule wins.
	Rules []FaultRule `json:"rules,omitempty"`
	// ExpireTokens makes the next N correctly authenticated calls answer 401, as if the
	// credential had expired and been renewed (basic auth has no refresh flow; a client
	// that retries after re-reading its credentials succeeds once N are used up).
	ExpireTokens int `json:"expire_tokens,omitempty"`
	// ExpireTokensForMS makes every call answer 401 for this long after the faults are set.
	ExpireTokensForMS int `json:"expire_tokens_for_ms,omitempty"`
	// WebhookDropRate silently loses this fraction of webhook deliveries.
	WebhookDropRate float64 `json:"webhook_drop_rate,omitempty"`
	// WebhookDupRate delivers this fraction twice (same X-Atlassian-Webhook-Identifier).
	WebhookDupRate float64 `json:"webhook_dup_rate,omitempty"`
	// WebhookReorder holds deliveries for a window (WebhookReorderWindowMS, default 100)
	// and sends the ones released together newest first.
	WebhookReorder         bool `json:"webhook_reorder,omitempty"`
	WebhookReorderWindowMS int  `json:"webhook_reorder_window_ms,omitempty"`
	// WebhookRetryBaseMS overrides Options.WebhookRetryBase (first retry delay; doubles).
	WebhookRetryBaseMS int `json:"webhook_retry_base_ms,omitempty"`
}

// FaultRule injects a fault on one endpoint. It fires with probability ErrorRate, or on
// every Every-th matching call, or (when neither is set) on every matching call, at most
// Count times when Count > 0.
type FaultRule struct {
	// Endpoint is a stats template ("POST /rest/api/3/issue") or "*".
	Endpoint  string  `json:"endpoint"`
	ErrorRate float64 `json:"error_rate,omitempty"`
	Every     int     `json:"every,omitempty"`
	Count     int     `json:"count,omitempty"`
	// Kind is "status" (default: answer Status), "reset" (drop the TCP connection with
	// RST, no response), "timeout" (hold the request TimeoutMS, then close it) or
	// "malformed" (the call runs and has its effect, but a success answer's body is replaced
	// as Body says).
	Kind string `json:"kind,omitempty"`
	// Body is the malformed answer: "truncated" (default: the first half of the JSON),
	// "html" (a login page), "empty" (200 with no body) or "wrong_types" (every top-level
	// value of another JSON type).
	Body string `json:"body,omitempty"`
	// Status is the HTTP status for kind "status" (default 503; 429 adds rate-limit headers).
	Status      int    `json:"status,omitempty"`
	RetryAfterS int    `json:"retry_after_s,omitempty"`
	Reason      string `json:"reason,omitempty"` // RateLimit-Reason for 429, default jira-burst-based
	// Errors are the field errors of a kind "status" answer ({"errors": {"customfield_…": "…"}}),
	// as Jira sends on 400s — some of which quote the refused value ("Option value 'x' is not
	// valid"): tests use them to check what the connector does with such text.
	Errors    map[string]string `json:"errors,omitempty"`
	TimeoutMS int               `json:"timeout_ms,omitempty"`
	// LatencyMS/JitterMS delay matching calls whether or not the rule fires.
	LatencyMS int `json:"latency_ms,omitempty"`
	JitterMS  int `json:"jitter_ms,omitempty"`
}

func (f *Faults) validate() string {
	if f.ErrorRate < 0 || f.ErrorRate > 1 || f.LatencyMS < 0 || f.JitterMS < 0 || f.SearchLagMS < 0 || f.RateLimit429Every < 0 ||
		f.RetryAfterS < 0 || (f.ErrorStatus != 0 && (f.ErrorStatus < 400 || f.ErrorStatus > 599)) || f.ExpireTokens < 0 ||
		f.ExpireTokensForMS < 0 || f.WebhookDropRate < 0 || f.WebhookDropRate > 1 || f.WebhookDupRate < 0 || f.WebhookDupRate > 1 ||
		f.WebhookReorderWindowMS < 0 || f.WebhookRetryBaseMS < 0 {
		return "values out of range"
	}
	for i, r := range f.Rules {
		bad := r.Endpoint == "" || r.ErrorRate < 0 || r.ErrorRate > 1 || r.Every < 0 || r.Count < 0 || r.RetryAfterS < 0 ||
			r.TimeoutMS < 0 || r.LatencyMS < 0 || r.JitterMS < 0 || (r.Status != 0 && (r.Status < 400 || r.Status > 599))
		switch r.Kind {
		case "", "status", "reset", "timeout":
			bad = bad || r.Body != ""
		case "malformed":
			bad = bad || !faultbody.Valid(r.Body)
		default:
			bad = true
		}
		if bad {
			return "rule " + strconv.Itoa(i) + ": endpoint is required, kind must be status, reset, timeout or malformed (body only with malformed: " +
				strings.Join(faultbody.Kinds, ", ") + "), status 400-599, rates 0..1"
		}
	}
	return ""
}

type faultState struct {
	f           Faults
	rng         *rand.Rand
	whRng       *rand.Rand
	reqCount    int64
	ruleSeen    []int
	ruleFired   []int
	expireLeft  int
	expireUntil time.Time
}

func newFaultState(f Faults, now time.Time) faultState {
	a, b := uint64(1), uint64(2)
	if f.Seed != 0 {
		a, b = uint64(f.Seed), uint64(f.Seed)*0x9E3779B97F4A7C15+7
	}
	st := faultState{f: f, rng: rand.New(rand.NewPCG(a, b)), whRng: rand.New(rand.NewPCG(b, a^0x5DEECE66D)),
		ruleSeen: make([]int, len(f.Rules)), ruleFired: make([]int, len(f.Rules)), expireLeft: f.ExpireTokens}
	if f.ExpireTokensForMS > 0 {
		st.expireUntil = now.Add(time.Duration(f.ExpireTokensForMS) * time.Millisecond)
	}
	return st
}

// SetFaults replaces the fault configuration; the Go equivalent of POST /__admin/faults.
func (s *Server) SetFaults(f Faults) {
	s.fmu.Lock()
	s.fs = newFaultState(f, time.Now())
	s.fmu.Unlock()
}

func (s *Server) currentFaults() Faults {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return s.fs.f
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

// webhookDice decides drop/duplicate for one delivery.
func (s *Server) webhookDice(f Faults) (drop, dup bool) {
	if f.WebhookDropRate == 0 && f.WebhookDupRate == 0 {
		return false, false
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if f.WebhookDropRate > 0 {
		drop = s.fs.whRng.Float64() < f.WebhookDropRate
	}
	if f.WebhookDupRate > 0 {
		dup = s.fs.whRng.Float64() < f.WebhookDupRate
	}
	return drop, dup
}

func (s *Server) handleAdminFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		writeMsg(w, 400, "invalid faults document: "+err.Error())
		return
	}
	if msg := f.validate(); msg != "" {
		writeMsg(w, 400, "invalid faults document: "+msg)
		return
	}
	s.SetFaults(f)
	writeJSON(w, 200, f)
}

// decision is what the fault layer decided for one call.
type decision struct {
	n          int64
	delay      time.Duration
	rate429    bool
	globalFail bool
	rule       *FaultRule
	expired    bool
	f          Faults
}

func (s *Server) decide(endpoint string, now time.Time) decision {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	st := &s.fs
	f := st.f
	st.reqCount++
	d := decision{n: st.reqCount, f: f}
	d.delay = time.Duration(f.LatencyMS) * time.Millisecond
	if f.JitterMS > 0 {
		d.delay += time.Duration(st.rng.IntN(f.JitterMS+1)) * time.Millisecond
	}
	d.rate429 = f.RateLimit429Every > 0 && d.n%int64(f.RateLimit429Every) == 0
	d.globalFail = f.ErrorRate > 0 && st.rng.Float64() < f.ErrorRate
	for i := range f.Rules {
		rule := &f.Rules[i]
		if rule.Endpoint != "*" && rule.Endpoint != endpoint {
			continue
		}
		st.ruleSeen[i]++
		d.delay += time.Duration(rule.LatencyMS) * time.Millisecond
		if rule.JitterMS > 0 {
			d.delay += time.Duration(st.rng.IntN(rule.JitterMS+1)) * time.Millisecond
		}
		var fire bool
		switch {
		case rule.ErrorRate > 0:
			fire = st.rng.Float64() < rule.ErrorRate
		case rule.Every > 0:
			fire = st.ruleSeen[i]%rule.Every == 0
		default:
			fire = rule.Kind != "" || rule.Status != 0
		}
		if fire && (rule.Count == 0 || st.ruleFired[i] < rule.Count) && d.rule == nil {
			st.ruleFired[i]++
			d.rule = rule
		}
	}
	if now.Before(st.expireUntil) {
		d.expired = true
	}
	return d
}

// consumeExpiry uses one of the expire_tokens budget for an authenticated call.
func (s *Server) consumeExpiry() bool {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.fs.expireLeft > 0 {
		s.fs.expireLeft--
		return true
	}
	return false
}

// endpointTemplate names the call the way the stats do (before the handler runs).
func endpointTemplate(r *http.Request) string {
	if r.Pattern == "GET /rest/api/3/issue/{issueIdOrKey}/{sub}/{subKey}" {
		return subGetTemplate(r)
	}
	if r.Pattern == "" {
		return r.Method + " (unmatched)"
	}
	return r.Pattern
}

func sleepCtx(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// dropConnection hijacks the connection and closes it; with rst the close sends a TCP
// reset (SO_LINGER 0) so clients see "connection reset by peer".
func dropConnection(w http.ResponseWriter, rst bool) {
	if rec, ok := w.(*statusRecorder); ok {
		rec.status, rec.wrote = 0, true
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2 or a recorder: abort the stream instead
	}
	if tc, ok := conn.(*net.TCPConn); ok && rst {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func write429(w http.ResponseWriter, now time.Time, retryAfter int, reason string) {
	ra := max(retryAfter, 1)
	if reason == "" {
		reason = "jira-burst-based"
	}
	hdr := w.Header()
	hdr.Set("X-RateLimit-Remaining", "0")
	hdr.Set("Retry-After", strconv.Itoa(ra))
	hdr.Set("X-RateLimit-Reset", now.Add(time.Duration(ra)*time.Second).UTC().Format("2006-01-02T15:04Z"))
	hdr.Set("X-RateLimit-NearLimit", "true")
	hdr.Set("RateLimit-Reason", reason)
	writeErr(w, http.StatusTooManyRequests, []string{"Rate limit exceeded."}, nil)
}

func writeUnauthorized(w http.ResponseWriter, sentCredentials bool) {
	// Jira Cloud answers bad or missing API-token credentials on protected resources
	// with a plain-text 401 and a Seraph login reason.
	hdr := w.Header()
	if sentCredentials {
		hdr.Set("X-Seraph-Loginreason", "AUTHENTICATED_FAILED")
	}
	hdr.Set("Www-Authenticate", `Basic realm="protected-by-atlassian"`)
	hdr.Set("Content-Type", "text/plain;charset=UTF-8")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte("Client must be authenticated to access this resource."))
}

// api wraps a REST handler with fault injection, rate-limit headers and basic auth.
func (s *Server) api(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := s.now()
		d := s.decide(endpointTemplate(r), time.Now())
		s.fmu.Lock()
		if now.Sub(s.winStart) >= time.Second {
			s.winStart, s.winCount = now, 0
		}
		s.winCount++
		remaining := max(rateLimitPerSecond-s.winCount, 0)
		s.fmu.Unlock()

		if d.delay > 0 {
			s.countFault("latency", 1)
		}
		if !sleepCtx(r, d.delay) {
			return
		}
		f := d.f
		hdr := w.Header()
		hdr.Set("X-RateLimit-Limit", strconv.Itoa(rateLimitPerSecond))
		hdr.Set("X-Arequestid", strconv.FormatInt(d.n, 10))
		if d.rate429 {
			s.countFault("status_429", 1)
			write429(w, now, f.RetryAfterS, "")
			return
		}
		hdr.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		if d.globalFail {
			st := f.ErrorStatus
			if st == 0 {
				st = http.StatusServiceUnavailable
			}
			s.countFault("status_"+strconv.Itoa(st), 1)
			if st == http.StatusTooManyRequests {
				write429(w, now, f.RetryAfterS, "")
				return
			}
			if f.RetryAfterS > 0 {
				hdr.Set("Retry-After", strconv.Itoa(f.RetryAfterS))
			}
			writeErr(w, st, []string{http.StatusText(st) + " (injected fault)"}, nil)
			return
		}
		var mangle *FaultRule
		if rule := d.rule; rule != nil && rule.Kind == "malformed" {
			mangle, d.rule = rule, nil
		}
		if rule := d.rule; rule != nil {
			switch rule.Kind {
			case "reset":
				s.countFault("reset", 1)
				dropConnection(w, true)
				return
			case "timeout":
				s.countFault("timeout", 1)
				hold := time.Duration(rule.TimeoutMS) * time.Millisecond
				if hold == 0 {
					hold = 30 * time.Second
				}
				sleepCtx(r, hold)
				dropConnection(w, false)
				return
			}
			st := rule.Status
			if st == 0 {
				st = http.StatusServiceUnavailable
			}
			s.countFault("status_"+strconv.Itoa(st), 1)
			if st == http.StatusTooManyRequests {
				write429(w, now, rule.RetryAfterS, rule.Reason)
				return
			}
			if rule.RetryAfterS > 0 {
				hdr.Set("Retry-After", strconv.Itoa(rule.RetryAfterS))
			}
			if len(rule.Errors) > 0 {
				writeErr(w, st, []string{}, rule.Errors)
				return
			}
			writeErr(w, st, []string{http.StatusText(st) + " (injected fault)"}, nil)
			return
		}
		got := r.Header.Get("Authorization")
		if subtle.ConstantTimeCompare([]byte(got), []byte(s.authHeader)) != 1 && !s.bearerOK(got) {
			writeUnauthorized(w, got != "")
			return
		}
		if d.expired || s.consumeExpiry() {
			s.countFault("token_expired", 1)
			writeUnauthorized(w, true)
			return
		}
		if mangle != nil {
			s.countFault("malformed", 1)
			c := faultbody.NewCapture(w.Header())
			fn(c, r)
			faultbody.Write(w, mangle.Body, c)
			return
		}
		fn(w, r)
	}
}
