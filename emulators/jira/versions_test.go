package jira

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestVersions(t *testing.T) {
	h := newHarness(t)
	epicID, epicKey := h.create(map[string]any{"summary": "Deal"})

	list := func() []any {
		t.Helper()
		var out []any
		r := h.expect(h.do("GET", "/rest/api/3/project/SFJ/versions", nil), 200)
		if err := json.Unmarshal(r.raw, &out); err != nil {
			t.Fatalf("decode %q: %v", r.raw, err)
		}
		return out
	}
	if l := list(); len(l) != 0 {
		t.Fatalf("new project has versions: %v", l)
	}
	v := h.expect(h.do("POST", "/rest/api/3/version", map[string]any{"name": "Acme 2026", "projectId": 10000, "description": "won deal", "releaseDate": "2026-12-31"}), 201).json(t)
	id, _ := v["id"].(string)
	if id == "" || v["name"] != "Acme 2026" || v["released"] != false || v["archived"] != false || v["releaseDate"] != "2026-12-31" || !strings.HasSuffix(v["self"].(string), "/rest/api/3/version/"+id) {
		t.Fatalf("created version: %v", v)
	}
	// Names are unique in the project, ignoring case: the second create is refused like Jira does.
	dup := h.expect(h.do("POST", "/rest/api/3/version", map[string]any{"name": "acme 2026", "projectId": "10000"}), 400).json(t)
	if dup["errors"].(map[string]any)["name"] != "A version with this name already exists in this project." {
		t.Fatalf("duplicate name: %v", dup)
	}
	h.expect(h.do("POST", "/rest/api/3/version", map[string]any{"name": "", "projectId": 10000}), 400)
	h.expect(h.do("POST", "/rest/api/3/version", map[string]any{"name": "x"}), 400)
	h.expect(h.do("POST", "/rest/api/3/version", map[string]any{"name": "x", "projectId": 99999}), 404)
	h.expect(h.do("POST", "/rest/api/3/version", map[string]any{"name": "x", "projectId": 10000, "releaseDate": "31/12/2026"}), 400)
	if l := list(); len(l) != 1 || l[0].(map[string]any)["id"] != id {
		t.Fatalf("versions: %v", l)
	}
	h.expect(h.do("GET", "/rest/api/3/version/"+id, nil), 200)
	h.expect(h.do("GET", "/rest/api/3/version/424242", nil), 404)
	h.expect(h.do("GET", "/rest/api/3/project/NOPE/versions", nil), 404)

	fix := func() []any {
		t.Helper()
		f := h.expect(h.do("GET", "/rest/api/3/issue/"+epicKey+"?fields=fixVersions", nil), 200).json(t)["fields"].(map[string]any)
		return f["fixVersions"].([]any)
	}
	if l := fix(); len(l) != 0 {
		t.Fatalf("new issue has fix versions: %v", l)
	}
	h.expect(h.do("PUT", "/rest/api/3/issue/"+epicID, map[string]any{"fields": map[string]any{"fixVersions": []any{map[string]any{"id": id}}}}), 204)
	if l := fix(); len(l) != 1 || l[0].(map[string]any)["name"] != "Acme 2026" {
		t.Fatalf("fix versions after set: %v", l)
	}
	// update add is idempotent, remove takes it off; unknown versions are refused per field.
	h.expect(h.do("PUT", "/rest/api/3/issue/"+epicID, map[string]any{"update": map[string]any{"fixVersions": []any{map[string]any{"add": map[string]any{"name": "Acme 2026"}}}}}), 204)
	if l := fix(); len(l) != 1 {
		t.Fatalf("add twice: %v", l)
	}
	bad := h.expect(h.do("PUT", "/rest/api/3/issue/"+epicID, map[string]any{"fields": map[string]any{"fixVersions": []any{map[string]any{"id": "777"}}}}), 400).json(t)
	if bad["errors"].(map[string]any)["fixVersions"] != "Version id '777' is not valid" {
		t.Fatalf("unknown version: %v", bad)
	}
	h.expect(h.do("PUT", "/rest/api/3/issue/"+epicID, map[string]any{"update": map[string]any{"fixVersions": []any{map[string]any{"remove": map[string]any{"id": id}}}}}), 204)
	if l := fix(); len(l) != 0 {
		t.Fatalf("after remove: %v", l)
	}
	// The changelog records the version added and removed.
	cl := h.expect(h.do("GET", "/rest/api/3/issue/"+epicKey+"/changelog", nil), 200).json(t)
	var added, removed bool
	for _, hv := range cl["values"].([]any) {
		for _, it := range hv.(map[string]any)["items"].([]any) {
			m := it.(map[string]any)
			if m["fieldId"] == "fixVersions" && m["to"] == id && m["toString"] == "Acme 2026" {
				added = true
			}
			if m["fieldId"] == "fixVersions" && m["from"] == id {
				removed = true
			}
		}
	}
	if !added || !removed {
		t.Fatalf("changelog misses the fix version changes: %v", cl)
	}
	// Create accepts fixVersions by name.
	r := h.expect(h.do("POST", "/rest/api/3/issue", map[string]any{"fields": map[string]any{"project": map[string]any{"key": "SFJ"},
		"issuetype": map[string]any{"name": "Story"}, "summary": "S", "fixVersions": []any{map[string]any{"name": "Acme 2026"}}}}), 201).json(t)
	f := h.expect(h.do("GET", "/rest/api/3/issue/"+r["key"].(string)+"?fields=fixVersions", nil), 200).json(t)["fields"].(map[string]any)
	if l := f["fixVersions"].([]any); len(l) != 1 {
		t.Fatalf("created with fix versions: %v", l)
	}
}
