package jira

import (
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// changeItem is one ChangeDetails entry of a changelog history (and of webhook payloads).
type changeItem struct {
	Field      string  `json:"field"`
	FieldType  string  `json:"fieldtype"`
	FieldID    string  `json:"fieldId"`
	From       *string `json:"from"`
	FromString *string `json:"fromString"`
	To         *string `json:"to"`
	ToString   *string `json:"toString"`
}

type history struct {
	id      int64
	author  string
	created time.Time
	items   []changeItem
}

type evKind int

const (
	evCreated evKind = iota
	evUpdated
	evTransition
	evDeleted
	evCommentCreated
	evCommentUpdated
	evCommentDeleted
)

func sp(s string) *string { return &s }

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func item(field, fid string, custom bool, from, fromS, to, toS *string) changeItem {
	t := "jira"
	if custom {
		t = "custom"
	}
	return changeItem{Field: field, FieldType: t, FieldID: fid, From: from, FromString: fromS, To: to, ToString: toS}
}

func dueString(d string) *string {
	if d == "" {
		return nil
	}
	return sp(d + " 00:00:00.0")
}

func customString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		if sp := findSprint(x); sp != nil {
			return sp.Name
		}
		return strconv.FormatInt(x, 10)
	case string:
		return x
	case []string:
		return strings.Join(x, ",")
	}
	return ""
}

// diffItems lists what changed between two states of an issue (caller holds s.mu), in
// Jira's changelog vocabulary.
func (s *Server) diffItems(a, b issueData) []changeItem {
	var out []changeItem
	named := func(field string, list []namedDef, x, y string) {
		if x == y {
			return
		}
		var xs, ys *string
		if d := findNamed(list, x, false); d != nil {
			xs = sp(d.Name)
		}
		if d := findNamed(list, y, false); d != nil {
			ys = sp(d.Name)
		}
		out = append(out, item(field, field, false, optStr(x), xs, optStr(y), ys))
	}
	if a.TypeID != b.TypeID {
		var xs *string
		if t := findIssueType(a.TypeID); t != nil {
			xs = sp(t.Name)
		}
		out = append(out, item("issuetype", "issuetype", false, optStr(a.TypeID), xs, optStr(b.TypeID), sp(findIssueType(b.TypeID).Name)))
	}
	if a.Summary != b.Summary {
		out = append(out, item("summary", "summary", false, nil, optStr(a.Summary), nil, optStr(b.Summary)))
	}
	if ad, bd := adfWiki(a.Description), adfWiki(b.Description); ad != bd || (a.Description == nil) != (b.Description == nil) {
		out = append(out, item("description", "description", false, nil, optStr(ad), nil, optStr(bd)))
	}
	if a.DueDate != b.DueDate {
		out = append(out, item("duedate", "duedate", false, optStr(a.DueDate), dueString(a.DueDate), optStr(b.DueDate), dueString(b.DueDate)))
	}
	if strings.Join(a.Labels, " ") != strings.Join(b.Labels, " ") {
		out = append(out, item("labels", "labels", false, nil, optStr(strings.Join(a.Labels, " ")), nil, optStr(strings.Join(b.Labels, " "))))
	}
	// Fix versions: one item per version added or removed, as Jira records them.
	for _, id := range a.FixVersions {
		if !slices.Contains(b.FixVersions, id) {
			out = append(out, item("Fix Version", "fixVersions", false, sp(strconv.FormatInt(id, 10)), sp(s.versionName(id)), nil, nil))
		}
	}
	for _, id := range b.FixVersions {
		if !slices.Contains(a.FixVersions, id) {
			out = append(out, item("Fix Version", "fixVersions", false, nil, nil, sp(strconv.FormatInt(id, 10)), sp(s.versionName(id))))
		}
	}
	named("priority", priorities, a.PriorityID, b.PriorityID)
	for _, u := range []struct{ f, x, y string }{{"assignee", a.Assignee, b.Assignee}, {"reporter", a.Reporter, b.Reporter}} {
		if u.x != u.y {
			var xs, ys *string
			if u.x != "" {
				xs = sp(s.displayName(u.x))
			}
			if u.y != "" {
				ys = sp(s.displayName(u.y))
			}
			out = append(out, item(u.f, u.f, false, optStr(u.x), xs, optStr(u.y), ys))
		}
	}
	if a.ParentID != b.ParentID {
		key := func(id int64) (*string, *string) {
			if id == 0 {
				return nil, nil
			}
			ks := ""
			if p := s.issues[id]; p != nil {
				ks = p.key
			}
			return sp(strconv.FormatInt(id, 10)), optStr(ks)
		}
		f, fs := key(a.ParentID)
		t, ts := key(b.ParentID)
		out = append(out, item("IssueParentAssociation", "parent", false, f, fs, t, ts))
	}
	if a.StatusID != b.StatusID {
		var xs *string
		if a.StatusID != "" {
			xs = sp(s.status(a.StatusID).Name)
		}
		out = append(out, item("status", "status", false, optStr(a.StatusID), xs, sp(b.StatusID), sp(s.status(b.StatusID).Name)))
	}
	named("resolution", resolutions, a.ResolutionID, b.ResolutionID)
	for _, f := range s.allFieldDefs() {
		if !f.Custom {
			continue
		}
		x, y := a.Custom[f.ID], b.Custom[f.ID]
		xs, ys := customString(x), customString(y)
		if xs == ys && (x == nil) == (y == nil) {
			continue
		}
		var fr, to *string
		if f.Kind == kindSprint {
			if n, ok := x.(int64); ok {
				fr = sp(strconv.FormatInt(n, 10))
			}
			if n, ok := y.(int64); ok {
				to = sp(strconv.FormatInt(n, 10))
			}
		}
		out = append(out, item(f.Name, f.ID, true, fr, optStr(xs), to, optStr(ys)))
	}
	return out
}

// issueChangedLocked records a changelog history (edits and transitions) and emits the
// matching webhook events (caller holds s.mu for writing; is already holds the new
// state, before the old one; for deletes is is the issue about to be removed).
func (s *Server) issueChangedLocked(base string, before issueData, is *issue, kind evKind) {
	var items []changeItem
	switch kind {
	case evCreated, evDeleted:
		if !s.anyHooks() {
			return // nothing records creates/deletes except webhooks; keep bulk creates cheap
		}
		if kind == evCreated {
			items = s.diffItems(issueData{}, is.d)
		}
	case evUpdated, evTransition:
		items = s.diffItems(before, is.d)
		if len(items) == 0 {
			return
		}
	}
	s.nextHistory++
	hid := s.nextHistory
	if kind == evUpdated || kind == evTransition {
		s.histories[is.id] = append(s.histories[is.id], &history{id: hid, author: accountID, created: is.updated, items: items})
	}
	s.issueEventLocked(base, kind, is, hid, items)
}

func (s *Server) historyJSON(base string, h *history) map[string]any {
	return map[string]any{
		"id":      strconv.FormatInt(h.id, 10),
		"author":  s.userByID(base, h.author),
		"created": fmtTime(h.created),
		"items":   h.items,
	}
}

func (s *Server) handleChangelog(w http.ResponseWriter, r *http.Request) {
	start, max, ok := pageParams(w, r, 100, 100)
	if !ok {
		return
	}
	base := baseURL(r)
	s.mu.RLock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	var all []any
	if is != nil {
		for _, h := range s.histories[is.id] {
			all = append(all, s.historyJSON(base, h))
		}
	}
	s.mu.RUnlock()
	if is == nil {
		writeMsg(w, 404, msgIssueNotFound)
		return
	}
	vals := page(all, start, max)
	end := start + len(vals)
	out := map[string]any{"self": base + r.URL.RequestURI(), "startAt": start, "maxResults": max, "total": len(all), "isLast": end >= len(all), "values": vals}
	if end < len(all) {
		out["nextPage"] = base + "/rest/api/3/issue/" + is.key + "/changelog?startAt=" + strconv.Itoa(end) + "&maxResults=" + strconv.Itoa(max)
	}
	writeJSON(w, 200, out)
}

// ---- expand ----------------------------------------------------------------------------

// applyExpand adds the requested IssueBean expansions (caller holds s.mu for reading):
// names, schema, transitions, changelog, renderedFields. operations, editmeta and
// versionedRepresentations are accepted and ignored.
func (s *Server) applyExpand(base string, out map[string]any, is *issue, sel map[string]bool, expand []string) {
	for _, e := range expand {
		switch e {
		case "names":
			names := map[string]string{}
			for id := range sel {
				if f := s.field(id); f != nil {
					names[id] = f.Name
				}
			}
			out["names"] = names
		case "schema":
			sch := map[string]any{}
			for id := range sel {
				if f := s.field(id); f != nil {
					sch[id] = schemaJSON(f)
				}
			}
			out["schema"] = sch
		case "transitions":
			out["transitions"] = s.transitionsFor(base, is, "", false)
		case "changelog":
			hs := s.histories[is.id]
			list := make([]any, 0, len(hs))
			for _, h := range hs {
				list = append(list, s.historyJSON(base, h))
			}
			out["changelog"] = map[string]any{"startAt": 0, "maxResults": len(list), "total": len(list), "histories": list}
		case "renderedFields":
			rf := map[string]any{}
			for id := range sel {
				rf[id] = s.renderedField(base, is, id)
			}
			out["renderedFields"] = rf
		}
	}
}

func renderedTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("02/Jan/06 3:04 PM")
}

func (s *Server) renderedField(base string, is *issue, id string) any {
	switch id {
	case "description":
		if is.d.Description == nil {
			return nil
		}
		return adfHTML(is.d.Description)
	case "created":
		return renderedTime(is.created)
	case "updated":
		return renderedTime(is.updated)
	case "resolutiondate":
		return renderedTime(is.d.ResolutionDate)
	case "statuscategorychangedate":
		return renderedTime(is.d.StatusChanged)
	case "duedate", FieldStartDate:
		d := is.d.DueDate
		if id != "duedate" {
			d, _ = is.d.Custom[id].(string)
		}
		if t, err := time.Parse(jiraDate, d); err == nil {
			return t.Format("02/Jan/06")
		}
		return nil
	case "comment":
		list := []any{}
		for _, c := range s.comments[is.id] {
			m := s.commentJSON(base, c, false)
			m["body"] = adfHTML(c.body)
			list = append(list, m)
		}
		return map[string]any{"comments": list, "maxResults": len(list), "total": len(list), "startAt": 0}
	}
	return nil
}

// ---- ADF conversions ---------------------------------------------------------------------

// adfHTML renders an ADF document as the HTML Jira puts in renderedFields.
func adfHTML(v any) string {
	var b strings.Builder
	var walk func(n any)
	walk = func(n any) {
		m, ok := n.(map[string]any)
		if !ok {
			return
		}
		kids := func() {
			if arr, ok := m["content"].([]any); ok {
				for _, c := range arr {
					walk(c)
				}
			}
		}
		attrs, _ := m["attrs"].(map[string]any)
		switch m["type"] {
		case "doc":
			kids()
		case "paragraph":
			b.WriteString("<p>")
			kids()
			b.WriteString("</p>")
		case "heading":
			lvl := "1"
			if n, ok := attrs["level"]; ok {
				lvl = strings.Trim(strings.TrimSpace(toStr(n)), "\"")
			}
			b.WriteString("<h" + lvl + ">")
			kids()
			b.WriteString("</h" + lvl + ">")
		case "bulletList":
			b.WriteString("<ul>")
			kids()
			b.WriteString("</ul>")
		case "orderedList":
			b.WriteString("<ol>")
			kids()
			b.WriteString("</ol>")
		case "listItem":
			b.WriteString("<li>")
			kids()
			b.WriteString("</li>")
		case "codeBlock":
			b.WriteString("<pre>")
			kids()
			b.WriteString("</pre>")
		case "blockquote":
			b.WriteString("<blockquote>")
			kids()
			b.WriteString("</blockquote>")
		case "hardBreak":
			b.WriteString("<br/>")
		case "rule":
			b.WriteString("<hr/>")
		case "mention":
			b.WriteString(html.EscapeString(toStr(attrs["text"])))
		case "emoji":
			b.WriteString(html.EscapeString(toStr(attrs["text"])))
		case "text":
			t := html.EscapeString(toStr(m["text"]))
			marks, _ := m["marks"].([]any)
			for _, mk := range marks {
				mm, _ := mk.(map[string]any)
				switch mm["type"] {
				case "strong":
					t = "<b>" + t + "</b>"
				case "em":
					t = "<em>" + t + "</em>"
				case "code":
					t = "<tt>" + t + "</tt>"
				case "strike":
					t = "<del>" + t + "</del>"
				case "link":
					a, _ := mm["attrs"].(map[string]any)
					t = `<a href="` + html.EscapeString(toStr(a["href"])) + `" class="external-link" rel="nofollow noreferrer">` + t + "</a>"
				}
			}
			b.WriteString(t)
		default:
			kids()
		}
	}
	walk(v)
	return b.String()
}

func toStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case interface{ String() string }:
		return x.String()
	}
	return ""
}

// adfWiki renders an ADF document as Jira wiki markup, the v2 representation used in
// webhook payloads and changelog strings ("" for nil).
func adfWiki(v any) string {
	if v == nil {
		return ""
	}
	var blocks []string
	var inline func(n any) string
	inline = func(n any) string {
		m, ok := n.(map[string]any)
		if !ok {
			return ""
		}
		attrs, _ := m["attrs"].(map[string]any)
		switch m["type"] {
		case "text":
			t := toStr(m["text"])
			marks, _ := m["marks"].([]any)
			for _, mk := range marks {
				mm, _ := mk.(map[string]any)
				switch mm["type"] {
				case "strong":
					t = "*" + t + "*"
				case "em":
					t = "_" + t + "_"
				case "code":
					t = "{{" + t + "}}"
				case "strike":
					t = "-" + t + "-"
				case "link":
					a, _ := mm["attrs"].(map[string]any)
					t = "[" + t + "|" + toStr(a["href"]) + "]"
				}
			}
			return t
		case "hardBreak":
			return "\n"
		case "mention":
			return "[~accountid:" + toStr(attrs["id"]) + "]"
		case "emoji":
			return toStr(attrs["text"])
		case "inlineCard":
			return "[" + toStr(attrs["url"]) + "|" + toStr(attrs["url"]) + "|smart-link]"
		}
		var b strings.Builder
		if arr, ok := m["content"].([]any); ok {
			for _, c := range arr {
				b.WriteString(inline(c))
			}
		}
		return b.String()
	}
	var block func(n any, prefix string)
	block = func(n any, prefix string) {
		m, ok := n.(map[string]any)
		if !ok {
			return
		}
		arr, _ := m["content"].([]any)
		attrs, _ := m["attrs"].(map[string]any)
		switch m["type"] {
		case "doc", "blockquote", "panel", "expand", "layoutSection", "layoutColumn":
			for _, c := range arr {
				block(c, prefix)
			}
		case "paragraph":
			blocks = append(blocks, prefix+inline(m))
		case "heading":
			lvl := strings.TrimSpace(toStr(attrs["level"]))
			if lvl == "" {
				lvl = "1"
			}
			blocks = append(blocks, "h"+lvl+". "+inline(m))
		case "bulletList", "orderedList":
			mark := "*"
			if m["type"] == "orderedList" {
				mark = "#"
			}
			for _, li := range arr {
				lm, _ := li.(map[string]any)
				kids, _ := lm["content"].([]any)
				for _, k := range kids {
					km, _ := k.(map[string]any)
					if t := km["type"]; t == "bulletList" || t == "orderedList" {
						block(k, prefix+mark)
					} else {
						blocks = append(blocks, strings.TrimSpace(prefix+mark)+" "+inline(k))
					}
				}
			}
		case "codeBlock":
			blocks = append(blocks, "{code}"+inline(m)+"{code}")
		case "rule":
			blocks = append(blocks, "----")
		default:
			if t := inline(m); t != "" {
				blocks = append(blocks, t)
			}
		}
	}
	block(v, "")
	// list items are single lines; everything else is separated by blank lines
	var b strings.Builder
	for i, bl := range blocks {
		if i > 0 {
			if (strings.HasPrefix(bl, "*") || strings.HasPrefix(bl, "#")) && (strings.HasPrefix(blocks[i-1], "*") || strings.HasPrefix(blocks[i-1], "#")) {
				b.WriteString("\n")
			} else {
				b.WriteString("\n\n")
			}
		}
		b.WriteString(bl)
	}
	return b.String()
}
