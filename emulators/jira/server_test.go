package jira

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type harness struct {
	t   *testing.T
	srv *Server
	ts  *httptest.Server
	mu  sync.Mutex
	now time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, now: time.Date(2024, 1, 31, 10, 0, 0, 0, time.UTC)}
	h.srv = New(Options{Email: DemoEmail, APIToken: DemoAPIToken, Now: h.clock})
	h.ts = httptest.NewServer(h.srv)
	t.Cleanup(h.ts.Close)
	return h
}

// clock advances one second per call so every change gets a distinct timestamp.
func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(time.Second)
	return h.now
}

type resp struct {
	status int
	header http.Header
	raw    []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.raw, &m); err != nil {
		t.Fatalf("decode %q: %v", r.raw, err)
	}
	return m
}

func (h *harness) do(method, path string, body any, auth ...string) resp {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		rd = bytes.NewReader(buf)
	}
	req, _ := http.NewRequest(method, h.ts.URL+path, rd)
	if len(auth) == 0 {
		req.SetBasicAuth(DemoEmail, DemoAPIToken)
	} else if auth[0] != "" {
		req.Header.Set("Authorization", auth[0])
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, raw}
}

func (h *harness) expect(r resp, status int) resp {
	h.t.Helper()
	if r.status != status {
		h.t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	return r
}

func adf(text string) map[string]any {
	return map[string]any{"type": "doc", "version": 1, "content": []any{
		map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": text}}},
	}}
}

func (h *harness) create(fields map[string]any, props ...map[string]any) (id, key string) {
	h.t.Helper()
	base := map[string]any{"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Epic"}, "summary": "Deal"}
	for k, v := range fields {
		base[k] = v
	}
	body := map[string]any{"fields": base}
	if len(props) > 0 {
		body["properties"] = props
	}
	m := h.expect(h.do("POST", "/rest/api/3/issue", body), 201).json(h.t)
	return m["id"].(string), m["key"].(string)
}

func errorsOf(t *testing.T, r resp) (msgs []any, errs map[string]any) {
	t.Helper()
	m := r.json(t)
	msgs, _ = m["errorMessages"].([]any)
	errs, _ = m["errors"].(map[string]any)
	return
}

func TestAuth(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/rest/api/3/myself", nil, "")
	h.expect(r, 401)
	r = h.do("GET", "/rest/api/3/myself", nil, "Basic "+basic("integration@sfjira.demo", "wrong"))
	h.expect(r, 401)
	if string(r.raw) != "Client must be authenticated to access this resource." || r.header.Get("X-Seraph-Loginreason") != "AUTHENTICATED_FAILED" {
		t.Fatalf("unexpected 401: %q %v", r.raw, r.header)
	}
	m := h.expect(h.do("GET", "/rest/api/3/myself", nil), 200).json(t)
	if m["emailAddress"] != DemoEmail || m["accountId"] == "" || m["active"] != true {
		t.Fatalf("myself: %v", m)
	}
	if h.do("GET", "/rest/api/3/myself", nil).header.Get("X-RateLimit-Limit") == "" {
		t.Fatal("missing X-RateLimit-Limit")
	}
	// admin API needs no auth
	h.expect(h.do("GET", "/__admin/stats", nil, ""), 200)
}

func basic(u, p string) string {
	req, _ := http.NewRequest("GET", "http://x", nil)
	req.SetBasicAuth(u, p)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func TestMetadataEndpoints(t *testing.T) {
	h := newHarness(t)
	p := h.expect(h.do("GET", "/rest/api/3/project/SFJ", nil), 200).json(t)
	if p["id"] != "10000" || p["name"] != "Salesforce Sync" || len(p["issueTypes"].([]any)) != 5 {
		t.Fatalf("project: %v", p)
	}
	h.expect(h.do("GET", "/rest/api/3/project/NOPE", nil), 404)
	var fields []map[string]any
	_ = json.Unmarshal(h.expect(h.do("GET", "/rest/api/3/field", nil), 200).raw, &fields)
	byName := map[string]map[string]any{}
	for _, f := range fields {
		byName[f["name"].(string)] = f
	}
	da := byName["Deal Amount"]
	if da["id"] != FieldDealAmount || da["schema"].(map[string]any)["custom"] != "com.atlassian.jira.plugin.system.customfieldtypes:float" {
		t.Fatalf("deal amount field: %v", da)
	}
	if byName["Sprint"]["schema"].(map[string]any)["type"] != "array" || byName["Summary"]["schema"].(map[string]any)["system"] != "summary" {
		t.Fatal("schema shapes")
	}
	ct := h.expect(h.do("GET", "/rest/api/3/issue/createmeta/SFJ/issuetypes", nil), 200).json(t)
	if ct["total"].(float64) != 5 {
		t.Fatalf("createmeta types: %v", ct)
	}
	cf := h.expect(h.do("GET", "/rest/api/3/issue/createmeta/SFJ/issuetypes/10004", nil), 200).json(t)
	req := map[string]bool{}
	for _, f := range cf["fields"].([]any) {
		fm := f.(map[string]any)
		req[fm["fieldId"].(string)] = fm["required"].(bool)
	}
	if !req["summary"] || !req["parent"] || req["duedate"] {
		t.Fatalf("required flags: %v", req)
	}
	r := h.do("GET", "/rest/api/3/issue/createmeta/SFJ/issuetypes/10001?maxResults=500", nil)
	h.expect(r, 400)
	var res []any
	_ = json.Unmarshal(h.expect(h.do("GET", "/rest/api/3/resolution", nil), 200).raw, &res)
	if len(res) != 4 {
		t.Fatalf("resolutions: %s", h.do("GET", "/rest/api/3/resolution", nil).raw)
	}
	h.expect(h.do("GET", "/rest/api/3/serverInfo", nil), 200)
	h.expect(h.do("GET", "/rest/api/3/status", nil), 200)
}

func TestCreateGetEdit(t *testing.T) {
	h := newHarness(t)
	id, key := h.create(map[string]any{
		"description":      adf("Big deal"),
		"duedate":          "2024-03-31",
		"labels":           []string{"salesforce", "b2b"},
		FieldDealAmount:    125000.5,
		FieldCustomer:      "Acme Corp",
		FieldSalesforceURL: "https://acme.my.salesforce.com/006xx0000012345",
		FieldSprint:        2,
	}, map[string]any{"key": "sfjira", "value": map[string]any{"origin": "sf/006xx0000012345"}})
	if id != "10000" || key != "SFJ-1" {
		t.Fatalf("first issue = %s %s", id, key)
	}
	is := h.expect(h.do("GET", "/rest/api/3/issue/SFJ-1?properties=sfjira", nil), 200).json(t)
	f := is["fields"].(map[string]any)
	if f["summary"] != "Deal" || f[FieldDealAmount] != 125000.5 || f[FieldProbability] != nil || f["resolution"] != nil {
		t.Fatalf("fields: %v", f)
	}
	if _, ok := f[FieldProbability]; !ok {
		t.Fatal("unset custom field must be present as null")
	}
	st := f["status"].(map[string]any)
	if st["name"] != "To Do" || st["statusCategory"].(map[string]any)["key"] != "new" {
		t.Fatalf("status: %v", st)
	}
	if !regexp.MustCompile(`^2024-01-31T10:00:\d\d\.000\+0000$`).MatchString(f["created"].(string)) || f["duedate"] != "2024-03-31" {
		t.Fatalf("dates: %v %v", f["created"], f["duedate"])
	}
	if sp := f[FieldSprint].([]any)[0].(map[string]any); sp["state"] != "active" {
		t.Fatalf("sprint: %v", sp)
	}
	if is["properties"].(map[string]any)["sfjira"].(map[string]any)["origin"] != "sf/006xx0000012345" {
		t.Fatalf("properties: %v", is["properties"])
	}
	if !strings.HasPrefix(is["self"].(string), h.ts.URL+"/rest/api/3/issue/10000") {
		t.Fatalf("self: %v", is["self"])
	}
	// field selection
	sel := h.expect(h.do("GET", "/rest/api/3/issue/10000?fields=summary,status", nil), 200).json(t)["fields"].(map[string]any)
	if len(sel) != 2 {
		t.Fatalf("fields=summary,status gave %v", sel)
	}

	// edit: fields + update ops; status ignored; updated bumps
	before := f["updated"]
	h.expect(h.do("PUT", "/rest/api/3/issue/SFJ-1?notifyUsers=false", map[string]any{
		"fields": map[string]any{"summary": "Deal v2", FieldProbability: 40, "status": map[string]any{"name": "Done"}},
		"update": map[string]any{"labels": []any{map[string]any{"add": "won"}, map[string]any{"remove": "b2b"}}},
	}), 204)
	is = h.expect(h.do("PUT", "/rest/api/3/issue/SFJ-1?returnIssue=true", map[string]any{"fields": map[string]any{}}), 200).json(t)
	f = is["fields"].(map[string]any)
	if f["summary"] != "Deal v2" || f[FieldProbability] != 40.0 || f["status"].(map[string]any)["name"] != "To Do" {
		t.Fatalf("after edit: %v", f)
	}
	if fmt.Sprint(f["labels"]) != "[salesforce won]" || f["updated"] == before {
		t.Fatalf("labels %v updated %v (before %v)", f["labels"], f["updated"], before)
	}
	// no-op edit does not bump updated
	upd := f["updated"]
	h.expect(h.do("PUT", "/rest/api/3/issue/SFJ-1", map[string]any{"fields": map[string]any{"summary": "Deal v2"}}), 204)
	f = h.expect(h.do("GET", "/rest/api/3/issue/SFJ-1?fields=updated", nil), 200).json(t)["fields"].(map[string]any)
	if f["updated"] != upd {
		t.Fatalf("no-op edit bumped updated: %v -> %v", upd, f["updated"])
	}

	// validation errors
	_, errs := errorsOf(t, h.expect(h.do("PUT", "/rest/api/3/issue/SFJ-1", map[string]any{"fields": map[string]any{FieldDealAmount: "lots"}}), 400))
	if errs[FieldDealAmount] != "Operation value must be a number" {
		t.Fatalf("number check: %v", errs)
	}
	_, errs = errorsOf(t, h.expect(h.do("POST", "/rest/api/3/issue", map[string]any{"fields": map[string]any{
		"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Task"}, "summary": "x", "customfield_99999": 1}}), 400))
	if errs["customfield_99999"] != "Field 'customfield_99999' cannot be set. It is not on the appropriate screen, or unknown." {
		t.Fatalf("unknown field: %v", errs)
	}
	_, errs = errorsOf(t, h.expect(h.do("POST", "/rest/api/3/issue", map[string]any{"fields": map[string]any{
		"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Task"}, "summary": strings.Repeat("x", 256)}}), 400))
	if errs["summary"] != "Summary must be less than 255 characters." {
		t.Fatalf("summary length: %v", errs)
	}
	_, errs = errorsOf(t, h.expect(h.do("POST", "/rest/api/3/issue", map[string]any{"fields": map[string]any{
		"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Task"}}}), 400))
	if errs["summary"] != "You must specify a summary of the issue." {
		t.Fatalf("summary required: %v", errs)
	}
	_, errs = errorsOf(t, h.expect(h.do("POST", "/rest/api/3/issue", map[string]any{"fields": map[string]any{
		"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Task"}, "summary": "x", "resolution": map[string]any{"name": "Done"}}}), 400))
	if errs["resolution"] != "Field 'resolution' cannot be set. It is not on the appropriate screen, or unknown." {
		t.Fatalf("resolution on create: %v", errs)
	}
	// failed create consumed no key
	_, key2 := h.create(map[string]any{"issuetype": map[string]any{"name": "Story"}, "parent": map[string]any{"key": "SFJ-1"}})
	if key2 != "SFJ-2" {
		t.Fatalf("second key %s", key2)
	}
	// hierarchy: Story cannot parent a Story
	_, errs = errorsOf(t, h.expect(h.do("POST", "/rest/api/3/issue", map[string]any{"fields": map[string]any{
		"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Story"}, "summary": "x", "parent": map[string]any{"key": "SFJ-2"}}}), 400))
	if errs["parent"] == nil {
		t.Fatalf("hierarchy: %v", errs)
	}
	story := h.expect(h.do("GET", "/rest/api/3/issue/SFJ-2?fields=parent", nil), 200).json(t)["fields"].(map[string]any)
	if story["parent"].(map[string]any)["key"] != "SFJ-1" {
		t.Fatalf("parent: %v", story)
	}
	h.expect(h.do("DELETE", "/rest/api/3/issue/SFJ-2", nil), 204)
	msgs, _ := errorsOf(t, h.expect(h.do("GET", "/rest/api/3/issue/SFJ-2", nil), 404))
	if msgs[0] != "Issue does not exist or you do not have permission to see it." {
		t.Fatalf("404: %v", msgs)
	}
}

func TestADFValidation(t *testing.T) {
	h := newHarness(t)
	base := map[string]any{"project": map[string]any{"id": "10000"}, "issuetype": map[string]any{"id": "10002"}, "summary": "x"}
	with := func(desc any) map[string]any {
		f := map[string]any{"description": desc}
		for k, v := range base {
			f[k] = v
		}
		return map[string]any{"fields": f}
	}
	_, errs := errorsOf(t, h.expect(h.do("POST", "/rest/api/3/issue", with("plain text")), 400))
	if !strings.HasPrefix(errs["description"].(string), "Operation value must be an Atlassian Document") {
		t.Fatalf("string description: %v", errs)
	}
	bad := map[string]any{"type": "doc", "version": 1, "content": []any{map[string]any{"type": "blink"}}}
	h.expect(h.do("POST", "/rest/api/3/issue", with(bad)), 400)
	h.expect(h.do("POST", "/rest/api/3/issue", with(map[string]any{"type": "doc", "version": 2, "content": []any{}})), 400)
	h.expect(h.do("POST", "/rest/api/3/issue", with(adf("ok"))), 201)
	rich := map[string]any{"type": "doc", "version": 1, "content": []any{
		map[string]any{"type": "heading", "attrs": map[string]any{"level": 2}, "content": []any{map[string]any{"type": "text", "text": "T", "marks": []any{map[string]any{"type": "strong"}}}}},
		map[string]any{"type": "bulletList", "content": []any{map[string]any{"type": "listItem", "content": []any{map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": "a"}}}}}}},
	}}
	h.expect(h.do("POST", "/rest/api/3/issue", with(rich)), 201)
}

func transitionIDs(t *testing.T, h *harness, key string) []string {
	m := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"/transitions", nil), 200).json(t)
	var ids []string
	for _, tr := range m["transitions"].([]any) {
		ids = append(ids, tr.(map[string]any)["id"].(string))
	}
	return ids
}

func TestTransitions(t *testing.T) {
	h := newHarness(t)
	_, key := h.create(nil)
	if got := fmt.Sprint(transitionIDs(t, h, key)); got != "[11]" {
		t.Fatalf("from To Do: %s", got)
	}
	// not a global workflow: Done is not reachable from To Do
	msgs, _ := errorsOf(t, h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/transitions", map[string]any{"transition": map[string]any{"id": "41"}}), 400))
	if msgs[0] != "Transition id '41' is not valid for this issue." {
		t.Fatalf("invalid transition: %v", msgs)
	}
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/transitions", map[string]any{}), 400)
	// resolution cannot be set on a transition without the screen
	_, errs := errorsOf(t, h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/transitions", map[string]any{
		"transition": map[string]any{"id": "11"}, "fields": map[string]any{"resolution": map[string]any{"name": "Done"}}}), 400))
	if errs["resolution"] != "Field 'resolution' cannot be set. It is not on the appropriate screen, or unknown." {
		t.Fatalf("resolution off-screen: %v", errs)
	}
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/transitions", map[string]any{"transition": map[string]any{"id": "11"}}), 204)
	if got := fmt.Sprint(transitionIDs(t, h, key)); got != "[21 31 41]" {
		t.Fatalf("from In Progress: %s", got)
	}
	m := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"/transitions?expand=transitions.fields", nil), 200).json(t)
	for _, tr := range m["transitions"].([]any) {
		tm := tr.(map[string]any)
		_, hasRes := tm["fields"].(map[string]any)["resolution"]
		if (tm["id"] == "41") != hasRes || (tm["id"] == "41") != tm["hasScreen"].(bool) {
			t.Fatalf("screen fields: %v", tm)
		}
		if tm["id"] == "31" && tm["to"].(map[string]any)["statusCategory"].(map[string]any)["key"] != "indeterminate" {
			t.Fatalf("to: %v", tm["to"])
		}
	}
	h.expect(h.do("PUT", "/rest/api/3/issue/"+key, map[string]any{"fields": map[string]any{"resolution": map[string]any{"name": "Done"}}}), 400)
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/transitions", map[string]any{
		"transition": map[string]any{"id": "41"}, "fields": map[string]any{"resolution": map[string]any{"name": "Won't Do"}}}), 204)
	f := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"?fields=status,resolution,resolutiondate", nil), 200).json(t)["fields"].(map[string]any)
	if f["status"].(map[string]any)["name"] != "Done" || f["resolution"].(map[string]any)["name"] != "Won't Do" || f["resolutiondate"] == nil {
		t.Fatalf("after Done: %v", f)
	}
	if got := fmt.Sprint(transitionIDs(t, h, key)); got != "[71]" {
		t.Fatalf("from Done: %s", got)
	}
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/transitions", map[string]any{"transition": map[string]any{"id": "71"}}), 204)
	f = h.expect(h.do("GET", "/rest/api/3/issue/"+key+"?fields=status,resolution", nil), 200).json(t)["fields"].(map[string]any)
	if f["status"].(map[string]any)["name"] != "To Do" || f["resolution"] != nil {
		t.Fatalf("after Reopen: %v", f)
	}
	// In Review path, Done without resolution → "Done"
	for _, id := range []string{"11", "31", "61"} {
		h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/transitions", map[string]any{"transition": map[string]any{"id": id}}), 204)
	}
	f = h.expect(h.do("GET", "/rest/api/3/issue/"+key+"?fields=resolution", nil), 200).json(t)["fields"].(map[string]any)
	if f["resolution"].(map[string]any)["name"] != "Done" {
		t.Fatalf("default resolution: %v", f)
	}
}

func (h *harness) search(body map[string]any) map[string]any {
	h.t.Helper()
	return h.expect(h.do("POST", "/rest/api/3/search/jql", body), 200).json(h.t)
}

func (h *harness) bulk(n int, mk func(i int) map[string]any) {
	h.t.Helper()
	for start := 0; start < n; start += 50 {
		var ups []any
		for i := start; i < min(start+50, n); i++ {
			ups = append(ups, mk(i))
		}
		h.expect(h.do("POST", "/rest/api/3/issue/bulk", map[string]any{"issueUpdates": ups}), 201)
	}
}

func TestSearch(t *testing.T) {
	h := newHarness(t)
	const n = 230
	h.bulk(n, func(i int) map[string]any {
		typ := "Epic"
		if i%2 == 1 {
			typ = "Task"
		}
		return map[string]any{
			"fields":     map[string]any{"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": typ}, "summary": fmt.Sprintf("Opp %d", i), FieldDealAmount: i * 10},
			"properties": []any{map[string]any{"key": "sfjira", "value": map[string]any{"origin": fmt.Sprintf("sf/006%012d", i)}}},
		}
	})
	// pagination across >100 issues, ascending by key
	seen := map[string]bool{}
	token := ""
	pages := 0
	prev := ""
	for {
		body := map[string]any{"jql": "project = SFJ ORDER BY key ASC", "maxResults": 100, "fields": []string{"summary"}}
		if token != "" {
			body["nextPageToken"] = token
		}
		page := h.search(body)
		pages++
		for _, is := range page["issues"].([]any) {
			m := is.(map[string]any)
			seen[m["id"].(string)] = true
			if m["fields"].(map[string]any)["summary"] == nil {
				t.Fatalf("summary missing: %v", m)
			}
			if prev != "" && m["id"].(string) <= prev {
				t.Fatalf("order: %s after %s", m["id"], prev)
			}
			prev = m["id"].(string)
		}
		if _, ok := page["total"]; ok {
			t.Fatal("enhanced search must not return total")
		}
		if page["isLast"] == true {
			if _, ok := page["nextPageToken"]; ok {
				t.Fatal("last page carries a nextPageToken")
			}
			break
		}
		token = page["nextPageToken"].(string)
	}
	if len(seen) != n || pages != 3 {
		t.Fatalf("saw %d issues in %d pages", len(seen), pages)
	}
	// maxResults caps: 100 with fields, 5000 id-only; default fields = id only
	if got := len(h.search(map[string]any{"jql": "project = SFJ", "maxResults": 1000, "fields": []string{"summary"}})["issues"].([]any)); got != 100 {
		t.Fatalf("cap with fields: %d", got)
	}
	page := h.search(map[string]any{"jql": "project = SFJ", "maxResults": 1000})
	if got := len(page["issues"].([]any)); got != n || page["isLast"] != true {
		t.Fatalf("id-only page: %d", got)
	}
	if _, ok := page["issues"].([]any)[0].(map[string]any)["fields"]; ok {
		t.Fatal("default search returned fields")
	}
	if got := len(h.search(map[string]any{"jql": "project = SFJ"})["issues"].([]any)); got != 50 {
		t.Fatalf("default maxResults: %d", got)
	}
	// property clause
	page = h.search(map[string]any{"jql": `issue.property[sfjira].origin = "sf/006000000000042"`, "properties": []string{"sfjira"}})
	iss := page["issues"].([]any)
	if len(iss) != 1 || iss[0].(map[string]any)["key"] != "SFJ-43" {
		t.Fatalf("property search: %v", page)
	}
	if iss[0].(map[string]any)["properties"].(map[string]any)["sfjira"].(map[string]any)["origin"] != "sf/006000000000042" {
		t.Fatalf("properties in search: %v", iss[0])
	}
	count := func(jql string) int {
		t.Helper()
		return len(h.search(map[string]any{"jql": jql, "maxResults": 5000})["issues"].([]any))
	}
	cases := map[string]int{
		`project = SFJ AND issuetype = Epic`:                           n / 2,
		`project = SFJ AND NOT issuetype = Epic`:                       n / 2,
		`key = SFJ-5`:                                                  1,
		`key in (SFJ-1, SFJ-2, "SFJ-3")`:                               3,
		`id in (10000, 10001)`:                                         2,
		`status = "To Do"`:                                             n,
		`status in ("In Progress", Done)`:                              0,
		`resolution is EMPTY AND project = SFJ`:                        n,
		`updated >= "2024-01-31 10:00"`:                                n,
		`updated < "2024/01/31"`:                                       0,
		`created > "2024/01/31 10:00" AND created <= "2100-01-01"`:     n,
		`(issuetype = Epic OR issuetype = Task) AND cf[10050] >= 2000`: n - 200,
		`issue.property[sfjira].origin in ("sf/006000000000001", "sf/006000000000002") OR key = SFJ-10`: 3,
		`"Deal Amount" < 100`: 10,
		`summary ~ "Opp 22"`:  1,
		`summary ~ "opp*"`:    n,
		`issue.property[sfjira].origin != "sf/006000000000001" AND issuetype = Task`: n/2 - 1,
	}
	for jql, want := range cases {
		if got := count(jql); got != want {
			t.Errorf("%s: got %d want %d", jql, got, want)
		}
	}
	// GET variant
	r := h.expect(h.do("GET", "/rest/api/3/search/jql?jql=key%3DSFJ-7&fields=summary,status", nil), 200).json(t)
	if f := r["issues"].([]any)[0].(map[string]any)["fields"].(map[string]any); f["summary"] != "Opp 6" || f["status"] == nil {
		t.Fatalf("GET search: %v", r)
	}
	// errors
	msgs, _ := errorsOf(t, h.expect(h.do("POST", "/rest/api/3/search/jql", map[string]any{"jql": "order by key desc"}), 400))
	if msgs[0] != "Unbounded JQL queries are not allowed here. Please add a search restriction to your query." {
		t.Fatalf("unbounded: %v", msgs)
	}
	msgs, _ = errorsOf(t, h.expect(h.do("POST", "/rest/api/3/search/jql", map[string]any{"jql": "project = SFJ foo"}), 400))
	if !strings.Contains(msgs[0].(string), "(line 1, character 15)") {
		t.Fatalf("syntax error: %v", msgs)
	}
	msgs, _ = errorsOf(t, h.expect(h.do("POST", "/rest/api/3/search/jql", map[string]any{"jql": "status = Nope"}), 400))
	if msgs[0] != "The value 'Nope' does not exist for the field 'status'." {
		t.Fatalf("bad value: %v", msgs)
	}
	h.expect(h.do("POST", "/rest/api/3/search/jql", map[string]any{"jql": "bogus = 1"}), 400)
	h.expect(h.do("POST", "/rest/api/3/search/jql", map[string]any{"jql": `summary = "x`}), 400)
	h.expect(h.do("POST", "/rest/api/3/search/jql", map[string]any{"jql": "project = SFJ", "nextPageToken": "garbage"}), 400)
	// old search is gone
	for _, m := range []string{"GET", "POST"} {
		msgs, _ = errorsOf(t, h.expect(h.do(m, "/rest/api/3/search", map[string]any{"jql": "project = SFJ"}), 410))
		if !strings.Contains(msgs[0].(string), "/rest/api/3/search/jql") {
			t.Fatalf("410: %v", msgs)
		}
	}
}

func TestSearchLagAndReconcile(t *testing.T) {
	h := newHarness(t)
	h.srv.opts.Now = time.Now // real clock so the lag window is meaningful
	h.expect(h.do("POST", "/__admin/faults", map[string]any{"search_lag_ms": 60000}), 200)
	id, _ := h.create(nil, map[string]any{"key": "sfjira", "value": map[string]any{"origin": "sf/006LAG"}})
	jql := `issue.property[sfjira].origin = "sf/006LAG"`
	if got := len(h.search(map[string]any{"jql": jql})["issues"].([]any)); got != 0 {
		t.Fatalf("visible despite lag: %d", got)
	}
	var idn int64
	fmt.Sscan(id, &idn)
	if got := len(h.search(map[string]any{"jql": jql, "reconcileIssues": []int64{idn}})["issues"].([]any)); got != 1 {
		t.Fatalf("reconcileIssues: %d", got)
	}
	h.expect(h.do("GET", "/rest/api/3/issue/"+id, nil), 200) // direct reads are consistent
	h.expect(h.do("POST", "/__admin/faults", map[string]any{}), 200)
}

func TestProperties(t *testing.T) {
	h := newHarness(t)
	_, key := h.create(nil)
	p := "/rest/api/3/issue/" + key + "/properties/sfjira"
	h.expect(h.do("PUT", p, map[string]any{"origin": "sf/006A"}), 201)
	h.expect(h.do("PUT", p, map[string]any{"origin": "sf/006B", "v": 2}), 200)
	m := h.expect(h.do("GET", p, nil), 200).json(t)
	if m["key"] != "sfjira" || m["value"].(map[string]any)["origin"] != "sf/006B" {
		t.Fatalf("get property: %v", m)
	}
	h.expect(h.do("PUT", "/rest/api/3/issue/"+key+"/properties/other", "42"), 201)
	keys := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"/properties", nil), 200).json(t)["keys"].([]any)
	if len(keys) != 2 || keys[1].(map[string]any)["key"] != "sfjira" {
		t.Fatalf("keys: %v", keys)
	}
	// the index follows updates
	if got := len(h.search(map[string]any{"jql": `issue.property[sfjira].origin = "sf/006A"`})["issues"].([]any)); got != 0 {
		t.Fatal("stale property index")
	}
	if got := len(h.search(map[string]any{"jql": `issue.property[sfjira].v = 2`})["issues"].([]any)); got != 1 {
		t.Fatal("numeric property search")
	}
	h.expect(h.do("PUT", p, `"`+strings.Repeat("x", 32768)+`"`), 400)
	h.expect(h.do("PUT", "/rest/api/3/issue/"+key+"/properties/"+strings.Repeat("k", 256), "1"), 400)
	h.expect(h.do("PUT", p, ""), 400)
	h.expect(h.do("DELETE", p, nil), 204)
	msgs, _ := errorsOf(t, h.expect(h.do("GET", p, nil), 404))
	if msgs[0] != "The property with key 'sfjira' does not exist." {
		t.Fatalf("missing property: %v", msgs)
	}
	h.expect(h.do("GET", "/rest/api/3/issue/SFJ-999/properties/sfjira", nil), 404)
}

func TestBulkCreatePartialFailure(t *testing.T) {
	h := newHarness(t)
	good := func(s string) map[string]any {
		return map[string]any{"fields": map[string]any{"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Epic"}, "summary": s}}
	}
	bad := map[string]any{"fields": map[string]any{"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Nope"}, "summary": "x"}}
	m := h.expect(h.do("POST", "/rest/api/3/issue/bulk", map[string]any{"issueUpdates": []any{good("a"), bad, good("c")}}), 201).json(t)
	if len(m["issues"].([]any)) != 2 {
		t.Fatalf("issues: %v", m)
	}
	e := m["errors"].([]any)[0].(map[string]any)
	if e["failedElementNumber"] != 1.0 || e["status"] != 400.0 || e["elementErrors"].(map[string]any)["errors"].(map[string]any)["issuetype"] != "The issue type selected is invalid." {
		t.Fatalf("element error: %v", e)
	}
	m = h.expect(h.do("POST", "/rest/api/3/issue/bulk", map[string]any{"issueUpdates": []any{bad, bad}}), 400).json(t)
	if len(m["errors"].([]any)) != 2 || len(m["issues"].([]any)) != 0 {
		t.Fatalf("all failed: %v", m)
	}
	var many []any
	for i := 0; i < 51; i++ {
		many = append(many, good("x"))
	}
	h.expect(h.do("POST", "/rest/api/3/issue/bulk", map[string]any{"issueUpdates": many}), 400)
}

func TestStatsAndReset(t *testing.T) {
	h := newHarness(t)
	h.create(nil)
	h.create(nil)
	h.do("GET", "/rest/api/3/issue/SFJ-1", nil)
	h.do("GET", "/rest/api/3/issue/SFJ-404", nil)
	h.do("GET", "/rest/api/3/myself", nil, "")
	h.do("GET", "/__admin/issues", nil)
	var st Stats
	_ = json.Unmarshal(h.expect(h.do("GET", "/__admin/stats", nil), 200).raw, &st)
	if st.Total != 5 || st.Endpoints["POST /rest/api/3/issue"]["201"] != 2 ||
		st.Endpoints["GET /rest/api/3/issue/{issueIdOrKey}"]["200"] != 1 ||
		st.Endpoints["GET /rest/api/3/issue/{issueIdOrKey}"]["404"] != 1 ||
		st.Endpoints["GET /rest/api/3/myself"]["401"] != 1 {
		t.Fatalf("stats: %+v", st)
	}
	if h.srv.Stats().Total != 5 {
		t.Fatal("Stats() disagrees with /__admin/stats")
	}
	list := h.expect(h.do("GET", "/__admin/issues", nil), 200).json(t)
	if list["total"].(float64) != 2 {
		t.Fatalf("admin issues: %v", list)
	}
	h.expect(h.do("POST", "/__admin/reset", nil), 200)
	if h.srv.Stats().Total != 0 {
		t.Fatal("reset kept stats")
	}
	h.expect(h.do("GET", "/rest/api/3/issue/SFJ-1", nil), 404)
	_, key := h.create(nil)
	if key != "SFJ-1" {
		t.Fatalf("keys restart after reset: %s", key)
	}
}

func TestFaults(t *testing.T) {
	h := newHarness(t)
	h.expect(h.do("POST", "/__admin/faults", map[string]any{"rate_limit_429_every": 2, "retry_after_s": 3}), 200)
	h.expect(h.do("GET", "/rest/api/3/myself", nil), 200)
	r := h.expect(h.do("GET", "/rest/api/3/myself", nil), 429)
	if r.header.Get("Retry-After") != "3" || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("429 headers: %v", r.header)
	}
	h.expect(h.do("POST", "/__admin/faults", map[string]any{"error_rate": 1, "error_status": 503, "retry_after_s": 1}), 200)
	r = h.expect(h.do("GET", "/rest/api/3/myself", nil), 503)
	if r.header.Get("Retry-After") != "1" {
		t.Fatalf("503 headers: %v", r.header)
	}
	h.expect(h.do("POST", "/__admin/faults", map[string]any{"latency_ms": 30}), 200)
	start := time.Now()
	h.expect(h.do("GET", "/rest/api/3/myself", nil), 200)
	if time.Since(start) < 30*time.Millisecond {
		t.Fatal("latency not applied")
	}
	h.expect(h.do("POST", "/__admin/faults", map[string]any{"bogus": 1}), 400)
	h.expect(h.do("POST", "/__admin/faults", map[string]any{}), 200)
	h.expect(h.do("GET", "/rest/api/3/myself", nil), 200)
}

func TestConcurrentCreates(t *testing.T) {
	h := newHarness(t)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				h.create(nil)
			}
		}()
	}
	wg.Wait()
	if got := len(h.search(map[string]any{"jql": "project = SFJ", "maxResults": 5000})["issues"].([]any)); got != 200 {
		t.Fatalf("created %d", got)
	}
}

func BenchmarkBulkCreate(b *testing.B) {
	srv := New(Options{})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var ups []any
	for i := 0; i < 50; i++ {
		ups = append(ups, map[string]any{
			"fields":     map[string]any{"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Epic"}, "summary": "Opp", FieldDealAmount: 1000, "description": adf("hello")},
			"properties": []any{map[string]any{"key": "sfjira", "value": map[string]any{"origin": fmt.Sprintf("sf/%d", i)}}},
		})
	}
	body, _ := json.Marshal(map[string]any{"issueUpdates": ups})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", ts.URL+"/rest/api/3/issue/bulk", bytes.NewReader(body))
		req.SetBasicAuth(DemoEmail, DemoAPIToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 201 {
			b.Fatal(err, res.StatusCode)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}

func TestSearchCursorStableUnderWrites(t *testing.T) {
	h := newHarness(t)
	for i := 0; i < 5; i++ {
		h.create(nil)
	}
	seen := map[string]int{}
	page := h.search(map[string]any{"jql": "project = SFJ", "maxResults": 2})
	for {
		for _, is := range page["issues"].([]any) {
			seen[is.(map[string]any)["key"].(string)]++
		}
		if page["isLast"] == true {
			break
		}
		h.create(nil) // new issues sort first (key desc) and must not shift later pages
		page = h.search(map[string]any{"jql": "project = SFJ", "maxResults": 2, "nextPageToken": page["nextPageToken"]})
	}
	if len(seen) != 5 {
		t.Fatalf("seen %v", seen)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s seen %d times", k, n)
		}
	}
	// a token from another query is rejected
	tok := h.search(map[string]any{"jql": "project = SFJ", "maxResults": 1})["nextPageToken"]
	h.expect(h.do("POST", "/rest/api/3/search/jql", map[string]any{"jql": "issuetype = Epic", "nextPageToken": tok}), 400)
}
