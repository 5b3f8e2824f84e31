package ingress_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/activities"
	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/metrics"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store/storetest"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/worker/ingress"
)

const secret = "ingress-test-webhook-secret"

type recorder struct {
	mu     sync.Mutex
	starts []activities.SyncStart
	fail   error
}

func (r *recorder) StartSync(_ context.Context, s activities.SyncStart) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.starts = append(r.starts, s)
	return nil
}

func (r *recorder) startsSince(n int) []activities.SyncStart {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]activities.SyncStart(nil), r.starts[n:]...)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.starts)
}

type fixture struct {
	in    *ingress.Ingress
	rec   *recorder
	org   string
	clock time.Time
}

func newFixture(t *testing.T, limits config.WebhookLimits) *fixture {
	t.Helper()
	st, _ := storetest.Open(t, "sfjira_ingress_test")
	ctx := context.Background()

	emu := sfemu.New(sfemu.DemoOptions())
	t.Cleanup(emu.Close)
	hs := httptest.NewServer(emu)
	t.Cleanup(hs.Close)
	sfc, err := salesforce.New(salesforce.Config{LoginURL: hs.URL, ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret"})
	require.NoError(t, err)
	org, err := sfc.OrganizationID(ctx)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(org, "00D"), org)

	jemu := jiraemu.New(jiraemu.DemoOptions())
	t.Cleanup(jemu.Close)
	jhs := httptest.NewServer(jemu)
	t.Cleanup(jhs.Close)
	jc, err := jira.New(jira.Config{BaseURL: jhs.URL, Email: "integration@sfjira.demo", APIToken: "sfjira-demo-token"})
	require.NoError(t, err)

	ms, err := mappings.LoadDir("../../mappings/default")
	require.NoError(t, err)
	set, err := activities.NewMappingSet(ms, jc)
	require.NoError(t, err)
	rec := &recorder{}
	f := &fixture{rec: rec, org: org, clock: time.Now()}
	f.in = &ingress.Ingress{
		Acts:       &activities.Activities{SF: sfc, Jira: jc, Store: st, Mappings: set, Syncs: rec, Metrics: metrics.New(), Log: zap.NewNop()},
		JiraSecret: secret, Log: zap.NewNop(), Limits: limits,
		Now: func() time.Time { return f.clock },
	}
	return f
}

func sign(body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func jiraBody(ts time.Time) string {
	return fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"jira:issue_updated","issue_event_type_name":"issue_updated",
		"issue":{"id":"10001","key":"SFJ-1","fields":{"project":{"key":"SFJ"},"issuetype":{"name":"Epic"}}}}`, ts.UnixMilli())
}

func (f *fixture) postJira(body, signature, delivery, remote string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/webhooks/jira", strings.NewReader(body))
	if signature != "" {
		req.Header.Set("X-Hub-Signature", signature)
	}
	if delivery != "" {
		req.Header.Set("X-Atlassian-Webhook-Identifier", delivery)
	}
	if remote != "" {
		req.RemoteAddr = remote
	}
	w := httptest.NewRecorder()
	f.in.Handler().ServeHTTP(w, req)
	return w
}

func TestJiraWebhookRejections(t *testing.T) {
	f := newFixture(t, config.WebhookLimits{MaxBodyBytes: 4096, ReplayWindow: 10 * time.Minute})
	body := jiraBody(f.clock)

	// Signature: missing, wrong secret, tampered body — 401 and nothing starts.
	require.Equal(t, 401, f.postJira(body, "", "d-1", "").Code)
	wrong := hmac.New(sha256.New, []byte("another-secret"))
	wrong.Write([]byte(body))
	require.Equal(t, 401, f.postJira(body, "sha256="+hex.EncodeToString(wrong.Sum(nil)), "d-1", "").Code)
	require.Equal(t, 401, f.postJira(strings.Replace(body, "SFJ-1", "SFJ-2", 1), sign(body), "d-1", "").Code)
	require.Equal(t, 401, f.postJira(body, "sha256=zz", "d-1", "").Code)

	// Size: a signed body over the limit is refused before it is read whole.
	big := strings.Replace(body, `"issue_updated"`, `"issue_updated","pad":"`+strings.Repeat("x", 5000)+`"`, 1)
	require.Equal(t, 413, f.postJira(big, sign(big), "d-big", "").Code)

	// Replay window: an old (captured) delivery and one from the future are refused.
	old := jiraBody(f.clock.Add(-11 * time.Minute))
	require.Equal(t, 400, f.postJira(old, sign(old), "d-old", "").Code)
	future := jiraBody(f.clock.Add(6 * time.Minute))
	require.Equal(t, 400, f.postJira(future, sign(future), "d-future", "").Code)
	require.Zero(t, f.rec.count())

	// A good delivery starts one sync; the same delivery id again is acknowledged, not re-processed.
	require.Equal(t, 200, f.postJira(body, sign(body), "d-1", "").Code)
	require.Equal(t, 1, f.rec.count())
	require.Equal(t, 200, f.postJira(body, sign(body), "d-1", "").Code)
	require.Equal(t, 1, f.rec.count(), "a replayed delivery id starts nothing")
	require.Equal(t, 200, f.postJira(body, sign(body), "d-2", "").Code)
	require.Equal(t, 2, f.rec.count())

	// A failed hand-over releases the delivery id, so Jira's retry is processed.
	f.rec.fail = errors.New("temporal down")
	require.Equal(t, 503, f.postJira(body, sign(body), "d-3", "").Code)
	f.rec.fail = nil
	require.Equal(t, 200, f.postJira(body, sign(body), "d-3", "").Code)
	require.Equal(t, 3, f.rec.count())
}

func TestWebhookRateLimitPerSource(t *testing.T) {
	f := newFixture(t, config.WebhookLimits{RatePerSecond: 1, Burst: 2})
	body := jiraBody(f.clock)
	require.Equal(t, 200, f.postJira(body, sign(body), "r-1", "10.0.0.1:1000").Code)
	require.Equal(t, 200, f.postJira(body, sign(body), "r-2", "10.0.0.1:1001").Code)
	w := f.postJira(body, sign(body), "r-3", "10.0.0.1:1002")
	require.Equal(t, 429, w.Code, "third request in the same instant from one address")
	require.Equal(t, "1", w.Header().Get("Retry-After"))
	// Unsigned floods count against the budget too (the limit runs before the HMAC).
	require.Equal(t, 429, f.postJira(body, "", "", "10.0.0.1:1003").Code)
	// Another source has its own budget; and the budget refills with time.
	require.Equal(t, 200, f.postJira(body, sign(body), "r-4", "10.0.0.2:1000").Code)
	f.clock = f.clock.Add(1100 * time.Millisecond)
	body = jiraBody(f.clock)
	require.Equal(t, 200, f.postJira(body, sign(body), "r-5", "10.0.0.1:1004").Code)
}

func outbound(org string, notes ...[2]string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">`)
	fmt.Fprintf(&b, `<OrganizationId>%s</OrganizationId><ActionId>04k000000000001AAA</ActionId><SessionId xsi:nil="true"/><EnterpriseUrl>x</EnterpriseUrl><PartnerUrl>x</PartnerUrl>`, org)
	for _, n := range notes {
		fmt.Fprintf(&b, `<Notification><Id>%s</Id><sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>%s</sf:Id></sObject></Notification>`, n[0], n[1])
	}
	b.WriteString(`</notifications></soapenv:Body></soapenv:Envelope>`)
	return b.String()
}

func (f *fixture) postSF(body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/webhooks/salesforce", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml")
	w := httptest.NewRecorder()
	f.in.Handler().ServeHTTP(w, req)
	return w
}

func TestOutboundMessageRejections(t *testing.T) {
	f := newFixture(t, config.WebhookLimits{MaxBodyBytes: 8192})
	opp1, opp2 := "0068d0000B00CYzAQM", "0068d0000B00CZ0AQM"

	// Another org's message is refused even though nothing else identifies the sender: with no
	// org configured, the expected org is the one our own token belongs to.
	w := f.postSF(outbound("00D000000000001AAA", [2]string{"04l000000000001AAA", opp1}))
	require.Equal(t, 401, w.Code)
	require.Contains(t, w.Body.String(), "<Ack>false</Ack>")
	require.Zero(t, f.rec.count())

	// Our org, 15- or 18-character form: accepted and acknowledged.
	w = f.postSF(outbound(f.org, [2]string{"04l000000000001AAA", opp1}))
	require.Equal(t, 200, w.Code, w.Body.String())
	require.Contains(t, w.Body.String(), "<Ack>true</Ack>")
	require.Equal(t, 1, f.rec.count())

	// A redelivery with the same notification id is acknowledged (so Salesforce stops) but not
	// processed again; a new notification in the same message is.
	w = f.postSF(outbound(f.org[:15], [2]string{"04l000000000001AAA", opp1}, [2]string{"04l000000000002AAA", opp2}))
	require.Equal(t, 200, w.Code)
	require.Contains(t, w.Body.String(), "<Ack>true</Ack>")
	require.Equal(t, 2, f.rec.count())
	require.Equal(t, "sf/"+opp2, f.rec.starts[1].OriginKey)

	// A failed hand-over releases the ids, so the retry is processed.
	f.rec.fail = errors.New("temporal down")
	require.Equal(t, 503, f.postSF(outbound(f.org, [2]string{"04l000000000003AAA", opp1})).Code)
	f.rec.fail = nil
	require.Equal(t, 200, f.postSF(outbound(f.org, [2]string{"04l000000000003AAA", opp1})).Code)
	require.Equal(t, 3, f.rec.count())

	// Oversized and malformed messages.
	var many [][2]string
	for i := 0; i < 60; i++ {
		many = append(many, [2]string{fmt.Sprintf("04l0000000001%02dAAA", i), opp1})
	}
	require.Equal(t, 413, f.postSF(outbound(f.org, many...)).Code)
	require.Equal(t, 400, f.postSF("<not-soap/>").Code)

	// A configured org id wins over the token's org.
	f.in.SalesforceOrg = "00D000000000001AAA"
	require.Equal(t, 401, f.postSF(outbound(f.org, [2]string{"04l000000000004AAA", opp1})).Code)
	require.Equal(t, 200, f.postSF(outbound("00D000000000001AAA", [2]string{"04l000000000004AAA", opp1})).Code)
}
