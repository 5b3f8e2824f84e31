package jira

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func (r resp) list(t *testing.T) []any {
	t.Helper()
	var l []any
	if err := json.Unmarshal(r.raw, &l); err != nil {
		t.Fatalf("decode list %q: %v", r.raw, err)
	}
	return l
}

func TestConfigurableWorkflow(t *testing.T) {
	h := newHarness(t)
	_, story := h.create(map[string]any{"issuetype": map[string]any{"name": "Story"}})
	wf := map[string]any{
		"project": "SFJ", "issue_types": []string{"Epic"}, "name": "Deal flow", "initial": "Qualify",
		"statuses": []any{
			map[string]any{"name": "Qualify", "category": "new"},
			map[string]any{"name": "Negotiate", "category": "indeterminate"},
			map[string]any{"name": "Won", "category": "done"},
			map[string]any{"name": "Done", "category": "done"},
		},
		"transitions": []any{
			map[string]any{"id": "101", "name": "Start negotiation", "from": []string{"Qualify"}, "to": "Negotiate"},
			map[string]any{"id": "102", "name": "Win", "from": []string{"Negotiate"}, "to": "Won", "resolution_screen": true},
			map[string]any{"id": "103", "name": "Give up", "to": "Done", "resolution_screen": true},
		},
	}
	h.expect(h.do("POST", "/__admin/workflows", wf), 200)
	// bad documents
	h.expect(h.do("POST", "/__admin/workflows", map[string]any{"statuses": []any{map[string]any{"name": "X", "category": "weird"}}}), 400)
	h.expect(h.do("POST", "/__admin/workflows", map[string]any{"issue_types": []string{"Nope"}, "statuses": []any{map[string]any{"name": "X", "category": "new"}}}), 400)
	h.expect(h.do("POST", "/__admin/workflows", map[string]any{"statuses": []any{map[string]any{"name": "X", "category": "new"}},
		"transitions": []any{map[string]any{"id": "1", "name": "t", "to": "Missing"}}}), 400)

	_, key := h.create(nil)
	m := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"?fields=status", nil), 200).json(t)
	if st := m["fields"].(map[string]any)["status"].(map[string]any); st["name"] != "Qualify" {
		t.Fatalf("initial status %v", st)
	}
	if ids := transitionIDs(t, h, key); strings.Join(ids, ",") != "101,103" {
		t.Fatalf("transitions from Qualify: %v", ids)
	}
	// Won is not reachable from Qualify directly
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/transitions", map[string]any{"transition": map[string]any{"id": "102"}}), 400)
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/transitions", map[string]any{"transition": map[string]any{"id": "101"},
		"fields": map[string]any{"resolution": map[string]any{"name": "Done"}}}), 400) // no screen
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/transitions", map[string]any{"transition": map[string]any{"id": "101"}}), 204)
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/transitions", map[string]any{"transition": map[string]any{"id": "102"},
		"fields": map[string]any{"resolution": map[string]any{"name": "Won't Do"}}}), 204)
	m = h.expect(h.do("GET", "/rest/api/3/issue/"+key+"?fields=status,resolution", nil), 200).json(t)
	f := m["fields"].(map[string]any)
	if f["status"].(map[string]any)["name"] != "Won" || f["resolution"].(map[string]any)["name"] != "Won't Do" {
		t.Fatalf("after win: %v", f)
	}
	// JQL knows the new status; other issue types keep the default workflow
	if got := h.search(map[string]any{"jql": "status = Won"})["issues"].([]any); len(got) != 1 {
		t.Fatalf("status = Won: %v", got)
	}
	if ids := transitionIDs(t, h, story); strings.Join(ids, ",") != "11" {
		t.Fatalf("story keeps default workflow: %v", ids)
	}
	// global transition: available from everywhere except its target
	if ids := transitionIDs(t, h, key); strings.Join(ids, ",") != "103" {
		t.Fatalf("from Won: %v", ids)
	}
	// options workflows survive reset
	s := New(Options{Workflows: []Workflow{{IssueTypes: []string{"Bug"}, Statuses: []WorkflowStatus{{Name: "Open", Category: "new"}, {Name: "Closed", Category: "done"}},
		Transitions: []WorkflowTransition{{ID: "2", Name: "Close", From: []string{"Open"}, To: "Closed", ResolutionScreen: true}}}}})
	s.Reset()
	if d := s.wf().forType("10003"); s.status(d.initial).Name != "Open" {
		t.Fatal("options workflow lost on reset")
	}
}

func TestExpand(t *testing.T) {
	h := newHarness(t)
	_, key := h.create(map[string]any{"description": map[string]any{"type": "doc", "version": 1, "content": []any{
		map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": "Bold <x>", "marks": []any{map[string]any{"type": "strong"}}}}}}}})
	h.expect(h.do("PUT", "/rest/api/3/issue/"+key, map[string]any{"fields": map[string]any{"summary": "Renamed", "assignee": map[string]any{"accountId": SeedUsers[1].AccountID}}}), 204)
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/transitions", map[string]any{"transition": map[string]any{"id": "11"}}), 204)
	m := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"?expand=names,schema,transitions,changelog,renderedFields", nil), 200).json(t)
	if m["names"].(map[string]any)["summary"] != "Summary" || m["schema"].(map[string]any)[FieldDealAmount].(map[string]any)["custom"] == nil {
		t.Fatalf("names/schema: %v %v", m["names"], m["schema"])
	}
	if tr := m["transitions"].([]any); len(tr) != 3 {
		t.Fatalf("transitions: %v", tr)
	}
	cl := m["changelog"].(map[string]any)
	hist := cl["histories"].([]any)
	if cl["total"].(float64) != 2 || len(hist) != 2 {
		t.Fatalf("changelog: %v", cl)
	}
	items := hist[0].(map[string]any)["items"].([]any)
	byField := map[string]map[string]any{}
	for _, it := range items {
		byField[it.(map[string]any)["field"].(string)] = it.(map[string]any)
	}
	if byField["summary"]["fromString"] != "Deal" || byField["summary"]["toString"] != "Renamed" || byField["assignee"]["toString"] != SeedUsers[1].DisplayName {
		t.Fatalf("edit items: %v", items)
	}
	st := hist[1].(map[string]any)["items"].([]any)[0].(map[string]any)
	if st["field"] != "status" || st["from"] != "10000" || st["toString"] != "In Progress" {
		t.Fatalf("status item: %v", st)
	}
	rf := m["renderedFields"].(map[string]any)
	if rf["description"] != "<p><b>Bold &lt;x&gt;</b></p>" || rf["created"] == nil {
		t.Fatalf("renderedFields: %v", rf)
	}
	if a := m["fields"].(map[string]any)["assignee"].(map[string]any); a["displayName"] != SeedUsers[1].DisplayName {
		t.Fatalf("assignee: %v", a)
	}
	pg := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"/changelog?maxResults=1", nil), 200).json(t)
	if pg["isLast"] != false || pg["total"].(float64) != 2 || len(pg["values"].([]any)) != 1 {
		t.Fatalf("changelog page: %v", pg)
	}
}

func TestComments(t *testing.T) {
	h := newHarness(t)
	_, key := h.create(nil)
	for i := 0; i < 3; i++ {
		m := h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/comment", map[string]any{"body": adf("Hello 👋 " + string(rune('A'+i)))}), 201).json(t)
		if m["id"] == nil || !strings.Contains(m["self"].(string), "/comment/") || m["author"].(map[string]any)["accountId"] != accountID {
			t.Fatalf("comment: %v", m)
		}
	}
	// errors: plain string body, empty, missing issue, bad orderBy
	_, errs := errorsOf(t, h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/comment", map[string]any{"body": "plain"}), 400))
	if errs["comment"] != msgNotADF {
		t.Fatalf("string body: %v", errs)
	}
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/comment", map[string]any{}), 400)
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/comment", "{not json"), 400)
	h.expect(h.do("POST", "/rest/api/3/issue/SFJ-999/comment", map[string]any{"body": adf("x")}), 404)
	h.expect(h.do("GET", "/rest/api/3/issue/"+key+"/comment?orderBy=updated", nil), 400)
	h.expect(h.do("GET", "/rest/api/3/issue/"+key+"/comment?startAt=x", nil), 400)

	m := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"/comment?startAt=1&maxResults=1&orderBy=-created", nil), 200).json(t)
	cs := m["comments"].([]any)
	if m["total"].(float64) != 3 || len(cs) != 1 || m["startAt"].(float64) != 1 {
		t.Fatalf("page: %v", m)
	}
	id := cs[0].(map[string]any)["id"].(string)
	if txt := adfText(cs[0].(map[string]any)["body"]); !strings.Contains(txt, "B") {
		t.Fatalf("descending order: %v", txt)
	}
	got := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"/comment/"+id+"?expand=renderedBody", nil), 200).json(t)
	if !strings.HasPrefix(got["renderedBody"].(string), "<p>") {
		t.Fatalf("renderedBody: %v", got)
	}
	up := h.expect(h.do("PUT", "/rest/api/3/issue/"+key+"/comment/"+id, map[string]any{"body": adf("edited")}), 200).json(t)
	if adfText(up["body"]) != "edited " {
		t.Fatalf("edit: %v", up)
	}
	h.expect(h.do("PUT", "/rest/api/3/issue/"+key+"/comment/99", map[string]any{"body": adf("x")}), 404)
	h.expect(h.do("DELETE", "/rest/api/3/issue/"+key+"/comment/"+id, nil), 204)
	h.expect(h.do("DELETE", "/rest/api/3/issue/"+key+"/comment/"+id, nil), 404)
	h.expect(h.do("GET", "/rest/api/3/issue/"+key+"/comment/"+id, nil), 404)
	f := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"?fields=comment", nil), 200).json(t)["fields"].(map[string]any)
	if f["comment"].(map[string]any)["total"].(float64) != 2 {
		t.Fatalf("comment field: %v", f)
	}
	// comment added with a transition
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/transitions", map[string]any{"transition": map[string]any{"id": "11"},
		"update": map[string]any{"comment": []any{map[string]any{"add": map[string]any{"body": adf("moving")}}}}}), 204)
	if n := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"/comment", nil), 200).json(t)["total"].(float64); n != 3 {
		t.Fatalf("transition comment: %v", n)
	}
	st := h.srv.Stats().Endpoints
	if st["GET /rest/api/3/issue/{issueIdOrKey}/comment/{id}"]["200"] != 1 {
		t.Fatalf("stats template: %v", st)
	}
}

func TestWorklogsAndRemoteLinks(t *testing.T) {
	h := newHarness(t)
	id, key := h.create(nil)
	w := h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/worklog?adjustEstimate=leave", map[string]any{
		"started": "2024-01-17T12:34:00.000+0000", "timeSpent": "3h 20m", "comment": adf("work")}), 201).json(t)
	if w["timeSpentSeconds"].(float64) != 12000 || w["timeSpent"] != "3h 20m" || w["issueId"] != id {
		t.Fatalf("worklog: %v", w)
	}
	wid := w["id"].(string)
	_, errs := errorsOf(t, h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/worklog", map[string]any{
		"started": "2024-01-17T12:34:00.000+0000", "timeSpent": "1h", "timeSpentSeconds": 3600}), 400))
	if errs["timeLogged"] == nil {
		t.Fatalf("both: %v", errs)
	}
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/worklog", map[string]any{"started": "yesterday", "timeSpentSeconds": 60}), 400)
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/worklog", map[string]any{"started": "2024-01-17T12:34:00.000+0000"}), 400)
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/worklog?adjustEstimate=new", map[string]any{"started": "2024-01-17T12:34:00.000+0000", "timeSpentSeconds": 60}), 400)
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/worklog?adjustEstimate=bogus", map[string]any{"started": "2024-01-17T12:34:00.000+0000", "timeSpentSeconds": 60}), 400)
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/worklog?adjustEstimate=manual&reduceBy=1h", map[string]any{"started": "2024-01-17T12:34:00.000+0000", "timeSpentSeconds": 60}), 201)
	up := h.expect(h.do("PUT", "/rest/api/3/issue/"+key+"/worklog/"+wid, map[string]any{"timeSpentSeconds": 7200}), 200).json(t)
	if up["timeSpent"] != "2h" {
		t.Fatalf("worklog edit: %v", up)
	}
	l := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"/worklog", nil), 200).json(t)
	if l["total"].(float64) != 2 {
		t.Fatalf("worklogs: %v", l)
	}
	h.expect(h.do("DELETE", "/rest/api/3/issue/"+key+"/worklog/"+wid, nil), 204)
	h.expect(h.do("DELETE", "/rest/api/3/issue/"+key+"/worklog/"+wid, nil), 404)

	link := map[string]any{"globalId": "sf=006000000000001", "relationship": "synced with",
		"object": map[string]any{"url": "https://example.my.salesforce.com/006000000000001", "title": "Opportunity"}}
	c := h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/remotelink", link), 201).json(t)
	u := h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/remotelink", link), 200).json(t)
	if c["id"] != u["id"] || !strings.Contains(c["self"].(string), "/rest/api/issue/"+key+"/remotelink/") {
		t.Fatalf("upsert: %v %v", c, u)
	}
	_, errs = errorsOf(t, h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/remotelink", map[string]any{"object": map[string]any{"url": "https://x"}}), 400))
	if errs["title"] != "'title' is required." {
		t.Fatalf("title: %v", errs)
	}
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/remotelink", map[string]any{"object": map[string]any{"url": "https://x/2", "title": "two"}}), 201)
	if l := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"/remotelink", nil), 200).list(t); len(l) != 2 {
		t.Fatalf("links: %v", l)
	}
	one := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"/remotelink?globalId=sf%3D006000000000001", nil), 200).json(t)
	if one["relationship"] != "synced with" {
		t.Fatalf("by globalId: %v", one)
	}
	h.expect(h.do("DELETE", "/rest/api/3/issue/"+key+"/remotelink?globalId=sf%3D006000000000001", nil), 204)
	h.expect(h.do("DELETE", "/rest/api/3/issue/"+key+"/remotelink?globalId=sf%3D006000000000001", nil), 404)
	h.expect(h.do("DELETE", "/rest/api/3/issue/"+key+"/remotelink", nil), 400)
	l2 := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"/remotelink", nil), 200).list(t)
	lid := l2[0].(map[string]any)["id"].(float64)
	h.expect(h.do("GET", "/rest/api/3/issue/"+key+"/remotelink/"+itoa(int64(lid)), nil), 200)
	h.expect(h.do("DELETE", "/rest/api/3/issue/"+key+"/remotelink/"+itoa(int64(lid)), nil), 204)
}

func TestUsers(t *testing.T) {
	h := newHarness(t)
	l := h.expect(h.do("GET", "/rest/api/3/user/search?query=zo", nil), 200).list(t)
	if len(l) != 1 || l[0].(map[string]any)["displayName"] != "Zoë Müller" || l[0].(map[string]any)["emailAddress"] != "zoe.mueller@sfjira.demo" {
		t.Fatalf("search zo: %v", l)
	}
	if l := h.expect(h.do("GET", "/rest/api/3/user/search?query=li.wei%40", nil), 200).list(t); len(l) != 1 {
		t.Fatalf("by email: %v", l)
	}
	if l := h.expect(h.do("GET", "/rest/api/3/user/search?query=%D0%9F%D0%B5%D1%82", nil), 200).list(t); len(l) != 1 { // "Пет"
		t.Fatalf("cyrillic word prefix: %v", l)
	}
	h.expect(h.do("GET", "/rest/api/3/user/search", nil), 400)
	h.expect(h.do("GET", "/rest/api/3/user/search?query=a&accountId=b", nil), 400)
	u := h.expect(h.do("GET", "/rest/api/3/user?accountId="+SeedUsers[0].AccountID, nil), 200).json(t)
	if u["displayName"] != "Mia Krystof" || u["key"] != "" {
		t.Fatalf("user: %v", u)
	}
	h.expect(h.do("GET", "/rest/api/3/user?accountId=nobody", nil), 404)
	h.expect(h.do("GET", "/rest/api/3/user", nil), 400)
	added := h.expect(h.do("POST", "/__admin/users", map[string]any{"displayName": "Łukasz Żółw", "emailAddress": "lukasz@sfjira.demo"}), 201).list(t)
	acct := added[0].(map[string]any)["accountId"].(string)
	if l := h.expect(h.do("GET", "/rest/api/3/user/search?query=%C5%82uk", nil), 200).list(t); len(l) != 1 { // "łuk"
		t.Fatalf("added user: %v", l)
	}
	h.create(map[string]any{"assignee": map[string]any{"accountId": acct}})
	_, errs := errorsOf(t, h.expect(h.do("POST", "/rest/api/3/issue", map[string]any{"fields": map[string]any{
		"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Epic"}, "summary": "x",
		"assignee": map[string]any{"accountId": SeedUsers[5].AccountID}}}), 400))
	if errs["assignee"] == nil {
		t.Fatalf("inactive assignee accepted: %v", errs)
	}
	if got := h.search(map[string]any{"jql": "assignee = \"lukasz@sfjira.demo\""})["issues"].([]any); len(got) != 1 {
		t.Fatalf("jql by email: %v", got)
	}
	h.expect(h.do("POST", "/__admin/users", map[string]any{"emailAddress": "x@y"}), 400)
}

// receiver records webhook deliveries.
type receiver struct {
	mu     sync.Mutex
	got    []delivered
	status []int // statuses to answer, in order; then 200
	ts     *httptest.Server
	signal chan struct{}
}

type delivered struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	rc := &receiver{status: statuses, signal: make(chan struct{}, 100)}
	rc.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, delivered{r.Header.Clone(), b})
		st := 200
		if len(rc.status) > 0 {
			st, rc.status = rc.status[0], rc.status[1:]
		}
		rc.mu.Unlock()
		w.WriteHeader(st)
		rc.signal <- struct{}{}
	}))
	t.Cleanup(rc.ts.Close)
	return rc
}

func (rc *receiver) wait(t *testing.T, n int) []delivered {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		rc.mu.Lock()
		if len(rc.got) >= n {
			out := append([]delivered(nil), rc.got...)
			rc.mu.Unlock()
			return out
		}
		rc.mu.Unlock()
		select {
		case <-rc.signal:
		case <-deadline:
			t.Fatalf("got %d deliveries, want %d", len(rc.got), n)
		}
	}
}

func newWebhookHarness(t *testing.T) *harness {
	h := &harness{t: t, now: time.Date(2024, 1, 31, 10, 0, 0, 0, time.UTC)}
	h.srv = New(Options{Email: DemoEmail, APIToken: DemoAPIToken, Now: h.clock, WebhookRetryBase: 5 * time.Millisecond})
	h.ts = httptest.NewServer(h.srv)
	t.Cleanup(func() { h.srv.Close(); h.ts.Close() })
	return h
}

func (h *harness) register(url, secret, jql string, events ...string) string {
	h.t.Helper()
	if len(events) == 0 {
		events = []string{"jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created", "comment_updated"}
	}
	m := h.expect(h.do("POST", "/rest/webhooks/1.0/webhook", map[string]any{"name": "sfjira", "url": url, "events": events,
		"filters": map[string]any{"issue-related-events-section": jql}, "excludeBody": false, "secret": secret}), 201).json(h.t)
	return m["self"].(string)
}

func TestWebhookRegistrationAPI(t *testing.T) {
	h := newWebhookHarness(t)
	self := h.register("http://127.0.0.1:1/hook", "s3cret", "project = SFJ")
	if !strings.Contains(self, "/rest/webhooks/1.0/webhook/1") {
		t.Fatalf("self %s", self)
	}
	path := strings.TrimPrefix(self, h.ts.URL)
	got := h.expect(h.do("GET", path, nil), 200).json(t)
	if got["filters"].(map[string]any)["issue-related-events-section"] != "project = SFJ" || got["secret"] != nil || got["enabled"] != true {
		t.Fatalf("get: %v", got)
	}
	h.expect(h.do("PUT", path, map[string]any{"name": "renamed", "enabled": false}), 200)
	l := h.expect(h.do("GET", "/rest/webhooks/1.0/webhook", nil), 200).list(t)
	if len(l) != 1 || l[0].(map[string]any)["name"] != "renamed" || l[0].(map[string]any)["enabled"] != false {
		t.Fatalf("list: %v", l)
	}
	for _, bad := range []map[string]any{
		{"url": "http://x", "events": []string{"jira:issue_created"}},
		{"name": "n", "url": "not a url", "events": []string{"jira:issue_created"}},
		{"name": "n", "url": "http://x", "events": []string{}},
		{"name": "n", "url": "http://x", "events": []string{"bogus"}},
		{"name": "n", "url": "http://x", "events": []string{"jira:issue_created"}, "filters": map[string]any{"issue-related-events-section": "project = = SFJ"}},
		{"name": "n", "url": "http://x", "events": []string{"jira:issue_created"}, "filters": map[string]any{"issue-related-events-section": "nosuchfield = 1"}},
	} {
		h.expect(h.do("POST", "/rest/webhooks/1.0/webhook", bad), 400)
	}
	h.expect(h.do("PUT", path, map[string]any{"url": "::"}), 400)
	h.expect(h.do("DELETE", path, nil), 204)
	h.expect(h.do("DELETE", path, nil), 404)
	h.expect(h.do("GET", path, nil), 404)
	h.expect(h.do("GET", "/rest/webhooks/1.0/webhook/abc", nil), 404)
	h.expect(h.do("GET", "/rest/webhooks/1.0/webhook", nil, ""), 401)
}

func TestWebhookDeliveries(t *testing.T) {
	h := newWebhookHarness(t)
	rc := newReceiver(t)
	h.register(rc.ts.URL, "s3cret", "project = SFJ AND issuetype = Epic")
	_, key := h.create(map[string]any{"description": adf("Hello world")})
	h.create(map[string]any{"issuetype": map[string]any{"name": "Story"}}) // filtered out by JQL
	h.expect(h.do("PUT", "/rest/api/3/issue/"+key, map[string]any{"fields": map[string]any{"summary": "New name"}}), 204)
	h.expect(h.do("PUT", "/rest/api/3/issue/"+key, map[string]any{"fields": map[string]any{"summary": "New name"}}), 204) // no-op: no event
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/transitions", map[string]any{"transition": map[string]any{"id": "11"}}), 204)
	h.expect(h.do("POST", "/rest/api/3/issue/"+key+"/comment", map[string]any{"body": adf("A *comment*")}), 201)
	h.expect(h.do("DELETE", "/rest/api/3/issue/"+key, nil), 204)
	// created, updated, transition, comment_created + issue_commented, deleted
	got := rc.wait(t, 6)
	var kinds []string
	ids := map[string]bool{}
	for _, d := range got {
		if d.header.Get("X-Atlassian-Webhook-Flow") != "Primary" || d.header.Get("X-Atlassian-Webhook-Retry") != "" {
			t.Fatalf("headers: %v", d.header)
		}
		mac := hmac.New(sha256.New, []byte("s3cret"))
		mac.Write(d.body)
		if d.header.Get("X-Hub-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			t.Fatalf("signature: %v", d.header)
		}
		ids[d.header.Get("X-Atlassian-Webhook-Identifier")] = true
		var p map[string]any
		if err := json.Unmarshal(d.body, &p); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, p["webhookEvent"].(string)+"/"+toStr(p["issue_event_type_name"]))
		if p["timestamp"] == nil || p["issue"] == nil {
			t.Fatalf("payload: %s", d.body)
		}
		is := p["issue"].(map[string]any)
		if !strings.Contains(is["self"].(string), "/rest/api/2/issue/") {
			t.Fatalf("v2 self: %v", is["self"])
		}
		switch p["issue_event_type_name"] {
		case "issue_created":
			if is["fields"].(map[string]any)["description"] != "Hello world" {
				t.Fatalf("v2 description: %v", is["fields"].(map[string]any)["description"])
			}
			if u := p["user"].(map[string]any); u["accountId"] != accountID || !strings.Contains(u["self"].(string), "/rest/api/2/user") {
				t.Fatalf("user: %v", u)
			}
		case "issue_updated":
			it := p["changelog"].(map[string]any)["items"].([]any)[0].(map[string]any)
			if it["field"] != "summary" || it["fromString"] != "Deal" || it["toString"] != "New name" || it["fieldtype"] != "jira" {
				t.Fatalf("changelog: %v", it)
			}
		case "issue_generic":
			it := p["changelog"].(map[string]any)["items"].([]any)[0].(map[string]any)
			if it["field"] != "status" || it["toString"] != "In Progress" {
				t.Fatalf("transition changelog: %v", it)
			}
		}
		if p["webhookEvent"] == "comment_created" && p["comment"].(map[string]any)["body"] != "A *comment*" {
			t.Fatalf("v2 comment body: %v", p["comment"])
		}
	}
	want := "jira:issue_created/issue_created,jira:issue_updated/issue_updated,jira:issue_updated/issue_generic,comment_created/,jira:issue_updated/issue_commented,jira:issue_deleted/issue_deleted"
	if strings.Join(kinds, ",") != want {
		t.Fatalf("events:\n%s\nwant\n%s", strings.Join(kinds, ","), want)
	}
	if len(ids) != 6 {
		t.Fatalf("identifiers not unique: %v", ids)
	}
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		m := h.expect(h.do("GET", "/__admin/webhooks/deliveries", nil), 200).json(t)
		if n, _ := m["byStatus"].(map[string]any)["delivered"].(float64); n == 6 {
			break
		} else if time.Since(start) > 2*time.Second {
			t.Fatalf("deliveries: %v", m)
		}
	}
}

func TestWebhookRetries(t *testing.T) {
	h := newWebhookHarness(t)
	rc := newReceiver(t, 503, 500, 429)
	h.register(rc.ts.URL, "", "", "jira:issue_created")
	h.create(nil)
	got := rc.wait(t, 4)
	id := got[0].header.Get("X-Atlassian-Webhook-Identifier")
	for i, d := range got {
		if d.header.Get("X-Atlassian-Webhook-Identifier") != id {
			t.Fatal("identifier changed across retries")
		}
		want := ""
		if i > 0 {
			want = itoa(int64(i))
		}
		if d.header.Get("X-Atlassian-Webhook-Retry") != want || d.header.Get("X-Hub-Signature") != "" {
			t.Fatalf("attempt %d headers: %v", i, d.header)
		}
	}
	// a 4xx other than 408/409/425/429 is final; a dead endpoint gives up after 5 retries
	rc2 := newReceiver(t, 400)
	h.register(rc2.ts.URL, "", "", "jira:issue_created")
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	h.register(deadURL, "", "", "jira:issue_created")
	h.create(nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var failed, deadAttempts int
		for _, d := range h.srv.Deliveries(false) {
			if d.Status == "failed" {
				failed++
				if d.URL == deadURL {
					deadAttempts = d.Attempts
				}
			}
		}
		if failed == 2 {
			if deadAttempts != 6 {
				t.Fatalf("dead endpoint attempts %d, want 6", deadAttempts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries: %+v", h.srv.Deliveries(false))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(rc2.wait(t, 1)); n != 1 {
		t.Fatalf("400 retried: %d", n)
	}
}

func TestWebhookFaults(t *testing.T) {
	t.Run("drop", func(t *testing.T) {
		h := newWebhookHarness(t)
		rc := newReceiver(t)
		h.register(rc.ts.URL, "", "", "jira:issue_created")
		h.srv.SetFaults(Faults{WebhookDropRate: 1})
		h.create(nil)
		h.srv.SetFaults(Faults{})
		h.create(nil)
		got := rc.wait(t, 1)
		time.Sleep(50 * time.Millisecond)
		var p map[string]any
		_ = json.Unmarshal(got[0].body, &p)
		if len(rc.got) != 1 || p["issue"].(map[string]any)["key"] != "SFJ-2" {
			t.Fatalf("drop: %d deliveries, first %v", len(rc.got), p["issue"])
		}
		if d := h.srv.Deliveries(false); d[0].Status != "dropped" {
			t.Fatalf("history: %+v", d)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		h := newWebhookHarness(t)
		rc := newReceiver(t)
		h.register(rc.ts.URL, "", "", "jira:issue_created")
		h.srv.SetFaults(Faults{WebhookDupRate: 1})
		h.create(nil)
		got := rc.wait(t, 2)
		if got[0].header.Get("X-Atlassian-Webhook-Identifier") != got[1].header.Get("X-Atlassian-Webhook-Identifier") || string(got[0].body) != string(got[1].body) {
			t.Fatal("duplicate differs")
		}
	})
	t.Run("reorder", func(t *testing.T) {
		h := newWebhookHarness(t)
		rc := newReceiver(t)
		h.register(rc.ts.URL, "", "", "jira:issue_created")
		h.srv.SetFaults(Faults{WebhookReorder: true, WebhookReorderWindowMS: 300})
		h.create(nil)
		h.create(nil)
		got := rc.wait(t, 2)
		var first map[string]any
		_ = json.Unmarshal(got[0].body, &first)
		if first["issue"].(map[string]any)["key"] != "SFJ-2" {
			t.Fatalf("not reordered: first %v", first["issue"].(map[string]any)["key"])
		}
	})
}

func TestFaultRulesDeterministic(t *testing.T) {
	run := func() string {
		h := newHarness(t)
		h.expect(h.do("POST", "/__admin/faults", map[string]any{"seed": 42, "rules": []any{
			map[string]any{"endpoint": "GET /rest/api/3/myself", "error_rate": 0.3, "status": 502},
			map[string]any{"endpoint": "*", "error_rate": 0.2, "status": 500},
		}}), 200)
		var b strings.Builder
		for i := 0; i < 60; i++ {
			b.WriteString(itoa(int64(h.do("GET", "/rest/api/3/myself", nil).status)) + ",")
		}
		return b.String()
	}
	a, b := run(), run()
	if a != b {
		t.Fatalf("not deterministic:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, "502") || !strings.Contains(a, "500") || !strings.Contains(a, "200") {
		t.Fatalf("expected a mix: %s", a)
	}
	h := newHarness(t)
	h.expect(h.do("POST", "/__admin/faults", map[string]any{"rules": []any{map[string]any{"endpoint": "POST /rest/api/3/issue", "status": 503, "count": 1}}}), 200)
	h.expect(h.do("GET", "/rest/api/3/myself", nil), 200) // other endpoint unaffected
	h.expect(h.do("POST", "/rest/api/3/issue", map[string]any{}), 503)
	h.expect(h.do("POST", "/rest/api/3/issue", map[string]any{}), 400) // count exhausted, real validation
	if h.srv.Stats().Endpoints["POST /rest/api/3/issue"]["503"] != 1 {
		t.Fatal("fault not in stats")
	}
	for _, bad := range []map[string]any{
		{"rules": []any{map[string]any{"endpoint": "", "status": 500}}},
		{"rules": []any{map[string]any{"endpoint": "*", "kind": "explode"}}},
		{"rules": []any{map[string]any{"endpoint": "*", "status": 200}}},
		{"webhook_drop_rate": 2},
		{"jitter_ms": -1},
	} {
		h.expect(h.do("POST", "/__admin/faults", bad), 400)
	}
}

func TestFaultKinds(t *testing.T) {
	h := newHarness(t)
	set := func(f map[string]any) { h.expect(h.do("POST", "/__admin/faults", f), 200) }
	// 429 with rate-limit headers
	set(map[string]any{"rules": []any{map[string]any{"endpoint": "*", "status": 429, "retry_after_s": 4}}})
	r := h.expect(h.do("GET", "/rest/api/3/myself", nil), 429)
	if r.header.Get("Retry-After") != "4" || r.header.Get("X-RateLimit-Remaining") != "0" || r.header.Get("RateLimit-Reason") != "jira-burst-based" ||
		r.header.Get("X-RateLimit-Reset") == "" || r.header.Get("X-RateLimit-Limit") == "" {
		t.Fatalf("429 headers: %v", r.header)
	}
	for _, st := range []int{500, 502, 503} {
		set(map[string]any{"rules": []any{map[string]any{"endpoint": "GET /rest/api/3/myself", "status": st}}})
		msgs, _ := errorsOf(t, h.expect(h.do("GET", "/rest/api/3/myself", nil), st))
		if len(msgs) != 1 {
			t.Fatalf("%d body: %v", st, msgs)
		}
	}
	// reset: the client sees a transport error, no response
	set(map[string]any{"rules": []any{map[string]any{"endpoint": "*", "kind": "reset"}}})
	req, _ := http.NewRequest("GET", h.ts.URL+"/rest/api/3/myself", nil)
	req.SetBasicAuth(DemoEmail, DemoAPIToken)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("reset: got %d", res.StatusCode)
	}
	// timeout: held past the duration, then closed; a client timeout fires first
	set(map[string]any{"rules": []any{map[string]any{"endpoint": "*", "kind": "timeout", "timeout_ms": 2000}}})
	cl := &http.Client{Timeout: 100 * time.Millisecond}
	start := time.Now()
	_, err := cl.Get(h.ts.URL + "/rest/api/3/myself")
	var ne interface{ Timeout() bool }
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() || time.Since(start) > time.Second {
		t.Fatalf("timeout: %v", err)
	}
	set(map[string]any{"rules": []any{map[string]any{"endpoint": "*", "kind": "timeout", "timeout_ms": 50}}})
	if _, err := http.Get(h.ts.URL + "/rest/api/3/myself"); err == nil {
		t.Fatal("timeout then close: expected a transport error")
	}
	// latency + jitter
	set(map[string]any{"latency_ms": 20, "jitter_ms": 20, "seed": 7})
	start = time.Now()
	h.expect(h.do("GET", "/rest/api/3/myself", nil), 200)
	if el := time.Since(start); el < 20*time.Millisecond || el > time.Second {
		t.Fatalf("latency %v", el)
	}
	// token expiry: next N authenticated calls 401, then fine
	set(map[string]any{"expire_tokens": 2})
	h.expect(h.do("GET", "/rest/api/3/myself", nil), 401)
	h.expect(h.do("GET", "/rest/api/3/myself", nil), 401)
	h.expect(h.do("GET", "/rest/api/3/myself", nil), 200)
	set(map[string]any{"expire_tokens_for_ms": 100})
	h.expect(h.do("GET", "/rest/api/3/myself", nil), 401)
	time.Sleep(120 * time.Millisecond)
	h.expect(h.do("GET", "/rest/api/3/myself", nil), 200)
	// every-N rule
	set(map[string]any{"rules": []any{map[string]any{"endpoint": "GET /rest/api/3/myself", "every": 3, "status": 503, "retry_after_s": 2}}})
	h.expect(h.do("GET", "/rest/api/3/myself", nil), 200)
	h.expect(h.do("GET", "/rest/api/3/myself", nil), 200)
	if r := h.expect(h.do("GET", "/rest/api/3/myself", nil), 503); r.header.Get("Retry-After") != "2" {
		t.Fatalf("retry-after: %v", r.header)
	}
}

func TestSeed(t *testing.T) {
	h := newHarness(t)
	m := h.expect(h.do("POST", "/__admin/seed", map[string]any{"issues": 120, "project": "SFJ", "issue_type": "Epic"}), 201).json(t)
	if m["created"].(float64) != 120 {
		t.Fatalf("seed: %v", m)
	}
	res := h.search(map[string]any{"jql": "project = SFJ", "maxResults": 100, "fields": []string{"summary", "description", FieldCustomer}})
	var emoji, long, empty bool
	for _, x := range res["issues"].([]any) {
		f := x.(map[string]any)["fields"].(map[string]any)
		s := f["summary"].(string)
		emoji = emoji || strings.Contains(s, "🚀")
		long = long || len([]rune(s)) == 255
		empty = empty || (f["description"] == nil && f[FieldCustomer] == nil)
	}
	if !emoji || !long || !empty {
		t.Fatalf("edge cases missing: emoji %v long %v empty %v", emoji, long, empty)
	}
	h.expect(h.do("POST", "/__admin/seed", map[string]any{"issues": 1, "project": "NOPE"}), 400)
	h.expect(h.do("POST", "/__admin/seed", map[string]any{"issues": 0}), 400)
	h.expect(h.do("POST", "/__admin/seed", map[string]any{"issues": 1, "issue_type": "Nope"}), 400)
	h.expect(h.do("POST", "/__admin/seed", map[string]any{"issues": 12, "issue_type": "Subtask"}), 201)
	// deterministic: same seed, same data
	a, b := New(Options{}), New(Options{})
	ra, _ := a.Seed(SeedOptions{Issues: 30, Seed: 9})
	rb, _ := b.Seed(SeedOptions{Issues: 30, Seed: 9})
	a.mu.RLock()
	b.mu.RLock()
	for _, k := range ra.Keys {
		if a.byKey[k].d.Summary != b.byKey[k].d.Summary || a.byKey[k].d.StatusID != b.byKey[k].d.StatusID {
			t.Fatalf("seed not deterministic at %s", k)
		}
	}
	b.mu.RUnlock()
	a.mu.RUnlock()
	_ = rb
}

func TestBadRequestsNeverPanic(t *testing.T) {
	h := newHarness(t)
	_, key := h.create(nil)
	paths := []string{
		"/rest/api/3/issue/" + key + "/comment", "/rest/api/3/issue/" + key + "/comment/1",
		"/rest/api/3/issue/" + key + "/worklog", "/rest/api/3/issue/" + key + "/worklog/1",
		"/rest/api/3/issue/" + key + "/remotelink", "/rest/webhooks/1.0/webhook", "/rest/webhooks/1.0/webhook/1",
		"/rest/api/3/issue/" + key + "/transitions",
	}
	bodies := []string{"", "null", "[]", "{", `{"body":1}`, `{"body":{"type":"doc","version":1,"content":[{"type":"nope"}]}}`,
		`{"object":null}`, `{"events":null,"name":1}`, `{"started":5,"timeSpentSeconds":"x"}`, `{"transition":{"id":[]}}`}
	for _, p := range paths {
		for _, m := range []string{"POST", "PUT"} {
			for _, b := range bodies {
				r := h.do(m, p, b)
				if r.status < 400 && r.status != 405 {
					t.Errorf("%s %s %q: %d %s", m, p, b, r.status, r.raw)
				}
				if r.status >= 500 {
					t.Errorf("%s %s %q: server error %d", m, p, b, r.status)
				}
			}
		}
	}
}

// TestResolutionPostFunction: a transition whose post-function sets a resolution sets it
// wherever it runs: in bulk (which fills no screen), on create, and over a screen value.
func TestResolutionPostFunction(t *testing.T) {
	h := newHarness(t)
	w := DefaultWorkflow()
	w.IssueTypes = []string{"Epic"}
	w.Transitions = append(w.Transitions, WorkflowTransition{ID: "81", Name: "Won't Do", To: "Done", Resolution: "Won't Do"})
	h.expect(h.do("POST", "/__admin/workflows", w), 200)
	bad := DefaultWorkflow()
	bad.Transitions = append(bad.Transitions, WorkflowTransition{ID: "82", Name: "Nope", To: "In Progress", Resolution: "Won't Do"})
	h.expect(h.do("POST", "/__admin/workflows", bad), 400) // a resolution needs a done target
	bad.Transitions[len(bad.Transitions)-1] = WorkflowTransition{ID: "82", Name: "Nope", To: "Done", Resolution: "Maybe"}
	h.expect(h.do("POST", "/__admin/workflows", bad), 400) // unknown resolution
	resolutionOf := func(key string) (string, string) {
		f := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"?fields=status,resolution", nil), 200).json(t)["fields"].(map[string]any)
		res, _ := f["resolution"].(map[string]any)
		name, _ := res["name"].(string)
		return f["status"].(map[string]any)["name"].(string), name
	}
	// In bulk: the global transition from To Do, next to 41 (resolution screen, default Done).
	_, a := h.create(nil)
	_, b := h.create(nil)
	h.expect(h.do("POST", "/rest/api/3/issue/"+b+"/transitions", map[string]any{"transition": map[string]any{"id": "11"}}), 204)
	task := h.expect(h.do("POST", "/rest/api/3/bulk/issues/transition", map[string]any{"bulkTransitionInputs": []any{
		map[string]any{"selectedIssueIdsOrKeys": []string{a}, "transitionId": "81"},
		map[string]any{"selectedIssueIdsOrKeys": []string{b}, "transitionId": "41"}}}), 201).json(t)["taskId"].(string)
	h.expect(h.do("GET", "/rest/api/3/bulk/queue/"+task, nil), 200)
	if st, res := resolutionOf(a); st != "Done" || res != "Won't Do" {
		t.Fatalf("bulk through the post-function: %s/%s", st, res)
	}
	if st, res := resolutionOf(b); st != "Done" || res != "Done" {
		t.Fatalf("bulk through the screen transition: %s/%s", st, res)
	}
	// On create, in bulk: the transition runs after the create and reports its outcome.
	out := h.expect(h.do("POST", "/rest/api/3/issue/bulk", map[string]any{"issueUpdates": []any{
		map[string]any{"fields": map[string]any{"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Epic"}, "summary": "lost"},
			"transition": map[string]any{"id": "81"}},
		map[string]any{"fields": map[string]any{"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Epic"}, "summary": "started"},
			"transition": map[string]any{"id": "11"}}}}), 201).json(t)
	issues := out["issues"].([]any)
	for i, want := range [][2]string{{"Done", "Won't Do"}, {"In Progress", ""}} {
		is := issues[i].(map[string]any)
		if tr := is["transition"].(map[string]any); tr["status"].(float64) != 200 {
			t.Fatalf("transition on create: %v", tr)
		}
		if st, res := resolutionOf(is["key"].(string)); st != want[0] || res != want[1] {
			t.Fatalf("created %d: %s/%s, want %v", i, st, res, want)
		}
	}
	// The post-function runs after the screen: it wins over a screen value.
	_, c := h.create(nil)
	h.expect(h.do("POST", "/rest/api/3/issue/"+c+"/transitions", map[string]any{"transition": map[string]any{"id": "81"}}), 204)
	if st, res := resolutionOf(c); st != "Done" || res != "Won't Do" {
		t.Fatalf("single: %s/%s", st, res)
	}
}

// The stats count the faults that really fired, by kind, so a chaos run can report them.
func TestStatsCountInjectedFaults(t *testing.T) {
	h := newWebhookHarness(t)
	h.srv.opts.Now = time.Now // real clock so the search lag is meaningful
	rc := newReceiver(t)
	h.register(rc.ts.URL, "", "", "jira:issue_created")
	set := func(f map[string]any) { h.expect(h.do("POST", "/__admin/faults", f), 200) }
	if f := h.srv.Stats().Faults; len(f) != 0 {
		t.Fatalf("faults before any: %v", f)
	}
	set(map[string]any{"rules": []any{map[string]any{"endpoint": "GET /rest/api/3/myself", "every": 2, "status": 429},
		map[string]any{"endpoint": "GET /rest/api/3/field", "status": 503}}})
	for i := 0; i < 4; i++ {
		h.do("GET", "/rest/api/3/myself", nil)
	}
	h.expect(h.do("GET", "/rest/api/3/field", nil), 503)
	set(map[string]any{"rules": []any{map[string]any{"endpoint": "GET /rest/api/3/myself", "kind": "reset", "count": 1}}})
	req, _ := http.NewRequest("GET", h.ts.URL+"/rest/api/3/myself", nil)
	req.SetBasicAuth(DemoEmail, DemoAPIToken)
	// A fresh connection: on a reused one, the transport would retry the GET after the reset.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if res, err := fresh.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("reset: got %d", res.StatusCode)
	}
	set(map[string]any{"expire_tokens": 1, "latency_ms": 1})
	h.expect(h.do("GET", "/rest/api/3/myself", nil), 401)
	h.expect(h.do("GET", "/rest/api/3/myself", nil), 200)
	// Search lag hides the new issue from a matching search (once per search), and a lost
	// webhook is counted.
	set(map[string]any{"search_lag_ms": 60000, "webhook_drop_rate": 1})
	h.create(nil, map[string]any{"key": "sfjira", "value": map[string]any{"origin": "sf/006CNT"}})
	for i := 0; i < 2; i++ {
		if got := len(h.search(map[string]any{"jql": `issue.property[sfjira].origin = "sf/006CNT"`})["issues"].([]any)); got != 0 {
			t.Fatalf("visible despite lag: %d", got)
		}
	}
	h.search(map[string]any{"jql": `issue.property[sfjira].origin = "sf/other"`}) // hides nothing that matches
	want := map[string]int{"status_429": 2, "status_503": 1, "reset": 1, "token_expired": 1, "search_hidden": 2, "webhook_dropped": 1}
	got := h.srv.Stats().Faults
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("faults[%s] = %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
	if got["latency"] < 2 {
		t.Fatalf("latency counted %d times: %v", got["latency"], got)
	}
	// The counts are in GET /__admin/stats and cleared by a reset, not by new faults.
	set(map[string]any{})
	var st Stats
	if err := json.Unmarshal(h.expect(h.do("GET", "/__admin/stats", nil), 200).raw, &st); err != nil || st.Faults["reset"] != 1 {
		t.Fatalf("admin stats: %v %+v", err, st.Faults)
	}
	h.expect(h.do("POST", "/__admin/reset", nil), 200)
	if f := h.srv.Stats().Faults; len(f) != 0 {
		t.Fatalf("faults after reset: %v", f)
	}
}
