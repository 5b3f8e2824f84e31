package jira

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Issue links (POST /rest/api/3/issueLink, DELETE /rest/api/3/issueLink/{linkId},
// GET /rest/api/3/issueLinkType) and their rendering in fields.issuelinks. A link joins an
// inward and an outward issue; each side sees the other one, under outwardIssue when it is the
// link's inward issue and under inwardIssue when it is the outward one, as Jira Cloud shows it.

// linkTypeDef is one of the link types of a default Jira Cloud site.
type linkTypeDef struct{ ID, Name, Inward, Outward string }

var linkTypes = []linkTypeDef{
	{"10000", "Blocks", "is blocked by", "blocks"},
	{"10001", "Cloners", "is cloned by", "clones"},
	{"10002", "Duplicate", "is duplicated by", "duplicates"},
	{"10003", "Relates", "relates to", "relates to"},
}

type issueLink struct {
	id              int64
	typeID          string
	inward, outward int64
}

// refValue reads a string or number member of a reference object such as {"id": "10003"}.
func refValue(m map[string]any, k string) string {
	switch x := m[k].(type) {
	case string:
		return strings.TrimSpace(x)
	case json.Number:
		return x.String()
	}
	return ""
}

func findLinkType(id, name string) *linkTypeDef {
	for i := range linkTypes {
		t := &linkTypes[i]
		if (id != "" && t.ID == id) || (id == "" && name != "" && strings.EqualFold(t.Name, name)) {
			return t
		}
	}
	return nil
}

func linkTypeJSON(base string, t *linkTypeDef) map[string]any {
	return map[string]any{"id": t.ID, "name": t.Name, "inward": t.Inward, "outward": t.Outward,
		"self": base + "/rest/api/3/issueLinkType/" + t.ID}
}

func (s *Server) handleIssueLinkTypes(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r)
	out := make([]any, 0, len(linkTypes))
	for i := range linkTypes {
		out = append(out, linkTypeJSON(base, &linkTypes[i]))
	}
	writeJSON(w, 200, map[string]any{"issueLinkTypes": out})
}

func (s *Server) handleCreateIssueLink(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Type         map[string]any `json:"type"`
		InwardIssue  map[string]any `json:"inwardIssue"`
		OutwardIssue map[string]any `json:"outwardIssue"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	tid, tname := refValue(in.Type, "id"), refValue(in.Type, "name")
	typ := findLinkType(tid, tname)
	if typ == nil {
		writeMsg(w, 404, "No issue link type with name '"+tname+"' found.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	side := func(ref map[string]any) *issue {
		if id := refValue(ref, "id"); id != "" {
			return s.lookup(id)
		}
		if k := refValue(ref, "key"); k != "" {
			return s.lookup(k)
		}
		return nil
	}
	inward, outward := side(in.InwardIssue), side(in.OutwardIssue)
	if inward == nil || outward == nil {
		writeMsg(w, 404, msgIssueNotFound)
		return
	}
	if inward.id == outward.id {
		writeMsg(w, 400, "You cannot link an issue to itself.")
		return
	}
	// Jira keeps one link per type and pair of issues: creating it again changes nothing.
	for _, l := range s.issueLinks {
		if l.typeID == typ.ID && l.inward == inward.id && l.outward == outward.id {
			w.WriteHeader(http.StatusCreated)
			return
		}
	}
	s.nextIssueLink++
	s.issueLinks[s.nextIssueLink] = &issueLink{id: s.nextIssueLink, typeID: typ.ID, inward: inward.id, outward: outward.id}
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) handleGetIssueLink(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r)
	s.mu.RLock()
	defer s.mu.RUnlock()
	l := s.issueLinkByPath(r)
	if l == nil {
		writeMsg(w, 404, "No issue link with id '"+r.PathValue("linkId")+"' exists.")
		return
	}
	idStr := strconv.FormatInt(l.id, 10)
	writeJSON(w, 200, map[string]any{"id": idStr, "self": base + "/rest/api/3/issueLink/" + idStr,
		"type":        linkTypeJSON(base, findLinkType(l.typeID, "")),
		"inwardIssue": s.linkedIssueJSON(base, s.issues[l.inward]), "outwardIssue": s.linkedIssueJSON(base, s.issues[l.outward])})
}

func (s *Server) handleDeleteIssueLink(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.issueLinkByPath(r)
	if l == nil {
		writeMsg(w, 404, "No issue link with id '"+r.PathValue("linkId")+"' exists.")
		return
	}
	delete(s.issueLinks, l.id)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) issueLinkByPath(r *http.Request) *issueLink {
	id, err := strconv.ParseInt(r.PathValue("linkId"), 10, 64)
	if err != nil {
		return nil
	}
	return s.issueLinks[id]
}

func (s *Server) linkedIssueJSON(base string, is *issue) map[string]any {
	ref := s.issueRef(base, is)
	return ref
}

// issueLinksJSON renders fields.issuelinks of one issue, oldest link first (caller holds s.mu).
func (s *Server) issueLinksJSON(base string, is *issue) []any {
	ids := make([]int64, 0)
	for id, l := range s.issueLinks {
		if l.inward == is.id || l.outward == is.id {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		l := s.issueLinks[id]
		idStr := strconv.FormatInt(id, 10)
		m := map[string]any{"id": idStr, "self": base + "/rest/api/3/issueLink/" + idStr,
			"type": linkTypeJSON(base, findLinkType(l.typeID, ""))}
		if l.inward == is.id {
			m["outwardIssue"] = s.linkedIssueJSON(base, s.issues[l.outward])
		} else {
			m["inwardIssue"] = s.linkedIssueJSON(base, s.issues[l.inward])
		}
		out = append(out, m)
	}
	return out
}

// dropIssueLinksLocked removes the links of a deleted issue, as Jira does.
func (s *Server) dropIssueLinksLocked(issueID int64) {
	for id, l := range s.issueLinks {
		if l.inward == issueID || l.outward == issueID {
			delete(s.issueLinks, id)
		}
	}
}
