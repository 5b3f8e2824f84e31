package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/metrics"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/internal/store/storetest"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/worker/admin"
)

const (
	viewerTok   = "viewer-token-0123456789"
	operatorTok = "operator-token-0123456789"
	adminTok    = "admin-token-0123456789abc"
)

type fakeStarter struct {
	mu     sync.Mutex
	starts []activities.SyncStart
}

func (f *fakeStarter) StartSync(_ context.Context, s activities.SyncStart) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, s)
	return nil
}

type env struct {
	srv     *httptest.Server
	starter *fakeStarter
	keys    *codec.Keyring
	logs    *observer.ObservedLogs
	st      *store.Store
}

func newEnv(t *testing.T, loopback bool) *env {
	t.Helper()
	st, _ := storetest.Open(t, "sfjira_admin_test")
	ms, err := mappings.LoadDir("../../mappings/default")
	require.NoError(t, err)
	set, err := activities.NewMappingSet(ms, nil)
	require.NoError(t, err)
	core, logs := observer.New(zap.DebugLevel)
	log := zap.New(core)
	starter := &fakeStarter{}
	acts := &activities.Activities{Store: st, Mappings: set, Log: log, Syncs: starter, Metrics: metrics.New()}
	entry, _ := codec.GenerateEntry("k1")
	kr, _ := codec.ParseKeyring(entry)
	t.Setenv("T_VIEWER", viewerTok)
	t.Setenv("T_OPERATOR", operatorTok)
	t.Setenv("T_ADMIN", adminTok)
	sec := config.Security{CodecAnonymousLoopback: loopback, APITokens: []config.APIToken{
		{Name: "grafana", Role: "viewer", Token: viewerTok},
		{Name: "oncall", Role: "operator", Token: operatorTok},
		{Name: "root", Role: "admin", Token: adminTok},
	}}
	a := &admin.Server{Auth: admin.NewAuth(sec, log), Acts: acts, Keys: kr, Namespace: "default", UIOrigin: "http://localhost:8233"}
	base2 := http.NewServeMux()
	base2.Handle("GET /metrics", acts.Metrics.Handler())
	base2.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	srv := httptest.NewServer(a.Wrap(base2, false))
	t.Cleanup(srv.Close)
	return &env{srv: srv, starter: starter, keys: kr, logs: logs, st: st}
}

func (e *env) do(t *testing.T, method, path, token, body string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestRolesGuardTheAdminSurface(t *testing.T) {
	e := newEnv(t, false)
	syncBody := `{"pair":"opportunity-epic","sf_id":"0068d0000B00CYzAQM"}`
	cases := []struct {
		method, path, body string
		want               map[string]int // token name → status
	}{
		{"GET", "/healthz", "", map[string]int{"": 200, "viewer": 200}},
		{"GET", "/metrics", "", map[string]int{"": 401, "bad": 401, "viewer": 200, "operator": 200, "admin": 200}},
		{"GET", "/admin/whoami", "", map[string]int{"": 401, "bad": 401, "viewer": 200}},
		{"GET", "/admin/status", "", map[string]int{"": 401, "viewer": 200, "admin": 200}},
		{"POST", "/admin/sync", syncBody, map[string]int{"": 401, "bad": 401, "viewer": 403, "operator": 202, "admin": 202}},
		{"POST", "/admin/keys/rotate", "", map[string]int{"": 401, "viewer": 403, "operator": 403, "admin": 200}},
	}
	tokens := map[string]string{"": "", "bad": "not-a-configured-token", "viewer": viewerTok, "operator": operatorTok, "admin": adminTok}
	for _, c := range cases {
		for who, want := range c.want {
			got, body, hdr := e.do(t, c.method, c.path, tokens[who], c.body)
			require.Equal(t, want, got, "%s %s as %q: %s", c.method, c.path, who, body)
			if got == 401 {
				require.Contains(t, hdr.Get("WWW-Authenticate"), "Bearer")
			}
		}
	}
	// Only the two permitted sync calls reached the workflow starter.
	require.Len(t, e.starter.starts, 2)
	require.Equal(t, "sf/0068d0000B00CYzAQM", e.starter.starts[0].OriginKey)
	_, body, _ := e.do(t, "GET", "/admin/whoami", operatorTok, "")
	require.JSONEq(t, `{"name":"oncall","role":"operator"}`, body)
	// Refusals are logged by token name, never with the token itself.
	for _, entry := range e.logs.All() {
		b, _ := json.Marshal(entry.ContextMap())
		for _, tok := range []string{viewerTok, operatorTok, adminTok, "not-a-configured-token"} {
			require.NotContains(t, entry.Message+string(b), tok)
		}
	}
	require.NotZero(t, e.logs.FilterMessage("admin request refused: role too weak").Len())
}

func payloadsJSON(t *testing.T, ps ...*commonpb.Payload) string {
	b, err := json.Marshal(commonpb.Payloads{Payloads: ps})
	require.NoError(t, err)
	return string(b)
}

func TestCodecEndpointDecodesForViewersWithCORS(t *testing.T) {
	e := newEnv(t, false)
	dc := codec.DataConverter(e.keys)
	enc, err := dc.ToPayload(map[string]string{"Name": "Acme renewal"})
	require.NoError(t, err)
	require.NotContains(t, string(enc.Data), "Acme")

	// Browser preflight from the UI origin: answered without a token.
	st, _, hdr := e.do(t, "OPTIONS", "/codec/decode", "", "", "Origin", "http://localhost:8233", "Access-Control-Request-Headers", "authorization,x-namespace")
	require.Equal(t, 204, st)
	require.Equal(t, "http://localhost:8233", hdr.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", hdr.Get("Access-Control-Allow-Credentials"))
	require.Contains(t, hdr.Get("Access-Control-Allow-Headers"), "Authorization")
	_, _, hdr = e.do(t, "OPTIONS", "/codec/decode", "", "", "Origin", "http://127.0.0.1:8233")
	require.Equal(t, "http://127.0.0.1:8233", hdr.Get("Access-Control-Allow-Origin"), "the dev UI under its other loopback name")
	// Another origin gets no CORS grant.
	_, _, hdr = e.do(t, "OPTIONS", "/codec/decode", "", "", "Origin", "http://evil.example")
	require.Empty(t, hdr.Get("Access-Control-Allow-Origin"))

	body := payloadsJSON(t, enc)
	st, _, _ = e.do(t, "POST", "/codec/decode", "", body, "X-Namespace", "default")
	require.Equal(t, 401, st, "no token, no plaintext")
	for _, path := range []string{"/codec/decode", "/codec/default/decode"} {
		st, out, hdr := e.do(t, "POST", path, viewerTok, body, "X-Namespace", "default", "Origin", "http://localhost:8233")
		require.Equal(t, 200, st, out)
		require.Equal(t, "http://localhost:8233", hdr.Get("Access-Control-Allow-Origin"))
		var got commonpb.Payloads
		require.NoError(t, json.Unmarshal([]byte(out), &got))
		require.Len(t, got.Payloads, 1)
		var v map[string]string
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(got.Payloads[0], &v))
		require.Equal(t, "Acme renewal", v["Name"])
	}
	st, _, _ = e.do(t, "POST", "/codec/other/decode", viewerTok, body)
	require.Equal(t, 404, st, "another namespace's payloads are not this codec's business")

	// Encoding (UI signals) needs operator.
	plain, _ := converter.GetDefaultDataConverter().ToPayload("signal input")
	st, _, _ = e.do(t, "POST", "/codec/encode", viewerTok, payloadsJSON(t, plain))
	require.Equal(t, 403, st)
	st, out, _ := e.do(t, "POST", "/codec/encode", operatorTok, payloadsJSON(t, plain))
	require.Equal(t, 200, st, out)
	require.NotContains(t, out, "signal input")
	var encoded commonpb.Payloads
	require.NoError(t, json.Unmarshal([]byte(out), &encoded))
	var s string
	require.NoError(t, dc.FromPayload(encoded.Payloads[0], &s))
	require.Equal(t, "signal input", s)
}

func TestCodecLoopbackDecodeForTheDevUI(t *testing.T) {
	e := newEnv(t, true)
	enc, err := codec.DataConverter(e.keys).ToPayload("x")
	require.NoError(t, err)
	st, _, _ := e.do(t, "POST", "/codec/decode", "", payloadsJSON(t, enc))
	require.Equal(t, 200, st, "loopback decode is allowed when codec_anonymous_loopback is on")
	st, _, _ = e.do(t, "POST", "/codec/encode", "", payloadsJSON(t, enc))
	require.Equal(t, 401, st, "but never encode")
	st, _, _ = e.do(t, "POST", "/codec/decode", "wrong-token", payloadsJSON(t, enc))
	require.Equal(t, 401, st, "a wrong token is not upgraded to loopback access")
	st, _, _ = e.do(t, "POST", "/admin/sync", "", `{}`)
	require.Equal(t, 401, st, "loopback access is for decoding only")
}

func TestAllowCIDRs(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	h := admin.AllowCIDRs([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, zap.NewNop(), ok)
	for remote, want := range map[string]int{"10.1.2.3:5000": 200, "127.0.0.1:5000": 403, "[::ffff:10.0.0.1]:1": 200, "192.168.0.1:1": 403} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/webhooks/jira", bytes.NewReader(nil))
		req.RemoteAddr = remote
		h.ServeHTTP(rec, req)
		require.Equal(t, want, rec.Code, remote)
	}
	rec := httptest.NewRecorder()
	admin.AllowCIDRs(nil, nil, ok).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	require.Equal(t, 200, rec.Code, "no allowlist: everything allowed")
}
