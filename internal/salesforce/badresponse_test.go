package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// badResponseCase is one entry of testdata/bad-responses/cases.json: the body a broken org (or a
// proxy in front of it) answers with, the call that receives it, and what the client must make of
// it.
type badResponseCase struct {
	File        string `json:"file"`
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
	Call        string `json:"call"`
	// Want is "malformed" (*MalformedResponseError, catalog SF_MALFORMED_RESPONSE) or
	// "retryable_status" (*APIError with a retryable status, SF_UNAVAILABLE).
	Want    string `json:"want"`
	Excerpt string `json:"excerpt"`
}

// The bad-response corpus: every answer in testdata/bad-responses fails the call with a typed
// error that quotes the body; none is taken for data.
func TestBadResponsesCorpus(t *testing.T) {
	raw, err := os.ReadFile("testdata/bad-responses/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []badResponseCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 8 {
		t.Fatalf("corpus has %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(strings.TrimSuffix(tc.File, filepath.Ext(tc.File)), func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata/bad-responses", tc.File))
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			var ts *httptest.Server
			ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/services/oauth2/token" {
					w.Header().Set("Content-Type", "application/json")
					_ = json.NewEncoder(w).Encode(map[string]string{"access_token": "tok", "instance_url": ts.URL, "token_type": "Bearer",
						"id": ts.URL + "/id/00D000000000001AAA/005000000000001AAA"})
					return
				}
				calls++
				w.Header().Set("Content-Type", tc.ContentType)
				w.WriteHeader(tc.Status)
				_, _ = w.Write(body)
			}))
			defer ts.Close()
			c, err := New(Config{LoginURL: ts.URL, ClientID: "id", ClientSecret: "secret", Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			switch tc.Call {
			case "query":
				var res *QueryResult
				res, err = c.Query(ctx, "SELECT Id, Name FROM Opportunity")
				if err == nil {
					t.Fatalf("got a result from a bad answer: %+v", res)
				}
			case "get":
				var rec Record
				rec, err = c.Get(ctx, "Opportunity", "0068d0000B00CYzAQM", "Name")
				if err == nil {
					t.Fatalf("got a record from a bad answer: %+v", rec)
				}
			case "create":
				var id string
				id, err = c.Create(ctx, "Opportunity", map[string]any{"Name": "x"})
				if err == nil {
					t.Fatalf("got id %q from a bad answer", id)
				}
			default:
				t.Fatalf("unknown call %q", tc.Call)
			}
			if calls != 1 {
				t.Fatalf("%d calls: the client must not retry on its own (the activity's policy does)", calls)
			}
			switch tc.Want {
			case "malformed":
				var bad *MalformedResponseError
				if !errors.As(err, &bad) {
					t.Fatalf("want *MalformedResponseError, got %T: %v", err, err)
				}
				if bad.Status != tc.Status || bad.Method == "" || bad.Path == "" || !strings.HasPrefix(bad.ContentType, tc.ContentType) {
					t.Fatalf("error fields: %+v", bad)
				}
				excerpt := bad.Excerpt
				if u, err := strconv.Unquote(excerpt); err == nil {
					excerpt = u
				}
				if !strings.Contains(excerpt, tc.Excerpt) || len(excerpt) > 203 {
					t.Fatalf("excerpt %s does not show %q", bad.Excerpt, tc.Excerpt)
				}
				if !strings.Contains(err.Error(), "is not the JSON expected") {
					t.Fatalf("message: %v", err)
				}
			case "retryable_status":
				var ae *APIError
				if !errors.As(err, &ae) || ae.Status != tc.Status || !ae.Retryable() {
					t.Fatalf("want a retryable *APIError %d, got %T: %v", tc.Status, err, err)
				}
				if strings.Contains(err.Error(), "<") {
					t.Fatalf("HTML leaked into the message: %v", err)
				}
			default:
				t.Fatalf("unknown want %q", tc.Want)
			}
		})
	}
}
