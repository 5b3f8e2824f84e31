package salesforce

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type env struct {
	t     *testing.T
	srv   *Server
	hs    *httptest.Server
	token string
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	if opts.ClientID == "" {
		d := DemoOptions()
		opts.ClientID, opts.ClientSecret, opts.Username = d.ClientID, d.ClientSecret, d.Username
	}
	srv := New(opts)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e := &env{t: t, srv: srv, hs: hs}
	e.token = e.login()
	return e
}

func (e *env) login() string {
	e.t.Helper()
	resp, err := http.PostForm(e.hs.URL+"/services/oauth2/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {"sfjira-demo"}, "client_secret": {"sfjira-demo-secret"}})
	require.NoError(e.t, err)
	defer resp.Body.Close()
	require.Equal(e.t, 200, resp.StatusCode)
	var tok map[string]any
	require.NoError(e.t, json.NewDecoder(resp.Body).Decode(&tok))
	return tok["access_token"].(string)
}

// do performs an authenticated call and returns status, headers and body.
func (e *env) do(method, path string, body any, hdr ...string) (int, http.Header, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			j, err := json.Marshal(b)
			require.NoError(e.t, err)
			rd = strings.NewReader(string(j))
		}
	}
	req, err := http.NewRequest(method, e.hs.URL+path, rd)
	require.NoError(e.t, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp.StatusCode, resp.Header, b
}

func (e *env) query(soql string, hdr ...string) (int, map[string]any) {
	e.t.Helper()
	st, _, b := e.do("GET", "/services/data/v62.0/query?q="+url.QueryEscape(soql), nil, hdr...)
	var m map[string]any
	if st == 200 {
		require.NoError(e.t, json.Unmarshal(b, &m), string(b))
	} else {
		var errs []map[string]any
		require.NoError(e.t, json.Unmarshal(b, &errs), string(b))
		m = errs[0]
	}
	return st, m
}

func (e *env) create(obj string, fields map[string]any) string {
	e.t.Helper()
	st, _, b := e.do("POST", "/services/data/v62.0/sobjects/"+obj, fields)
	require.Equal(e.t, 201, st, string(b))
	var res map[string]any
	require.NoError(e.t, json.Unmarshal(b, &res))
	assert.Equal(e.t, true, res["success"])
	assert.Equal(e.t, []any{}, res["errors"])
	return res["id"].(string)
}

func decodeErr(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var errs []map[string]any
	require.NoError(t, json.Unmarshal(b, &errs), string(b))
	require.Len(t, errs, 1)
	return errs[0]
}

func TestIDChecksum(t *testing.T) {
	cases := map[string]string{"0011Y00003HVMu4": "QAH", "a00D0000008pQRA": "IA2", "003q000000KvQ1t": "AAF"}
	for id15, sum := range cases {
		assert.Equal(t, id15+sum, To18(id15))
		got, ok := NormalizeID(id15)
		assert.True(t, ok)
		assert.Equal(t, id15+sum, got)
		// 18-char ids are case-insensitive: the checksum restores the case.
		got, ok = NormalizeID(strings.ToLower(id15 + sum))
		assert.True(t, ok)
		assert.Equal(t, id15+sum, got)
	}
	for _, bad := range []string{"", "abc", "0011Y00003HVMu4QA", "0011Y00003HVMu!", "0011y00003hvmu4zzz"} {
		_, ok := NormalizeID(bad)
		assert.False(t, ok, bad)
	}
	id := makeID("006", 12345)
	assert.Len(t, id, 18)
	assert.True(t, strings.HasPrefix(id, "006"))
	assert.Equal(t, To18(id[:15]), id)
}

func TestTokenFlow(t *testing.T) {
	srv := New(DemoOptions())
	hs := httptest.NewServer(srv)
	defer hs.Close()

	resp, err := http.PostForm(hs.URL+"/services/oauth2/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {"sfjira-demo"}, "client_secret": {"sfjira-demo-secret"}})
	require.NoError(t, err)
	var tok map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	at := tok["access_token"].(string)
	org, _, ok := strings.Cut(at, "!")
	assert.True(t, ok)
	assert.Len(t, org, 15)
	assert.True(t, strings.HasPrefix(org, "00D"))
	assert.Equal(t, hs.URL, tok["instance_url"])
	assert.Equal(t, "Bearer", tok["token_type"])
	assert.Equal(t, "opaque", tok["token_format"])
	assert.NotContains(t, tok, "expires_in")
	assert.Regexp(t, `^\d{13}$`, tok["issued_at"])
	assert.Regexp(t, `^https://login.salesforce.com/id/00D\w{15}/005\w{15}$`, tok["id"])
	assert.NotEmpty(t, tok["signature"])

	// HTTP Basic credentials work too.
	req, _ := http.NewRequest("POST", hs.URL+"/services/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("sfjira-demo", "sfjira-demo-secret")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)

	for _, tc := range []struct {
		form       url.Values
		code, desc string
	}{
		{url.Values{"grant_type": {"client_credentials"}, "client_id": {"sfjira-demo"}, "client_secret": {"nope"}}, "invalid_client", "invalid client credentials"},
		{url.Values{"grant_type": {"password"}, "client_id": {"sfjira-demo"}}, "unsupported_grant_type", "grant type not supported"},
	} {
		resp, err := http.PostForm(hs.URL+"/services/oauth2/token", tc.form)
		require.NoError(t, err)
		var m map[string]string
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		resp.Body.Close()
		assert.Equal(t, 400, resp.StatusCode)
		assert.Equal(t, tc.code, m["error"])
		assert.Equal(t, tc.desc, m["error_description"])
	}

	// Unknown token → INVALID_SESSION_ID.
	req, _ = http.NewRequest("GET", hs.URL+"/services/data/v62.0/limits", nil)
	req.Header.Set("Authorization", "Bearer 00Dbogus!xyz")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode)
	assert.JSONEq(t, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`, string(b))
}

func TestTokenExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, Options{TokenTTL: time.Hour, Now: clock})
	st, _, _ := e.do("GET", "/services/data/v62.0/limits", nil)
	assert.Equal(t, 200, st)
	mu.Lock()
	now = now.Add(61 * time.Minute)
	mu.Unlock()
	st, _, b := e.do("GET", "/services/data/v62.0/limits", nil)
	assert.Equal(t, 401, st)
	assert.Equal(t, "INVALID_SESSION_ID", decodeErr(t, b)["errorCode"])

	// expire_tokens fault invalidates sessions at once.
	e.token = e.login()
	st, _, _ = e.do("GET", "/services/data/v62.0/limits", nil)
	assert.Equal(t, 200, st)
	resp, err := http.Post(e.hs.URL+"/__admin/faults", "application/json", strings.NewReader(`{"expire_tokens":true}`))
	require.NoError(t, err)
	resp.Body.Close()
	st, _, _ = e.do("GET", "/services/data/v62.0/limits", nil)
	assert.Equal(t, 401, st)
}

func TestVersionsLimitsAndQuota(t *testing.T) {
	e := newEnv(t, Options{DailyAPILimit: 3})
	resp, err := http.Get(e.hs.URL + "/services/data/")
	require.NoError(t, err)
	var vers []map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&vers))
	resp.Body.Close()
	assert.Contains(t, vers, map[string]string{"version": "62.0", "url": "/services/data/v62.0", "label": "Winter '25"})

	st, h, b := e.do("GET", "/services/data/v58.0/limits", nil)
	require.Equal(t, 200, st)
	assert.Equal(t, "api-usage=1/3", h.Get("Sforce-Limit-Info"))
	var lim map[string]map[string]any
	require.NoError(t, json.Unmarshal(b, &lim))
	assert.Equal(t, float64(3), lim["DailyApiRequests"]["Max"])
	assert.Equal(t, float64(2), lim["DailyApiRequests"]["Remaining"])
	assert.Contains(t, lim, "DataStorageMB")

	e.do("GET", "/services/data/v58.0/limits", nil)
	_, h, _ = e.do("GET", "/services/data/v58.0/limits", nil)
	assert.Equal(t, "api-usage=3/3", h.Get("Sforce-Limit-Info"))
	st, _, b = e.do("GET", "/services/data/v58.0/limits", nil)
	assert.Equal(t, 403, st)
	assert.JSONEq(t, `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`, string(b))
}

func TestQueryPagination(t *testing.T) {
	e := newEnv(t, Options{})
	e.srv.Seed(SeedOptions{Accounts: 20, Opportunities: 4500})
	st, page := e.query("SELECT Id, Name FROM Opportunity")
	require.Equal(t, 200, st)
	assert.Equal(t, float64(4500), page["totalSize"])
	assert.Equal(t, false, page["done"])
	assert.Len(t, page["records"], 2000)
	next := page["nextRecordsUrl"].(string)
	assert.Regexp(t, `^/services/data/v62.0/query/01g\w{15}-2000$`, next)

	seen := map[string]bool{}
	for _, r := range page["records"].([]any) {
		seen[r.(map[string]any)["Id"].(string)] = true
	}
	pages := 1
	for next != "" {
		st, _, b := e.do("GET", next, nil)
		require.Equal(t, 200, st, string(b))
		var p map[string]any
		require.NoError(t, json.Unmarshal(b, &p))
		assert.Equal(t, float64(4500), p["totalSize"])
		for _, r := range p["records"].([]any) {
			seen[r.(map[string]any)["Id"].(string)] = true
		}
		pages++
		if p["done"] == true {
			assert.NotContains(t, p, "nextRecordsUrl")
			next = ""
		} else {
			next = p["nextRecordsUrl"].(string)
		}
	}
	assert.Equal(t, 3, pages)
	assert.Len(t, seen, 4500)

	// batchSize header.
	st, page = e.query("SELECT Id FROM Opportunity", "Sforce-Query-Options", "batchSize=500")
	require.Equal(t, 200, st)
	assert.Len(t, page["records"], 500)
	assert.True(t, strings.HasSuffix(page["nextRecordsUrl"].(string), "-500"))

	st, _, b := e.do("GET", "/services/data/v62.0/query/01gBOGUS-2000", nil)
	assert.Equal(t, 400, st)
	assert.Equal(t, "INVALID_QUERY_LOCATOR", decodeErr(t, b)["errorCode"])
}

func TestQueryFiltersOrderAndRelationships(t *testing.T) {
	e := newEnv(t, Options{})
	acc := e.create("Account", map[string]any{"Name": "Müller & Söhne GmbH", "Industry": "Manufacturing"})
	acc2 := e.create("Account", map[string]any{"Name": "株式会社サクラ"})
	mk := func(name, stage string, amount any, close string, account string) string {
		f := map[string]any{"Name": name, "StageName": stage, "CloseDate": close, "Amount": amount}
		if account != "" {
			f["AccountId"] = account
		}
		return e.create("Opportunity", f)
	}
	o1 := mk("Alpha", "Prospecting", 1000, "2024-01-31", acc)
	mk("Beta", "Closed Won", 5000.5, "2024-03-15", acc2)
	mk("Gamma 'quoted'", "Closed Lost", nil, "2024-02-10", "")
	mk("delta", "Needs Analysis", 250, "2024-05-01", acc)

	names := func(q string) []string {
		t.Helper()
		st, res := e.query(q)
		require.Equal(t, 200, st, res)
		var out []string
		for _, r := range res["records"].([]any) {
			out = append(out, r.(map[string]any)["Name"].(string))
		}
		return out
	}
	assert.Equal(t, []string{"Alpha", "Beta", "delta", "Gamma 'quoted'"}, names("SELECT Name FROM Opportunity ORDER BY Name"))
	assert.Equal(t, []string{"Beta", "Alpha", "delta", "Gamma 'quoted'"}, names("SELECT Name FROM Opportunity ORDER BY Amount DESC NULLS LAST"))
	assert.Equal(t, []string{"Gamma 'quoted'", "delta"}, names("SELECT Name FROM Opportunity ORDER BY Amount ASC NULLS FIRST LIMIT 2"))
	assert.Equal(t, []string{"Alpha", "delta"}, names("SELECT Name FROM Opportunity WHERE Amount < 2000 AND Amount != null"))
	assert.Equal(t, []string{"Beta", "Gamma 'quoted'"}, names("select name from opportunity where IsClosed = true"))
	assert.Equal(t, []string{"Gamma 'quoted'"}, names(`SELECT Name FROM Opportunity WHERE Name = 'gamma \'QUOTED\''`))
	assert.Equal(t, []string{"Alpha", "Beta"}, names("SELECT Name FROM Opportunity WHERE StageName IN ('Prospecting','Closed Won')"))
	assert.Equal(t, []string{"Gamma 'quoted'", "delta"}, names("SELECT Name FROM Opportunity WHERE StageName NOT IN ('Prospecting','Closed Won')"))
	assert.Equal(t, []string{"Alpha", "delta"}, names("SELECT Name FROM Opportunity WHERE Account.Name LIKE 'müller%'"))
	assert.Equal(t, []string{"Beta", "Gamma 'quoted'"}, names("SELECT Name FROM Opportunity WHERE NOT (CloseDate < 2024-02-01 OR StageName = 'Needs Analysis')"))
	assert.Equal(t, []string{"Beta", "delta"}, names("SELECT Name FROM Opportunity WHERE CloseDate >= 2024-03-01 ORDER BY CloseDate"))
	assert.Equal(t, []string{"Gamma 'quoted'"}, names("SELECT Name FROM Opportunity WHERE AccountId = null"))
	assert.Equal(t, []string{"Alpha"}, names("SELECT Name FROM Opportunity WHERE Id = '"+o1[:15]+"'"))
	assert.Len(t, names("SELECT Name FROM Opportunity WHERE CreatedDate > 2020-01-01T00:00:00Z AND SystemModstamp < 2999-01-01T00:00:00.000+0000"), 4)
	assert.Len(t, names("SELECT Name FROM Opportunity WHERE LastModifiedDate >= 2020-01-01T00:00:00+0000"), 4)
	assert.Equal(t, []string{"Alpha", "delta"}, names("SELECT Name FROM Opportunity WHERE Name LIKE '%a' AND Probability <= 20 ORDER BY Name"))

	st, res := e.query("SELECT Id, Name, Account.Name, Account.Industry FROM Opportunity ORDER BY Name")
	require.Equal(t, 200, st)
	recs := res["records"].([]any)
	first := recs[0].(map[string]any)
	assert.Equal(t, map[string]any{"type": "Opportunity", "url": "/services/data/v62.0/sobjects/Opportunity/" + o1}, first["attributes"])
	accObj := first["Account"].(map[string]any)
	assert.Equal(t, "Müller & Söhne GmbH", accObj["Name"])
	assert.Equal(t, "Manufacturing", accObj["Industry"])
	assert.Equal(t, map[string]any{"type": "Account", "url": "/services/data/v62.0/sobjects/Account/" + acc}, accObj["attributes"])
	assert.Nil(t, recs[3].(map[string]any)["Account"])
	assert.Contains(t, recs[3].(map[string]any), "Account")

	st, res = e.query("SELECT COUNT() FROM Opportunity WHERE IsWon = false")
	require.Equal(t, 200, st)
	assert.Equal(t, float64(3), res["totalSize"])
	assert.Equal(t, []any{}, res["records"])

	// Owner relationship reaches the integration user.
	st, res = e.query("SELECT Owner.Username FROM Account LIMIT 1")
	require.Equal(t, 200, st)
	assert.Equal(t, "integration@sfjira.demo", res["records"].([]any)[0].(map[string]any)["Owner"].(map[string]any)["Username"])
}

func TestQueryErrors(t *testing.T) {
	e := newEnv(t, Options{})
	st, err := e.query("SELECT Foo FROM Opportunity")
	assert.Equal(t, 400, st)
	assert.Equal(t, "INVALID_FIELD", err["errorCode"])
	assert.Equal(t, "\nSELECT Foo FROM Opportunity\n       ^\nERROR at Row:1:Column:8\nNo such column 'Foo' on entity 'Opportunity'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", err["message"])

	st, err = e.query("SELECT Id FROM Widget__c")
	assert.Equal(t, 400, st)
	assert.Equal(t, "INVALID_TYPE", err["errorCode"])
	assert.Contains(t, err["message"], "sObject type 'Widget__c' is not supported.")

	for _, q := range []string{"SELECT Id FRM Opportunity", "SELECT Id FROM Opportunity WHERE", "SELECT Id FROM Opportunity WHERE Name = 'x' AND Amount > 1 OR Amount < 0", "SELECT Id FROM Opportunity LIMIT x", "SELECT Name FROM Opportunity WHERE Name = 'unterminated"} {
		st, err = e.query(q)
		assert.Equal(t, 400, st, q)
		assert.Equal(t, "MALFORMED_QUERY", err["errorCode"], q)
	}
	st, err = e.query("SELECT Id FROM Opportunity WHERE Amount = '12'")
	assert.Equal(t, 400, st)
	assert.Equal(t, "INVALID_FIELD", err["errorCode"])
	assert.Contains(t, err["message"], "must be of type double")

	st, err = e.query("SELECT Id, Bogus__r.Name FROM Opportunity")
	assert.Equal(t, 400, st)
	assert.Contains(t, err["message"], "Didn't understand relationship 'Bogus__r'")
}

func TestCRUDAndValidation(t *testing.T) {
	e := newEnv(t, Options{})
	acc := e.create("Account", map[string]any{"Name": "Zoë's Café"})
	id := e.create("Opportunity", map[string]any{"Name": "Deal", "StageName": "Qualification", "CloseDate": "2024-06-30", "AccountId": acc[:15], "Amount": 1234.567})
	assert.Len(t, id, 18)
	assert.True(t, strings.HasPrefix(id, "006"))

	st, _, b := e.do("GET", "/services/data/v62.0/sobjects/Opportunity/"+id[:15], nil)
	require.Equal(t, 200, st)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(b, &rec))
	assert.Equal(t, id, rec["Id"])
	assert.Equal(t, acc, rec["AccountId"])
	assert.Equal(t, 1234.57, rec["Amount"])
	assert.Equal(t, float64(10), rec["Probability"])
	assert.Equal(t, "Pipeline", rec["ForecastCategoryName"])
	assert.Equal(t, false, rec["IsClosed"])
	assert.Equal(t, false, rec["IsDeleted"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$`, rec["SystemModstamp"])
	assert.Regexp(t, `^005`, rec["CreatedById"])
	assert.Nil(t, rec["Jira_Issue_Id__c"])
	assert.Contains(t, rec, "Jira_Issue_Id__c")

	st, _, b = e.do("GET", "/services/data/v62.0/sobjects/Opportunity/"+id+"?fields=Name,StageName", nil)
	require.Equal(t, 200, st)
	rec = nil
	require.NoError(t, json.Unmarshal(b, &rec))
	assert.Len(t, rec, 4) // attributes, Name, StageName and the Id Salesforce always adds
	assert.Equal(t, id, rec["Id"])

	st, _, b = e.do("PATCH", "/services/data/v62.0/sobjects/Opportunity/"+strings.ToLower(id), map[string]any{"StageName": "Closed Won", "Jira_Status__c": "Done"})
	require.Equal(t, 204, st, string(b))
	assert.Empty(t, b)
	_, _, b = e.do("GET", "/services/data/v62.0/sobjects/Opportunity/"+id, nil)
	rec = nil
	require.NoError(t, json.Unmarshal(b, &rec))
	assert.Equal(t, true, rec["IsWon"])
	assert.Equal(t, float64(100), rec["Probability"])
	assert.Equal(t, "Closed", rec["ForecastCategoryName"])
	assert.Equal(t, "Done", rec["Jira_Status__c"])

	errCase := func(method, path string, body any, status int, code, msg string, fields ...string) {
		t.Helper()
		st, _, b := e.do(method, path, body)
		assert.Equal(t, status, st, string(b))
		m := decodeErr(t, b)
		assert.Equal(t, code, m["errorCode"], string(b))
		if msg != "" {
			assert.Equal(t, msg, m["message"])
		}
		if fields != nil {
			var got []string
			for _, f := range m["fields"].([]any) {
				got = append(got, f.(string))
			}
			assert.Equal(t, fields, got)
		}
	}
	base := "/services/data/v62.0/sobjects/Opportunity"
	errCase("POST", base, map[string]any{"Name": "x", "StageName": "Prospecting", "CloseDate": "2024-01-01", "Foo": 1}, 400, "INVALID_FIELD", "No such column 'Foo' on sobject of type Opportunity")
	errCase("POST", base, map[string]any{"Amount": 5}, 400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Name, StageName, CloseDate]", "Name", "StageName", "CloseDate")
	long := strings.Repeat("é", 121)
	errCase("PATCH", base+"/"+id, map[string]any{"Name": long}, 400, "STRING_TOO_LONG", "Name: data value too large: "+long+" (max length=120)", "Name")
	errCase("PATCH", base+"/"+id, map[string]any{"IsWon": true}, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", "", "IsWon")
	errCase("PATCH", base+"/"+id, map[string]any{"Amount": "lots"}, 400, "JSON_PARSER_ERROR", "")
	errCase("PATCH", base+"/"+id, `{"Name": `, 400, "JSON_PARSER_ERROR", "")
	errCase("PATCH", base+"/"+id, map[string]any{"ForecastCategoryName": "Maybe"}, 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "Forecast Category: bad value for restricted picklist field: Maybe", "ForecastCategoryName")
	errCase("PATCH", base+"/"+id, map[string]any{"Name": nil}, 400, "REQUIRED_FIELD_MISSING", "", "Name")
	errCase("PATCH", base+"/"+id, map[string]any{"AccountId": "not-an-id"}, 400, "MALFORMED_ID", "", "AccountId")
	errCase("GET", base+"/"+acc, nil, 400, "MALFORMED_ID", "")
	errCase("GET", base+"/0068d00000ZZZZZ", nil, 404, "NOT_FOUND", "The requested resource does not exist")
	errCase("GET", base+"/xyz", nil, 404, "NOT_FOUND", "")
	errCase("GET", "/services/data/v62.0/sobjects/Widget__c/"+id, nil, 404, "NOT_FOUND", "")
	errCase("POST", "/services/data/v62.0/sobjects/Contact", map[string]any{"LastName": "Nowak", "Email": "not-an-email"}, 400, "INVALID_EMAIL_ADDRESS", "", "Email")

	e.create("Opportunity", map[string]any{"Name": "Linked", "StageName": "Prospecting", "CloseDate": "2024-01-01", "Jira_Issue_Id__c": "10042"})
	errCase("PATCH", base+"/"+id, map[string]any{"Jira_Issue_Id__c": "10042"}, 400, "DUPLICATE_VALUE", "")

	st, _, _ = e.do("DELETE", base+"/"+id, nil)
	assert.Equal(t, 204, st)
	errCase("GET", base+"/"+id, nil, 404, "ENTITY_IS_DELETED", "entity is deleted")
	errCase("DELETE", base+"/"+id, nil, 404, "ENTITY_IS_DELETED", "entity is deleted")
	st, res := e.query("SELECT COUNT() FROM Opportunity")
	require.Equal(t, 200, st)
	assert.Equal(t, float64(1), res["totalSize"])
}

func TestUpsert(t *testing.T) {
	e := newEnv(t, Options{})
	body := map[string]any{"Name": "From Jira", "StageName": "Prospecting", "CloseDate": "2024-09-30"}
	for _, ver := range []string{"v62.0", "v45.0"} {
		path := "/services/data/" + ver + "/sobjects/Opportunity/Jira_Issue_Id__c/" + ver
		st, _, b := e.do("PATCH", path, body)
		require.Equal(t, 201, st, string(b))
		var res map[string]any
		require.NoError(t, json.Unmarshal(b, &res))
		if ver == "v62.0" {
			assert.Equal(t, true, res["created"])
		} else {
			assert.NotContains(t, res, "created")
		}
		id := res["id"].(string)

		st, _, b = e.do("PATCH", path, map[string]any{"Jira_Status__c": "In Progress"})
		if ver == "v62.0" {
			require.Equal(t, 200, st, string(b))
			assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"success":true,"errors":[],"created":false}`, id), string(b))
		} else {
			require.Equal(t, 204, st, string(b))
			assert.Empty(t, b)
		}
		st, _, b = e.do("GET", path, nil)
		require.Equal(t, 200, st)
		var rec map[string]any
		require.NoError(t, json.Unmarshal(b, &rec))
		assert.Equal(t, id, rec["Id"])
		assert.Equal(t, "In Progress", rec["Jira_Status__c"])
		assert.Equal(t, ver, rec["Jira_Issue_Id__c"])
	}
	// Non-unique external id with two matches → 300.
	for i := 0; i < 2; i++ {
		e.create("Opportunity", map[string]any{"Name": "Dup", "StageName": "Prospecting", "CloseDate": "2024-01-01", "Jira_Issue_Key__c": "SFJ-1"})
	}
	st, _, b := e.do("PATCH", "/services/data/v62.0/sobjects/Opportunity/Jira_Issue_Key__c/SFJ-1", map[string]any{"Jira_Status__c": "x"})
	assert.Equal(t, 300, st)
	var urls []string
	require.NoError(t, json.Unmarshal(b, &urls))
	assert.Len(t, urls, 2)
	assert.True(t, strings.HasPrefix(urls[0], "/services/data/v62.0/sobjects/Opportunity/006"))

	st, _, b = e.do("PATCH", "/services/data/v62.0/sobjects/Opportunity/Name/x", body)
	assert.Equal(t, 404, st)
	assert.Equal(t, "Provided external ID field does not exist or is not accessible: Name", decodeErr(t, b)["message"])
	st, _, b = e.do("GET", "/services/data/v62.0/sobjects/Opportunity/Jira_Issue_Id__c/none", nil)
	assert.Equal(t, 404, st)
	assert.Equal(t, "NOT_FOUND", decodeErr(t, b)["errorCode"])
	// Upsert insert is validated like a create.
	st, _, b = e.do("PATCH", "/services/data/v62.0/sobjects/Opportunity/Jira_Issue_Id__c/777", map[string]any{"Name": "no stage"})
	assert.Equal(t, 400, st)
	assert.Equal(t, "REQUIRED_FIELD_MISSING", decodeErr(t, b)["errorCode"])
}

func TestDescribe(t *testing.T) {
	e := newEnv(t, Options{})
	st, _, b := e.do("GET", "/services/data/v61.0/sobjects/Opportunity/describe", nil)
	require.Equal(t, 200, st)
	var d struct {
		Name, KeyPrefix string
		URLs            map[string]string `json:"urls"`
		Fields          []map[string]any
	}
	require.NoError(t, json.Unmarshal(b, &d))
	assert.Equal(t, "Opportunity", d.Name)
	assert.Equal(t, "006", d.KeyPrefix)
	assert.Equal(t, "/services/data/v61.0/sobjects/Opportunity/describe", d.URLs["describe"])
	byName := map[string]map[string]any{}
	for _, f := range d.Fields {
		byName[f["name"].(string)] = f
	}
	assert.Equal(t, "string", byName["Name"]["type"])
	assert.Equal(t, float64(120), byName["Name"]["length"])
	assert.Equal(t, false, byName["Name"]["nillable"])
	assert.Equal(t, []any{"Account"}, byName["AccountId"]["referenceTo"])
	assert.Equal(t, "Account", byName["AccountId"]["relationshipName"])
	assert.Equal(t, float64(18), byName["Amount"]["precision"])
	assert.Equal(t, float64(2), byName["Amount"]["scale"])
	assert.Equal(t, "percent", byName["Probability"]["type"])
	assert.Len(t, byName["StageName"]["picklistValues"], 10)
	assert.Equal(t, false, byName["IsClosed"]["createable"])
	assert.Equal(t, true, byName["Jira_Issue_Id__c"]["externalId"])
	assert.Equal(t, true, byName["Jira_Issue_Id__c"]["unique"])
	assert.Equal(t, "Jira Issue Id", byName["Jira_Issue_Id__c"]["label"])
	assert.Equal(t, true, byName["ForecastCategoryName"]["restrictedPicklist"])

	st, _, b = e.do("GET", "/services/data/v62.0/sobjects/", nil)
	require.Equal(t, 200, st)
	var g struct {
		Sobjects []map[string]any
	}
	require.NoError(t, json.Unmarshal(b, &g))
	assert.Len(t, g.Sobjects, 9) // Account, Contact, Opportunity, User, FeedItem, Case, Feature_Request__c, Task, Event
}

func TestSeedIsDeterministicAndCoversStages(t *testing.T) {
	dump := func() string {
		s := New(DemoOptions())
		s.Seed(SeedOptions{Accounts: 25, Contacts: 40, Opportunities: 30})
		var sb strings.Builder
		for _, name := range []string{"Account", "Contact", "Opportunity"} {
			for _, r := range s.st.tables[name].rows {
				fmt.Fprintln(&sb, r.vals["Name"], r.vals["Email"], r.vals["Amount"], r.vals["StageName"], r.vals["CloseDate"])
			}
		}
		return sb.String()
	}
	a := dump()
	assert.Equal(t, a, dump())
	assert.Contains(t, a, "Müller & Söhne GmbH")
	assert.Contains(t, a, "株式会社サクラ")
	assert.Contains(t, a, "@mueller-soehne.de")

	e := newEnv(t, Options{})
	e.srv.Seed(SeedOptions{Opportunities: 25})
	for _, st := range defaultStages {
		s, res := e.query("SELECT COUNT() FROM Opportunity WHERE StageName = '" + strings.ReplaceAll(st.Name, "'", `\'`) + "' AND AccountId != null")
		require.Equal(t, 200, s)
		assert.GreaterOrEqual(t, res["totalSize"], float64(2), st.Name)
	}
}

func TestAdminStatsResetFaults(t *testing.T) {
	e := newEnv(t, Options{})
	post := func(path, body string) map[string]any {
		resp, err := http.Post(e.hs.URL+path, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode)
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return m
	}
	m := post("/__admin/seed", `{"accounts":3,"opportunities":12}`)
	assert.Equal(t, float64(12), m["opportunities"])
	e.query("SELECT Id FROM Opportunity")
	e.query("SELECT Id FROM Opportunity")
	st, _, _ := e.do("PATCH", "/services/data/v62.0/sobjects/Opportunity/0068d00000ZZZZZ", map[string]any{"Name": "x"})
	assert.Equal(t, 404, st)

	resp, err := http.Get(e.hs.URL + "/__admin/stats")
	require.NoError(t, err)
	var stats Stats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&stats))
	resp.Body.Close()
	assert.Equal(t, 2, stats.Endpoints["GET /services/data/{version}/query"]["200"])
	assert.Equal(t, 1, stats.Endpoints["PATCH /services/data/{version}/sobjects/{object}/{id}"]["404"])
	assert.Equal(t, 1, stats.Endpoints["POST /services/oauth2/token"]["200"])
	assert.Equal(t, 4, stats.Total)
	assert.Equal(t, 12, stats.Records["Opportunity"])
	assert.Equal(t, stats, e.srv.Stats())

	post("/__admin/faults", `{"fail_next":2,"error_status":503}`)
	for i := 0; i < 2; i++ {
		st, _, b := e.do("GET", "/services/data/v62.0/limits", nil)
		assert.Equal(t, 503, st)
		assert.Equal(t, "SERVER_UNAVAILABLE", decodeErr(t, b)["errorCode"])
	}
	st, _, _ = e.do("GET", "/services/data/v62.0/limits", nil)
	assert.Equal(t, 200, st)
	post("/__admin/faults", `{"error_rate":1,"error_status":500}`)
	st, _, _ = e.do("GET", "/services/data/v62.0/limits", nil)
	assert.Equal(t, 500, st)
	post("/__admin/faults", `{"latency_ms":30}`)
	start := time.Now()
	st, _, _ = e.do("GET", "/services/data/v62.0/limits", nil)
	assert.Equal(t, 200, st)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
	assert.Equal(t, map[string]any{}, post("/__admin/faults", `{}`))

	m = post("/__admin/reset", `{"opportunities":5}`)
	assert.Equal(t, float64(5), m["seeded"].(map[string]any)["opportunities"])
	stats = e.srv.Stats()
	assert.Equal(t, 0, stats.Total)
	assert.Equal(t, 5, stats.Records["Opportunity"])
	_, res := e.query("SELECT COUNT() FROM Opportunity")
	assert.Equal(t, float64(5), res["totalSize"])

	resp, err = http.Get(e.hs.URL + "/__admin/records/Opportunity?limit=2")
	require.NoError(t, err)
	var recs []map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&recs))
	resp.Body.Close()
	assert.Len(t, recs, 2)
}

func TestConcurrentWrites(t *testing.T) {
	e := newEnv(t, Options{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				path := fmt.Sprintf("/services/data/v62.0/sobjects/Opportunity/Jira_Issue_Id__c/%d", i)
				st, _, b := e.do("PATCH", path, map[string]any{"Name": fmt.Sprintf("w%d", w), "StageName": "Prospecting", "CloseDate": "2024-01-01"})
				if st != 200 && st != 201 {
					t.Errorf("status %d: %s", st, b)
				}
			}
		}(w)
	}
	wg.Wait()
	_, res := e.query("SELECT COUNT() FROM Opportunity")
	assert.Equal(t, float64(25), res["totalSize"])
}

func BenchmarkQuery10k(b *testing.B) {
	s := New(DemoOptions())
	s.Seed(SeedOptions{Accounts: 100, Opportunities: 10000})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.mu.RLock()
		_, err := s.st.runQuery("SELECT Id, Name, Amount, StageName, Account.Name FROM Opportunity WHERE IsClosed = false ORDER BY CloseDate", "v62.0", false)
		s.mu.RUnlock()
		if err != nil {
			b.Fatal(err)
		}
	}
}
