package jira

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
)

// This file serves what `sfjira preflight` reads besides fields and createmeta:
//
//	GET /rest/api/3/mypermissions?projectKey=SFJ&permissions=CREATE_ISSUES,EDIT_ISSUES
//	GET /rest/api/3/workflowscheme/project?projectId=10000
//	GET /rest/api/3/workflow/search?workflowName=…&expand=transitions,statuses
//
// and POST /__admin/permissions {"deny":["DELETE_ISSUES"]} to take project permissions away
// from the integration user in tests (reset restores all).

// permissionDefs are the project permissions the emulator knows, with Jira's names.
var permissionDefs = map[string]struct{ ID, Name, Description string }{
	"BROWSE_PROJECTS":   {"10", "Browse Projects", "Ability to browse projects and the issues within them."},
	"CREATE_ISSUES":     {"11", "Create Issues", "Ability to create issues."},
	"EDIT_ISSUES":       {"12", "Edit Issues", "Ability to edit issues."},
	"TRANSITION_ISSUES": {"46", "Transition Issues", "Ability to transition issues."},
	"DELETE_ISSUES":     {"16", "Delete Issues", "Ability to delete issues."},
	"ADD_COMMENTS":      {"15", "Add Comments", "Ability to comment on issues."},
	"WORK_ON_ISSUES":    {"20", "Work On Issues", "Ability to log work done against an issue."},
	"ASSIGN_ISSUES":     {"13", "Assign Issues", "Ability to assign issues to other people."},
	"RESOLVE_ISSUES":    {"14", "Resolve Issues", "Ability to resolve and reopen issues."},
	"LINK_ISSUES":       {"21", "Link Issues", "Ability to link issues together."},
	"EDIT_OWN_COMMENTS": {"35", "Edit Own Comments", "Ability to edit own comments made on issues."},
	"EDIT_OWN_WORKLOGS": {"40", "Edit Own Worklogs", "Ability to edit own worklogs made on issues."},
}

func (s *Server) deniedPermissions() map[string]bool {
	if p := s.denied.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *Server) handleMyPermissions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	raw := strings.TrimSpace(q.Get("permissions"))
	if raw == "" {
		writeMsg(w, 400, "The 'permissions' query parameter is required.")
		return
	}
	if k := q.Get("projectKey"); k != "" && !s.matchProject(k) {
		writeMsg(w, 404, "No project could be found with key '"+k+"'.")
		return
	}
	if id := q.Get("projectId"); id != "" && !s.matchProject(id) {
		writeMsg(w, 404, "No project could be found with id '"+id+"'.")
		return
	}
	denied := s.deniedPermissions()
	out := map[string]any{}
	for _, key := range strings.Split(raw, ",") {
		key = strings.TrimSpace(key)
		def, ok := permissionDefs[key]
		if !ok {
			writeMsg(w, 400, "Unrecognized permission keys: "+key)
			return
		}
		out[key] = map[string]any{"id": def.ID, "key": key, "name": def.Name, "type": "PROJECT",
			"description": def.Description, "havePermission": !denied[key]}
	}
	writeJSON(w, 200, map[string]any{"permissions": out})
}

func (s *Server) handleAdminPermissions(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Deny []string `json:"deny"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeMsg(w, 400, "body must be {\"deny\":[\"PERMISSION_KEY\", …]}")
		return
	}
	denied := map[string]bool{}
	for _, k := range in.Deny {
		if _, ok := permissionDefs[k]; !ok {
			writeMsg(w, 400, "unknown permission key "+k)
			return
		}
		denied[k] = true
	}
	s.denied.Store(&denied)
	keys := make([]string, 0, len(denied))
	for k := range denied {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	writeJSON(w, 200, map[string]any{"denied": keys})
}

// workflowName is the name a compiled workflow is listed under; custom workflows of several
// issue types may share a name, so they are told apart by the first issue type using them.
func (s *Server) workflowNames(set *wfSet) (byType map[string]string, defs map[string]*workflowDef) {
	byType, defs = map[string]string{}, map[string]*workflowDef{}
	for i := range issueTypes {
		d := set.forType(issueTypes[i].ID)
		name := d.name
		if prev, ok := defs[name]; ok && prev != d {
			name = d.name + " (" + issueTypes[i].Name + ")"
		}
		defs[name] = d
		byType[issueTypes[i].ID] = name
	}
	return byType, defs
}

func (s *Server) handleWorkflowSchemeProject(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("projectId")
	if id == "" {
		writeMsg(w, 400, "The 'projectId' query parameter is required.")
		return
	}
	var values []any
	if s.matchProject(id) {
		set := s.wf()
		byType, _ := s.workflowNames(set)
		def := set.def.name
		mappings := map[string]string{}
		for t, name := range byType {
			if name != def {
				mappings[t] = name
			}
		}
		values = append(values, map[string]any{"projectIds": []string{projectID}, "workflowScheme": map[string]any{
			"id": 10100, "name": s.projectKey + ": Software Simplified Workflow Scheme", "description": "",
			"defaultWorkflow": def, "issueTypeMappings": mappings,
		}})
	}
	writeJSON(w, 200, map[string]any{"isLast": true, "maxResults": 50, "startAt": 0, "total": len(values), "values": values})
}

func (s *Server) handleWorkflowSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	expand := q.Get("expand")
	wantNames := map[string]bool{}
	for _, n := range q["workflowName"] {
		for _, part := range strings.Split(n, ",") {
			if p := strings.TrimSpace(part); p != "" {
				wantNames[p] = true
			}
		}
	}
	start, max, ok := pageParams(w, r, 50, 50)
	if !ok {
		return
	}
	set := s.wf()
	_, defs := s.workflowNames(set)
	names := make([]string, 0, len(defs))
	for n := range defs {
		if len(wantNames) == 0 || wantNames[n] {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	all := make([]any, 0, len(names))
	for _, n := range names {
		d := defs[n]
		wf := map[string]any{"id": map[string]any{"name": n, "entityId": "wf-" + strings.ReplaceAll(strings.ToLower(n), " ", "-")}, "description": ""}
		if strings.Contains(expand, "statuses") {
			var sts []any
			for _, id := range d.statusIDs {
				st := set.byID[id]
				sts = append(sts, map[string]any{"id": st.ID, "name": st.Name, "properties": map[string]any{}})
			}
			wf["statuses"] = sts
		}
		if strings.Contains(expand, "transitions") {
			ts := []any{map[string]any{"id": "1", "name": "Create", "description": "", "from": []string{}, "to": d.initial, "type": "initial"}}
			for _, t := range d.transitions {
				typ := "directed"
				if len(t.From) == 0 {
					typ = "global"
				}
				from := t.From
				if from == nil {
					from = []string{}
				}
				ts = append(ts, map[string]any{"id": t.ID, "name": t.Name, "description": "", "from": from, "to": t.To, "type": typ})
			}
			wf["transitions"] = ts
		}
		all = append(all, wf)
	}
	writeJSON(w, 200, map[string]any{"isLast": start+max >= len(all), "maxResults": max, "startAt": start, "total": len(all), "values": page(all, start, max)})
}
