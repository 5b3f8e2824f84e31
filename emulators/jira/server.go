// Package jira is an in-memory, wire-faithful Jira Cloud REST v3 sandbox used by the
// connector's tests (through httptest), the demo and the benchmarks.
//
// It serves one classic software project (default key SFJ) with configurable workflows
// per issue type, custom fields, entity properties, changelogs, comments, worklogs,
// remote links, a user directory, the enhanced JQL search and admin webhooks with real
// deliveries, plus an unauthenticated admin API under /__admin/ for stats, resets,
// seeding, workflows, users, webhook deliveries and deterministic fault injection.
// README.md lists every endpoint; schema.go documents the ids of fields, statuses,
// transitions and resolutions.
package jira

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Demo credentials shared by the emulator and the demo configuration.
const (
	// DemoEmail is the integration user's e-mail used for basic auth in the demo.
	DemoEmail = "integration@sfjira.demo"
	// DemoAPIToken is the API token accepted for DemoEmail in the demo.
	DemoAPIToken = "sfjira-demo-token"
)

const (
	jiraTime = "2006-01-02T15:04:05.000-0700"
	jiraDate = "2006-01-02"

	projectID   = "10000"
	projectName = "Salesforce Sync"

	accountID       = "712020:3f6c2a8e-5b1d-4c7e-9a0f-5d1e2c3b4a60"
	userDisplayName = "sfjira Integration"

	rateLimitPerSecond = 350
)

// Options configures an emulator instance; zero values get working defaults so tests can
// call New(Options{}) and still authenticate with the demo credentials.
type Options struct {
	Email, APIToken string           // accepted basic-auth credentials (default: the demo ones)
	ProjectKey      string           // default "SFJ"
	Now             func() time.Time // clock; default time.Now (UTC)
	// Workflows replace the default workflow for the issue types they name (applied in
	// order at start and after every reset); invalid workflows make New panic.
	Workflows []Workflow
	// Users are added to the directory next to the integration user and SeedUsers.
	Users []User
	// WebhookRetryBase is the delay before the first retry of a failed webhook delivery;
	// it doubles per attempt (default 10s; tests use a few milliseconds).
	WebhookRetryBase time.Duration
	// WebhookTimeout bounds one delivery attempt (default 10s).
	WebhookTimeout time.Duration
	// OAuth 2.0 (3LO) app accepted by /oauth/token (default: the demo app), the site's cloud id,
	// the refresh-token reuse interval (default 10 minutes) and access-token lifetime (1 hour).
	OAuthClientID, OAuthClientSecret string
	CloudID                          string
	OAuthReuseInterval               time.Duration
	OAuthAccessTTL                   time.Duration
}

// DemoOptions returns the options the demo and `sfjira emulate` use, so every part of
// the project agrees on the credentials and project key.
func DemoOptions() Options {
	return Options{Email: DemoEmail, APIToken: DemoAPIToken, ProjectKey: "SFJ", Now: time.Now}
}

// Stats counts API calls by endpoint template and status code, so benchmarks can report
// API calls per synced record; it is also the body of GET /__admin/stats.
type Stats struct {
	Total     int                       `json:"total"`
	Endpoints map[string]map[string]int `json:"endpoints"`
	// Faults counts what the fault layer injected, by kind, so a chaos run can report (and a
	// test can check) the faults that really fired rather than the ones configured: latency
	// (calls delayed), status_429/status_5xx, reset, timeout, token_expired (401 answers),
	// search_hidden (issues left out of a search by search_lag_ms), webhook_dropped and
	// webhook_duplicated. Cumulative until Reset, like the endpoint counts.
	Faults map[string]int `json:"faults,omitempty"`
}

// Server is the emulated Jira Cloud site; it implements http.Handler and is safe for
// concurrent use.
type Server struct {
	opts       Options
	projectKey string
	authHeader string
	mux        *http.ServeMux
	admin      *http.ServeMux

	mu       sync.RWMutex
	issues   map[int64]*issue
	byKey    map[string]*issue
	nextID   int64
	nextNum  int64
	propIdx  map[string]map[int64]struct{} // "propKey\x00path\x00value" -> issue ids
	children map[int64]map[int64]struct{}  // parent id -> child ids
	tasks    map[string]*bulkTask          // bulk operation tasks (bulk.go)
	taskFIFO []string
	nextTask int64
	// fields are the custom fields, contexts and options created at run time (customfields.go).
	fields siteFields

	cmu        sync.Mutex
	cursors    map[int64]*cursor
	cursorFIFO []int64
	nextCursor int64

	// guarded by mu as well
	users       map[string]*User
	userOrder   []string
	nextUser    int64
	comments    map[int64][]*comment
	worklogs    map[int64][]*worklog
	remoteLinks map[int64][]*remoteLink
	histories   map[int64][]*history
	nextComment int64
	nextWorklog int64
	nextLink    int64
	nextHistory int64
	// issueLinks holds issue-to-issue links by id (issuelinks.go).
	issueLinks    map[int64]*issueLink
	nextIssueLink int64
	// versions are the project's versions (releases), in creation order (versions.go).
	versions    []*version
	nextVersion int64
	muteEvents  bool // seeding without webhooks

	denied  atomic.Pointer[map[string]bool] // project permissions taken away (permissions.go)
	granted atomic.Pointer[map[string]bool] // broad permissions given (permissions.go)

	wfMu      sync.Mutex // serialises workflow writers; readers use the atomic snapshot
	workflows atomic.Pointer[wfSet]

	whMu     sync.Mutex
	hooks    []*webhook
	nextHook int64

	dmu          sync.Mutex
	queue        []*Delivery
	history      []*Delivery
	dseq         int64
	dispatching  bool
	wake         chan struct{}
	stop         chan struct{}
	reorderUntil time.Time

	fmu       sync.Mutex
	fs        faultState
	winStart  time.Time
	winCount  int
	oauth     oauthState
	statsMu   sync.Mutex
	statTotal int
	stats     map[string]map[int]int
	injected  map[string]int // Stats.Faults
}

// New builds an emulator with an empty project; it never fails so tests can use it inline.
func New(opts Options) *Server {
	if opts.Email == "" && opts.APIToken == "" {
		opts.Email, opts.APIToken = DemoEmail, DemoAPIToken
	}
	if opts.ProjectKey == "" {
		opts.ProjectKey = "SFJ"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.WebhookRetryBase <= 0 {
		opts.WebhookRetryBase = 10 * time.Second
	}
	if opts.WebhookTimeout <= 0 {
		opts.WebhookTimeout = 10 * time.Second
	}
	s := &Server{
		opts:       opts,
		projectKey: strings.ToUpper(opts.ProjectKey),
		authHeader: "Basic " + base64.StdEncoding.EncodeToString([]byte(opts.Email+":"+opts.APIToken)),
	}
	s.fs = newFaultState(Faults{}, time.Now())
	s.oauthInit()
	s.resetWorkflows()
	s.fields.reset()
	s.resetLocked()
	s.stats = map[string]map[int]int{}
	s.routes()
	return s
}

func (s *Server) resetLocked() {
	s.issues = map[int64]*issue{}
	s.byKey = map[string]*issue{}
	s.propIdx = map[string]map[int64]struct{}{}
	s.children = map[int64]map[int64]struct{}{}
	s.tasks, s.taskFIFO = map[string]*bulkTask{}, nil
	s.nextID = 10000
	s.nextNum = 1
	s.comments = map[int64][]*comment{}
	s.worklogs = map[int64][]*worklog{}
	s.remoteLinks = map[int64][]*remoteLink{}
	s.histories = map[int64][]*history{}
	s.issueLinks, s.nextIssueLink = map[int64]*issueLink{}, 10000
	s.versions, s.nextVersion = nil, 10000
	s.nextComment, s.nextWorklog, s.nextLink, s.nextHistory = 10000, 10000, 10000, 10000
	s.nextUser = 0
	s.resetUsersLocked()
	s.denied.Store(nil)
	s.granted.Store(nil)
}

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

func (s *Server) routes() {
	m := http.NewServeMux()
	h := func(pattern string, fn http.HandlerFunc) { m.HandleFunc(pattern, s.api(fn)) }
	h("GET /rest/api/3/myself", s.handleMyself)
	h("GET /rest/api/3/serverInfo", s.handleServerInfo)
	h("GET /rest/api/3/project/{projectIdOrKey}", s.handleProject)
	// GET /rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes and
	// GET /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey} overlap for ServeMux,
	// so one pattern serves both and reports the right template to the stats.
	h("GET /rest/api/3/issue/{issueIdOrKey}/{sub}/{subKey}", s.handleIssueSubGet)
	h("GET /rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}", s.handleCreatemetaFields)
	h("GET /rest/api/3/field", s.handleFields)
	h("POST /rest/api/3/field", s.handleCreateField)
	h("GET /rest/api/3/field/{fieldId}/context", s.handleFieldContexts)
	h("POST /rest/api/3/field/{fieldId}/context", s.handleCreateFieldContext)
	h("GET /rest/api/3/field/{fieldId}/context/{contextId}/option", s.handleFieldOptions)
	h("POST /rest/api/3/field/{fieldId}/context/{contextId}/option", s.handleCreateFieldOptions)
	h("POST /rest/api/3/screens/addToDefault/{fieldId}", s.handleAddToDefaultScreen)
	h("GET /rest/api/3/resolution", s.handleResolutions)
	h("GET /rest/api/3/status", s.handleStatuses)
	h("GET /rest/api/3/priority", s.handlePriorities)
	h("POST /rest/api/3/issue", s.handleCreate)
	h("POST /rest/api/3/issue/bulk", s.handleBulkCreate)
	h("GET /rest/api/3/issue/{issueIdOrKey}", s.handleGetIssue)
	h("PUT /rest/api/3/issue/{issueIdOrKey}", s.handleEditIssue)
	h("DELETE /rest/api/3/issue/{issueIdOrKey}", s.handleDeleteIssue)
	h("GET /rest/api/3/issue/{issueIdOrKey}/transitions", s.handleGetTransitions)
	h("POST /rest/api/3/issue/{issueIdOrKey}/transitions", s.handleDoTransition)
	h("GET /rest/api/3/issue/{issueIdOrKey}/properties", s.handleListProperties)
	h("PUT /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}", s.handleSetProperty)
	h("DELETE /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}", s.handleDeleteProperty)
	h("GET /rest/api/3/search/jql", s.handleSearch)
	h("POST /rest/api/3/search/jql", s.handleSearch)
	h("GET /rest/api/3/search", s.handleOldSearch)
	h("POST /rest/api/3/search", s.handleOldSearch)
	h("GET /rest/api/3/issue/{issueIdOrKey}/changelog", s.handleChangelog)
	h("GET /rest/api/3/issue/{issueIdOrKey}/comment", s.handleListComments)
	h("POST /rest/api/3/issue/{issueIdOrKey}/comment", s.handleAddComment)
	h("PUT /rest/api/3/issue/{issueIdOrKey}/comment/{id}", s.handleEditComment)
	h("DELETE /rest/api/3/issue/{issueIdOrKey}/comment/{id}", s.handleDeleteComment)
	h("GET /rest/api/3/issue/{issueIdOrKey}/worklog", s.handleListWorklogs)
	h("POST /rest/api/3/issue/{issueIdOrKey}/worklog", s.handleAddWorklog)
	h("PUT /rest/api/3/issue/{issueIdOrKey}/worklog/{id}", s.handleEditWorklog)
	h("DELETE /rest/api/3/issue/{issueIdOrKey}/worklog/{id}", s.handleDeleteWorklog)
	h("GET /rest/api/3/issue/{issueIdOrKey}/remotelink", s.handleListRemoteLinks)
	h("POST /rest/api/3/issue/{issueIdOrKey}/remotelink", s.handlePutRemoteLink)
	h("DELETE /rest/api/3/issue/{issueIdOrKey}/remotelink", s.handleDeleteRemoteLink)
	h("DELETE /rest/api/3/issue/{issueIdOrKey}/remotelink/{linkId}", s.handleDeleteRemoteLink)
	h("POST /rest/api/3/version", s.handleCreateVersion)
	h("GET /rest/api/3/version/{id}", s.handleGetVersion)
	h("GET /rest/api/3/project/{projectIdOrKey}/versions", s.handleProjectVersions)
	h("POST /rest/api/3/issueLink", s.handleCreateIssueLink)
	h("GET /rest/api/3/issueLink/{linkId}", s.handleGetIssueLink)
	h("DELETE /rest/api/3/issueLink/{linkId}", s.handleDeleteIssueLink)
	h("GET /rest/api/3/issueLinkType", s.handleIssueLinkTypes)
	h("GET /rest/api/3/user/search", s.handleUserSearch)
	h("GET /rest/api/3/user", s.handleGetUser)
	h("POST /rest/webhooks/1.0/webhook", s.handleCreateWebhook)
	h("GET /rest/webhooks/1.0/webhook", s.handleListWebhooks)
	h("GET /rest/api/3/mypermissions", s.handleMyPermissions)
	h("GET /rest/api/3/workflowscheme/project", s.handleWorkflowSchemeProject)
	h("GET /rest/api/3/workflow/search", s.handleWorkflowSearch)
	h("GET /rest/webhooks/1.0/webhook/{id}", s.handleGetWebhook)
	h("PUT /rest/webhooks/1.0/webhook/{id}", s.handleUpdateWebhook)
	h("DELETE /rest/webhooks/1.0/webhook/{id}", s.handleDeleteWebhook)
	h("POST /rest/api/3/bulk/issues/transition", s.handleBulkTransition)
	h("GET /rest/api/3/bulk/queue/{taskId}", s.handleBulkQueue)
	s.mux = m

	a := http.NewServeMux()
	a.HandleFunc("GET /__admin/stats", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.Stats()) })
	a.HandleFunc("POST /__admin/reset", s.handleAdminReset)
	a.HandleFunc("GET /__admin/faults", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.currentFaults()) })
	a.HandleFunc("POST /__admin/faults", s.handleAdminFaults)
	a.HandleFunc("GET /__admin/issues", s.handleAdminIssues)
	a.HandleFunc("GET /__admin/workflows", s.handleAdminWorkflowList)
	a.HandleFunc("POST /__admin/workflows", s.handleAdminWorkflows)
	a.HandleFunc("POST /__admin/permissions", s.handleAdminPermissions)
	a.HandleFunc("GET /__admin/users", s.handleAdminUserList)
	a.HandleFunc("POST /__admin/users", s.handleAdminUsers)
	a.HandleFunc("GET /__admin/webhooks/deliveries", s.handleAdminDeliveries)
	a.HandleFunc("POST /__admin/seed", s.handleAdminSeed)
	a.HandleFunc("GET /__admin/oauth", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.OAuthStats()) })
	s.admin = a
}

// ServeHTTP routes admin calls (uncounted) and REST calls (counted in Stats).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/__admin/") {
		s.admin.ServeHTTP(w, r)
		return
	}
	if s.serveOAuth(w, r) {
		return
	}
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	s.mux.ServeHTTP(rec, r)
	key := r.Pattern
	if rec.pattern != "" {
		key = rec.pattern
	}
	if key == "" {
		key = r.Method + " (unmatched)"
	}
	s.statsMu.Lock()
	s.statTotal++
	m := s.stats[key]
	if m == nil {
		m = map[int]int{}
		s.stats[key] = m
	}
	m[rec.status]++
	s.statsMu.Unlock()
}

// Stats returns a snapshot of the call counters (same document as GET /__admin/stats).
func (s *Server) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	out := Stats{Total: s.statTotal, Endpoints: make(map[string]map[string]int, len(s.stats))}
	if len(s.injected) > 0 {
		out.Faults = maps.Clone(s.injected)
	}
	for k, m := range s.stats {
		c := make(map[string]int, len(m))
		for st, n := range m {
			c[strconv.Itoa(st)] = n
		}
		out.Endpoints[k] = c
	}
	return out
}

// Reset clears all issues, comments, worklogs, links, added users, webhooks, deliveries,
// stats and faults and restores the configured workflows; the Go equivalent of
// POST /__admin/reset.
func (s *Server) Reset() {
	s.mu.Lock()
	s.resetLocked()
	s.mu.Unlock()
	s.fields.reset()
	s.statsMu.Lock()
	s.stats = map[string]map[int]int{}
	s.statTotal = 0
	s.injected = nil
	s.statsMu.Unlock()
	s.SetFaults(Faults{})
	s.resetWorkflows()
	s.resetWebhooks()
	s.cmu.Lock()
	s.cursors, s.cursorFIFO = nil, nil
	s.cmu.Unlock()
}

type statusRecorder struct {
	http.ResponseWriter
	status  int
	wrote   bool
	pattern string // overrides r.Pattern for shared mux patterns
}

func setPattern(w http.ResponseWriter, p string) {
	if rec, ok := w.(*statusRecorder); ok {
		rec.pattern = p
	}
}

// subGetTemplate names the endpoint served by the shared GET …/{sub}/{subKey} pattern.
func subGetTemplate(r *http.Request) string {
	switch {
	case r.PathValue("issueIdOrKey") == "createmeta" && r.PathValue("subKey") == "issuetypes":
		return "GET /rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes"
	case r.PathValue("sub") == "properties":
		return "GET /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}"
	case r.PathValue("sub") == "comment":
		return "GET /rest/api/3/issue/{issueIdOrKey}/comment/{id}"
	case r.PathValue("sub") == "worklog":
		return "GET /rest/api/3/issue/{issueIdOrKey}/worklog/{id}"
	case r.PathValue("sub") == "remotelink":
		return "GET /rest/api/3/issue/{issueIdOrKey}/remotelink/{linkId}"
	}
	return r.Method + " (unmatched)"
}

func (s *Server) handleIssueSubGet(w http.ResponseWriter, r *http.Request) {
	tpl := subGetTemplate(r)
	setPattern(w, tpl)
	switch r.PathValue("sub") {
	case "comment", "worklog":
		r.SetPathValue("id", r.PathValue("subKey"))
	case "remotelink":
		r.SetPathValue("linkId", r.PathValue("subKey"))
	}
	switch tpl {
	case "GET /rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes":
		r.SetPathValue("projectIdOrKey", r.PathValue("sub"))
		s.handleCreatemetaTypes(w, r)
	case "GET /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}":
		r.SetPathValue("propertyKey", r.PathValue("subKey"))
		s.handleGetProperty(w, r)
	case "GET /rest/api/3/issue/{issueIdOrKey}/comment/{id}":
		s.handleGetComment(w, r)
	case "GET /rest/api/3/issue/{issueIdOrKey}/worklog/{id}":
		s.handleGetWorklog(w, r)
	case "GET /rest/api/3/issue/{issueIdOrKey}/remotelink/{linkId}":
		s.handleGetRemoteLink(w, r)
	default:
		writeMsg(w, http.StatusNotFound, "null for uri: "+r.URL.String())
	}
}

// Unwrap lets http.ResponseController reach the connection (hijack for network faults).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// WriteHeader records the first status for the stats.
func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write marks an implicit 200 as written.
func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// ---- response helpers -------------------------------------------------------------

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // Jira sends & < > as they are, not as \u0026
	_ = enc.Encode(v)
}

type errorCollection struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

func newErrs() *errorCollection {
	return &errorCollection{ErrorMessages: []string{}, Errors: map[string]string{}}
}

func (e *errorCollection) empty() bool { return len(e.ErrorMessages) == 0 && len(e.Errors) == 0 }

func writeErr(w http.ResponseWriter, status int, msgs []string, errs map[string]string) {
	if msgs == nil {
		msgs = []string{}
	}
	if errs == nil {
		errs = map[string]string{}
	}
	writeJSON(w, status, errorCollection{ErrorMessages: msgs, Errors: errs})
}

func writeMsg(w http.ResponseWriter, status int, msg string) {
	writeErr(w, status, []string{msg}, nil)
}

func baseURL(r *http.Request) string { return "http://" + r.Host }

func fmtTime(t time.Time) string { return t.UTC().Format(jiraTime) }

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

// decodeBody decodes a JSON request body, answering 400 like Jira when it is malformed.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 10<<20))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		writeMsg(w, http.StatusBadRequest, "Unexpected character or end of input in the request body: "+err.Error())
		return false
	}
	return true
}

// ---- static resources ---------------------------------------------------------------

func (s *Server) userJSON(base string, withEmail bool) map[string]any {
	u := map[string]any{
		"self":        base + "/rest/api/3/user?accountId=" + accountID,
		"accountId":   accountID,
		"accountType": "atlassian",
		"avatarUrls": map[string]string{
			"48x48": base + "/secure/useravatar?size=large",
			"24x24": base + "/secure/useravatar?size=small",
			"16x16": base + "/secure/useravatar?size=xsmall",
			"32x32": base + "/secure/useravatar?size=medium",
		},
		"displayName": userDisplayName,
		"active":      true,
		"timeZone":    "Etc/UTC",
	}
	if withEmail {
		u["emailAddress"] = s.opts.Email
	}
	return u
}

func (s *Server) handleMyself(w http.ResponseWriter, r *http.Request) {
	u := s.userJSON(baseURL(r), true)
	u["key"], u["name"] = "", ""
	u["locale"] = "en_US"
	u["groups"] = map[string]any{"size": 2, "items": []any{}}
	u["applicationRoles"] = map[string]any{"size": 1, "items": []any{}}
	u["expand"] = "groups,applicationRoles"
	writeJSON(w, 200, u)
}

func (s *Server) handleServerInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]any{
		"baseUrl":        baseURL(r),
		"displayUrl":     baseURL(r),
		"version":        "1001.0.0-SNAPSHOT",
		"versionNumbers": []int{1001, 0, 0},
		"deploymentType": "Cloud",
		"buildNumber":    100287,
		"buildDate":      "2024-01-01T00:00:00.000+0000",
		"serverTime":     fmtTime(s.now()),
		"scmInfo":        "sfjira-emulator",
		"serverTitle":    "Jira",
		"defaultLocale":  map[string]string{"locale": "en_US"},
		"serverTimeZone": "Etc/UTC",
	})
}

func (s *Server) matchProject(idOrKey string) bool {
	return idOrKey == projectID || strings.EqualFold(idOrKey, s.projectKey)
}

func (s *Server) projectRef(base string) map[string]any {
	return map[string]any{
		"self":           base + "/rest/api/3/project/" + projectID,
		"id":             projectID,
		"key":            s.projectKey,
		"name":           projectName,
		"projectTypeKey": "software",
		"simplified":     false,
		"avatarUrls":     map[string]string{"48x48": base + "/secure/projectavatar?pid=" + projectID},
	}
}

func issueTypeJSON(base string, t *issueTypeDef) map[string]any {
	return map[string]any{
		"self":           base + "/rest/api/3/issuetype/" + t.ID,
		"id":             t.ID,
		"description":    t.Description,
		"iconUrl":        base + "/images/icons/issuetypes/" + t.Icon + ".svg",
		"name":           t.Name,
		"subtask":        t.Level < 0,
		"avatarId":       10300,
		"hierarchyLevel": t.Level,
	}
}

func (s *Server) handleProject(w http.ResponseWriter, r *http.Request) {
	k := r.PathValue("projectIdOrKey")
	if !s.matchProject(k) {
		writeMsg(w, 404, "No project could be found with key '"+k+"'.")
		return
	}
	base := baseURL(r)
	p := s.projectRef(base)
	types := make([]any, 0, len(issueTypes))
	for i := range issueTypes {
		types = append(types, issueTypeJSON(base, &issueTypes[i]))
	}
	p["issueTypes"] = types
	p["description"] = "Opportunities and cases synced from Salesforce by sfjira."
	p["lead"] = s.userJSON(base, false)
	p["assigneeType"] = "UNASSIGNED"
	p["style"] = "classic"
	p["isPrivate"] = false
	p["expand"] = "description,lead,issueTypes,url,projectKeys,permissions,insight"
	writeJSON(w, 200, p)
}

func (s *Server) handleCreatemetaTypes(w http.ResponseWriter, r *http.Request) {
	k := r.PathValue("projectIdOrKey")
	if !s.matchProject(k) {
		writeMsg(w, 404, "No project could be found with key '"+k+"'.")
		return
	}
	start, max, ok := pageParams(w, r, 50, 200)
	if !ok {
		return
	}
	base := baseURL(r)
	all := make([]any, 0, len(issueTypes))
	for i := range issueTypes {
		all = append(all, issueTypeJSON(base, &issueTypes[i]))
	}
	writeJSON(w, 200, map[string]any{"issueTypes": page(all, start, max), "maxResults": max, "startAt": start, "total": len(all)})
}

func (s *Server) handleCreatemetaFields(w http.ResponseWriter, r *http.Request) {
	k := r.PathValue("projectIdOrKey")
	if !s.matchProject(k) {
		writeMsg(w, 404, "No project could be found with key '"+k+"'.")
		return
	}
	t := findIssueType(r.PathValue("issueTypeId"))
	if t == nil {
		writeMsg(w, 404, "Issue type with id '"+r.PathValue("issueTypeId")+"' does not exist or is not visible in project '"+s.projectKey+"'.")
		return
	}
	start, max, ok := pageParams(w, r, 50, 200)
	if !ok {
		return
	}
	base := baseURL(r)
	var all []any
	for _, f := range s.allFieldDefs() {
		if !s.fieldOnScreen(f) || (f.ID == "parent" && t.Level >= 1) {
			continue
		}
		required := f.ID == "summary" || f.ID == "issuetype" || f.ID == "project" || (f.ID == "parent" && t.Level < 0)
		m := map[string]any{
			"fieldId": f.ID, "key": f.ID, "name": f.Name, "required": required,
			"hasDefaultValue": f.ID == "priority" || f.ID == "reporter" || f.ID == "issuetype",
			"operations":      operationsFor(f), "schema": schemaJSON(f),
		}
		if f.Kind == kindSelect || f.Kind == kindMultiSelect {
			vals := []any{}
			for _, o := range s.options(f.ID, t.ID) {
				vals = append(vals, optionJSON(base, o))
			}
			m["allowedValues"] = vals
		}
		switch f.Kind {
		case kindPriority:
			m["allowedValues"] = namedList(base, "priority", priorities)
			m["defaultValue"] = namedJSON(base, "priority", findNamed(priorities, defaultPriority, false))
		case kindIssueType:
			m["allowedValues"] = []any{issueTypeJSON(base, t)}
		case kindProject:
			m["allowedValues"] = []any{s.projectRef(base)}
		case kindVersions:
			s.mu.RLock()
			m["allowedValues"] = s.fixVersionsJSON(base, s.versionIDs())
			s.mu.RUnlock()
		}
		all = append(all, m)
	}
	writeJSON(w, 200, map[string]any{"fields": page(all, start, max), "maxResults": max, "startAt": start, "total": len(all)})
}

func operationsFor(f *fieldDef) []string {
	switch f.Kind {
	case kindLabels, kindVersions:
		return []string{"add", "set", "remove"}
	case kindSprint:
		return []string{"set"}
	}
	return []string{"set"}
}

func pageParams(w http.ResponseWriter, r *http.Request, def, limit int) (int, int, bool) {
	q := r.URL.Query()
	start, max := 0, def
	if v := q.Get("startAt"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeMsg(w, 400, "Parameter 'startAt' must be a non-negative number.")
			return 0, 0, false
		}
		start = n
	}
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeMsg(w, 400, "Parameter 'maxResults' must be a non-negative number.")
			return 0, 0, false
		}
		if n > limit {
			writeMsg(w, 400, "Parameter 'maxResults' must not exceed the limit '"+strconv.Itoa(limit)+"'")
			return 0, 0, false
		}
		max = n
	}
	return start, max, true
}

func page(all []any, start, max int) []any {
	if start >= len(all) {
		return []any{}
	}
	end := min(start+max, len(all))
	return all[start:end]
}

func schemaJSON(f *fieldDef) map[string]any {
	m := map[string]any{"type": f.Type}
	if f.Items != "" {
		m["items"] = f.Items
	}
	if f.Custom {
		m["custom"] = f.CustomType
		m["customId"] = f.CustomID
	} else {
		m["system"] = f.System
	}
	return m
}

func (s *Server) handleFields(w http.ResponseWriter, r *http.Request) {
	defs := s.allFieldDefs()
	out := make([]any, 0, len(defs))
	for _, f := range defs {
		m := fieldJSON(f)
		if f.Custom {
			m["untranslatedName"] = f.Name
		}
		out = append(out, m)
	}
	writeJSON(w, 200, out)
}

// fieldJSON is a field as GET /rest/api/3/field lists it (FieldDetails).
func fieldJSON(f *fieldDef) map[string]any {
	return map[string]any{
		"id": f.ID, "key": f.ID, "name": f.Name, "custom": f.Custom,
		"orderable": f.Orderable, "navigable": f.Navigable, "searchable": f.Searchable,
		"clauseNames": f.Clauses, "schema": schemaJSON(f),
	}
}

func namedJSON(base, kind string, d *namedDef) map[string]any {
	if d == nil {
		return nil
	}
	m := map[string]any{"self": base + "/rest/api/3/" + kind + "/" + d.ID, "id": d.ID, "name": d.Name, "description": d.Description}
	if kind == "priority" {
		m["iconUrl"] = base + "/images/icons/priorities/" + strings.ToLower(d.Name) + ".svg"
	}
	return m
}

func namedList(base, kind string, list []namedDef) []any {
	out := make([]any, 0, len(list))
	for i := range list {
		out = append(out, namedJSON(base, kind, &list[i]))
	}
	return out
}

func (s *Server) handleResolutions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, namedList(baseURL(r), "resolution", resolutions))
}

func (s *Server) handlePriorities(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, namedList(baseURL(r), "priority", priorities))
}

func statusJSON(base string, st *statusDef) map[string]any {
	c := st.Category
	return map[string]any{
		"self":        base + "/rest/api/3/status/" + st.ID,
		"description": st.Description,
		"iconUrl":     base + "/images/icons/statuses/generic.png",
		"name":        st.Name,
		"id":          st.ID,
		"statusCategory": map[string]any{
			"self":      base + "/rest/api/3/statuscategory/" + strconv.Itoa(c.ID),
			"id":        c.ID,
			"key":       c.Key,
			"colorName": c.ColorName,
			"name":      c.Name,
		},
	}
}

func (s *Server) handleStatuses(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r)
	sts := s.wf().statuses
	out := make([]any, 0, len(sts))
	for i := range sts {
		m := statusJSON(base, &sts[i])
		m["scope"] = map[string]any{"type": "PROJECT", "project": map[string]string{"id": projectID}}
		out = append(out, m)
	}
	writeJSON(w, 200, out)
}

func (s *Server) handleOldSearch(w http.ResponseWriter, r *http.Request) {
	writeMsg(w, http.StatusGone, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
}

// ---- admin ---------------------------------------------------------------------------

func (s *Server) handleAdminReset(w http.ResponseWriter, r *http.Request) {
	s.Reset()
	writeJSON(w, 200, map[string]bool{"ok": true})
}

func (s *Server) handleAdminIssues(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r)
	s.mu.RLock()
	list := make([]*issue, 0, len(s.issues))
	for _, is := range s.issues {
		list = append(list, is)
	}
	sortIssues(list, nil)
	out := make([]any, 0, len(list))
	for _, is := range list {
		out = append(out, s.renderIssue(base, is, s.allFields(), []string{"*all"}))
	}
	s.mu.RUnlock()
	writeJSON(w, 200, map[string]any{"total": len(out), "issues": out})
}
