package jira

import (
	"encoding/json"
	"strings"
	"testing"
)

// The malformed fault runs the call (a create happens) but sends a body the client cannot use.
func TestMalformedFaultBodies(t *testing.T) {
	h := newHarness(t)
	set := func(f map[string]any, want int) resp { return h.expect(h.do("POST", "/__admin/faults", f), want) }
	create := func() resp {
		return h.do("POST", "/rest/api/3/issue", map[string]any{"fields": map[string]any{
			"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Epic"}, "summary": "malformed"}})
	}
	before := len(h.do("POST", "/rest/api/3/search/jql", map[string]any{"jql": "project = SFJ", "maxResults": 1000}).json(t)["issues"].([]any))

	for _, tc := range []struct {
		body  string
		check func(r resp) string
	}{
		{"", func(r resp) string { // truncated by default
			if r.status != 201 || json.Valid(r.raw) || !strings.HasPrefix(string(r.raw), `{`) {
				return "want a 201 with a cut JSON object"
			}
			return ""
		}},
		{"html", func(r resp) string {
			if r.status != 201 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.raw), "<html>") {
				return "want a 201 HTML page"
			}
			return ""
		}},
		{"empty", func(r resp) string {
			if r.status != 200 || len(r.raw) != 0 {
				return "want 200 with an empty body"
			}
			return ""
		}},
		{"wrong_types", func(r resp) string {
			var m map[string]any
			if r.status != 201 || json.Unmarshal(r.raw, &m) != nil {
				return "want a 201 JSON object"
			}
			if _, isNum := m["id"].(float64); !isNum {
				return "want id as a number"
			}
			if _, isStr := m["key"].(float64); !isStr {
				return "want key as a number"
			}
			return ""
		}},
	} {
		set(map[string]any{"rules": []any{map[string]any{"endpoint": "POST /rest/api/3/issue", "kind": "malformed", "body": tc.body, "count": 1}}}, 200)
		r := create()
		if msg := tc.check(r); msg != "" {
			t.Fatalf("body %q: %s; got %d %q %q", tc.body, msg, r.status, r.header.Get("Content-Type"), r.raw)
		}
		// count 1: the next call is answered normally.
		if r := create(); r.status != 201 || !json.Valid(r.raw) {
			t.Fatalf("after the fault: %d %s", r.status, r.raw)
		}
	}
	// Every create took effect, malformed answer or not.
	after := len(h.do("POST", "/rest/api/3/search/jql", map[string]any{"jql": "project = SFJ", "maxResults": 1000}).json(t)["issues"].([]any))
	if after-before != 8 {
		t.Fatalf("issues created: %d, want 8", after-before)
	}
	// Error answers are not mangled; unknown bodies and a body on another kind are refused.
	set(map[string]any{"rules": []any{map[string]any{"endpoint": "GET /rest/api/3/issue/{issueIdOrKey}", "kind": "malformed", "body": "html"}}}, 200)
	if r := h.do("GET", "/rest/api/3/issue/NOPE-1", nil); r.status != 404 || !json.Valid(r.raw) {
		t.Fatalf("404 stays JSON: %d %s", r.status, r.raw)
	}
	set(map[string]any{"rules": []any{map[string]any{"endpoint": "*", "kind": "malformed", "body": "xml"}}}, 400)
	set(map[string]any{"rules": []any{map[string]any{"endpoint": "*", "kind": "reset", "body": "html"}}}, 400)
}
