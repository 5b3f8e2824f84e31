package salesforce

import (
	"cmp"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sfjira/sfjira/emulators/internal/faultbody"
)

// FaultRule injects failures on one endpoint. Endpoint is a statistics key such as
// "GET /services/data/{version}/query", a template without method ("/services/oauth2/token"),
// or "*" for every /services/ call. A rule fires on fail_next matching requests, then with
// probability error_rate; a rule with neither fires on every matching request.
type FaultRule struct {
	Endpoint  string  `json:"endpoint"`
	ErrorRate float64 `json:"error_rate,omitempty"`
	FailNext  int     `json:"fail_next,omitempty"`
	Status    int     `json:"status,omitempty"`     // 429, 500, 502, 503, … (default 503)
	ErrorCode string  `json:"error_code,omitempty"` // errorCode of the JSON body; default from status
	Kind      string  `json:"kind,omitempty"`       // "" (HTTP error), "reset", "timeout" or "malformed"
	// Body is the answer of kind malformed (the call runs and has its effect; a success answer's
	// body is replaced): "truncated" (default), "html" (a login page), "empty" (200, no body) or
	// "wrong_types" (every top-level value of another JSON type).
	Body        string `json:"body,omitempty"`
	RetryAfterS int    `json:"retry_after_s,omitempty"` // Retry-After on 429/503 (default 1 for 429)
	TimeoutMS   int    `json:"timeout_ms,omitempty"`    // kind timeout: hold this long, then close (default 30000)
	LatencyMS   int    `json:"latency_ms,omitempty"`    // extra latency on matching requests (fired or not)
	JitterMS    int    `json:"jitter_ms,omitempty"`
}

func (fr *FaultRule) matches(key string) bool {
	if fr.Endpoint == "*" {
		return true
	}
	if fr.Endpoint == key {
		return true
	}
	_, tmpl, _ := strings.Cut(key, " ")
	return fr.Endpoint == tmpl
}

// applyFaults adds latency and fires the first matching rule; it reports whether the request was
// answered (or its connection cut) by a fault. Random draws happen under faultMu in request order,
// so the same seed and the same request sequence give the same faults.
func (s *Server) applyFaults(w *statusRecorder, r *http.Request, key string) bool {
	s.faultMu.Lock()
	f := &s.faults
	delay := time.Duration(f.LatencyMS) * time.Millisecond
	if f.JitterMS > 0 {
		delay += time.Duration(s.faultRand.Int63n(int64(f.JitterMS)*int64(time.Millisecond) + 1))
	}
	var fired *FaultRule
	for i := range f.Rules {
		rule := &f.Rules[i]
		if !rule.matches(key) {
			continue
		}
		delay += time.Duration(rule.LatencyMS) * time.Millisecond
		if rule.JitterMS > 0 {
			delay += time.Duration(s.faultRand.Int63n(int64(rule.JitterMS)*int64(time.Millisecond) + 1))
		}
		if fired != nil {
			continue
		}
		switch {
		case rule.FailNext > 0:
			rule.FailNext--
			fired = rule
		case rule.ErrorRate > 0:
			if s.faultRand.Float64() < rule.ErrorRate {
				fired = rule
			}
		case s.ruleAlways[i]:
			fired = rule
		}
	}
	var rule FaultRule
	if fired != nil {
		rule = *fired
	}
	s.faultMu.Unlock()

	if delay > 0 {
		s.countFault("latency", 1)
		if !sleepCtx(r, delay) {
			return true
		}
	}
	if fired == nil {
		return false
	}
	switch rule.Kind {
	case "reset", "timeout", "malformed":
		s.countFault(rule.Kind, 1)
	default:
		s.countFault("status_"+strconv.Itoa(cmp.Or(rule.Status, 503)), 1)
	}
	switch rule.Kind {
	case "malformed":
		w.mangle = faultbody.NewCapture(w.Header())
		w.mangleKind = rule.Body
		return false
	case "reset":
		w.fault = "reset"
		hijackClose(w.ResponseWriter, true)
		return true
	case "timeout":
		w.fault = "timeout"
		hold := time.Duration(rule.TimeoutMS) * time.Millisecond
		if hold <= 0 {
			hold = 30 * time.Second
		}
		sleepCtx(r, hold)
		hijackClose(w.ResponseWriter, false)
		return true
	}
	status := rule.Status
	if status == 0 {
		status = 503
	}
	ra := rule.RetryAfterS
	if ra == 0 && status == http.StatusTooManyRequests {
		ra = 1
	}
	if ra > 0 && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		w.Header().Set("Retry-After", strconv.Itoa(ra))
	}
	if status == http.StatusBadGateway && rule.ErrorCode == "" {
		// A proxy in front of the org answers, not the API: HTML, not JSON.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"))
		return true
	}
	writeErr(w, faultError(status, rule.ErrorCode))
	return true
}

// sleepCtx waits d or until the client goes away; it reports whether the full time passed.
func sleepCtx(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// hijackClose drops the connection without an HTTP response; rst sends a TCP reset.
func hijackClose(w http.ResponseWriter, rst bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// HTTP/2 or a recorder: abort the handler, which resets the stream.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok && rst {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
