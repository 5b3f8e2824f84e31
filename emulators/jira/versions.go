package jira

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Project versions (releases), as Jira Cloud serves them: POST /rest/api/3/version creates one
// (name unique in the project, ignoring case; 400 with errors.name otherwise), GET
// /rest/api/3/project/{key}/versions lists them unpaginated, GET /rest/api/3/version/{id} reads
// one, and issues carry them in the fixVersions field ({"id"} or {"name"} references).
type version struct {
	ID          int64
	Name        string
	Description string
	ReleaseDate string
	StartDate   string
	Released    bool
	Archived    bool
}

func (s *Server) versionJSON(base string, v *version) map[string]any {
	id := strconv.FormatInt(v.ID, 10)
	m := map[string]any{
		"self": base + "/rest/api/3/version/" + id, "id": id, "name": v.Name,
		"archived": v.Archived, "released": v.Released, "projectId": mustAtoi(projectID),
		"releaseDateSet": v.ReleaseDate != "", "startDateSet": v.StartDate != "", "overdue": false,
	}
	if v.Description != "" {
		m["description"] = v.Description
	}
	if v.ReleaseDate != "" {
		m["releaseDate"] = v.ReleaseDate
	}
	if v.StartDate != "" {
		m["startDate"] = v.StartDate
	}
	return m
}

func mustAtoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// versionRef finds a version by an {"id": …} or {"name": …} reference (caller holds s.mu).
func (s *Server) versionRef(v any) (*version, string) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, "Operation value must be an object with an id or a name"
	}
	if raw, ok := m["id"]; ok {
		id := strings.TrimSpace(strings.Trim(toString(raw), `"`))
		n, err := strconv.ParseInt(id, 10, 64)
		if err == nil {
			for _, x := range s.versions {
				if x.ID == n {
					return x, ""
				}
			}
		}
		return nil, "Version id '" + id + "' is not valid"
	}
	if raw, ok := m["name"].(string); ok {
		for _, x := range s.versions {
			if strings.EqualFold(x.Name, raw) {
				return x, ""
			}
		}
		return nil, "Version name '" + raw + "' is not valid"
	}
	return nil, "Operation value must be an object with an id or a name"
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case interface{ String() string }:
		return x.String()
	}
	return ""
}

// setFixVersions replaces the issue's fix versions with a list of references.
func (s *Server) setFixVersions(is *issue, v any) string {
	if v == nil {
		is.d.FixVersions = nil
		return ""
	}
	arr, ok := v.([]any)
	if !ok {
		return "data was not an array"
	}
	var ids []int64
	for _, x := range arr {
		ver, msg := s.versionRef(x)
		if msg != "" {
			return msg
		}
		if !slices.Contains(ids, ver.ID) {
			ids = append(ids, ver.ID)
		}
	}
	slices.Sort(ids)
	is.d.FixVersions = ids
	return ""
}

// updateFixVersions applies an `update` add or remove of one version reference.
func (s *Server) updateFixVersions(is *issue, verb string, v any) string {
	ver, msg := s.versionRef(v)
	if msg != "" {
		return msg
	}
	if verb == "add" {
		if !slices.Contains(is.d.FixVersions, ver.ID) {
			is.d.FixVersions = append(slices.Clone(is.d.FixVersions), ver.ID)
			slices.Sort(is.d.FixVersions)
		}
		return ""
	}
	is.d.FixVersions = slices.DeleteFunc(slices.Clone(is.d.FixVersions), func(x int64) bool { return x == ver.ID })
	if len(is.d.FixVersions) == 0 {
		is.d.FixVersions = nil
	}
	return ""
}

func (s *Server) fixVersionsJSON(base string, ids []int64) []any {
	out := []any{}
	for _, id := range ids {
		for _, v := range s.versions {
			if v.ID == id {
				out = append(out, s.versionJSON(base, v))
			}
		}
	}
	return out
}

func (s *Server) versionName(id int64) string {
	for _, v := range s.versions {
		if v.ID == id {
			return v.Name
		}
	}
	return ""
}

func (s *Server) handleCreateVersion(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if !decodeBody(w, r, &in) {
		return
	}
	errs := map[string]string{}
	name, _ := in["name"].(string)
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		errs["name"] = "You must specify a valid version name"
	case utf8.RuneCountInString(name) > 255:
		errs["name"] = "The version name must not exceed 255 characters."
	}
	proj := ""
	if p, ok := in["projectId"]; ok {
		proj = strings.Trim(toString(p), `"`)
	} else if p, ok := in["project"].(string); ok {
		proj = p
	}
	if proj == "" {
		writeErr(w, 400, nil, map[string]string{"project": "Project must be specified to create a version."})
		return
	}
	if !s.matchProject(proj) {
		writeMsg(w, 404, "No project could be found with id '"+proj+"'.")
		return
	}
	v := &version{Name: name}
	v.Description, _ = in["description"].(string)
	if utf8.RuneCountInString(v.Description) > 16384 {
		errs["description"] = "The description must not exceed 16,384 characters."
	}
	for _, k := range []string{"releaseDate", "startDate"} {
		d, _ := in[k].(string)
		if d == "" {
			continue
		}
		if _, err := time.Parse(jiraDate, d); err != nil {
			errs[k] = "Invalid date format. Please enter the date in the format \"yyyy-MM-dd\"."
			continue
		}
		if k == "releaseDate" {
			v.ReleaseDate = d
		} else {
			v.StartDate = d
		}
	}
	v.Archived, _ = in["archived"].(bool)
	v.Released, _ = in["released"].(bool)
	s.mu.Lock()
	if errs["name"] == "" {
		for _, x := range s.versions {
			if strings.EqualFold(x.Name, name) {
				errs["name"] = "A version with this name already exists in this project."
			}
		}
	}
	if len(errs) > 0 {
		s.mu.Unlock()
		writeErr(w, 400, nil, errs)
		return
	}
	s.nextVersion++
	v.ID = s.nextVersion
	s.versions = append(s.versions, v)
	out := s.versionJSON(baseURL(r), v)
	s.mu.Unlock()
	out["project"] = s.projectKey
	writeJSON(w, 201, out)
}

func (s *Server) handleProjectVersions(w http.ResponseWriter, r *http.Request) {
	k := r.PathValue("projectIdOrKey")
	if !s.matchProject(k) {
		writeMsg(w, 404, "No project could be found with key '"+k+"'.")
		return
	}
	base := baseURL(r)
	s.mu.RLock()
	out := make([]any, 0, len(s.versions))
	for _, v := range s.versions {
		out = append(out, s.versionJSON(base, v))
	}
	s.mu.RUnlock()
	writeJSON(w, 200, out)
}

func (s *Server) handleGetVersion(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.RLock()
	defer s.mu.RUnlock()
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		for _, v := range s.versions {
			if v.ID == n {
				writeJSON(w, 200, s.versionJSON(baseURL(r), v))
				return
			}
		}
	}
	writeMsg(w, 404, "Could not find version for id '"+id+"'")
}

func (s *Server) versionIDs() []int64 {
	out := make([]int64, 0, len(s.versions))
	for _, v := range s.versions {
		out = append(out, v.ID)
	}
	return out
}
