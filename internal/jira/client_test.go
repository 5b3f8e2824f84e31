package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	emu "github.com/sfjira/sfjira/emulators/jira"
)

func setup(t *testing.T) (*Client, *emu.Server, *httptest.Server) {
	t.Helper()
	srv := emu.New(emu.DemoOptions())
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	c, err := New(Config{BaseURL: ts.URL, Email: emu.DemoEmail, APIToken: emu.DemoAPIToken, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv, ts
}

func epic(summary string, origin string) IssueInput {
	in := IssueInput{Fields: map[string]any{
		"project":           map[string]string{"key": "SFJ"},
		"issuetype":         map[string]string{"name": "Epic"},
		"summary":           summary,
		emu.FieldDealAmount: 5000,
		emu.FieldCustomer:   "Acme",
		"description": map[string]any{"type": "doc", "version": 1, "content": []any{
			map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": "Hello " + summary}}}}},
	}}
	if origin != "" {
		in.Properties = []EntityProperty{{Key: "sfjira", Value: map[string]string{"origin": origin}}}
	}
	return in
}

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Email: "a", APIToken: "b"}, "BaseURL"},
		{Config{BaseURL: "ftp://x", Email: "a", APIToken: "b"}, "BaseURL"},
		{Config{BaseURL: "http://x", APIToken: "b"}, "Email"},
		{Config{BaseURL: "http://x", Email: "a"}, "APIToken"},
		{Config{BaseURL: "http://x", Email: "a", APIToken: "b", Timeout: -1}, "Timeout"},
	}
	for _, c := range cases {
		if _, err := New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want mention of %s", c.cfg, err, c.want)
		}
	}
	if _, err := NewWithTokenSource("http://x", nil, 0); err == nil {
		t.Error("nil token source accepted")
	}
}

func TestAuth(t *testing.T) {
	c, _, ts := setup(t)
	ctx := context.Background()
	u, err := c.Myself(ctx)
	if err != nil || u.EmailAddress != emu.DemoEmail || u.AccountID == "" || !u.Active {
		t.Fatalf("myself: %+v %v", u, err)
	}
	bad, _ := New(Config{BaseURL: ts.URL, Email: emu.DemoEmail, APIToken: "nope"})
	_, err = bad.Myself(ctx)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 401 || ae.Retryable() || !strings.Contains(err.Error(), "Client must be authenticated") {
		t.Fatalf("bad creds: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "jira: GET /rest/api/3/myself: 401: ") {
		t.Fatalf("error text: %v", err)
	}
}

func TestCreateGetEditWithProperties(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()
	created, err := c.CreateIssue(ctx, epic("Big deal", "sf/006A"))
	if err != nil {
		t.Fatal(err)
	}
	if created.ID != "10000" || created.Key != "SFJ-1" || !strings.HasSuffix(created.Self, "/rest/api/3/issue/10000") {
		t.Fatalf("created: %+v", created)
	}
	is, err := c.GetIssue(ctx, created.Key, []string{"summary", "status", "resolution", "description", emu.FieldDealAmount, emu.FieldProbability}, []string{"sfjira"})
	if err != nil {
		t.Fatal(err)
	}
	if is.StatusName() != "To Do" || is.StatusCategory() != "new" || is.ResolutionName() != "" {
		t.Fatalf("status: %q %q %q", is.StatusName(), is.StatusCategory(), is.ResolutionName())
	}
	if is.FieldString("summary") != "Big deal" || is.FieldString(emu.FieldDealAmount) != "5000" ||
		is.FieldString(emu.FieldProbability) != "" || is.FieldString("description") != "Hello Big deal" {
		t.Fatalf("fields: %v", is.Fields)
	}
	var prop struct{ Origin string }
	if err := json.Unmarshal(is.Properties["sfjira"], &prop); err != nil || prop.Origin != "sf/006A" {
		t.Fatalf("properties: %s %v", is.Properties["sfjira"], err)
	}
	if err := c.EditIssue(ctx, created.ID, map[string]any{"summary": "Bigger deal", emu.FieldProbability: 75}); err != nil {
		t.Fatal(err)
	}
	is, _ = c.GetIssue(ctx, created.ID, nil, nil)
	if is.FieldString("summary") != "Bigger deal" || is.FieldString(emu.FieldProbability) != "75" || is.FieldString("project") != "Salesforce Sync" {
		t.Fatalf("after edit: %s / %s", is.FieldString("summary"), is.FieldString(emu.FieldProbability))
	}
	// validation errors map to APIError with the field message
	err = c.EditIssue(ctx, created.ID, map[string]any{emu.FieldDealAmount: "lots"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Retryable() || ae.Errors[emu.FieldDealAmount] != "Operation value must be a number" {
		t.Fatalf("edit error: %v", err)
	}
	want := "jira: PUT /rest/api/3/issue/10000: 400: customfield_10050: Operation value must be a number"
	if err.Error() != want {
		t.Fatalf("error text %q, want %q", err.Error(), want)
	}
	_, err = c.GetIssue(ctx, "SFJ-999", nil, nil)
	if !IsNotFound(err) {
		t.Fatalf("missing issue: %v", err)
	}
	if err := c.DeleteIssue(ctx, created.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetIssue(ctx, created.Key, nil, nil); !IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestProperties(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()
	cr, err := c.CreateIssue(ctx, epic("p", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetProperty(ctx, cr.Key, "sfjira"); !IsNotFound(err) {
		t.Fatalf("missing property: %v", err)
	}
	if err := c.SetProperty(ctx, cr.Key, "sfjira", map[string]any{"origin": "jira/" + cr.ID, "v": 1}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetProperty(ctx, cr.Key, "sfjira", map[string]any{"origin": "jira/" + cr.ID, "v": 2}); err != nil {
		t.Fatal(err)
	}
	raw, err := c.GetProperty(ctx, cr.Key, "sfjira")
	if err != nil || string(raw) != `{"origin":"jira/10000","v":2}` {
		t.Fatalf("property: %s %v", raw, err)
	}
}

func TestTransitions(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()
	cr, _ := c.CreateIssue(ctx, epic("t", ""))
	trs, err := c.Transitions(ctx, cr.Key)
	if err != nil || len(trs) != 1 || trs[0].ID != "11" || trs[0].To.Name != "In Progress" || trs[0].To.CategoryKey != "indeterminate" {
		t.Fatalf("transitions: %+v %v", trs, err)
	}
	err = c.DoTransition(ctx, cr.Key, "41", nil)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || len(ae.Messages) != 1 || ae.Messages[0] != "Transition id '41' is not valid for this issue." {
		t.Fatalf("invalid transition: %v", err)
	}
	if err := c.DoTransition(ctx, cr.Key, "11", nil); err != nil {
		t.Fatal(err)
	}
	trs, _ = c.Transitions(ctx, cr.Key)
	var done *Transition
	for i := range trs {
		if trs[i].To.CategoryKey == "done" {
			done = &trs[i]
		}
	}
	if done == nil || !done.HasScreen || done.Fields["resolution"].Name != "Resolution" {
		t.Fatalf("done transition: %+v", trs)
	}
	if err := c.DoTransition(ctx, cr.Key, done.ID, map[string]any{"resolution": map[string]string{"name": "Won't Do"}}); err != nil {
		t.Fatal(err)
	}
	is, _ := c.GetIssue(ctx, cr.Key, []string{"status", "resolution"}, nil)
	if is.StatusName() != "Done" || is.StatusCategory() != "done" || is.ResolutionName() != "Won't Do" {
		t.Fatalf("after done: %s %s %s", is.StatusName(), is.StatusCategory(), is.ResolutionName())
	}
}

func TestBulkCreateAndSearch(t *testing.T) {
	c, srv, _ := setup(t)
	ctx := context.Background()
	var in []IssueInput
	for i := 0; i < 120; i++ {
		in = append(in, epic(fmt.Sprintf("Opp %d", i), fmt.Sprintf("sf/006%05d", i)))
	}
	in[7].Fields["issuetype"] = map[string]string{"name": "Nope"}
	in[61].Fields[emu.FieldDealAmount] = "lots"
	res, err := c.BulkCreate(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Issues) != 118 || len(res.Errors) != 2 {
		t.Fatalf("bulk: %d issues, %d errors", len(res.Issues), len(res.Errors))
	}
	if res.Errors[0].FailedElementNumber != 7 || res.Errors[1].FailedElementNumber != 61 ||
		res.Errors[1].Errors[emu.FieldDealAmount] != "Operation value must be a number" || res.Errors[0].Status != 400 {
		t.Fatalf("bulk errors: %+v", res.Errors)
	}
	if got := srv.Stats().Endpoints["POST /rest/api/3/issue/bulk"]["201"]; got != 3 {
		t.Fatalf("bulk calls: %d", got)
	}
	// all elements failing is a result, not an error
	res, err = c.BulkCreate(ctx, []IssueInput{in[7]})
	if err != nil || len(res.Errors) != 1 || len(res.Issues) != 0 {
		t.Fatalf("all failed: %+v %v", res, err)
	}

	// paginate with SearchEach
	seen := map[string]bool{}
	err = c.SearchEach(ctx, SearchRequest{JQL: "project = SFJ AND issuetype = Epic ORDER BY key ASC", Fields: []string{"summary"}, MaxResults: 50},
		func(is *Issue) error {
			if is.FieldString("summary") == "" {
				return fmt.Errorf("no summary on %s", is.Key)
			}
			seen[is.Key] = true
			return nil
		})
	if err != nil || len(seen) != 118 {
		t.Fatalf("SearchEach: %d %v", len(seen), err)
	}
	if n := srv.Stats().Endpoints["POST /rest/api/3/search/jql"]["200"]; n != 3 {
		t.Fatalf("search pages: %d", n)
	}
	page, err := c.Search(ctx, SearchRequest{JQL: "project = SFJ", MaxResults: 10})
	if err != nil || len(page.Issues) != 10 || page.IsLast || page.NextPageToken == "" || page.Issues[0].ID == "" {
		t.Fatalf("page: %+v %v", page, err)
	}
	// property lookup, as the idempotent-create retry path does
	page, err = c.Search(ctx, SearchRequest{JQL: `issue.property[sfjira].origin = "sf/00600042"`, Properties: []string{"sfjira"}})
	if err != nil || len(page.Issues) != 1 || !page.IsLast {
		t.Fatalf("property search: %+v %v", page, err)
	}
	if !strings.Contains(string(page.Issues[0].Properties["sfjira"]), "sf/00600042") {
		t.Fatalf("property in result: %s", page.Issues[0].Properties["sfjira"])
	}
	stop := errors.New("stop")
	count := 0
	err = c.SearchEach(ctx, SearchRequest{JQL: "project = SFJ", MaxResults: 5}, func(*Issue) error {
		count++
		if count == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || count != 3 {
		t.Fatalf("SearchEach stop: %v %d", err, count)
	}
	_, err = c.Search(ctx, SearchRequest{JQL: "ORDER BY key"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || !strings.Contains(ae.Error(), "Unbounded JQL") {
		t.Fatalf("unbounded: %v", err)
	}
}

func TestFieldsAndRateLimit(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()
	if _, _, ok := c.RateLimit(); ok {
		t.Fatal("rate limit known before any call")
	}
	fields, err := c.Fields(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sprint *Field
	for i := range fields {
		if fields[i].Name == "Sprint" {
			sprint = &fields[i]
		}
	}
	if sprint == nil || !sprint.Custom || sprint.Schema.Type != "array" || sprint.Schema.Custom != "com.pyxis.greenhopper.jira:gh-sprint" || sprint.Schema.CustomID != 10020 {
		t.Fatalf("sprint field: %+v", sprint)
	}
	limit, remaining, ok := c.RateLimit()
	if !ok || limit <= 0 || remaining <= 0 || remaining > limit {
		t.Fatalf("rate limit: %d %d %v", limit, remaining, ok)
	}
}

func TestRetryableErrorsAndRetryAfter(t *testing.T) {
	c, srv, _ := setup(t)
	ctx := context.Background()
	srv.SetFaults(emu.Faults{RateLimit429Every: 1, RetryAfterS: 7})
	_, err := c.Myself(ctx)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 429 || !ae.Retryable() || ae.RetryAfter != 7*time.Second {
		t.Fatalf("429: %#v", err)
	}
	if _, rem, ok := c.RateLimit(); !ok || rem != 0 {
		t.Fatalf("remaining after 429: %d %v", rem, ok)
	}
	srv.SetFaults(emu.Faults{ErrorRate: 1, ErrorStatus: 503, RetryAfterS: 2})
	_, err = c.Myself(ctx)
	if !errors.As(err, &ae) || ae.Status != 503 || !ae.Retryable() || ae.RetryAfter != 2*time.Second {
		t.Fatalf("503: %v", err)
	}
	srv.SetFaults(emu.Faults{})
	if _, err := c.Myself(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestTransportErrorsAndTimeout(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	c, err := New(Config{BaseURL: slow.URL, Email: "a@b.c", APIToken: "t", Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Myself(context.Background())
	if err == nil || !strings.Contains(err.Error(), "GET /rest/api/3/myself") || !strings.Contains(err.Error(), "timed out") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	c, _ = New(Config{BaseURL: url, Email: "a@b.c", APIToken: "t"})
	_, err = c.Fields(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "jira: GET /rest/api/3/field: ") {
		t.Fatalf("transport error: %v", err)
	}
	var ae *APIError
	if errors.As(err, &ae) {
		t.Fatal("transport error must not be an APIError")
	}
}

func TestBasicAuthHeaderAndBaseClient(t *testing.T) {
	var got string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"accountId":"x","active":true}`))
	}))
	defer ts.Close()
	c, err := New(Config{BaseURL: ts.URL + "/", Email: "fred@example.com", APIToken: "freds_api_token", HTTPClient: &http.Client{Transport: http.DefaultTransport}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Myself(context.Background()); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", ts.URL, nil)
	req.SetBasicAuth("fred@example.com", "freds_api_token")
	if got != req.Header.Get("Authorization") {
		t.Fatalf("Authorization %q, want %q", got, req.Header.Get("Authorization"))
	}
}
