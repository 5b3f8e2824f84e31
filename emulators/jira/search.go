package jira

import (
	"encoding/base64"
	"errors"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
)

type searchRequest struct {
	JQL             string   `json:"jql"`
	NextPageToken   *string  `json:"nextPageToken"`
	MaxResults      *int     `json:"maxResults"`
	Fields          []string `json:"fields"`
	Properties      []string `json:"properties"`
	ReconcileIssues []int64  `json:"reconcileIssues"`
	Expand          string   `json:"expand"`
	FieldsByKeys    bool     `json:"fieldsByKeys"`
	FailFast        bool     `json:"failFast"`
}

const msgUnbounded = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."

// Page tokens are opaque to clients. They name a cursor (the ordered ids matched when the
// first page was served, so later pages neither skip nor repeat issues while writes go on,
// and are O(page) instead of a full re-scan) plus the offset and a hash of the JQL. If
// the cursor was evicted the search is re-run and the offset applied.
type cursor struct {
	ids []int64
}

const maxCursors = 64

func jqlHash(jql string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(jql))
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

func pageToken(jql string, offset int, cursorID int64) string {
	raw := "sfj1:" + strconv.Itoa(offset) + ":" + jqlHash(jql) + ":" + strconv.FormatInt(cursorID, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func parsePageToken(tok, jql string) (offset int, cursorID int64, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, 0, false
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 4 || parts[0] != "sfj1" || parts[2] != jqlHash(jql) {
		return 0, 0, false
	}
	off, err1 := strconv.Atoi(parts[1])
	cid, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || off < 0 {
		return 0, 0, false
	}
	return off, cid, true
}

func (s *Server) saveCursor(ids []int64) int64 {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	s.nextCursor++
	id := s.nextCursor
	if s.cursors == nil {
		s.cursors = map[int64]*cursor{}
	}
	s.cursors[id] = &cursor{ids: ids}
	s.cursorFIFO = append(s.cursorFIFO, id)
	for len(s.cursorFIFO) > maxCursors {
		delete(s.cursors, s.cursorFIFO[0])
		s.cursorFIFO = s.cursorFIFO[1:]
	}
	return id
}

func (s *Server) loadCursor(id int64) *cursor {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.cursors[id]
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	var req searchRequest
	if r.Method == http.MethodPost {
		if !decodeBody(w, r, &req) {
			return
		}
	} else {
		q := r.URL.Query()
		req.JQL = q.Get("jql")
		if v, ok := q["nextPageToken"]; ok && v[0] != "" {
			req.NextPageToken = &v[0]
		}
		if v := q.Get("maxResults"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				writeMsg(w, 400, "The value '"+v+"' is not valid for parameter 'maxResults'.")
				return
			}
			req.MaxResults = &n
		}
		req.Fields = q["fields"]
		req.Properties = q["properties"]
		for _, v := range splitList(q["reconcileIssues"]) {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				writeMsg(w, 400, "The value '"+v+"' is not valid for parameter 'reconcileIssues'.")
				return
			}
			req.ReconcileIssues = append(req.ReconcileIssues, id)
		}
	}
	if r.Method != http.MethodPost {
		req.Expand = r.URL.Query().Get("expand")
	}
	expandList := splitList([]string{req.Expand})
	fieldsList := splitList(req.Fields)
	props := splitList(req.Properties)
	if len(props) > 5 {
		writeMsg(w, 400, "The number of requested issue properties exceeds the limit of 5.")
		return
	}
	if len(req.ReconcileIssues) > 50 {
		writeMsg(w, 400, "The number of issues to reconcile exceeds the limit of 50.")
		return
	}
	sel := s.parseFieldSelection(fieldsList, "id")
	onlyIDs := len(props) == 0
	for _, f := range fieldsList {
		if f != "id" && f != "key" {
			onlyIDs = false
		}
	}
	limit := 100
	if onlyIDs {
		limit = 5000
	}
	maxResults := 50
	if req.MaxResults != nil && *req.MaxResults > 0 {
		maxResults = min(*req.MaxResults, limit)
	}
	offset := 0
	var cur *cursor
	var cursorID int64
	if req.NextPageToken != nil && *req.NextPageToken != "" {
		off, cid, ok := parsePageToken(*req.NextPageToken, req.JQL)
		if !ok {
			writeMsg(w, 400, "The provided next page token is invalid or expired.")
			return
		}
		offset, cursorID, cur = off, cid, s.loadCursor(cid)
	}

	where, orderTerms, err := parseJQL(req.JQL)
	if err != nil {
		writeMsg(w, 400, err.Error())
		return
	}
	if where == nil {
		writeMsg(w, 400, msgUnbounded)
		return
	}
	now := s.now()
	c := &compiler{s: s, now: now}
	order, err := c.orderBy(orderTerms)
	if err != nil {
		writeMsg(w, 400, err.Error())
		return
	}
	if len(order) == 0 {
		order, _ = c.orderBy([]orderTerm{{field: "key", desc: true}})
	}
	reconcile := make(map[int64]bool, len(req.ReconcileIssues))
	for _, id := range req.ReconcileIssues {
		reconcile[id] = true
	}
	base := baseURL(r)

	s.mu.RLock()
	prog, err := c.compile(where)
	if err != nil {
		s.mu.RUnlock()
		var je *jqlError
		if errors.As(err, &je) {
			writeMsg(w, 400, je.msg)
		} else {
			writeMsg(w, 400, err.Error())
		}
		return
	}
	var ids []int64
	if cur != nil {
		ids = cur.ids
	} else {
		var matches []*issue
		hidden := 0
		// visible leaves out what the search index has not caught up with (search_lag_ms),
		// counting the issues that would have matched.
		visible := func(is *issue) bool {
			if !now.Before(is.visibleAt) || reconcile[is.id] {
				return true
			}
			if prog.eval(is) {
				hidden++
			}
			return false
		}
		if cand, ok := prog.cand(); ok {
			for id := range cand {
				if is := s.issues[id]; is != nil && visible(is) && prog.eval(is) {
					matches = append(matches, is)
				}
			}
		} else {
			for _, is := range s.issues {
				if visible(is) && prog.eval(is) {
					matches = append(matches, is)
				}
			}
		}
		s.countFault("search_hidden", hidden)
		sortIssues(matches, order)
		ids = make([]int64, len(matches))
		for i, is := range matches {
			ids[i] = is.id
		}
	}
	end := min(offset+maxResults, len(ids))
	out := make([]any, 0, max(end-offset, 0))
	for i := offset; i < end; i++ {
		if is := s.issues[ids[i]]; is != nil { // deleted since the cursor was taken
			m := s.renderIssue(base, is, sel, props)
			s.applyExpand(base, m, is, sel, expandList)
			out = append(out, m)
		}
	}
	s.mu.RUnlock()

	resp := map[string]any{"issues": out, "isLast": end >= len(ids)}
	if end < len(ids) {
		if cur == nil {
			cursorID = s.saveCursor(ids)
		}
		resp["nextPageToken"] = pageToken(req.JQL, end, cursorID)
	}
	writeJSON(w, 200, resp)
}
