package jira

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Custom fields created at run time, as `sfjira preflight --fix` creates them on a real site:
//
//	POST /rest/api/3/field                                    {"name","type","searcherKey","description"} → 201 FieldDetails
//	GET  /rest/api/3/field/{fieldId}/context                  → page of CustomFieldContext
//	POST /rest/api/3/field/{fieldId}/context                  {"name","projectIds","issueTypeIds"} → 201
//	GET  /rest/api/3/field/{fieldId}/context/{contextId}/option → page of CustomFieldContextOption
//	POST /rest/api/3/field/{fieldId}/context/{contextId}/option {"options":[{"value","disabled"}]} → 200 {"options":[…]}
//	POST /rest/api/3/screens/addToDefault/{fieldId}           → 200 {} (404 when already on the screen)
//
// As in Jira Cloud, a field created through the REST API gets a global default context ("Default
// Configuration Scheme for <name>") and is on no screen: issue create and edit reject it ("cannot
// be set. It is not on the appropriate screen") until it is added to the default screen. Select
// and multi-select fields take only the enabled options of their context; createmeta lists them
// as allowedValues. The built-in fields of schema.go stay fixed; only these can be created.

// Kinds of the custom fields that can only be created at run time (numbered apart from the
// built-in kinds of schema.go).
const (
	kindSelect      fieldKind = 100 + iota // select list: one option of its context
	kindMultiSelect                        // multi-select: options of its context
	kindCustomADF                          // textarea (ADF)
	kindDateTime                           // datetime
)

// customTypes are the custom field types the emulator can store, with their schema and searcher.
var customTypes = map[string]struct {
	Type, Items, Searcher string
	Kind                  fieldKind
}{
	"textfield":   {"string", "", "textsearcher", kindText},
	"url":         {"string", "", "exacttextsearcher", kindURL},
	"textarea":    {"string", "", "textsearcher", kindCustomADF},
	"float":       {"number", "", "exactnumber", kindNumber},
	"datepicker":  {"date", "", "daterange", kindDate},
	"datetime":    {"datetime", "", "datetimerange", kindDateTime},
	"userpicker":  {"user", "", "userpickergroupsearcher", kindUserPicker},
	"select":      {"option", "", "multiselectsearcher", kindSelect},
	"multiselect": {"array", "option", "multiselectsearcher", kindMultiSelect},
}

var errBadDateTime = errors.New("not a datetime")

const customTypePrefix = "com.atlassian.jira.plugin.system.customfieldtypes:"

type fieldContext struct {
	ID, Name, Description string
	ProjectIDs            []string
	IssueTypeIDs          []string
	Options               []*fieldOption
}

type fieldOption struct {
	ID, Value string
	Disabled  bool
}

// siteFields is the server's run-time field configuration (guarded by its own lock, taken after
// s.mu when both are needed).
type siteFields struct {
	mu          sync.RWMutex
	created     []*fieldDef
	byID        map[string]*fieldDef
	contexts    map[string][]*fieldContext
	onScreen    map[string]bool
	nextCustom  int64
	nextContext int64
	nextOption  int64
}

func (sf *siteFields) reset() {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	sf.created, sf.byID, sf.contexts, sf.onScreen = nil, map[string]*fieldDef{}, map[string][]*fieldContext{}, map[string]bool{}
	sf.nextCustom, sf.nextContext, sf.nextOption = 10100, 10200, 10300
}

// field returns a built-in or created field by id.
func (s *Server) field(id string) *fieldDef {
	if f := fieldByID[id]; f != nil {
		return f
	}
	s.fields.mu.RLock()
	defer s.fields.mu.RUnlock()
	return s.fields.byID[id]
}

// fieldOnScreen says whether create and edit screens take the field.
func (s *Server) fieldOnScreen(f *fieldDef) bool {
	if f.OnScreen {
		return true
	}
	s.fields.mu.RLock()
	defer s.fields.mu.RUnlock()
	return s.fields.onScreen[f.ID]
}

// allFieldDefs lists the built-in fields, then the created ones in creation order.
func (s *Server) allFieldDefs() []*fieldDef {
	out := make([]*fieldDef, 0, len(fieldDefs))
	for i := range fieldDefs {
		out = append(out, &fieldDefs[i])
	}
	s.fields.mu.RLock()
	out = append(out, s.fields.created...)
	s.fields.mu.RUnlock()
	return out
}

// renderOrder is the order fields appear in an issue's fields object.
func (s *Server) renderOrder() []string {
	defs := s.allFieldDefs()
	out := make([]string, 0, len(defs))
	for _, f := range defs {
		out = append(out, f.ID)
	}
	return out
}

func (s *Server) allFields() map[string]bool {
	m := map[string]bool{}
	for _, f := range s.renderOrder() {
		m[f] = true
	}
	return m
}

// options returns the enabled option values of the context of a select field that applies to
// the project and issue type (a project-specific context before a global one).
func (s *Server) options(fieldID, issueTypeID string) []*fieldOption {
	s.fields.mu.RLock()
	defer s.fields.mu.RUnlock()
	var global, specific *fieldContext
	for _, c := range s.fields.contexts[fieldID] {
		if len(c.IssueTypeIDs) > 0 && !containsStr(c.IssueTypeIDs, issueTypeID) {
			continue
		}
		if len(c.ProjectIDs) == 0 {
			if global == nil {
				global = c
			}
		} else if containsStr(c.ProjectIDs, projectID) && specific == nil {
			specific = c
		}
	}
	ctx := specific
	if ctx == nil {
		ctx = global
	}
	if ctx == nil {
		return nil
	}
	var out []*fieldOption
	for _, o := range ctx.Options {
		if !o.Disabled {
			out = append(out, o)
		}
	}
	return out
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// option finds an enabled option by {"value": …} or {"id": …} (Jira accepts either).
func (s *Server) option(fieldID, issueTypeID string, v any) (*fieldOption, bool) {
	ref, ok := refString(v, "id", "value")
	if !ok {
		return nil, false
	}
	k, val, _ := strings.Cut(ref, "=")
	for _, o := range s.options(fieldID, issueTypeID) {
		if (k == "id" && o.ID == val) || (k == "value" && o.Value == val) {
			return o, true
		}
	}
	return nil, true
}

func optionJSON(base string, o *fieldOption) map[string]any {
	return map[string]any{"self": base + "/rest/api/3/customFieldOption/" + o.ID, "value": o.Value, "id": o.ID}
}

// handleCreateField serves POST /rest/api/3/field.
func (s *Server) handleCreateField(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name        string `json:"name"`
		Type        string `json:"type"`
		SearcherKey string `json:"searcherKey"`
		Description string `json:"description"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	errs := map[string]string{}
	if strings.TrimSpace(in.Name) == "" {
		errs["name"] = "The custom field name is required."
	} else if len([]rune(in.Name)) > 255 {
		errs["name"] = "The custom field name must be less than 255 characters."
	}
	short := strings.TrimPrefix(in.Type, customTypePrefix)
	ct, known := customTypes[short]
	switch {
	case in.Type == "":
		errs["type"] = "The custom field type is required."
	case !strings.HasPrefix(in.Type, customTypePrefix) || !known:
		errs["type"] = "The custom field type '" + in.Type + "' is not valid."
	}
	if in.SearcherKey != "" && known && in.SearcherKey != customTypePrefix+ct.Searcher {
		errs["searcherKey"] = "The searcher '" + in.SearcherKey + "' is not valid for the custom field type '" + in.Type + "'."
	}
	if len(errs) > 0 {
		writeErr(w, http.StatusBadRequest, nil, errs)
		return
	}
	sf := &s.fields
	sf.mu.Lock()
	id := sf.nextCustom
	sf.nextCustom++
	f := &fieldDef{ID: "customfield_" + strconv.FormatInt(id, 10), Name: strings.TrimSpace(in.Name), Custom: true,
		Type: ct.Type, Items: ct.Items, CustomType: in.Type, CustomID: id, Kind: ct.Kind,
		Orderable: true, Navigable: true, Searchable: in.SearcherKey != ""}
	f.Clauses = []string{"cf[" + itoa(id) + "]", f.Name}
	sf.created = append(sf.created, f)
	sf.byID[f.ID] = f
	ctxID := sf.nextContext
	sf.nextContext++
	sf.contexts[f.ID] = []*fieldContext{{ID: strconv.FormatInt(ctxID, 10), Name: "Default Configuration Scheme for " + f.Name,
		Description: "Default configuration scheme generated by Jira"}}
	sf.mu.Unlock()
	out := fieldJSON(f)
	out["untranslatedName"] = f.Name
	writeJSON(w, http.StatusCreated, out)
}

// customField returns the created or built-in custom field of the path, answering 404 as Jira does.
func (s *Server) pathCustomField(w http.ResponseWriter, r *http.Request) *fieldDef {
	f := s.field(r.PathValue("fieldId"))
	if f == nil || !f.Custom {
		writeMsg(w, http.StatusNotFound, "The custom field was not found.")
		return nil
	}
	return f
}

func contextJSON(c *fieldContext) map[string]any {
	return map[string]any{"id": c.ID, "name": c.Name, "description": c.Description,
		"isGlobalContext": len(c.ProjectIDs) == 0, "isAnyIssueType": len(c.IssueTypeIDs) == 0}
}

// handleFieldContexts serves GET /rest/api/3/field/{fieldId}/context.
func (s *Server) handleFieldContexts(w http.ResponseWriter, r *http.Request) {
	f := s.pathCustomField(w, r)
	if f == nil {
		return
	}
	start, max, ok := pageParams(w, r, 50, 100)
	if !ok {
		return
	}
	s.fields.mu.RLock()
	var all []any
	for _, c := range s.fields.contexts[f.ID] {
		all = append(all, contextJSON(c))
	}
	s.fields.mu.RUnlock()
	writePage(w, all, start, max)
}

func writePage(w http.ResponseWriter, all []any, start, max int) {
	vals := page(all, start, max)
	writeJSON(w, 200, map[string]any{"isLast": start+len(vals) >= len(all), "maxResults": max, "startAt": start, "total": len(all), "values": vals})
}

// handleCreateFieldContext serves POST /rest/api/3/field/{fieldId}/context.
func (s *Server) handleCreateFieldContext(w http.ResponseWriter, r *http.Request) {
	f := s.pathCustomField(w, r)
	if f == nil {
		return
	}
	var in struct {
		Name         string   `json:"name"`
		Description  string   `json:"description"`
		ProjectIDs   []string `json:"projectIds"`
		IssueTypeIDs []string `json:"issueTypeIds"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if strings.TrimSpace(in.Name) == "" {
		writeErr(w, http.StatusBadRequest, nil, map[string]string{"name": "The context name is required."})
		return
	}
	for _, p := range in.ProjectIDs {
		if p != projectID {
			writeMsg(w, http.StatusNotFound, "The project was not found.")
			return
		}
	}
	for _, t := range in.IssueTypeIDs {
		if findIssueType(t) == nil {
			writeMsg(w, http.StatusNotFound, "The issue type was not found.")
			return
		}
	}
	s.fields.mu.Lock()
	c := &fieldContext{ID: strconv.FormatInt(s.fields.nextContext, 10), Name: in.Name, Description: in.Description,
		ProjectIDs: in.ProjectIDs, IssueTypeIDs: in.IssueTypeIDs}
	s.fields.nextContext++
	s.fields.contexts[f.ID] = append(s.fields.contexts[f.ID], c)
	s.fields.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"id": c.ID, "name": c.Name, "description": c.Description,
		"projectIds": nonNil(c.ProjectIDs), "issueTypeIds": nonNil(c.IssueTypeIDs)})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// pathContext finds the context of the path (caller holds s.fields.mu).
func (s *Server) pathContext(w http.ResponseWriter, r *http.Request, f *fieldDef) *fieldContext {
	id := r.PathValue("contextId")
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		writeMsg(w, http.StatusBadRequest, "The context ID must be a number.")
		return nil
	}
	for _, c := range s.fields.contexts[f.ID] {
		if c.ID == id {
			return c
		}
	}
	writeMsg(w, http.StatusNotFound, "The context was not found.")
	return nil
}

func supportsOptions(f *fieldDef) bool { return f.Kind == kindSelect || f.Kind == kindMultiSelect }

// handleFieldOptions serves GET /rest/api/3/field/{fieldId}/context/{contextId}/option.
func (s *Server) handleFieldOptions(w http.ResponseWriter, r *http.Request) {
	f := s.pathCustomField(w, r)
	if f == nil {
		return
	}
	if !supportsOptions(f) {
		writeMsg(w, http.StatusBadRequest, "The custom field doesn't support options.")
		return
	}
	start, max, ok := pageParams(w, r, 100, 1000)
	if !ok {
		return
	}
	s.fields.mu.RLock()
	c := s.pathContext(w, r, f)
	var all []any
	if c != nil {
		for _, o := range c.Options {
			all = append(all, map[string]any{"id": o.ID, "value": o.Value, "disabled": o.Disabled})
		}
	}
	s.fields.mu.RUnlock()
	if c != nil {
		writePage(w, all, start, max)
	}
}

// handleCreateFieldOptions serves POST /rest/api/3/field/{fieldId}/context/{contextId}/option.
func (s *Server) handleCreateFieldOptions(w http.ResponseWriter, r *http.Request) {
	f := s.pathCustomField(w, r)
	if f == nil {
		return
	}
	if !supportsOptions(f) {
		writeMsg(w, http.StatusBadRequest, "The custom field doesn't support options.")
		return
	}
	var in struct {
		Options []struct {
			Value    string `json:"value"`
			Disabled bool   `json:"disabled"`
			OptionID string `json:"optionId"`
		} `json:"options"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if len(in.Options) == 0 || len(in.Options) > 1000 {
		writeMsg(w, http.StatusBadRequest, "Between 1 and 1000 options can be created per request.")
		return
	}
	s.fields.mu.Lock()
	defer s.fields.mu.Unlock()
	c := s.pathContext(w, r, f)
	if c == nil {
		return
	}
	seen := map[string]bool{}
	for _, o := range c.Options {
		seen[strings.ToLower(o.Value)] = true
	}
	for _, o := range in.Options {
		v := strings.TrimSpace(o.Value)
		switch {
		case v == "":
			writeMsg(w, http.StatusBadRequest, "The option value can't be empty.")
			return
		case len([]rune(v)) > 255:
			writeMsg(w, http.StatusBadRequest, "The option value must be less than 255 characters.")
			return
		case o.OptionID != "":
			writeMsg(w, http.StatusBadRequest, "Cascading options are only supported for Select List (cascading) fields.")
			return
		case seen[strings.ToLower(v)]:
			writeMsg(w, http.StatusBadRequest, "The option '"+v+"' already exists.")
			return
		}
		seen[strings.ToLower(v)] = true
	}
	var out []any
	for _, o := range in.Options {
		opt := &fieldOption{ID: strconv.FormatInt(s.fields.nextOption, 10), Value: strings.TrimSpace(o.Value), Disabled: o.Disabled}
		s.fields.nextOption++
		c.Options = append(c.Options, opt)
		out = append(out, map[string]any{"id": opt.ID, "value": opt.Value, "disabled": opt.Disabled})
	}
	writeJSON(w, http.StatusOK, map[string]any{"options": out})
}

// handleAddToDefaultScreen serves POST /rest/api/3/screens/addToDefault/{fieldId}.
func (s *Server) handleAddToDefaultScreen(w http.ResponseWriter, r *http.Request) {
	f := s.field(r.PathValue("fieldId"))
	if f == nil || s.fieldOnScreen(f) || !f.Custom {
		writeMsg(w, http.StatusNotFound, "The field was not found or is already on the default screen.")
		return
	}
	s.fields.mu.Lock()
	s.fields.onScreen[f.ID] = true
	s.fields.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{})
}

// setSelect stores a select (one option value) or multi-select (sorted option values) field.
func (s *Server) setSelect(is *issue, f *fieldDef, v any) string {
	if v == nil {
		setCustom(is, f.ID, nil, true)
		return ""
	}
	if f.Kind == kindSelect {
		o, ok := s.option(f.ID, is.d.TypeID, v)
		if !ok {
			return "Specify a valid 'id' or 'name' for " + f.Name
		}
		if o == nil {
			ref, _ := refString(v, "id", "value")
			_, val, _ := strings.Cut(ref, "=")
			return "Option value '" + val + "' is not valid"
		}
		setCustom(is, f.ID, o.Value, false)
		return ""
	}
	arr, ok := v.([]any)
	if !ok {
		return "data was not an array"
	}
	var vals []string
	for _, x := range arr {
		o, ok := s.option(f.ID, is.d.TypeID, x)
		if !ok {
			return "Specify a valid 'id' or 'name' for " + f.Name
		}
		if o == nil {
			ref, _ := refString(x, "id", "value")
			_, val, _ := strings.Cut(ref, "=")
			return "Option value '" + val + "' is not valid"
		}
		if !containsStr(vals, o.Value) {
			vals = append(vals, o.Value)
		}
	}
	sort.Strings(vals)
	setCustom(is, f.ID, vals, len(vals) == 0)
	return ""
}

// renderSelect renders a stored select or multi-select value as Jira's option objects.
func (s *Server) renderSelect(base string, is *issue, f *fieldDef, v any) any {
	find := func(val string) map[string]any {
		for _, o := range s.options(f.ID, is.d.TypeID) {
			if o.Value == val {
				return optionJSON(base, o)
			}
		}
		return map[string]any{"value": val}
	}
	switch x := v.(type) {
	case string:
		return find(x)
	case []string:
		out := make([]any, 0, len(x))
		for _, val := range x {
			out = append(out, find(val))
		}
		return out
	}
	return nil
}
