package salesforce

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const ackOK = `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>`

// receiver records outbound deliveries; fail makes the first n answers fail.
type receiver struct {
	mu      sync.Mutex
	bodies  []string
	headers []http.Header
	fail    int
	hs      *httptest.Server
}

func newReceiver(t *testing.T, fail int) *receiver {
	rc := &receiver{fail: fail}
	rc.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.bodies = append(rc.bodies, string(b))
		rc.headers = append(rc.headers, r.Header.Clone())
		if rc.fail > 0 {
			rc.fail--
			http.Error(w, "boom", 500)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, ackOK)
	}))
	t.Cleanup(rc.hs.Close)
	return rc
}

func (rc *receiver) got() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.bodies...)
}

func (rc *receiver) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b := rc.got(); len(b) >= n {
			return b
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("want %d deliveries, got %d", n, len(rc.got()))
	return nil
}

// waitOutbound polls the queue status until cond holds (counters change just after the receiver answers).
func (e *env) waitOutbound(cond func(OutboundStatus) bool) OutboundStatus {
	deadline := time.Now().Add(5 * time.Second)
	for {
		q := e.srv.OutboundQueue()
		if cond(q) || time.Now().After(deadline) {
			return q
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func newOutboundEnv(t *testing.T, rc *receiver, fields ...string) *env {
	opts := DemoOptions()
	opts.OutboundRetryBase = 10 * time.Millisecond
	e := newEnv(t, opts)
	t.Cleanup(e.srv.Close)
	if fields == nil {
		fields = []string{"Id", "Name", "StageName", "Amount", "SystemModstamp"}
	}
	cfg, _ := json.Marshal(map[string]any{"object": "Opportunity", "url": rc.hs.URL + "/webhooks/salesforce", "fields": fields})
	resp, err := http.Post(e.hs.URL+"/__admin/outbound", "application/json", strings.NewReader(string(cfg)))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	return e
}

func (e *env) createOpp(name string) string {
	e.t.Helper()
	code, _, b := e.do("POST", "/services/data/v62.0/sobjects/Opportunity", opp(name))
	require.Equal(e.t, 201, code, string(b))
	var r map[string]any
	require.NoError(e.t, json.Unmarshal(b, &r))
	return r["id"].(string)
}

func TestOutboundMessageDelivery(t *testing.T) {
	rc := newReceiver(t, 0)
	e := newOutboundEnv(t, rc)
	id := e.createOpp(`Q3 "Platinum" & <more>`)
	bodies := rc.waitFor(t, 1)
	b := bodies[0]
	assert.Contains(t, b, `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"`)
	assert.Contains(t, b, `<notifications xmlns="http://soap.sforce.com/2005/09/outbound">`)
	assert.Contains(t, b, "<OrganizationId>"+e.srv.orgID+"</OrganizationId>")
	assert.Regexp(t, `<ActionId>04k\w{15}</ActionId>`, b)
	assert.Contains(t, b, `<SessionId xsi:nil="true"/>`)
	assert.Contains(t, b, "<EnterpriseUrl>"+e.hs.URL+"/services/Soap/c/")
	assert.Regexp(t, `<Notification><Id>04l\w{15}</Id><sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>`+id+`</sf:Id>`, b)
	assert.Contains(t, b, `<sf:Name>Q3 &#34;Platinum&#34; &amp; &lt;more&gt;</sf:Name>`)
	assert.Contains(t, b, `<sf:Amount xsi:nil="true"/>`)
	assert.Regexp(t, `<sf:SystemModstamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z</sf:SystemModstamp>`, b)
	rc.mu.Lock()
	h := rc.headers[0]
	rc.mu.Unlock()
	assert.Equal(t, `""`, h.Get("SOAPAction"))
	assert.True(t, strings.HasPrefix(h.Get("Content-Type"), "text/xml"))

	// Updates notify too; the config and queue are visible over the admin API.
	code, _, _ := e.do("PATCH", "/services/data/v62.0/sobjects/Opportunity/"+id, map[string]any{"StageName": "Closed Won"})
	require.Equal(t, 204, code)
	b = rc.waitFor(t, 2)[1]
	assert.Contains(t, b, "<sf:StageName>Closed Won</sf:StageName>")
	resp, err := http.Get(e.hs.URL + "/__admin/outbound")
	require.NoError(t, err)
	var cfgs []OutboundConfig
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&cfgs))
	resp.Body.Close()
	require.Len(t, cfgs, 1)
	assert.Equal(t, []string{"Id", "Name", "StageName", "Amount", "SystemModstamp"}, cfgs[0].Fields)
	assert.Equal(t, 2, e.waitOutbound(func(q OutboundStatus) bool { return q.Delivered == 2 }).Delivered)

	// A composite batch of 150 records arrives as 2 messages (100 + 50 notifications) at most.
	recs := make([]any, 150)
	for i := range recs {
		recs[i] = opp("bulk")
	}
	code, _, _ = e.do("POST", "/services/data/v62.0/composite/sobjects", map[string]any{"records": recs})
	require.Equal(t, 200, code)
	deadline := time.Now().Add(5 * time.Second)
	for e.srv.OutboundQueue().Delivered < 152 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	for _, body := range rc.got() {
		assert.LessOrEqual(t, strings.Count(body, "<Notification>"), 100)
	}
	assert.Equal(t, 152, e.srv.OutboundQueue().Delivered)

	// DELETE clears; nothing more is sent.
	req, _ := http.NewRequest("DELETE", e.hs.URL+"/__admin/outbound", nil)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	n := len(rc.got())
	e.createOpp("after clear")
	time.Sleep(50 * time.Millisecond)
	assert.Len(t, rc.got(), n)

	resp, err = http.Post(e.hs.URL+"/__admin/outbound", "application/json", strings.NewReader(`{"object":"Nope","url":"http://x"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode)
}

func TestOutboundRetriesWithBackoff(t *testing.T) {
	rc := newReceiver(t, 3)
	e := newOutboundEnv(t, rc)
	e.createOpp("retry me")
	deadline := time.Now().Add(5 * time.Second)
	var q OutboundStatus
	for time.Now().Before(deadline) {
		q = e.srv.OutboundQueue()
		if q.FailedAttempts == 1 && len(q.Queue) == 1 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	require.Len(t, q.Queue, 1)
	assert.Equal(t, 1, q.Queue[0].Attempts)
	assert.Contains(t, q.Queue[0].LastError, "HTTP 500")
	resp, err := http.Get(e.hs.URL + "/__admin/outbound/queue")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), `"queue":[`)

	rc.waitFor(t, 4) // 3 failures (10ms, 20ms, 40ms apart) then the ack
	deadline = time.Now().Add(2 * time.Second)
	for e.srv.OutboundQueue().Delivered < 1 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	q = e.srv.OutboundQueue()
	assert.Equal(t, 1, q.Delivered)
	assert.Equal(t, 3, q.FailedAttempts)
	assert.Empty(t, q.Queue)
	bodies := rc.got()
	assert.Equal(t, bodies[0], bodies[3], "a retry resends the same notification")

	// A 200 without <Ack>true</Ack> is a failure as well.
	assert.False(t, ackTrue([]byte("<Ack>false</Ack>")))
	assert.True(t, ackTrue([]byte(ackOK)))
}

func TestOutboundFaults(t *testing.T) {
	t.Run("drop", func(t *testing.T) {
		rc := newReceiver(t, 0)
		e := newOutboundEnv(t, rc)
		e.srv.SetFaults(Faults{Seed: 42, OutboundDropRate: 1})
		e.createOpp("lost")
		deadline := time.Now().Add(2 * time.Second)
		for e.srv.OutboundQueue().Dropped < 1 && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		assert.Equal(t, 1, e.srv.OutboundQueue().Dropped)
		assert.Empty(t, rc.got())
	})
	t.Run("duplicate", func(t *testing.T) {
		rc := newReceiver(t, 0)
		e := newOutboundEnv(t, rc)
		e.srv.SetFaults(Faults{Seed: 42, OutboundDupRate: 1})
		e.createOpp("twice")
		b := rc.waitFor(t, 2)
		assert.Equal(t, b[0], b[1])
		assert.Equal(t, 1, e.waitOutbound(func(q OutboundStatus) bool { return q.Duplicated == 1 }).Duplicated)
	})
	t.Run("reorder", func(t *testing.T) {
		rc := newReceiver(t, 0)
		e := newOutboundEnv(t, rc)
		e.srv.SetFaults(Faults{Seed: 42, OutboundReorder: true, OutboundReorderHoldMS: 300})
		ids := []string{e.createOpp("first"), e.createOpp("second"), e.createOpp("third")}
		b := rc.waitFor(t, 3)
		re := regexp.MustCompile(`<sf:Id>(\w+)</sf:Id>`)
		var got []string
		for _, body := range b {
			got = append(got, re.FindStringSubmatch(body)[1])
		}
		assert.Equal(t, []string{ids[2], ids[1], ids[0]}, got)
	})
}

// --- faults ------------------------------------------------------------------------------------

func (e *env) faults(body string) {
	e.t.Helper()
	resp, err := http.Post(e.hs.URL+"/__admin/faults", "application/json", strings.NewReader(body))
	require.NoError(e.t, err)
	resp.Body.Close()
	require.Equal(e.t, 200, resp.StatusCode)
}

func TestFaultRulesStatusKinds(t *testing.T) {
	e := newEnv(t, Options{})
	const q = "/services/data/v62.0/query?q=SELECT+Id+FROM+Account"
	for _, tc := range []struct {
		status int
		code   string
	}{{429, "REQUEST_LIMIT_EXCEEDED"}, {500, "UNKNOWN_EXCEPTION"}, {503, "SERVER_UNAVAILABLE"}} {
		e.faults(`{"rules":[{"endpoint":"GET /services/data/{version}/query","fail_next":1,"status":` + jsonInt(tc.status) + `}]}`)
		code, h, b := e.do("GET", q, nil)
		assert.Equal(t, tc.status, code)
		assert.Contains(t, string(b), tc.code)
		if tc.status == 429 {
			assert.Equal(t, "1", h.Get("Retry-After"))
		}
		code, _, _ = e.do("GET", q, nil)
		assert.Equal(t, 200, code, "fail_next is used up")
	}
	e.faults(`{"rules":[{"endpoint":"*","status":502}]}`)
	code, h, b := e.do("GET", q, nil)
	assert.Equal(t, 502, code)
	assert.Equal(t, "text/html", h.Get("Content-Type"))
	assert.Contains(t, string(b), "502 Bad Gateway")
	// Other endpoints are unaffected by a specific rule; the template without method matches too.
	e.faults(`{"rules":[{"endpoint":"/services/data/{version}/limits","status":503,"retry_after_s":7}]}`)
	code, _, _ = e.do("GET", q, nil)
	assert.Equal(t, 200, code)
	code, h, _ = e.do("GET", "/services/data/v62.0/limits", nil)
	assert.Equal(t, 503, code)
	assert.Equal(t, "7", h.Get("Retry-After"))
	// The token endpoint can fail too.
	e.faults(`{"rules":[{"endpoint":"POST /services/oauth2/token","fail_next":1,"status":503}]}`)
	resp, err := http.PostForm(e.hs.URL+"/services/oauth2/token", url.Values{"grant_type": {"client_credentials"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, 1, e.srv.Stats().Endpoints["GET /services/data/{version}/limits"]["503"])
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestFaultResetAndTimeout(t *testing.T) {
	e := newEnv(t, Options{})
	req := func() error {
		r, _ := http.NewRequest("GET", e.hs.URL+"/services/data/v62.0/limits", nil)
		r.Header.Set("Authorization", "Bearer "+e.token)
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Do(r)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	e.faults(`{"rules":[{"endpoint":"*","kind":"reset","fail_next":1}]}`)
	err := req()
	require.Error(t, err)
	assert.Regexp(t, `reset|EOF`, err.Error())
	require.NoError(t, req())

	e.faults(`{"rules":[{"endpoint":"GET /services/data/{version}/limits","kind":"timeout","timeout_ms":150,"fail_next":1}]}`)
	start := time.Now()
	err = req()
	require.Error(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	// The handler records statistics after it cut the connection; give it a moment.
	var st map[string]int
	for i := 0; i < 200; i++ {
		if st = e.srv.Stats().Endpoints["GET /services/data/{version}/limits"]; st["timeout"] == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, 1, st["reset"])
	assert.Equal(t, 1, st["timeout"])
}

func TestFaultLatencyJitterAndTokenTTL(t *testing.T) {
	e := newEnv(t, Options{})
	e.faults(`{"latency_ms":40,"jitter_ms":20}`)
	start := time.Now()
	code, _, _ := e.do("GET", "/services/data/v62.0/limits", nil)
	assert.Equal(t, 200, code)
	d := time.Since(start)
	assert.GreaterOrEqual(t, d, 40*time.Millisecond)
	assert.Less(t, d, 2*time.Second)

	e.faults(`{"token_ttl_ms":80}`)
	code, _, _ = e.do("GET", "/services/data/v62.0/limits", nil)
	assert.Equal(t, 200, code)
	time.Sleep(100 * time.Millisecond)
	code, _, b := e.do("GET", "/services/data/v62.0/limits", nil)
	assert.Equal(t, 401, code)
	assert.Contains(t, string(b), "INVALID_SESSION_ID")
	e.token = e.login()
	code, _, _ = e.do("GET", "/services/data/v62.0/limits", nil)
	assert.Equal(t, 200, code, "a new token gets the short TTL but is valid at first")

	e.faults(`{"expire_tokens":true}`)
	code, _, _ = e.do("GET", "/services/data/v62.0/limits", nil)
	assert.Equal(t, 401, code)
}

func TestFaultsDeterministicUnderSeed(t *testing.T) {
	e := newEnv(t, Options{})
	run := func(seed int) []int {
		e.faults(`{"seed":` + jsonInt(seed) + `,"rules":[{"endpoint":"GET /services/data/{version}/query","error_rate":0.3,"status":503},{"endpoint":"*","error_rate":0.1,"status":500}]}`)
		var out []int
		for i := 0; i < 60; i++ {
			code, _, _ := e.do("GET", "/services/data/v62.0/query?q=SELECT+Id+FROM+Account", nil)
			out = append(out, code)
			code, _, _ = e.do("GET", "/services/data/v62.0/limits", nil)
			out = append(out, code)
		}
		return out
	}
	a, b, c := run(42), run(42), run(43)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	assert.Contains(t, a, 503)
	assert.Contains(t, a, 500)
	assert.Contains(t, a, 200)

	// The legacy keys still work.
	e.faults(`{"fail_next":1,"error_status":503}`)
	code, _, _ := e.do("GET", "/services/data/v62.0/limits", nil)
	assert.Equal(t, 503, code)
	resp, err := http.Get(e.hs.URL + "/__admin/faults")
	require.NoError(t, err)
	defer resp.Body.Close()
	var f Faults
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&f))
	assert.Equal(t, 0, f.FailNext)
}

// The stats count the faults that really fired, by kind, so a chaos run can report them.
func TestStatsCountInjectedFaults(t *testing.T) {
	rc := newReceiver(t, 0)
	e := newOutboundEnv(t, rc)
	assert.Empty(t, e.srv.Stats().Faults)
	const q = "/services/data/v62.0/query?q=SELECT+Id+FROM+Account"
	e.faults(`{"latency_ms":1,"rules":[{"endpoint":"GET /services/data/{version}/query","fail_next":2,"status":503},` +
		`{"endpoint":"GET /services/data/{version}/limits","fail_next":1,"status":429}]}`)
	for i := 0; i < 3; i++ {
		e.do("GET", q, nil)
	}
	e.do("GET", "/services/data/v62.0/limits", nil)
	e.faults(`{"rules":[{"endpoint":"*","kind":"reset","fail_next":1}]}`)
	r, _ := http.NewRequest("GET", e.hs.URL+"/services/data/v62.0/limits", nil)
	r.Header.Set("Authorization", "Bearer "+e.token)
	_, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(r)
	require.Error(t, err)
	e.faults(`{"error_rate":1,"error_status":500}`)
	e.do("GET", q, nil)
	e.srv.SetFaults(Faults{ExpireTokens: true, OutboundDropRate: 1})
	e.token = e.login()
	e.createOpp("lost")
	e.waitOutbound(func(q OutboundStatus) bool { return q.Dropped == 1 })
	got := e.srv.Stats().Faults
	assert.Equal(t, 2, got["status_503"], "%v", got)
	assert.Equal(t, 1, got["status_429"], "%v", got)
	assert.Equal(t, 1, got["status_500"], "%v", got)
	assert.Equal(t, 1, got["reset"], "%v", got)
	assert.Equal(t, 1, got["sessions_expired"], "%v", got)
	assert.Equal(t, 1, got["outbound_dropped"], "%v", got)
	assert.GreaterOrEqual(t, got["latency"], 4, "%v", got)
	// Cleared by a reset, not by new faults.
	e.faults(`{}`)
	assert.Equal(t, 1, e.srv.Stats().Faults["reset"])
	e.srv.Reset(nil)
	assert.Empty(t, e.srv.Stats().Faults)
}
