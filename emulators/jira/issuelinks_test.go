package jira

import "testing"

func TestIssueLinks(t *testing.T) {
	h := newHarness(t)
	aID, aKey := h.create(map[string]any{"summary": "A"})
	bID, bKey := h.create(map[string]any{"summary": "B"})

	types := h.expect(h.do("GET", "/rest/api/3/issueLinkType", nil), 200).json(t)["issueLinkTypes"].([]any)
	if len(types) != 4 || types[3].(map[string]any)["name"] != "Relates" {
		t.Fatalf("link types: %v", types)
	}

	links := func(key string) []any {
		t.Helper()
		f := h.expect(h.do("GET", "/rest/api/3/issue/"+key+"?fields=issuelinks", nil), 200).json(t)["fields"].(map[string]any)
		return f["issuelinks"].([]any)
	}
	if l := links(aKey); len(l) != 0 {
		t.Fatalf("new issue has links: %v", l)
	}
	body := map[string]any{"type": map[string]any{"name": "Blocks"}, "inwardIssue": map[string]any{"id": aID}, "outwardIssue": map[string]any{"key": bKey}}
	r := h.expect(h.do("POST", "/rest/api/3/issueLink", body), 201)
	if len(r.raw) != 0 {
		t.Fatalf("create answers with a body: %s", r.raw)
	}
	h.expect(h.do("POST", "/rest/api/3/issueLink", body), 201) // same link again: no duplicate

	la, lb := links(aKey), links(bKey)
	if len(la) != 1 || len(lb) != 1 {
		t.Fatalf("links a=%v b=%v", la, lb)
	}
	a0, b0 := la[0].(map[string]any), lb[0].(map[string]any)
	if a0["id"] != b0["id"] || a0["type"].(map[string]any)["outward"] != "blocks" {
		t.Fatalf("link a=%v b=%v", a0, b0)
	}
	if out, ok := a0["outwardIssue"].(map[string]any); !ok || out["id"] != bID || out["key"] != bKey || a0["inwardIssue"] != nil {
		t.Fatalf("A sees B as outward issue: %v", a0)
	}
	if in, ok := b0["inwardIssue"].(map[string]any); !ok || in["id"] != aID {
		t.Fatalf("B sees A as inward issue: %v", b0)
	}
	id := a0["id"].(string)
	h.expect(h.do("GET", "/rest/api/3/issueLink/"+id, nil), 200)

	h.expect(h.do("POST", "/rest/api/3/issueLink", map[string]any{"type": map[string]any{"name": "Nope"},
		"inwardIssue": map[string]any{"id": aID}, "outwardIssue": map[string]any{"id": bID}}), 404)
	h.expect(h.do("POST", "/rest/api/3/issueLink", map[string]any{"type": map[string]any{"name": "Relates"},
		"inwardIssue": map[string]any{"id": aID}, "outwardIssue": map[string]any{"key": "SFJ-9999"}}), 404)

	h.expect(h.do("DELETE", "/rest/api/3/issueLink/"+id, nil), 204)
	h.expect(h.do("DELETE", "/rest/api/3/issueLink/"+id, nil), 404)
	if l := links(bKey); len(l) != 0 {
		t.Fatalf("deleted link still shown: %v", l)
	}

	// Deleting an issue deletes its links.
	h.expect(h.do("POST", "/rest/api/3/issueLink", body), 201)
	h.expect(h.do("DELETE", "/rest/api/3/issue/"+bKey, nil), 204)
	if l := links(aKey); len(l) != 0 {
		t.Fatalf("link to deleted issue still shown: %v", l)
	}
}
