package salesforce

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// --- helpers -------------------------------------------------------------------------------

func newKeyAndCert(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func signJWT(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	hb, _ := json.Marshal(map[string]string{"alg": "RS256"})
	cb, _ := json.Marshal(claims)
	in := enc.EncodeToString(hb) + "." + enc.EncodeToString(cb)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	require.NoError(t, err)
	return in + "." + enc.EncodeToString(sig)
}

func postForm(t *testing.T, u string, v url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, v)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return resp.StatusCode, m
}

// --- OAuth -----------------------------------------------------------------------------------

func TestJWTBearerFlow(t *testing.T) {
	key, cert := newKeyAndCert(t)
	other, _ := newKeyAndCert(t)
	opts := DemoOptions()
	opts.JWTCertPEM = cert
	e := newEnv(t, opts)
	tokenURL := e.hs.URL + "/services/oauth2/token"
	now := time.Now().Unix()
	claims := func(mut func(map[string]any)) map[string]any {
		c := map[string]any{"iss": "sfjira-demo", "sub": "integration@sfjira.demo", "aud": "https://login.salesforce.com", "exp": now + 120}
		if mut != nil {
			mut(c)
		}
		return c
	}
	grant := func(assertion string) (int, map[string]any) {
		return postForm(t, tokenURL, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}})
	}

	st, tok := grant(signJWT(t, key, claims(nil)))
	require.Equal(t, 200, st, tok)
	assert.Equal(t, "Bearer", tok["token_type"])
	assert.Equal(t, e.hs.URL, tok["instance_url"])
	assert.NotContains(t, tok, "refresh_token")
	e.token = tok["access_token"].(string)
	code, _, _ := e.do("GET", "/services/data/v62.0/limits", nil)
	assert.Equal(t, 200, code)

	// The emulator's own base URL and test.salesforce.com are valid audiences too.
	for _, aud := range []any{e.hs.URL, "https://test.salesforce.com", []string{"https://x.example", "https://login.salesforce.com"}} {
		st, body := grant(signJWT(t, key, claims(func(c map[string]any) { c["aud"] = aud })))
		assert.Equal(t, 200, st, "%v %v", aud, body)
	}

	cases := []struct {
		name      string
		assertion string
		code      string
		desc      string
	}{
		{"garbage", "not-a-jwt", "invalid_grant", "invalid assertion"},
		{"wrong key", signJWT(t, other, claims(nil)), "invalid_grant", "invalid assertion"},
		{"unknown iss", signJWT(t, key, claims(func(c map[string]any) { c["iss"] = "someone-else" })), "invalid_client_id", "client identifier invalid"},
		{"bad aud", signJWT(t, key, claims(func(c map[string]any) { c["aud"] = "https://evil.example.com" })), "invalid_grant", "audience is invalid"},
		{"expired", signJWT(t, key, claims(func(c map[string]any) { c["exp"] = now - 600 })), "invalid_grant", "invalid assertion"},
		{"too far ahead", signJWT(t, key, claims(func(c map[string]any) { c["exp"] = now + 3600 })), "invalid_grant", "invalid assertion"},
		{"no exp", signJWT(t, key, claims(func(c map[string]any) { delete(c, "exp") })), "invalid_grant", "invalid assertion"},
		{"unknown user", signJWT(t, key, claims(func(c map[string]any) { c["sub"] = "nobody@example.com" })), "invalid_grant", "user hasn't approved this consumer"},
	}
	for _, tc := range cases {
		st, body := grant(tc.assertion)
		assert.Equal(t, 400, st, tc.name)
		assert.Equal(t, map[string]any{"error": tc.code, "error_description": tc.desc}, body, tc.name)
	}
	// Tampered payload with the original signature.
	good := strings.Split(signJWT(t, key, claims(nil)), ".")
	forged, _ := json.Marshal(claims(func(c map[string]any) { c["sub"] = "admin@sfjira.demo" }))
	st, body := grant(good[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + good[2])
	assert.Equal(t, 400, st)
	assert.Equal(t, "invalid assertion", body["error_description"])
}

func TestJWTDemoKeyIsTrustedByDemoOptions(t *testing.T) {
	b, err := os.ReadFile("../../deploy/dev/jwt/demo-key.pem")
	require.NoError(t, err)
	block, _ := pem.Decode(b)
	require.NotNil(t, block)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	certFile, err := os.ReadFile("../../deploy/dev/jwt/demo-cert.pem")
	require.NoError(t, err)
	assert.Equal(t, string(certFile), DemoJWTCertPEM, "embedded copy must match deploy/dev/jwt/demo-cert.pem")
	e := newEnv(t, DemoOptions())
	st, tok := postForm(t, e.hs.URL+"/services/oauth2/token", url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion": {signJWT(t, k.(*rsa.PrivateKey), map[string]any{"iss": "sfjira-demo", "sub": "integration@sfjira.demo",
			"aud": "https://login.salesforce.com", "exp": time.Now().Add(3 * time.Minute).Unix()})}})
	assert.Equal(t, 200, st, tok)
}

func authorize(t *testing.T, base string, q url.Values) *url.URL {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/services/oauth2/authorize?" + q.Encode())
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 302, resp.StatusCode)
	u, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	return u
}

func TestAuthorizationCodeAndRefreshRotation(t *testing.T) {
	for _, rotate := range []bool{false, true} {
		t.Run(fmt.Sprintf("rotate=%v", rotate), func(t *testing.T) {
			opts := DemoOptions()
			opts.RotateRefreshTokens = rotate
			opts.RedirectURIs = []string{"http://127.0.0.1:8090/oauth/callback"}
			e := newEnv(t, opts)
			tokenURL := e.hs.URL + "/services/oauth2/token"
			loc := authorize(t, e.hs.URL, url.Values{"response_type": {"code"}, "client_id": {"sfjira-demo"},
				"redirect_uri": {"http://127.0.0.1:8090/oauth/callback"}, "state": {"xyz 1"}})
			assert.Equal(t, "/oauth/callback", loc.Path)
			assert.Equal(t, "xyz 1", loc.Query().Get("state"))
			code := loc.Query().Get("code")
			require.NotEmpty(t, code)

			exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {"sfjira-demo"},
				"client_secret": {"sfjira-demo-secret"}, "redirect_uri": {"http://127.0.0.1:8090/oauth/callback"}}
			st, tok := postForm(t, tokenURL, exchange)
			require.Equal(t, 200, st, tok)
			rt, _ := tok["refresh_token"].(string)
			require.NotEmpty(t, rt)
			assert.Equal(t, "api refresh_token", tok["scope"])
			// Codes are single use.
			st, body := postForm(t, tokenURL, exchange)
			assert.Equal(t, 400, st)
			assert.Equal(t, "invalid_grant", body["error"])

			refresh := func(rt string) (int, map[string]any) {
				return postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
					"client_id": {"sfjira-demo"}, "client_secret": {"sfjira-demo-secret"}})
			}
			st, tok2 := refresh(rt)
			require.Equal(t, 200, st, tok2)
			assert.NotEqual(t, tok["access_token"], tok2["access_token"])
			newRT, hasNew := tok2["refresh_token"].(string)
			assert.Equal(t, rotate, hasNew)
			st, again := refresh(rt)
			if rotate {
				assert.Equal(t, 400, st)
				assert.Equal(t, map[string]any{"error": "invalid_grant", "error_description": "expired access/refresh token"}, again)
				st, _ = refresh(newRT)
				assert.Equal(t, 200, st)
			} else {
				assert.Equal(t, 200, st)
			}
			st, bad := refresh("5Aep861bogus")
			assert.Equal(t, 400, st)
			assert.Equal(t, "expired access/refresh token", bad["error_description"])
		})
	}
}

func TestAuthorizeErrors(t *testing.T) {
	opts := DemoOptions()
	opts.RedirectURIs = []string{"http://127.0.0.1:8090/cb"}
	e := newEnv(t, opts)
	get := func(q url.Values) *http.Response {
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(e.hs.URL + "/services/oauth2/authorize?" + q.Encode())
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	assert.Equal(t, 400, get(url.Values{"response_type": {"code"}, "client_id": {"nope"}, "redirect_uri": {"http://127.0.0.1:8090/cb"}}).StatusCode)
	assert.Equal(t, 400, get(url.Values{"response_type": {"code"}, "client_id": {"sfjira-demo"}, "redirect_uri": {"http://evil/cb"}}).StatusCode)
	resp := get(url.Values{"response_type": {"token"}, "client_id": {"sfjira-demo"}, "redirect_uri": {"http://127.0.0.1:8090/cb"}})
	require.Equal(t, 302, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Location"), "error=unsupported_response_type")

	// PKCE: a code bound to a challenge needs the verifier.
	verifier := "verifier-0123456789-0123456789-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	loc := authorize(t, e.hs.URL, url.Values{"response_type": {"code"}, "client_id": {"sfjira-demo"},
		"redirect_uri": {"http://127.0.0.1:8090/cb"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}})
	st, tok := postForm(t, e.hs.URL+"/services/oauth2/token", url.Values{"grant_type": {"authorization_code"},
		"code": {loc.Query().Get("code")}, "client_id": {"sfjira-demo"}, "redirect_uri": {"http://127.0.0.1:8090/cb"}, "code_verifier": {verifier}})
	assert.Equal(t, 200, st, tok)
}

// --- composite collections ---------------------------------------------------------------------

func opp(name string, extra ...any) map[string]any {
	m := map[string]any{"attributes": map[string]any{"type": "Opportunity"}, "Name": name, "StageName": "Prospecting", "CloseDate": "2026-03-01"}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

type collRes struct {
	ID      *string `json:"id"`
	Success bool    `json:"success"`
	Created *bool   `json:"created"`
	Errors  []struct {
		StatusCode string   `json:"statusCode"`
		Message    string   `json:"message"`
		Fields     []string `json:"fields"`
	} `json:"errors"`
}

func (e *env) coll(method, path string, body any) (int, []collRes, []byte) {
	e.t.Helper()
	st, _, b := e.do(method, path, body)
	var out []collRes
	if st == 200 {
		require.NoError(e.t, json.Unmarshal(b, &out), string(b))
	}
	return st, out, b
}

func TestCompositeCollections(t *testing.T) {
	e := newEnv(t, Options{})
	const p = "/services/data/v62.0/composite/sobjects"
	st, res, raw := e.coll("POST", p, map[string]any{"allOrNone": false, "records": []any{
		opp("A"), opp("B", "Amount", 10), map[string]any{"attributes": map[string]any{"type": "Opportunity"}, "Name": "no stage"},
		map[string]any{"attributes": map[string]any{"type": "Account"}, "Name": "Acc & Co"},
	}})
	require.Equal(t, 200, st, string(raw))
	require.Len(t, res, 4)
	assert.True(t, res[0].Success)
	assert.True(t, res[1].Success)
	assert.False(t, res[2].Success)
	assert.Nil(t, res[2].ID)
	assert.Equal(t, "REQUIRED_FIELD_MISSING", res[2].Errors[0].StatusCode)
	assert.Equal(t, []string{"StageName", "CloseDate"}, res[2].Errors[0].Fields)
	assert.True(t, res[3].Success)
	assert.True(t, strings.HasPrefix(*res[3].ID, "001"))
	assert.Contains(t, string(raw), `"errors":[]`)
	assert.Equal(t, 2, e.srv.Stats().Records["Opportunity"])
	assert.Equal(t, 1, e.srv.Stats().Records["Account"])

	// allOrNone: everything rolls back, good records report ALL_OR_NONE_OPERATION_ROLLED_BACK.
	before := e.srv.Stats().Records["Opportunity"]
	st, res, _ = e.coll("POST", p, map[string]any{"allOrNone": true, "records": []any{opp("C"), opp("D", "Name", strings.Repeat("x", 121)), opp("E")}})
	require.Equal(t, 200, st)
	assert.Equal(t, "ALL_OR_NONE_OPERATION_ROLLED_BACK", res[0].Errors[0].StatusCode)
	assert.Equal(t, "STRING_TOO_LONG", res[1].Errors[0].StatusCode)
	assert.Equal(t, "ALL_OR_NONE_OPERATION_ROLLED_BACK", res[2].Errors[0].StatusCode)
	assert.Equal(t, before, e.srv.Stats().Records["Opportunity"])
	_, _, qb := e.do("GET", "/services/data/v62.0/query?q="+url.QueryEscape("SELECT COUNT() FROM Opportunity WHERE Name = 'C'"), nil)
	assert.Contains(t, string(qb), `"totalSize":0`)

	// update by Id, with a bad id and a missing id
	idA := *func() []collRes { _, r, _ := e.coll("POST", p, map[string]any{"records": []any{opp("U1")}}); return r }()[0].ID
	st, res, _ = e.coll("PATCH", p, map[string]any{"records": []any{
		map[string]any{"attributes": map[string]any{"type": "Opportunity"}, "id": idA, "StageName": "Closed Won"},
		map[string]any{"attributes": map[string]any{"type": "Opportunity"}, "StageName": "Closed Won"},
		map[string]any{"attributes": map[string]any{"type": "Opportunity"}, "Id": "006000000000000AAA", "Name": "x"},
	}})
	require.Equal(t, 200, st)
	assert.True(t, res[0].Success)
	assert.Equal(t, "MISSING_ARGUMENT", res[1].Errors[0].StatusCode)
	assert.False(t, res[2].Success)
	_, _, gb := e.do("GET", "/services/data/v62.0/sobjects/Opportunity/"+idA, nil)
	assert.Contains(t, string(gb), `"IsWon":true`)

	// allOrNone update rollback restores the old values.
	st, res, _ = e.coll("PATCH", p, map[string]any{"allOrNone": true, "records": []any{
		map[string]any{"attributes": map[string]any{"type": "Opportunity"}, "Id": idA, "Name": "renamed"},
		map[string]any{"attributes": map[string]any{"type": "Opportunity"}, "Id": idA, "CloseDate": "not a date"},
	}})
	require.Equal(t, 200, st)
	assert.Equal(t, "ALL_OR_NONE_OPERATION_ROLLED_BACK", res[0].Errors[0].StatusCode)
	_, _, gb = e.do("GET", "/services/data/v62.0/sobjects/Opportunity/"+idA+"?fields=Name", nil)
	assert.Contains(t, string(gb), `"Name":"U1"`)

	// upsert on the external id: one insert, one update, one missing key
	up := p + "/Opportunity/Jira_Issue_Id__c"
	st, res, raw = e.coll("PATCH", up, map[string]any{"records": []any{opp("J1", "Jira_Issue_Id__c", "10001"), opp("J2", "Jira_Issue_Id__c", "10002")}})
	require.Equal(t, 200, st, string(raw))
	assert.True(t, *res[0].Created)
	st, res, raw = e.coll("PATCH", up, map[string]any{"records": []any{opp("J1 renamed", "Jira_Issue_Id__c", "10001"), opp("J3", "Jira_Issue_Id__c", "10003"), opp("no key")}})
	require.Equal(t, 200, st)
	assert.True(t, res[0].Success)
	assert.False(t, *res[0].Created)
	assert.True(t, *res[1].Created)
	assert.Equal(t, "MISSING_ARGUMENT", res[2].Errors[0].StatusCode)
	assert.Contains(t, string(raw), `"created":false`)
	st, _, raw = e.coll("PATCH", p+"/Opportunity/Name", map[string]any{"records": []any{opp("x")}})
	assert.Equal(t, 400, st)
	assert.Contains(t, string(raw), "INVALID_FIELD")

	// delete
	idB := *res[1].ID
	st, res, _ = e.coll("DELETE", p+"?ids="+idA+","+idB+",bogus&allOrNone=true", nil)
	require.Equal(t, 200, st)
	assert.Equal(t, "ALL_OR_NONE_OPERATION_ROLLED_BACK", res[0].Errors[0].StatusCode)
	assert.Equal(t, "MALFORMED_ID", res[2].Errors[0].StatusCode)
	code, _, _ := e.do("GET", "/services/data/v62.0/sobjects/Opportunity/"+idA, nil)
	assert.Equal(t, 200, code, "rolled back delete keeps the record")
	st, res, _ = e.coll("DELETE", p+"?ids="+idA+","+idB, nil)
	require.Equal(t, 200, st)
	assert.True(t, res[0].Success && res[1].Success)
	st, res, _ = e.coll("DELETE", p+"?ids="+idA, nil)
	assert.Equal(t, "ENTITY_IS_DELETED", res[0].Errors[0].StatusCode)
	st, _, raw = e.coll("DELETE", p, nil)
	assert.Equal(t, 400, st)
	assert.JSONEq(t, `[{"message":"At least 1 Id is required.","errorCode":"REQUIRED_FIELD_MISSING"}]`, string(raw))

	// limits and malformed bodies
	many := make([]any, 201)
	for i := range many {
		many[i] = opp(fmt.Sprint(i))
	}
	for _, m := range []string{"POST", "PATCH"} {
		st, _, raw = e.coll(m, p, map[string]any{"records": many})
		assert.Equal(t, 400, st)
		assert.Contains(t, string(raw), "EXCEEDED_ID_LIMIT")
	}
	ids := make([]string, 201)
	for i := range ids {
		ids[i] = idA
	}
	st, _, raw = e.coll("DELETE", p+"?ids="+strings.Join(ids, ","), nil)
	assert.Equal(t, 400, st)
	assert.Contains(t, string(raw), "EXCEEDED_ID_LIMIT")
	for _, body := range []string{"", "{", `{"records":{}}`, `{"records":[1]}`, `{"records":[]}`, `[]`, `{"allOrNone":"x","records":[{}]}`} {
		st, _, raw = e.coll("POST", p, body)
		assert.Equal(t, 400, st, body)
		assert.True(t, strings.HasPrefix(string(raw), `[{"message"`), body)
	}
	st, res, _ = e.coll("POST", p, `{"records":[{"Name":"no type"},{"attributes":{"type":"Nope__c"}}]}`)
	require.Equal(t, 200, st)
	assert.Equal(t, "INVALID_TYPE", res[0].Errors[0].StatusCode)
	assert.Equal(t, "INVALID_TYPE", res[1].Errors[0].StatusCode)
	st, res, _ = e.coll("POST", p, map[string]any{"records": []any{opp("with id", "Id", idA)}})
	assert.Equal(t, "INVALID_FIELD_FOR_INSERT_UPDATE", res[0].Errors[0].StatusCode)
	code, _, _ = e.do("PUT", p, nil)
	assert.Equal(t, 405, code)
	assert.Equal(t, map[string]int{"200": 3, "400": 2}, e.srv.Stats().Endpoints["DELETE /services/data/{version}/composite/sobjects"])
	assert.Equal(t, 1, e.srv.Stats().Endpoints["PATCH /services/data/{version}/composite/sobjects/{object}/{field}"]["400"])
}

// --- replication -----------------------------------------------------------------------------

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestGetUpdatedAndDeleted(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 3, 10, 12, 0, 30, 0, time.UTC)}
	e := newEnv(t, Options{Now: clk.Now})
	create := func(name string) string {
		_, _, b := e.do("POST", "/services/data/v62.0/sobjects/Opportunity", opp(name))
		var r map[string]any
		require.NoError(t, json.Unmarshal(b, &r))
		return r["id"].(string)
	}
	a := create("a")
	clk.Advance(10 * time.Minute)
	b := create("b")
	clk.Advance(10 * time.Minute)
	code, _, _ := e.do("DELETE", "/services/data/v62.0/sobjects/Opportunity/"+a, nil)
	require.Equal(t, 204, code)
	clk.Advance(time.Minute)

	q := func(kind, start, end string) (int, map[string]any) {
		st, _, body := e.do("GET", "/services/data/v62.0/sobjects/Opportunity/"+kind+"/?start="+url.QueryEscape(start)+"&end="+url.QueryEscape(end), nil)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		if m == nil {
			var list []map[string]any
			require.NoError(t, json.Unmarshal(body, &list), string(body))
			m = list[0]
		}
		return st, m
	}
	st, m := q("updated", "2026-03-10T12:05:00+00:00", "2026-03-10T13:00:00Z")
	require.Equal(t, 200, st, m)
	assert.Equal(t, []any{b}, m["ids"])
	assert.Equal(t, "2026-03-10T12:21:30.000+0000", m["latestDateCovered"])
	st, m = q("updated", "2026-03-10T12:00:00Z", "2026-03-10T12:15:00Z")
	require.Equal(t, 200, st)
	assert.Equal(t, []any{b}, m["ids"], "deleted record a is not in getUpdated")
	assert.Equal(t, "2026-03-10T12:15:00.000+0000", m["latestDateCovered"])

	st, m = q("deleted", "2026-03-10T12:00:00Z", "2026-03-10T12:30:00Z")
	require.Equal(t, 200, st, m)
	recs := m["deletedRecords"].([]any)
	require.Len(t, recs, 1)
	assert.Equal(t, map[string]any{"id": a, "deletedDate": "2026-03-10T12:20:30.000+0000"}, recs[0])
	assert.Equal(t, "2026-03-10T12:00:00.000+0000", m["earliestDateAvailable"])

	for _, c := range [][3]string{
		{"updated", "2026-03-10T12:10:00Z", "2026-03-10T12:00:00Z"},
		{"updated", "2026-03-10T12:10:00Z", "2026-03-10T12:10:40Z"}, // same minute after truncation
		{"updated", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},
		{"updated", "2026-02-20T00:00:00Z", "2026-03-25T00:00:00Z"},
		{"deleted", "2026-02-20T00:00:00Z", "2026-02-21T00:00:00Z"},
		{"updated", "yesterday", "2026-03-10T12:10:00Z"},
	} {
		st, m := q(c[0], c[1], c[2])
		assert.Equal(t, 400, st, c)
		assert.Equal(t, "INVALID_REPLICATION_DATE", m["errorCode"], c)
	}
	st, m = q("updated", "", "2026-03-10T12:10:00Z")
	assert.Equal(t, 400, st)
	assert.Equal(t, "MISSING_ARGUMENT", m["errorCode"])
	code, _, _ = e.do("POST", "/services/data/v62.0/sobjects/Opportunity/updated/", nil)
	assert.Equal(t, 405, code)
	assert.Equal(t, 2, e.srv.Stats().Endpoints["GET /services/data/{version}/sobjects/{object}/updated"]["200"])
}

// --- FeedItem ----------------------------------------------------------------------------------

func TestFeedItems(t *testing.T) {
	e := newEnv(t, Options{})
	_, _, b := e.do("POST", "/services/data/v62.0/sobjects/Opportunity", opp("Feed parent"))
	var r map[string]any
	require.NoError(t, json.Unmarshal(b, &r))
	parent := r["id"].(string)

	code, _, b := e.do("POST", "/services/data/v62.0/sobjects/FeedItem", map[string]any{"ParentId": parent, "Body": "Jira comment: looks good & ship it 🚀"})
	require.Equal(t, 201, code, string(b))
	require.NoError(t, json.Unmarshal(b, &r))
	id := r["id"].(string)
	assert.True(t, strings.HasPrefix(id, "0D5"))

	code, _, b = e.do("GET", "/services/data/v62.0/sobjects/FeedItem/"+id, nil)
	require.Equal(t, 200, code)
	var item map[string]any
	require.NoError(t, json.Unmarshal(b, &item))
	assert.Equal(t, "TextPost", item["Type"])
	assert.Equal(t, parent, item["ParentId"])
	assert.NotEmpty(t, item["CreatedById"])
	assert.NotEmpty(t, item["CreatedDate"])

	soql := "SELECT Id, Body, ParentId, CreatedDate FROM FeedItem WHERE ParentId = '" + parent[:15] + "'"
	code, _, b = e.do("GET", "/services/data/v62.0/query?q="+url.QueryEscape(soql), nil)
	require.Equal(t, 200, code, string(b))
	assert.Contains(t, string(b), `"totalSize":1`)
	assert.Contains(t, string(b), `looks good & ship it 🚀`)
	code, _, b = e.do("GET", "/services/data/v62.0/query?q="+url.QueryEscape("SELECT Parent.Name FROM FeedItem"), nil)
	require.Equal(t, 200, code, string(b))
	assert.Contains(t, string(b), "Feed parent")

	for _, bad := range []map[string]any{
		{"ParentId": parent},
		{"Body": "orphan"},
		{"ParentId": parent, "Body": strings.Repeat("é", 10001)},
		{"ParentId": parent, "Body": "x", "Type": "Bogus"},
		{"ParentId": "00Q000000000000AAA", "Body": "x"},
	} {
		code, _, b = e.do("POST", "/services/data/v62.0/sobjects/FeedItem", bad)
		assert.Equal(t, 400, code, "%v %s", bad, b)
		assert.True(t, strings.HasPrefix(string(b), `[{"message"`))
	}
	code, _, b = e.do("GET", "/services/data/v62.0/sobjects/FeedItem/describe", nil)
	require.Equal(t, 200, code)
	var d struct {
		Fields []map[string]any
	}
	require.NoError(t, json.Unmarshal(b, &d))
	byName := map[string]map[string]any{}
	for _, f := range d.Fields {
		byName[f["name"].(string)] = f
	}
	assert.Equal(t, float64(10000), byName["Body"]["length"])
	assert.Equal(t, "textarea", byName["Body"]["type"])
	assert.Equal(t, true, byName["ParentId"]["polymorphicForeignKey"])
	assert.Equal(t, "TextPost", byName["Type"]["defaultValue"])
	code, _, _ = e.do("DELETE", "/services/data/v62.0/sobjects/FeedItem/"+id, nil)
	assert.Equal(t, 204, code)
	code, _, _ = e.do("GET", "/services/data/v62.0/sobjects/FeedItem/"+id, nil)
	assert.Equal(t, 404, code)
}

// --- seeding -------------------------------------------------------------------------------------

func TestSeedEdgeCasesAndSpeed(t *testing.T) {
	s := New(DemoOptions())
	start := time.Now()
	s.Seed(SeedOptions{Opportunities: 10000})
	elapsed := time.Since(start)
	assert.Less(t, elapsed, 5*time.Second, "seeding 10,000 Opportunities took %v", elapsed)
	assert.Equal(t, 10000, s.Stats().Records["Opportunity"])

	var long, quotes, emoji, empty int
	s.mu.RLock()
	for _, r := range s.st.tables["Opportunity"].rows {
		name, _ := r.vals["Name"].(string)
		desc, _ := r.vals["Description"].(string)
		if n := len([]rune(desc)); n > 31000 && n <= 32000 {
			long++
		}
		if strings.Contains(name, `"`) && strings.Contains(name, "&") {
			quotes++
		}
		if strings.Contains(name, "🚀") {
			emoji++
		}
		if r.vals["Amount"] == nil && r.vals["Description"] == nil && r.vals["NextStep"] == nil {
			empty++
		}
		assert.LessOrEqual(t, len([]rune(name)), 120)
	}
	s.mu.RUnlock()
	assert.Equal(t, 100, long)
	assert.Equal(t, 1000, quotes)
	assert.Equal(t, 1000, emoji)
	assert.Equal(t, 1000, empty)

	// The edge cases survive the wire: JSON stays valid and round-trips.
	hs := httptest.NewServer(s)
	defer hs.Close()
	resp, err := http.Get(hs.URL + "/__admin/records/Opportunity?limit=20")
	require.NoError(t, err)
	defer resp.Body.Close()
	var recs []map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&recs))
	assert.Contains(t, recs[3]["Name"], `"Platinum" Renewal & Expansion <Phase 2>`)
	assert.Contains(t, recs[5]["Name"], "🚀")
	assert.Nil(t, recs[9]["Amount"])
	assert.Greater(t, len(recs[7]["Description"].(string)), 31000)
}

func BenchmarkSeed10kOpportunities(b *testing.B) {
	for i := 0; i < b.N; i++ {
		s := New(DemoOptions())
		s.Seed(SeedOptions{Opportunities: 10000})
	}
}
