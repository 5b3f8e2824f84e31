package jira

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Per-issue limits of Jira Cloud (comments, worklogs and remote links: 5000 each);
// breaching one answers 413.
const (
	maxCommentsPerIssue    = 5000
	maxWorklogsPerIssue    = 5000
	maxRemoteLinksPerIssue = 5000
	maxCommentChars        = 32767
	msgCommentLimit        = "The number of comments on this issue has reached the limit of 5000."
)

type comment struct {
	id         int64
	issueID    int64
	author     string
	updAuthor  string
	body       any
	visibility json.RawMessage
	created    time.Time
	updated    time.Time
}

type worklog struct {
	id         int64
	issueID    int64
	author     string
	updAuthor  string
	comment    any
	visibility json.RawMessage
	started    time.Time
	seconds    int64
	created    time.Time
	updated    time.Time
}

type remoteLink struct {
	id           int64
	globalID     string
	application  json.RawMessage
	relationship string
	object       json.RawMessage
}

func commentSelf(base string, issueID, id int64) string {
	return base + "/rest/api/3/issue/" + strconv.FormatInt(issueID, 10) + "/comment/" + strconv.FormatInt(id, 10)
}

// checkCommentBody validates a v3 comment body (ADF, non-empty, ≤32767 chars of text).
func checkCommentBody(v any) string {
	if v == nil {
		return "Comment body can not be empty!"
	}
	if !isADFDoc(v) {
		return msgNotADF
	}
	if !validADF(v) {
		return "INVALID_INPUT"
	}
	txt := strings.TrimSpace(adfText(v))
	if txt == "" && !hasNonTextNodes(v) {
		return "Comment body can not be empty!"
	}
	if utf8.RuneCountInString(txt) > maxCommentChars {
		return "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
	}
	return ""
}

func hasNonTextNodes(v any) bool {
	m, _ := v.(map[string]any)
	arr, _ := m["content"].([]any)
	for _, c := range arr {
		cm, _ := c.(map[string]any)
		if t, _ := cm["type"].(string); t != "paragraph" && t != "text" {
			return true
		}
		if hasNonTextNodes(cm) {
			return true
		}
	}
	return false
}

func (s *Server) commentJSON(base string, c *comment, rendered bool) map[string]any {
	m := map[string]any{
		"self":         commentSelf(base, c.issueID, c.id),
		"id":           strconv.FormatInt(c.id, 10),
		"author":       s.userByID(base, c.author),
		"body":         c.body,
		"updateAuthor": s.userByID(base, c.updAuthor),
		"created":      fmtTime(c.created),
		"updated":      fmtTime(c.updated),
		"jsdPublic":    true,
	}
	if len(c.visibility) > 0 {
		m["visibility"] = c.visibility
	}
	if rendered {
		m["renderedBody"] = adfHTML(c.body)
	}
	return m
}

// addCommentLocked stores a comment and emits its events (caller holds s.mu).
func (s *Server) addCommentLocked(base string, is *issue, body any, vis json.RawMessage, now time.Time) *comment {
	s.nextComment++
	c := &comment{id: s.nextComment, issueID: is.id, author: accountID, updAuthor: accountID, body: body, visibility: vis, created: now, updated: now}
	s.comments[is.id] = append(s.comments[is.id], c)
	is.updated = now
	is.visibleAt = now.Add(s.searchLag())
	s.commentEventLocked(base, is, c, evCommentCreated)
	return c
}

type commentInput struct {
	Body       any             `json:"body"`
	Visibility json.RawMessage `json:"visibility"`
	Properties []propertyInput `json:"properties"`
}

func validVisibility(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var v struct {
		Type, Value, Identifier string
	}
	if json.Unmarshal(raw, &v) != nil || (v.Type != "group" && v.Type != "role") || (v.Value == "" && v.Identifier == "") {
		return "Visibility must have a 'type' of 'group' or 'role' and a 'value' or 'identifier'."
	}
	return ""
}

func (s *Server) handleListComments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	order := q.Get("orderBy")
	desc := false
	switch order {
	case "", "created", "+created":
	case "-created":
		desc = true
	default:
		writeMsg(w, 400, "The value '"+order+"' is not valid for 'orderBy'. Valid values are: created, -created, +created.")
		return
	}
	start, max, ok := pageParams(w, r, 100, 5000)
	if !ok {
		return
	}
	rendered := strings.Contains(q.Get("expand"), "renderedBody")
	base := baseURL(r)
	s.mu.RLock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	var all []any
	if is != nil {
		list := s.comments[is.id]
		all = make([]any, 0, len(list))
		for i := range list {
			c := list[i]
			if desc {
				c = list[len(list)-1-i]
			}
			all = append(all, s.commentJSON(base, c, rendered))
		}
	}
	s.mu.RUnlock()
	if is == nil {
		writeMsg(w, 404, msgIssueNotFound)
		return
	}
	writeJSON(w, 200, map[string]any{"comments": page(all, start, max), "maxResults": max, "startAt": start, "total": len(all)})
}

func (s *Server) handleAddComment(w http.ResponseWriter, r *http.Request) {
	var in commentInput
	if !decodeBody(w, r, &in) {
		return
	}
	errs := newErrs()
	if msg := checkCommentBody(in.Body); msg != "" {
		errs.Errors["comment"] = msg
	}
	if msg := validVisibility(in.Visibility); msg != "" {
		errs.Errors["visibility"] = msg
	}
	validateProperties(in.Properties, errs)
	rendered := strings.Contains(r.URL.Query().Get("expand"), "renderedBody")
	base := baseURL(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	if is == nil {
		writeMsg(w, 404, msgIssueNotFound)
		return
	}
	if !errs.empty() {
		writeJSON(w, 400, errs)
		return
	}
	if len(s.comments[is.id]) >= maxCommentsPerIssue {
		writeMsg(w, http.StatusRequestEntityTooLarge, msgCommentLimit)
		return
	}
	c := s.addCommentLocked(base, is, in.Body, in.Visibility, s.now())
	writeJSON(w, 201, s.commentJSON(base, c, rendered))
}

// findComment returns the issue and comment for the path (caller holds s.mu).
func (s *Server) findComment(r *http.Request) (*issue, int, string) {
	is := s.lookup(r.PathValue("issueIdOrKey"))
	if is == nil {
		return nil, -1, msgIssueNotFound
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		for i, c := range s.comments[is.id] {
			if c.id == id {
				return is, i, ""
			}
		}
	}
	return is, -1, "Can not find a comment for the id: " + r.PathValue("id") + "."
}

func (s *Server) handleGetComment(w http.ResponseWriter, r *http.Request) {
	rendered := strings.Contains(r.URL.Query().Get("expand"), "renderedBody")
	base := baseURL(r)
	s.mu.RLock()
	is, i, msg := s.findComment(r)
	var out map[string]any
	if i >= 0 {
		out = s.commentJSON(base, s.comments[is.id][i], rendered)
	}
	s.mu.RUnlock()
	if out == nil {
		writeMsg(w, 404, msg)
		return
	}
	writeJSON(w, 200, out)
}

func (s *Server) handleEditComment(w http.ResponseWriter, r *http.Request) {
	if _, ok := parseBoolParam(w, r, "notifyUsers", true); !ok {
		return
	}
	if _, ok := parseBoolParam(w, r, "overrideEditableFlag", false); !ok {
		return
	}
	var in commentInput
	if !decodeBody(w, r, &in) {
		return
	}
	errs := newErrs()
	if msg := checkCommentBody(in.Body); msg != "" {
		errs.Errors["comment"] = msg
	}
	if msg := validVisibility(in.Visibility); msg != "" {
		errs.Errors["visibility"] = msg
	}
	rendered := strings.Contains(r.URL.Query().Get("expand"), "renderedBody")
	base := baseURL(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	is, i, msg := s.findComment(r)
	if i < 0 {
		writeMsg(w, 404, msg)
		return
	}
	if !errs.empty() {
		writeJSON(w, 400, errs)
		return
	}
	old := s.comments[is.id][i]
	c := *old
	now := s.now()
	c.body, c.updated, c.updAuthor = in.Body, now, accountID
	if len(in.Visibility) > 0 {
		c.visibility = in.Visibility
		if string(in.Visibility) == "null" {
			c.visibility = nil
		}
	}
	s.comments[is.id][i] = &c
	is.updated = now
	is.visibleAt = now.Add(s.searchLag())
	s.commentEventLocked(base, is, &c, evCommentUpdated)
	writeJSON(w, 200, s.commentJSON(base, &c, rendered))
}

func (s *Server) handleDeleteComment(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	is, i, msg := s.findComment(r)
	if i < 0 {
		writeMsg(w, 404, msg)
		return
	}
	c := s.comments[is.id][i]
	s.comments[is.id] = slices.Delete(slices.Clone(s.comments[is.id]), i, i+1)
	now := s.now()
	is.updated = now
	is.visibleAt = now.Add(s.searchLag())
	s.commentEventLocked(base, is, c, evCommentDeleted)
	w.WriteHeader(http.StatusNoContent)
}

// ---- worklogs --------------------------------------------------------------------------

var durRe = regexp.MustCompile(`^(\d+(?:\.\d+)?)\s*([wdhm])$`)

// parseDuration parses Jira durations such as "3h 20m", "1w 2d", "90m" (1w = 5d, 1d = 8h),
// a bare number meaning minutes.
func parseDuration(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n * 60, n >= 0
	}
	var total float64
	for _, part := range strings.Fields(s) {
		m := durRe.FindStringSubmatch(strings.ToLower(part))
		if m == nil {
			return 0, false
		}
		n, _ := strconv.ParseFloat(m[1], 64)
		unit := map[string]float64{"w": 5 * 8 * 3600, "d": 8 * 3600, "h": 3600, "m": 60}[m[2]]
		total += n * unit
	}
	return int64(total), true
}

// formatDuration renders seconds the way Jira does ("3h 20m", "1w 2d").
func formatDuration(sec int64) string {
	if sec <= 0 {
		return "0m"
	}
	var parts []string
	for _, u := range []struct {
		n int64
		s string
	}{{5 * 8 * 3600, "w"}, {8 * 3600, "d"}, {3600, "h"}, {60, "m"}} {
		if sec >= u.n {
			parts = append(parts, strconv.FormatInt(sec/u.n, 10)+u.s)
			sec %= u.n
		}
	}
	if len(parts) == 0 {
		return "0m"
	}
	return strings.Join(parts, " ")
}

func worklogSelf(base string, issueID, id int64) string {
	return base + "/rest/api/3/issue/" + strconv.FormatInt(issueID, 10) + "/worklog/" + strconv.FormatInt(id, 10)
}

func (s *Server) worklogJSON(base string, wl *worklog) map[string]any {
	m := map[string]any{
		"self":             worklogSelf(base, wl.issueID, wl.id),
		"author":           s.userByID(base, wl.author),
		"updateAuthor":     s.userByID(base, wl.updAuthor),
		"created":          fmtTime(wl.created),
		"updated":          fmtTime(wl.updated),
		"started":          fmtTime(wl.started),
		"timeSpent":        formatDuration(wl.seconds),
		"timeSpentSeconds": wl.seconds,
		"id":               strconv.FormatInt(wl.id, 10),
		"issueId":          strconv.FormatInt(wl.issueID, 10),
	}
	if wl.comment != nil {
		m["comment"] = wl.comment
	}
	if len(wl.visibility) > 0 {
		m["visibility"] = wl.visibility
	}
	return m
}

type worklogInput struct {
	Comment          any             `json:"comment"`
	Started          *string         `json:"started"`
	TimeSpent        *string         `json:"timeSpent"`
	TimeSpentSeconds *json.Number    `json:"timeSpentSeconds"`
	Visibility       json.RawMessage `json:"visibility"`
	Properties       []propertyInput `json:"properties"`
}

// validateWorklogQuery checks adjustEstimate / newEstimate / reduceBy like Jira.
func validateWorklogQuery(w http.ResponseWriter, r *http.Request, allowManual bool) bool {
	q := r.URL.Query()
	if _, ok := parseBoolParam(w, r, "notifyUsers", true); !ok {
		return false
	}
	if _, ok := parseBoolParam(w, r, "overrideEditableFlag", false); !ok {
		return false
	}
	switch adj := q.Get("adjustEstimate"); adj {
	case "", "auto", "leave":
	case "new":
		if _, ok := parseDuration(q.Get("newEstimate")); !ok {
			writeErr(w, 400, nil, map[string]string{"newEstimate": "You must supply a valid new estimate."})
			return false
		}
	case "manual":
		if !allowManual {
			writeMsg(w, 400, "The value 'manual' is not valid for parameter 'adjustEstimate'.")
			return false
		}
		if _, ok := parseDuration(q.Get("reduceBy")); !ok {
			writeErr(w, 400, nil, map[string]string{"reduceBy": "You must supply a valid amount to reduce the estimate by."})
			return false
		}
	default:
		writeMsg(w, 400, "The value '"+adj+"' is not valid for parameter 'adjustEstimate'. Valid values are: new, leave, manual, auto.")
		return false
	}
	return true
}

// parseWorklogInput validates the body; partial=true for PUT (fields optional).
func parseWorklogInput(in *worklogInput, partial bool, errs *errorCollection) (started *time.Time, seconds int64, hasSecs bool) {
	if in.TimeSpent != nil && in.TimeSpentSeconds != nil {
		errs.Errors["timeLogged"] = "Only one of 'timeSpent' and 'timeSpentSeconds' may be specified."
	} else if in.TimeSpent != nil {
		n, ok := parseDuration(*in.TimeSpent)
		if !ok || n <= 0 {
			errs.Errors["timeLogged"] = "Invalid time duration entered."
		}
		seconds, hasSecs = n, true
	} else if in.TimeSpentSeconds != nil {
		n, err := in.TimeSpentSeconds.Int64()
		if err != nil || n <= 0 {
			errs.Errors["timeLogged"] = "Time spent must be a positive number of seconds."
		}
		seconds, hasSecs = n, true
	} else if !partial {
		errs.Errors["timeLogged"] = "You must indicate the time spent working."
	}
	if in.Started != nil {
		t, err := time.Parse(jiraTime, *in.Started)
		if err != nil {
			errs.Errors["started"] = "Invalid date format. Please enter the date in the format \"yyyy-MM-dd'T'HH:mm:ss.SSSZ\"."
		} else {
			started = &t
		}
	} else if !partial {
		errs.Errors["started"] = "You must specify a start date."
	}
	if in.Comment != nil {
		if !isADFDoc(in.Comment) {
			errs.Errors["comment"] = msgNotADF
		} else if !validADF(in.Comment) {
			errs.Errors["comment"] = "INVALID_INPUT"
		}
	}
	if msg := validVisibility(in.Visibility); msg != "" {
		errs.Errors["visibility"] = msg
	}
	validateProperties(in.Properties, errs)
	return started, seconds, hasSecs
}

func (s *Server) handleListWorklogs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, max, ok := pageParams(w, r, 5000, 5000)
	if !ok {
		return
	}
	var after, before int64 = -1 << 62, 1 << 62
	for name, dst := range map[string]*int64{"startedAfter": &after, "startedBefore": &before} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				writeMsg(w, 400, "The value '"+v+"' is not valid for parameter '"+name+"'.")
				return
			}
			*dst = n
		}
	}
	base := baseURL(r)
	s.mu.RLock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	var all []any
	if is != nil {
		all = []any{}
		for _, wl := range s.worklogs[is.id] {
			if ms := wl.started.UnixMilli(); ms >= after && ms <= before {
				all = append(all, s.worklogJSON(base, wl))
			}
		}
	}
	s.mu.RUnlock()
	if is == nil {
		writeMsg(w, 404, msgIssueNotFound)
		return
	}
	writeJSON(w, 200, map[string]any{"startAt": start, "maxResults": max, "total": len(all), "worklogs": page(all, start, max)})
}

func (s *Server) handleAddWorklog(w http.ResponseWriter, r *http.Request) {
	if !validateWorklogQuery(w, r, true) {
		return
	}
	var in worklogInput
	if !decodeBody(w, r, &in) {
		return
	}
	errs := newErrs()
	started, secs, _ := parseWorklogInput(&in, false, errs)
	base := baseURL(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	if is == nil {
		writeMsg(w, 404, msgIssueNotFound)
		return
	}
	if !errs.empty() {
		writeJSON(w, 400, errs)
		return
	}
	if len(s.worklogs[is.id]) >= maxWorklogsPerIssue {
		writeMsg(w, http.StatusRequestEntityTooLarge, "The number of worklogs on this issue has reached the limit of 5000.")
		return
	}
	now := s.now()
	s.nextWorklog++
	wl := &worklog{id: s.nextWorklog, issueID: is.id, author: accountID, updAuthor: accountID, comment: in.Comment,
		visibility: in.Visibility, started: started.UTC(), seconds: secs, created: now, updated: now}
	s.worklogs[is.id] = append(s.worklogs[is.id], wl)
	is.updated = now
	is.visibleAt = now.Add(s.searchLag())
	s.worklogEventLocked(base, is, wl, "worklog_created")
	writeJSON(w, 201, s.worklogJSON(base, wl))
}

func (s *Server) findWorklog(r *http.Request) (*issue, int, string) {
	is := s.lookup(r.PathValue("issueIdOrKey"))
	if is == nil {
		return nil, -1, msgIssueNotFound
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		for i, wl := range s.worklogs[is.id] {
			if wl.id == id {
				return is, i, ""
			}
		}
	}
	return is, -1, "Cannot find worklog with id: '" + r.PathValue("id") + "'."
}

func (s *Server) handleGetWorklog(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r)
	s.mu.RLock()
	is, i, msg := s.findWorklog(r)
	var out map[string]any
	if i >= 0 {
		out = s.worklogJSON(base, s.worklogs[is.id][i])
	}
	s.mu.RUnlock()
	if out == nil {
		writeMsg(w, 404, msg)
		return
	}
	writeJSON(w, 200, out)
}

func (s *Server) handleEditWorklog(w http.ResponseWriter, r *http.Request) {
	if !validateWorklogQuery(w, r, false) {
		return
	}
	var in worklogInput
	if !decodeBody(w, r, &in) {
		return
	}
	errs := newErrs()
	started, secs, hasSecs := parseWorklogInput(&in, true, errs)
	base := baseURL(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	is, i, msg := s.findWorklog(r)
	if i < 0 {
		writeMsg(w, 404, msg)
		return
	}
	if !errs.empty() {
		writeJSON(w, 400, errs)
		return
	}
	wl := *s.worklogs[is.id][i]
	now := s.now()
	if started != nil {
		wl.started = started.UTC()
	}
	if hasSecs {
		wl.seconds = secs
	}
	if in.Comment != nil {
		wl.comment = in.Comment
	}
	if len(in.Visibility) > 0 {
		wl.visibility = in.Visibility
	}
	wl.updated, wl.updAuthor = now, accountID
	s.worklogs[is.id][i] = &wl
	is.updated = now
	is.visibleAt = now.Add(s.searchLag())
	s.worklogEventLocked(base, is, &wl, "worklog_updated")
	writeJSON(w, 200, s.worklogJSON(base, &wl))
}

func (s *Server) handleDeleteWorklog(w http.ResponseWriter, r *http.Request) {
	if !validateWorklogQuery(w, r, true) {
		return
	}
	base := baseURL(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	is, i, msg := s.findWorklog(r)
	if i < 0 {
		writeMsg(w, 404, msg)
		return
	}
	wl := s.worklogs[is.id][i]
	s.worklogs[is.id] = slices.Delete(slices.Clone(s.worklogs[is.id]), i, i+1)
	now := s.now()
	is.updated = now
	is.visibleAt = now.Add(s.searchLag())
	s.worklogEventLocked(base, is, wl, "worklog_deleted")
	w.WriteHeader(http.StatusNoContent)
}

// ---- remote links ------------------------------------------------------------------------

func remoteLinkSelf(base, key string, id int64) string {
	// The spec's example self has no "/3" in the path; Jira Cloud answers that way.
	return base + "/rest/api/issue/" + key + "/remotelink/" + strconv.FormatInt(id, 10)
}

func remoteLinkJSON(base, key string, l *remoteLink) map[string]any {
	m := map[string]any{"id": l.id, "self": remoteLinkSelf(base, key, l.id), "object": l.object}
	if l.globalID != "" {
		m["globalId"] = l.globalID
	}
	if len(l.application) > 0 {
		m["application"] = l.application
	} else {
		m["application"] = map[string]any{}
	}
	if l.relationship != "" {
		m["relationship"] = l.relationship
	}
	return m
}

func (s *Server) handleListRemoteLinks(w http.ResponseWriter, r *http.Request) {
	gid, byGID := r.URL.Query()["globalId"]
	base := baseURL(r)
	s.mu.RLock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	var out []any
	var found map[string]any
	if is != nil {
		out = []any{}
		for _, l := range s.remoteLinks[is.id] {
			if byGID && l.globalID == gid[0] {
				found = remoteLinkJSON(base, is.key, l)
			}
			out = append(out, remoteLinkJSON(base, is.key, l))
		}
	}
	s.mu.RUnlock()
	switch {
	case is == nil:
		writeMsg(w, 404, msgIssueNotFound)
	case byGID && found == nil:
		writeMsg(w, 404, "No remote link with global id '"+gid[0]+"' exists on this issue.")
	case byGID:
		writeJSON(w, 200, found) // with globalId Jira answers the single link
	default:
		writeJSON(w, 200, out)
	}
}

func (s *Server) handleGetRemoteLink(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r)
	s.mu.RLock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	var out map[string]any
	if is != nil {
		id, _ := strconv.ParseInt(r.PathValue("linkId"), 10, 64)
		for _, l := range s.remoteLinks[is.id] {
			if l.id == id {
				out = remoteLinkJSON(base, is.key, l)
			}
		}
	}
	s.mu.RUnlock()
	switch {
	case is == nil:
		writeMsg(w, 404, msgIssueNotFound)
	case out == nil:
		writeMsg(w, 404, "No remote link with id '"+r.PathValue("linkId")+"' exists on this issue.")
	default:
		writeJSON(w, 200, out)
	}
}

func (s *Server) handlePutRemoteLink(w http.ResponseWriter, r *http.Request) {
	var in struct {
		GlobalID     string          `json:"globalId"`
		Application  json.RawMessage `json:"application"`
		Relationship string          `json:"relationship"`
		Object       json.RawMessage `json:"object"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	errs := newErrs()
	var obj struct {
		URL   *string `json:"url"`
		Title *string `json:"title"`
	}
	if len(in.Object) == 0 || string(in.Object) == "null" || json.Unmarshal(in.Object, &obj) != nil {
		errs.Errors["object"] = "'object' is required."
	} else {
		if obj.URL == nil || strings.TrimSpace(*obj.URL) == "" {
			errs.Errors["url"] = "'url' is required."
		} else if u, err := url.Parse(*obj.URL); err != nil || u.Scheme == "" {
			errs.Errors["url"] = "'url' is not a valid URL."
		}
		if obj.Title == nil || strings.TrimSpace(*obj.Title) == "" {
			errs.Errors["title"] = "'title' is required."
		}
	}
	if utf8.RuneCountInString(in.GlobalID) > 255 {
		errs.Errors["globalId"] = "'globalId' must not exceed 255 characters."
	}
	if !errs.empty() {
		writeJSON(w, 400, errs)
		return
	}
	base := baseURL(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	if is == nil {
		writeMsg(w, 404, msgIssueNotFound)
		return
	}
	var compact json.RawMessage
	if b, err := json.Marshal(in.Object); err == nil {
		compact = b
	}
	links := s.remoteLinks[is.id]
	if in.GlobalID != "" {
		for i, l := range links {
			if l.globalID == in.GlobalID {
				// Update replaces the link: omitted fields become null.
				nl := &remoteLink{id: l.id, globalID: in.GlobalID, application: in.Application, relationship: in.Relationship, object: compact}
				next := slices.Clone(links)
				next[i] = nl
				s.remoteLinks[is.id] = next
				writeJSON(w, 200, map[string]any{"id": l.id, "self": remoteLinkSelf(base, is.key, l.id)})
				return
			}
		}
	}
	if len(links) >= maxRemoteLinksPerIssue {
		writeMsg(w, http.StatusRequestEntityTooLarge, "The number of remote links on this issue has reached the limit of 5000.")
		return
	}
	s.nextLink++
	l := &remoteLink{id: s.nextLink, globalID: in.GlobalID, application: in.Application, relationship: in.Relationship, object: compact}
	s.remoteLinks[is.id] = append(links, l)
	writeJSON(w, 201, map[string]any{"id": l.id, "self": remoteLinkSelf(base, is.key, l.id)})
}

func (s *Server) handleDeleteRemoteLink(w http.ResponseWriter, r *http.Request) {
	gid, byGID := r.URL.Query()["globalId"]
	linkID := r.PathValue("linkId")
	if linkID == "" && (!byGID || gid[0] == "") {
		writeMsg(w, 400, "The global ID of the remote link must be provided.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	if is == nil {
		writeMsg(w, 404, msgIssueNotFound)
		return
	}
	links := s.remoteLinks[is.id]
	for i, l := range links {
		if (linkID != "" && strconv.FormatInt(l.id, 10) == linkID) || (linkID == "" && l.globalID == gid[0]) {
			s.remoteLinks[is.id] = slices.Delete(slices.Clone(links), i, i+1)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if linkID != "" {
		writeMsg(w, 404, "No remote link with id '"+linkID+"' exists on this issue.")
	} else {
		writeMsg(w, 404, "No remote link with global id '"+gid[0]+"' exists on this issue.")
	}
}
