package jira

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

// badResponseCase is one entry of testdata/bad-responses/cases.json: the body a broken Jira (or
// a proxy in front of it) answers with, the call that receives it, and what the client must make
// of it.
type badResponseCase struct {
	File        string `json:"file"`
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
	Call        string `json:"call"`
	// Want is "malformed" (*MalformedResponseError, catalog JIRA_MALFORMED_RESPONSE) or
	// "retryable_status" (*APIError with a retryable status, JIRA_UNAVAILABLE).
	Want string `json:"want"`
	// Excerpt must appear in the error's body excerpt, so the operator sees what answered.
	Excerpt string `json:"excerpt"`
}

// The bad-response corpus: every answer in testdata/bad-responses fails the call with a typed
// error (never a panic, never a zero value taken for data), and the error quotes the body.
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
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls++
				w.Header().Set("Content-Type", tc.ContentType)
				w.WriteHeader(tc.Status)
				_, _ = w.Write(body)
			}))
			defer ts.Close()
			c, err := New(Config{BaseURL: ts.URL, Email: "integration@sfjira.demo", APIToken: "t", Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			switch tc.Call {
			case "get_issue":
				var is *Issue
				is, err = c.GetIssue(ctx, "SFJ-1", nil, nil)
				if err == nil {
					t.Fatalf("got an issue from a bad answer: %+v", is)
				}
			case "search":
				_, err = c.Search(ctx, SearchRequest{JQL: "project = SFJ", MaxResults: 10})
			case "create":
				var ci *CreatedIssue
				ci, err = c.CreateIssue(ctx, IssueInput{Fields: map[string]any{"summary": "x"}})
				if err == nil {
					t.Fatalf("got a created issue from a bad answer: %+v", ci)
				}
			default:
				t.Fatalf("unknown call %q", tc.Call)
			}
			if err == nil {
				t.Fatal("no error")
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
