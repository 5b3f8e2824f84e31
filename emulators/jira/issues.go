package jira

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	msgIssueNotFound  = "Issue does not exist or you do not have permission to see it."
	msgNotADF         = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
	maxPropertyLength = 32768
	maxPropertyKeyLen = 255
)

func msgNotOnScreen(f string) string {
	return "Field '" + f + "' cannot be set. It is not on the appropriate screen, or unknown."
}

// issueData holds everything that counts as an issue "change" (bumps `updated`).
type issueData struct {
	TypeID      string
	Summary     string
	Description any
	DueDate     string
	Labels      []string
	// FixVersions holds version ids, sorted (versions.go).
	FixVersions    []int64
	PriorityID     string
	Assignee       string
	Reporter       string
	ParentID       int64
	Custom         map[string]any // float64 | string | int64 (sprint id)
	StatusID       string
	ResolutionID   string
	ResolutionDate time.Time
	StatusChanged  time.Time
}

type property struct {
	raw  json.RawMessage
	flat map[string][]string // JQL path -> normalized scalar values
}

type issue struct {
	id        int64
	num       int64
	key       string
	d         issueData
	created   time.Time
	updated   time.Time
	visibleAt time.Time // hidden from search until then (search_lag_ms fault)
	props     map[string]*property
}

func (is *issue) clone() *issue {
	c := *is
	c.d.Labels = slices.Clone(is.d.Labels)
	c.d.FixVersions = slices.Clone(is.d.FixVersions)
	c.d.Custom = make(map[string]any, len(is.d.Custom))
	for k, v := range is.d.Custom {
		c.d.Custom[k] = v
	}
	c.props = make(map[string]*property, len(is.props))
	for k, v := range is.props {
		c.props[k] = v
	}
	return &c
}

// flexID accepts an id given as a JSON string or number.
type flexID string

// UnmarshalJSON accepts both "11" and 11, as Jira does for transition ids.
func (f *flexID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexID(n.String())
	return nil
}

type propertyInput struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

type issueUpdate struct {
	Fields     map[string]any              `json:"fields"`
	Update     map[string][]map[string]any `json:"update"`
	Properties []propertyInput             `json:"properties"`
	Transition *struct {
		ID flexID `json:"id"`
	} `json:"transition"`
	HistoryMetadata any `json:"historyMetadata"`
}

// ---- lookups (caller holds s.mu) -----------------------------------------------------

func (s *Server) lookup(idOrKey string) *issue {
	if id, err := strconv.ParseInt(idOrKey, 10, 64); err == nil {
		return s.issues[id]
	}
	return s.byKey[strings.ToUpper(idOrKey)]
}

func refString(v any, keys ...string) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	for _, k := range keys {
		switch x := m[k].(type) {
		case string:
			return k + "=" + x, true
		case json.Number:
			return k + "=" + x.String(), true
		}
	}
	return "", false
}

// ---- field validation ---------------------------------------------------------------

var adfNodes = map[string]bool{
	"doc": true, "paragraph": true, "text": true, "heading": true, "bulletList": true, "orderedList": true,
	"listItem": true, "codeBlock": true, "blockquote": true, "rule": true, "hardBreak": true, "mention": true,
	"emoji": true, "panel": true, "table": true, "tableRow": true, "tableHeader": true, "tableCell": true,
	"mediaSingle": true, "mediaGroup": true, "media": true, "mediaInline": true, "inlineCard": true,
	"blockCard": true, "embedCard": true, "status": true, "date": true, "expand": true, "nestedExpand": true,
	"taskList": true, "taskItem": true, "decisionList": true, "decisionItem": true, "placeholder": true,
	"extension": true, "inlineExtension": true, "bodiedExtension": true, "layoutSection": true, "layoutColumn": true,
}

var adfMarks = map[string]bool{
	"strong": true, "em": true, "code": true, "strike": true, "underline": true, "link": true,
	"subsup": true, "textColor": true, "backgroundColor": true, "alignment": true, "indentation": true,
	"border": true, "annotation": true, "breakout": true, "dataConsumer": true, "fragment": true,
}

func isADFDoc(v any) bool {
	m, ok := v.(map[string]any)
	return ok && m["type"] == "doc"
}

func validADF(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || m["type"] != "doc" {
		return false
	}
	if n, ok := m["version"].(json.Number); !ok || n.String() != "1" {
		return false
	}
	content, ok := m["content"].([]any)
	if !ok {
		return false
	}
	for _, c := range content {
		if !validADFNode(c, 1) {
			return false
		}
	}
	return true
}

func validADFNode(v any, depth int) bool {
	if depth > 64 {
		return false
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	t, _ := m["type"].(string)
	if !adfNodes[t] || t == "doc" {
		return false
	}
	if t == "text" {
		s, ok := m["text"].(string)
		if !ok || s == "" {
			return false
		}
	}
	if c, present := m["content"]; present {
		arr, ok := c.([]any)
		if !ok {
			return false
		}
		for _, x := range arr {
			if !validADFNode(x, depth+1) {
				return false
			}
		}
	}
	if mk, present := m["marks"]; present {
		arr, ok := mk.([]any)
		if !ok {
			return false
		}
		for _, x := range arr {
			mm, ok := x.(map[string]any)
			if !ok {
				return false
			}
			if mt, _ := mm["type"].(string); !adfMarks[mt] {
				return false
			}
		}
	}
	return true
}

// setField validates one field value and applies it to the staged issue; it returns the
// Jira error text for the field or "" on success.
func (s *Server) setField(is *issue, fid string, v any, creating bool) string {
	f := s.field(fid)
	if f == nil || !s.fieldOnScreen(f) {
		return msgNotOnScreen(fid)
	}
	switch f.Kind {
	case kindSelect, kindMultiSelect:
		return s.setSelect(is, f, v)
	case kindDateTime:
		switch x := v.(type) {
		case nil:
			setCustom(is, fid, nil, true)
		case string:
			var t time.Time
			err := errBadDateTime
			for _, layout := range []string{jiraTime, time.RFC3339Nano, "2006-01-02T15:04:05.000-07:00"} {
				if t, err = time.Parse(layout, x); err == nil {
					break
				}
			}
			if err != nil {
				return "Error parsing date string: " + x
			}
			setCustom(is, fid, t.UTC().Format(jiraTime), false)
		default:
			return "Operation value must be a string"
		}
	case kindCustomADF:
		if v == nil {
			setCustom(is, fid, nil, true)
			return ""
		}
		if !isADFDoc(v) {
			return msgNotADF
		}
		if !validADF(v) {
			return "INVALID_INPUT"
		}
		setCustom(is, fid, v, false)
	case kindString:
		str, ok := v.(string)
		if !ok && v != nil {
			return "Operation value must be a string"
		}
		if strings.TrimSpace(str) == "" {
			return "You must specify a summary of the issue."
		}
		if utf8.RuneCountInString(str) > 255 {
			return "Summary must be less than 255 characters."
		}
		if strings.ContainsAny(str, "\r\n") {
			return "The summary is invalid because it contains newline characters."
		}
		is.d.Summary = str
	case kindADF:
		if v == nil {
			is.d.Description = nil
			return ""
		}
		if !isADFDoc(v) {
			return msgNotADF
		}
		if !validADF(v) {
			return "INVALID_INPUT"
		}
		is.d.Description = v
	case kindDate:
		var val string
		switch x := v.(type) {
		case nil:
		case string:
			if x != "" {
				t, err := time.Parse(jiraDate, x)
				if err != nil {
					return "Error parsing date string: " + x
				}
				val = t.Format(jiraDate)
			}
		default:
			return "Operation value must be a string"
		}
		if fid == "duedate" {
			is.d.DueDate = val
		} else {
			setCustom(is, fid, val, val == "")
		}
	case kindVersions:
		return s.setFixVersions(is, v)
	case kindLabels:
		if v == nil {
			is.d.Labels = nil
			return ""
		}
		arr, ok := v.([]any)
		if !ok {
			return "data was not an array"
		}
		labels := make([]string, 0, len(arr))
		for _, x := range arr {
			l, ok := x.(string)
			if !ok {
				return "Operation value must be a string"
			}
			if msg := checkLabel(l); msg != "" {
				return msg
			}
			labels = append(labels, l)
		}
		is.d.Labels = normLabels(labels)
	case kindPriority:
		ref, ok := refString(v, "id", "name")
		if !ok {
			return "Could not find valid 'id' or 'name' in priority object."
		}
		k, val, _ := strings.Cut(ref, "=")
		p := findNamed(priorities, val, k == "name")
		if p == nil {
			return "The priority selected is invalid."
		}
		is.d.PriorityID = p.ID
	case kindUser:
		if v == nil {
			if fid == "reporter" {
				return "Reporter is required."
			}
			is.d.Assignee = ""
			return ""
		}
		ref, ok := refString(v, "accountId", "id")
		if !ok {
			return "Could not find valid 'accountId' in " + fid + " object."
		}
		_, val, _ := strings.Cut(ref, "=")
		if u := s.users[val]; u == nil || !u.Active {
			return "Specified user does not exist or you do not have required permissions"
		}
		if fid == "assignee" {
			is.d.Assignee = val
		} else {
			is.d.Reporter = val
		}
	case kindParent:
		if v == nil {
			is.d.ParentID = 0
			return ""
		}
		if m, ok := v.(map[string]any); ok {
			if none, _ := m["none"].(bool); none {
				is.d.ParentID = 0
				return ""
			}
		}
		ref, ok := refString(v, "key", "id")
		if !ok {
			return "Could not find valid 'id' or 'key' in parent object."
		}
		_, val, _ := strings.Cut(ref, "=")
		p := s.lookup(val)
		if p == nil {
			return "Could not find issue by id or key."
		}
		if p.id == is.id || findIssueType(p.d.TypeID).Level != findIssueType(is.d.TypeID).Level+1 {
			return "Given parent issue does not belong to appropriate hierarchy."
		}
		is.d.ParentID = p.id
	case kindProject:
		if creating {
			return ""
		}
		return msgNotOnScreen(fid)
	case kindIssueType:
		if creating {
			return ""
		}
		t := s.resolveIssueType(v)
		if t == nil || t.Level != findIssueType(is.d.TypeID).Level {
			return "The issue type selected is invalid."
		}
		is.d.TypeID = t.ID
	case kindUserPicker:
		if v == nil {
			setCustom(is, fid, nil, true)
			return ""
		}
		ref, ok := refString(v, "accountId", "id")
		if !ok {
			return "Could not find valid 'accountId' in " + fid + " object."
		}
		_, val, _ := strings.Cut(ref, "=")
		if u := s.users[val]; u == nil || !u.Active {
			return "Specified user does not exist or you do not have required permissions"
		}
		setCustom(is, fid, val, false)
	case kindNumber:
		switch x := v.(type) {
		case nil:
			setCustom(is, fid, nil, true)
		case json.Number:
			n, err := x.Float64()
			if err != nil {
				return "Operation value must be a number"
			}
			setCustom(is, fid, n, false)
		default:
			return "Operation value must be a number"
		}
	case kindText, kindURL:
		switch x := v.(type) {
		case nil:
			setCustom(is, fid, nil, true)
		case string:
			if utf8.RuneCountInString(x) > 255 {
				return "The entered text is too long. It exceeds the allowed limit of 255 characters."
			}
			if f.Kind == kindURL && x != "" {
				u, err := url.Parse(x)
				if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
					return "Not a valid URL"
				}
			}
			setCustom(is, fid, x, x == "")
		default:
			return "Operation value must be a string"
		}
	case kindSprint:
		switch x := v.(type) {
		case nil:
			setCustom(is, fid, nil, true)
		case json.Number:
			n, err := x.Int64()
			if err != nil {
				return "Number value expected as the Sprint id."
			}
			if findSprint(n) == nil {
				return "Sprint with id " + x.String() + " does not exist."
			}
			setCustom(is, fid, n, false)
		default:
			return "Number value expected as the Sprint id."
		}
	default:
		return msgNotOnScreen(fid)
	}
	return ""
}

func checkLabel(l string) string {
	if l == "" {
		return "Label cannot be empty."
	}
	if strings.ContainsAny(l, " \t\r\n") {
		return "The label '" + l + "' contains spaces which is invalid."
	}
	if utf8.RuneCountInString(l) > 255 {
		return "The label '" + l + "' exceeds the maximum length for a single label of 255 characters."
	}
	return ""
}

func normLabels(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	sort.Strings(out)
	return slices.Compact(out)
}

func setCustom(is *issue, fid string, v any, clear bool) {
	if clear {
		delete(is.d.Custom, fid)
	} else {
		is.d.Custom[fid] = v
	}
}

// applyUpdate applies one `update` operation list for a field.
func (s *Server) applyUpdate(is *issue, fid string, ops []map[string]any) string {
	for _, op := range ops {
		for verb, val := range op {
			switch verb {
			case "set":
				if msg := s.setField(is, fid, val, false); msg != "" {
					return msg
				}
			case "add", "remove":
				if fid == "fixVersions" {
					if msg := s.updateFixVersions(is, verb, val); msg != "" {
						return msg
					}
					continue
				}
				if fid != "labels" {
					f := s.field(fid)
					if f == nil || !s.fieldOnScreen(f) {
						return msgNotOnScreen(fid)
					}
					return "Field '" + fid + "' does not support operation '" + verb + "'"
				}
				l, ok := val.(string)
				if !ok {
					return "Operation value must be a string"
				}
				if verb == "add" {
					if msg := checkLabel(l); msg != "" {
						return msg
					}
					is.d.Labels = normLabels(append(is.d.Labels, l))
				} else {
					is.d.Labels = slices.DeleteFunc(is.d.Labels, func(x string) bool { return x == l })
					if len(is.d.Labels) == 0 {
						is.d.Labels = nil
					}
				}
			default:
				return "Field '" + fid + "' does not support operation '" + verb + "'"
			}
		}
	}
	return ""
}

func (s *Server) resolveIssueType(v any) *issueTypeDef {
	ref, ok := refString(v, "id", "name")
	if !ok {
		return nil
	}
	k, val, _ := strings.Cut(ref, "=")
	for i := range issueTypes {
		if (k == "id" && issueTypes[i].ID == val) || (k == "name" && strings.EqualFold(issueTypes[i].Name, val)) {
			return &issueTypes[i]
		}
	}
	return nil
}

// validateProperties checks property inputs and returns them compacted.
func validateProperties(in []propertyInput, errs *errorCollection) map[string]*property {
	out := make(map[string]*property, len(in))
	for _, p := range in {
		prop, msg := makeProperty(p.Key, p.Value)
		if msg != "" {
			errs.ErrorMessages = append(errs.ErrorMessages, msg)
			continue
		}
		out[p.Key] = prop
	}
	return out
}

func makeProperty(key string, raw []byte) (*property, string) {
	if key == "" {
		return nil, "The property key cannot be null or empty."
	}
	if utf8.RuneCountInString(key) > maxPropertyKeyLen {
		return nil, "The property key cannot be longer than 255 characters."
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || !json.Valid(raw) {
		return nil, "The property value must be a valid, non-empty JSON value."
	}
	var buf bytes.Buffer
	_ = json.Compact(&buf, raw)
	if utf8.RuneCount(buf.Bytes()) > maxPropertyLength {
		return nil, "The property value is too long. Value length must not exceed 32768 characters."
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.UseNumber()
	_ = dec.Decode(&v)
	p := &property{raw: json.RawMessage(buf.Bytes()), flat: map[string][]string{}}
	flatten(v, "", p.flat)
	return p, ""
}

func flatten(v any, path string, out map[string][]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			p := k
			if path != "" {
				p = path + "." + k
			}
			flatten(c, p, out)
		}
	case []any:
		for _, c := range x {
			flatten(c, path, out)
		}
	case nil:
	case string:
		out[path] = append(out[path], normScalar(x))
	case json.Number:
		out[path] = append(out[path], normScalar(x.String()))
	case bool:
		out[path] = append(out[path], strconv.FormatBool(x))
	}
}

func normScalar(s string) string {
	if f, err := strconv.ParseFloat(s, 64); err == nil && s != "" && !strings.ContainsAny(s, "xXnN") {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return s
}

func propIndexKey(key, path, val string) string { return key + "\x00" + path + "\x00" + val }

// indexProps updates the property search index for an issue (caller holds s.mu).
func (s *Server) indexProps(id int64, old, cur map[string]*property) {
	for k, p := range old {
		if cur[k] == p {
			continue
		}
		for path, vals := range p.flat {
			for _, v := range vals {
				ik := propIndexKey(k, path, v)
				if set := s.propIdx[ik]; set != nil {
					delete(set, id)
					if len(set) == 0 {
						delete(s.propIdx, ik)
					}
				}
			}
		}
	}
	for k, p := range cur {
		if old[k] == p {
			continue
		}
		for path, vals := range p.flat {
			for _, v := range vals {
				ik := propIndexKey(k, path, v)
				set := s.propIdx[ik]
				if set == nil {
					set = map[int64]struct{}{}
					s.propIdx[ik] = set
				}
				set[id] = struct{}{}
			}
		}
	}
}

func (s *Server) setParentLink(id, oldParent, newParent int64) {
	if oldParent == newParent {
		return
	}
	if oldParent != 0 {
		delete(s.children[oldParent], id)
		if len(s.children[oldParent]) == 0 {
			delete(s.children, oldParent)
		}
	}
	if newParent != 0 {
		if s.children[newParent] == nil {
			s.children[newParent] = map[int64]struct{}{}
		}
		s.children[newParent][id] = struct{}{}
	}
}

func (s *Server) searchLag() time.Duration {
	return time.Duration(s.currentFaults().SearchLagMS) * time.Millisecond
}

// ---- create ---------------------------------------------------------------------------

type createResult struct {
	ID         string `json:"id"`
	Key        string `json:"key"`
	Self       string `json:"self"`
	Transition any    `json:"transition,omitempty"`
}

// createLocked validates and stores one issue; caller holds s.mu for writing.
func (s *Server) createLocked(base string, in *issueUpdate, lag time.Duration) (*createResult, *errorCollection) {
	errs := newErrs()
	fields := in.Fields
	if fields == nil {
		fields = map[string]any{}
	}
	pv, ok := fields["project"]
	if !ok || pv == nil {
		errs.Errors["project"] = "Specify a valid project ID or key"
	} else if ref, ok := refString(pv, "id", "key"); !ok || !s.matchProject(ref[strings.Index(ref, "=")+1:]) {
		errs.Errors["project"] = "valid project is required"
	}
	var typ *issueTypeDef
	if tv, ok := fields["issuetype"]; !ok || tv == nil {
		errs.Errors["issuetype"] = "Specify an issue type"
	} else if typ = s.resolveIssueType(tv); typ == nil {
		errs.Errors["issuetype"] = "The issue type selected is invalid."
	}
	if !errs.empty() {
		return nil, errs
	}
	now := s.now()
	wfd := s.wf().forType(typ.ID)
	is := &issue{
		d: issueData{
			TypeID: typ.ID, PriorityID: defaultPriority, Reporter: accountID,
			Custom: map[string]any{}, StatusID: wfd.initial, StatusChanged: now,
		},
		created: now, updated: now, visibleAt: now.Add(lag),
		props: map[string]*property{},
	}
	if _, ok := fields["summary"]; !ok {
		if _, ok := in.Update["summary"]; !ok {
			errs.Errors["summary"] = "You must specify a summary of the issue."
		}
	}
	// Parent must be resolved after issuetype; map iteration order does not matter since
	// project and issuetype were handled above.
	for fid, v := range fields {
		if fid == "project" || fid == "issuetype" {
			continue
		}
		if msg := s.setField(is, fid, v, true); msg != "" {
			errs.Errors[fid] = msg
		}
	}
	for fid, ops := range in.Update {
		if msg := s.applyUpdate(is, fid, ops); msg != "" {
			errs.Errors[fid] = msg
		}
	}
	if typ.Level < 0 && is.d.ParentID == 0 && errs.Errors["parent"] == "" {
		errs.Errors["parent"] = "Sub-task issues must have a parent."
	}
	props := validateProperties(in.Properties, errs)
	var tr *wfTransition
	if in.Transition != nil {
		tr = wfd.find(wfd.initial, string(in.Transition.ID))
		if tr == nil {
			errs.ErrorMessages = append(errs.ErrorMessages, "Transition id '"+string(in.Transition.ID)+"' is not valid for this issue.")
		}
	}
	if !errs.empty() {
		return nil, errs
	}
	is.props = props
	if tr != nil {
		s.applyTransition(is, tr, "", now)
	}
	is.id = s.nextID
	is.num = s.nextNum
	s.nextID++
	s.nextNum++
	is.key = s.projectKey + "-" + strconv.FormatInt(is.num, 10)
	s.issues[is.id] = is
	s.byKey[is.key] = is
	s.indexProps(is.id, nil, is.props)
	s.setParentLink(is.id, 0, is.d.ParentID)
	s.issueChangedLocked(base, issueData{}, is, evCreated)
	res := &createResult{ID: strconv.FormatInt(is.id, 10), Key: is.key, Self: base + "/rest/api/3/issue/" + strconv.FormatInt(is.id, 10)}
	if tr != nil {
		res.Transition = map[string]any{"status": 200, "errorCollection": newErrs()}
	}
	return res, nil
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	var in issueUpdate
	if !decodeBody(w, r, &in) {
		return
	}
	lag := s.searchLag()
	s.mu.Lock()
	res, errs := s.createLocked(baseURL(r), &in, lag)
	s.mu.Unlock()
	if errs != nil {
		writeJSON(w, 400, errs)
		return
	}
	writeJSON(w, 201, res)
}

type bulkError struct {
	ElementErrors       *errorCollection `json:"elementErrors"`
	FailedElementNumber int              `json:"failedElementNumber"`
	Status              int              `json:"status"`
}

func (s *Server) handleBulkCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IssueUpdates []issueUpdate `json:"issueUpdates"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if len(in.IssueUpdates) == 0 {
		writeMsg(w, 400, "Nothing to create.")
		return
	}
	if len(in.IssueUpdates) > 50 {
		writeMsg(w, 400, "Can only create up to 50 issues in one request.")
		return
	}
	base := baseURL(r)
	lag := s.searchLag()
	out := struct {
		Issues []*createResult `json:"issues"`
		Errors []bulkError     `json:"errors"`
	}{Issues: []*createResult{}, Errors: []bulkError{}}
	s.mu.Lock()
	for i := range in.IssueUpdates {
		res, errs := s.createLocked(base, &in.IssueUpdates[i], lag)
		if errs != nil {
			out.Errors = append(out.Errors, bulkError{ElementErrors: errs, FailedElementNumber: i, Status: 400})
			continue
		}
		out.Issues = append(out.Issues, res)
	}
	s.mu.Unlock()
	status := 201
	if len(out.Issues) == 0 {
		status = 400
	}
	writeJSON(w, status, out)
}

// ---- read -----------------------------------------------------------------------------

// parseFieldSelection turns a `fields` parameter into the set of field ids to render.
func (s *Server) parseFieldSelection(list []string, def string) map[string]bool {
	var items []string
	for _, l := range list {
		for _, p := range strings.Split(l, ",") {
			if p = strings.TrimSpace(p); p != "" {
				items = append(items, p)
			}
		}
	}
	if len(items) == 0 {
		items = []string{def}
	}
	sel := map[string]bool{}
	hasPositive := false
	for _, it := range items {
		switch {
		case it == "*all" || it == "*navigable":
			hasPositive = true
			for _, f := range s.renderOrder() {
				sel[f] = true
			}
		case strings.HasPrefix(it, "-"):
		default:
			hasPositive = true
			if f := s.field(it); f != nil {
				sel[it] = true
			}
		}
	}
	if !hasPositive {
		for _, f := range s.renderOrder() {
			sel[f] = true
		}
	}
	for _, it := range items {
		if strings.HasPrefix(it, "-") {
			delete(sel, it[1:])
		}
	}
	return sel
}

func splitList(list []string) []string {
	var out []string
	for _, l := range list {
		for _, p := range strings.Split(l, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func (s *Server) userRef(base, id string) any {
	if id == "" {
		return nil
	}
	return s.userByID(base, id)
}

// renderIssue builds an IssueBean (caller holds s.mu for reading).
func (s *Server) renderIssue(base string, is *issue, sel map[string]bool, props []string) map[string]any {
	idStr := strconv.FormatInt(is.id, 10)
	out := map[string]any{
		"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
		"id":     idStr,
		"self":   base + "/rest/api/3/issue/" + idStr,
		"key":    is.key,
	}
	if len(sel) > 0 {
		f := make(map[string]any, len(sel))
		for id := range sel {
			if v, ok := s.fieldValue(base, is, id); ok {
				f[id] = v
			}
		}
		out["fields"] = f
	}
	if len(props) > 0 {
		pm := map[string]json.RawMessage{}
		for _, k := range props {
			if k == "*all" {
				for pk, p := range is.props {
					pm[pk] = p.raw
				}
			} else if p := is.props[k]; p != nil {
				pm[k] = p.raw
			}
		}
		out["properties"] = pm
	}
	return out
}

func (s *Server) issueRef(base string, p *issue) map[string]any {
	idStr := strconv.FormatInt(p.id, 10)
	return map[string]any{
		"id": idStr, "key": p.key, "self": base + "/rest/api/3/issue/" + idStr,
		"fields": map[string]any{
			"summary":   p.d.Summary,
			"status":    statusJSON(base, s.status(p.d.StatusID)),
			"priority":  namedJSON(base, "priority", findNamed(priorities, p.d.PriorityID, false)),
			"issuetype": issueTypeJSON(base, findIssueType(p.d.TypeID)),
		},
	}
}

func (s *Server) fieldValue(base string, is *issue, id string) (any, bool) {
	switch id {
	case "summary":
		return is.d.Summary, true
	case "description":
		return is.d.Description, true
	case "issuetype":
		return issueTypeJSON(base, findIssueType(is.d.TypeID)), true
	case "project":
		return s.projectRef(base), true
	case "parent":
		if p := s.issues[is.d.ParentID]; p != nil {
			return s.issueRef(base, p), true
		}
		return nil, false
	case "duedate":
		if is.d.DueDate == "" {
			return nil, true
		}
		return is.d.DueDate, true
	case "labels":
		if is.d.Labels == nil {
			return []string{}, true
		}
		return is.d.Labels, true
	case "fixVersions":
		return s.fixVersionsJSON(base, is.d.FixVersions), true
	case "priority":
		return namedJSON(base, "priority", findNamed(priorities, is.d.PriorityID, false)), true
	case "assignee":
		return s.userRef(base, is.d.Assignee), true
	case "reporter":
		return s.userRef(base, is.d.Reporter), true
	case "creator":
		return s.userRef(base, accountID), true
	case "status":
		return statusJSON(base, s.status(is.d.StatusID)), true
	case "statusCategory":
		return statusJSON(base, s.status(is.d.StatusID))["statusCategory"], true
	case "resolution":
		if is.d.ResolutionID == "" {
			return nil, true
		}
		return namedJSON(base, "resolution", findNamed(resolutions, is.d.ResolutionID, false)), true
	case "resolutiondate":
		if is.d.ResolutionDate.IsZero() {
			return nil, true
		}
		return fmtTime(is.d.ResolutionDate), true
	case "created":
		return fmtTime(is.created), true
	case "updated":
		return fmtTime(is.updated), true
	case "statuscategorychangedate":
		return fmtTime(is.d.StatusChanged), true
	case "comment":
		list := []any{}
		for _, c := range s.comments[is.id] {
			list = append(list, s.commentJSON(base, c, false))
		}
		return map[string]any{"comments": list, "self": base + "/rest/api/3/issue/" + strconv.FormatInt(is.id, 10) + "/comment",
			"maxResults": len(list), "total": len(list), "startAt": 0}, true
	case "worklog":
		all := s.worklogs[is.id]
		list := []any{}
		for i := 0; i < len(all) && i < 20; i++ {
			list = append(list, s.worklogJSON(base, all[i]))
		}
		return map[string]any{"startAt": 0, "maxResults": 20, "total": len(all), "worklogs": list}, true
	case "issuelinks":
		return s.issueLinksJSON(base, is), true
	case "subtasks":
		out := []any{}
		if findIssueType(is.d.TypeID).Level == 0 {
			ids := make([]int64, 0, len(s.children[is.id]))
			for cid := range s.children[is.id] {
				ids = append(ids, cid)
			}
			slices.Sort(ids)
			for _, cid := range ids {
				if c := s.issues[cid]; c != nil {
					out = append(out, s.issueRef(base, c))
				}
			}
		}
		return out, true
	}
	f := s.field(id)
	if f == nil || !f.Custom {
		return nil, false
	}
	v, ok := is.d.Custom[id]
	if !ok {
		return nil, true
	}
	if f.Kind == kindSelect || f.Kind == kindMultiSelect {
		return s.renderSelect(base, is, f, v), true
	}
	if f.Kind == kindUserPicker {
		return s.userByID(base, v.(string)), true
	}
	if f.Kind == kindSprint {
		sp := findSprint(v.(int64))
		m := map[string]any{"id": sp.ID, "name": sp.Name, "state": sp.State, "boardId": 1, "goal": "", "startDate": sp.Start, "endDate": sp.End}
		if sp.State == "closed" {
			m["completeDate"] = sp.End
		}
		return []any{m}, true
	}
	return v, true
}

func (s *Server) handleGetIssue(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sel := s.parseFieldSelection(q["fields"], "*all")
	props := splitList(q["properties"])
	expand := splitList(q["expand"])
	base := baseURL(r)
	s.mu.RLock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	var out map[string]any
	if is != nil {
		out = s.renderIssue(base, is, sel, props)
		s.applyExpand(base, out, is, sel, expand)
	}
	s.mu.RUnlock()
	if out == nil {
		writeMsg(w, 404, msgIssueNotFound)
		return
	}
	writeJSON(w, 200, out)
}

// ---- edit / delete -------------------------------------------------------------------

func parseBoolParam(w http.ResponseWriter, r *http.Request, name string, def bool) (bool, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		writeErr(w, 400, []string{"The value '" + v + "' is not valid for parameter '" + name + "'."}, nil)
		return false, false
	}
	return b, true
}

func (s *Server) handleEditIssue(w http.ResponseWriter, r *http.Request) {
	if _, ok := parseBoolParam(w, r, "notifyUsers", true); !ok {
		return
	}
	returnIssue, ok := parseBoolParam(w, r, "returnIssue", false)
	if !ok {
		return
	}
	var in issueUpdate
	if !decodeBody(w, r, &in) {
		return
	}
	lag := s.searchLag()
	base := baseURL(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.lookup(r.PathValue("issueIdOrKey"))
	if cur == nil {
		writeMsg(w, 404, msgIssueNotFound)
		return
	}
	next := cur.clone()
	errs := newErrs()
	for fid, v := range in.Fields {
		if fid == "status" {
			continue // like Jira, status changes only happen through transitions
		}
		if fid == "issuetype" || fid == "project" {
			if msg := s.setField(next, fid, v, false); msg != "" {
				errs.Errors[fid] = msg
			}
		}
	}
	for fid, v := range in.Fields {
		if fid == "status" || fid == "issuetype" || fid == "project" {
			continue
		}
		if _, both := in.Update[fid]; both {
			errs.Errors[fid] = "Field '" + fid + "' cannot be set in both 'fields' and 'update'."
			continue
		}
		if msg := s.setField(next, fid, v, false); msg != "" {
			errs.Errors[fid] = msg
		}
	}
	for fid, ops := range in.Update {
		if msg := s.applyUpdate(next, fid, ops); msg != "" {
			errs.Errors[fid] = msg
		}
	}
	if findIssueType(next.d.TypeID).Level < 0 && next.d.ParentID == 0 && errs.Errors["parent"] == "" {
		errs.Errors["parent"] = "Sub-task issues must have a parent."
	}
	props := validateProperties(in.Properties, errs)
	if !errs.empty() {
		writeJSON(w, 400, errs)
		return
	}
	for k, p := range props {
		next.props[k] = p
	}
	if !reflect.DeepEqual(cur.d, next.d) {
		now := s.now()
		next.updated = now
		next.visibleAt = now.Add(lag)
	}
	s.indexProps(cur.id, cur.props, next.props)
	s.setParentLink(cur.id, cur.d.ParentID, next.d.ParentID)
	before := cur.d
	*cur = *next
	s.issueChangedLocked(base, before, cur, evUpdated)
	if returnIssue {
		writeJSON(w, 200, s.renderIssue(base, cur, s.allFields(), nil))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleDeleteIssue(w http.ResponseWriter, r *http.Request) {
	delSubs, ok := parseBoolParam(w, r, "deleteSubtasks", false)
	if !ok {
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
	kids := s.children[is.id]
	hasSubtasks := false
	for cid := range kids {
		if c := s.issues[cid]; c != nil && findIssueType(c.d.TypeID).Level < 0 {
			hasSubtasks = true
		}
	}
	if hasSubtasks && !delSubs {
		writeMsg(w, 400, "The issue has subtasks. Set the 'deleteSubtasks' parameter to true to delete the issue along with its subtasks.")
		return
	}
	for cid := range kids {
		c := s.issues[cid]
		if c == nil {
			continue
		}
		if findIssueType(c.d.TypeID).Level < 0 {
			s.issueChangedLocked(base, c.d, c, evDeleted)
			s.removeLocked(c)
		} else {
			c.d.ParentID = 0
			c.updated = s.now()
		}
	}
	s.issueChangedLocked(base, is.d, is, evDeleted)
	s.removeLocked(is)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) removeLocked(is *issue) {
	s.indexProps(is.id, is.props, nil)
	s.setParentLink(is.id, is.d.ParentID, 0)
	delete(s.children, is.id)
	delete(s.comments, is.id)
	delete(s.worklogs, is.id)
	delete(s.remoteLinks, is.id)
	delete(s.histories, is.id)
	s.dropIssueLinksLocked(is.id)
	delete(s.issues, is.id)
	delete(s.byKey, is.key)
}

// ---- transitions -----------------------------------------------------------------------

// applyTransition moves an issue to the transition's target status; entering a status of
// the done category sets a resolution (the transition's post-function resolution if it has
// one, else the screen's value, default Done), leaving it clears the resolution, like Jira's
// default post-functions.
func (s *Server) applyTransition(is *issue, tr *wfTransition, resolutionID string, now time.Time) {
	oldCat := s.status(is.d.StatusID).Category.Key
	is.d.StatusID = tr.To
	newCat := s.status(tr.To).Category.Key
	if tr.Resolution != "" {
		resolutionID = tr.Resolution
	}
	if newCat == catDone.Key {
		if resolutionID == "" {
			resolutionID = is.d.ResolutionID
		}
		if resolutionID == "" {
			resolutionID = resolutionDone
		}
		is.d.ResolutionID = resolutionID
		if is.d.ResolutionDate.IsZero() || oldCat != catDone.Key {
			is.d.ResolutionDate = now
		}
	} else {
		is.d.ResolutionID = ""
		is.d.ResolutionDate = time.Time{}
	}
	if newCat != oldCat {
		is.d.StatusChanged = now
	}
}

func (s *Server) transitionsFor(base string, is *issue, only string, withFields bool) []any {
	list := []any{}
	for _, t := range s.wf().forType(is.d.TypeID).available(is.d.StatusID) {
		if only != "" && t.ID != only {
			continue
		}
		list = append(list, s.transitionJSON(base, t, withFields))
	}
	return list
}

func (s *Server) handleGetTransitions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	withFields := strings.Contains(q.Get("expand"), "transitions.fields")
	base := baseURL(r)
	s.mu.RLock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	var list []any
	if is != nil {
		list = s.transitionsFor(base, is, q.Get("transitionId"), withFields)
	}
	s.mu.RUnlock()
	if is == nil {
		writeMsg(w, 404, msgIssueNotFound)
		return
	}
	writeJSON(w, 200, map[string]any{"expand": "transitions", "transitions": list})
}

func (s *Server) handleDoTransition(w http.ResponseWriter, r *http.Request) {
	var in issueUpdate
	if !decodeBody(w, r, &in) {
		return
	}
	lag := s.searchLag()
	base := baseURL(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	if is == nil {
		writeMsg(w, 404, msgIssueNotFound)
		return
	}
	if in.Transition == nil || in.Transition.ID == "" {
		writeMsg(w, 400, "Missing 'transition' identifier")
		return
	}
	tr := s.wf().forType(is.d.TypeID).find(is.d.StatusID, string(in.Transition.ID))
	if tr == nil {
		writeMsg(w, 400, "Transition id '"+string(in.Transition.ID)+"' is not valid for this issue.")
		return
	}
	errs := newErrs()
	resID := ""
	for fid, v := range in.Fields {
		if fid != "resolution" || !tr.Screen {
			errs.Errors[fid] = msgNotOnScreen(fid)
			continue
		}
		ref, ok := refString(v, "id", "name")
		if !ok {
			errs.Errors[fid] = "Could not find valid 'id' or 'name' in resolution object."
			continue
		}
		k, val, _ := strings.Cut(ref, "=")
		res := findNamed(resolutions, val, k == "name")
		if res == nil {
			errs.Errors[fid] = "Could not find valid 'id' or 'name' in resolution object."
			continue
		}
		resID = res.ID
	}
	var commentBody any
	for fid, ops := range in.Update {
		if fid == "comment" && len(ops) == 1 {
			if add, ok := ops[0]["add"].(map[string]any); ok && len(ops[0]) == 1 {
				if msg := checkCommentBody(add["body"]); msg != "" {
					errs.Errors["comment"] = msg
				} else {
					commentBody = add["body"]
				}
				continue
			}
		}
		errs.Errors[fid] = msgNotOnScreen(fid)
	}
	props := validateProperties(in.Properties, errs)
	if !errs.empty() {
		writeJSON(w, 400, errs)
		return
	}
	if commentBody != nil && len(s.comments[is.id]) >= maxCommentsPerIssue {
		writeMsg(w, http.StatusRequestEntityTooLarge, msgCommentLimit)
		return
	}
	next := is.clone()
	now := s.now()
	s.applyTransition(next, tr, resID, now)
	for k, p := range props {
		next.props[k] = p
	}
	next.updated = now
	next.visibleAt = now.Add(lag)
	s.indexProps(is.id, is.props, next.props)
	before := is.d
	*is = *next
	s.issueChangedLocked(base, before, is, evTransition)
	if commentBody != nil {
		s.addCommentLocked(base, is, commentBody, nil, now)
	}
	w.WriteHeader(http.StatusNoContent)
}

// ---- entity properties --------------------------------------------------------------

func msgPropNotFound(k string) string { return "The property with key '" + k + "' does not exist." }

func (s *Server) handleListProperties(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r)
	s.mu.RLock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	var keys []string
	var key string
	if is != nil {
		key = is.key
		for k := range is.props {
			keys = append(keys, k)
		}
	}
	s.mu.RUnlock()
	if is == nil {
		writeMsg(w, 404, msgIssueNotFound)
		return
	}
	sort.Strings(keys)
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]string{"key": k, "self": base + "/rest/api/3/issue/" + key + "/properties/" + url.PathEscape(k)})
	}
	writeJSON(w, 200, map[string]any{"keys": out})
}

func (s *Server) handleGetProperty(w http.ResponseWriter, r *http.Request) {
	k := r.PathValue("propertyKey")
	s.mu.RLock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	var p *property
	if is != nil {
		p = is.props[k]
	}
	s.mu.RUnlock()
	switch {
	case is == nil:
		writeMsg(w, 404, msgIssueNotFound)
	case p == nil:
		writeMsg(w, 404, msgPropNotFound(k))
	default:
		writeJSON(w, 200, map[string]any{"key": k, "value": p.raw})
	}
}

func (s *Server) handleSetProperty(w http.ResponseWriter, r *http.Request) {
	k := r.PathValue("propertyKey")
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeMsg(w, 400, "The property value is too long. Value length must not exceed 32768 characters.")
		return
	}
	p, msg := makeProperty(k, raw)
	if msg != "" {
		writeMsg(w, 400, msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	if is == nil {
		writeMsg(w, 404, msgIssueNotFound)
		return
	}
	old := is.props
	next := make(map[string]*property, len(old)+1)
	for pk, pv := range old {
		next[pk] = pv
	}
	_, existed := old[k]
	next[k] = p
	s.indexProps(is.id, old, next)
	is.props = next
	if existed {
		w.WriteHeader(http.StatusOK)
	} else {
		w.WriteHeader(http.StatusCreated)
	}
}

func (s *Server) handleDeleteProperty(w http.ResponseWriter, r *http.Request) {
	k := r.PathValue("propertyKey")
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("issueIdOrKey"))
	if is == nil {
		writeMsg(w, 404, msgIssueNotFound)
		return
	}
	if _, ok := is.props[k]; !ok {
		writeMsg(w, 404, msgPropNotFound(k))
		return
	}
	next := make(map[string]*property, len(is.props))
	for pk, pv := range is.props {
		if pk != k {
			next[pk] = pv
		}
	}
	s.indexProps(is.id, is.props, next)
	is.props = next
	w.WriteHeader(http.StatusNoContent)
}
