package jira

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Workflow configures the statuses and transitions of one or more issue types of the
// emulated project. It is accepted in Options.Workflows and, as JSON, by
// POST /__admin/workflows. Issue types without a configured workflow use the default
// workflow documented in schema.go.
//
//	{"project":"SFJ","issue_types":["Epic"],"name":"Deal flow","initial":"Open",
//	 "statuses":[{"name":"Open","category":"new"},{"name":"Won","category":"done"}],
//	 "transitions":[{"id":"101","name":"Win","from":["Open"],"to":"Won","resolution_screen":true}]}
type Workflow struct {
	// Project is the project key; empty means the emulator's project.
	Project string `json:"project,omitempty"`
	// IssueTypes lists issue type names or ids the workflow applies to; empty means all.
	IssueTypes []string `json:"issue_types,omitempty"`
	// Name is informational.
	Name string `json:"name,omitempty"`
	// Initial is the status (name or id) new issues start in; default the first status.
	Initial string `json:"initial,omitempty"`
	// Statuses of the workflow, in board order.
	Statuses []WorkflowStatus `json:"statuses"`
	// Transitions between the statuses.
	Transitions []WorkflowTransition `json:"transitions"`
}

// WorkflowStatus is one status of a Workflow. Statuses are site-wide in Jira: a name that
// already exists (e.g. "Done") reuses that status and its id.
type WorkflowStatus struct {
	// ID is optional; new statuses get ids from 10100 up.
	ID string `json:"id,omitempty"`
	// Name is the status name shown to users.
	Name string `json:"name"`
	// Category is the status category key: new, indeterminate or done.
	Category string `json:"category"`
	// Description is optional.
	Description string `json:"description,omitempty"`
}

// WorkflowTransition is one transition of a Workflow.
type WorkflowTransition struct {
	// ID is the transition id clients send to POST …/transitions (numeric string).
	ID string `json:"id"`
	// Name is the transition name.
	Name string `json:"name"`
	// From lists source statuses (names or ids); empty makes a global transition
	// available from every status except its target.
	From []string `json:"from,omitempty"`
	// To is the target status (name or id).
	To string `json:"to"`
	// ResolutionScreen says the transition has a screen with the Resolution field.
	ResolutionScreen bool `json:"resolution_screen,omitempty"`
	// Resolution (name or id) is set by the transition's post-function ("Update issue
	// field: Resolution"), the way Jira admins give a transition such as "Won't Do" its own
	// resolution. It runs after the screen, so it wins over a screen value, and it applies
	// wherever the transition runs: single, bulk (which cannot fill screens) and at create.
	// The REST API does not show post-functions, only the transition's name and target.
	Resolution string `json:"resolution,omitempty"`
}

// DefaultWorkflow returns the built-in workflow every issue type uses unless configured
// otherwise (To Do → In Progress → In Review → Done, see schema.go).
func DefaultWorkflow() Workflow {
	w := Workflow{Name: "Software Simplified Workflow for Project SFJ", Initial: statusToDo}
	for _, st := range statuses {
		w.Statuses = append(w.Statuses, WorkflowStatus{ID: st.ID, Name: st.Name, Category: st.Category.Key, Description: st.Description})
	}
	for _, t := range transitions {
		w.Transitions = append(w.Transitions, WorkflowTransition{ID: t.ID, Name: t.Name, From: []string{t.From}, To: t.To, ResolutionScreen: t.To == statusDone})
	}
	return w
}

// wfTransition is a compiled transition (status ids resolved).
type wfTransition struct {
	ID, Name string
	From     []string // empty = global
	To       string
	Screen   bool
	// Resolution is the resolution id the post-function sets ("" = none).
	Resolution string
}

type workflowDef struct {
	name        string
	initial     string
	statusIDs   []string
	transitions []wfTransition
	src         Workflow
}

// wfSet is an immutable snapshot of statuses and workflows; the server swaps it
// atomically so readers never lock.
type wfSet struct {
	statuses []statusDef // all known statuses (site-wide), stable order
	byID     map[string]*statusDef
	def      *workflowDef
	byType   map[string]*workflowDef // issue type id -> workflow
	nextID   int
}

func categoryByKey(k string) (statusCategory, bool) {
	for _, c := range []statusCategory{catNew, catIndeterminate, catDone} {
		if strings.EqualFold(c.Key, k) || strings.EqualFold(c.Name, k) {
			return c, true
		}
	}
	return statusCategory{}, false
}

func newWFSet() *wfSet {
	set := &wfSet{byID: map[string]*statusDef{}, byType: map[string]*workflowDef{}, nextID: 10100}
	set.statuses = slices.Clone(statuses)
	set.reindex()
	def, err := set.compile(DefaultWorkflow())
	if err != nil {
		panic(err) // static configuration
	}
	set.def = def
	return set
}

func (w *wfSet) reindex() {
	w.byID = make(map[string]*statusDef, len(w.statuses))
	for i := range w.statuses {
		w.byID[w.statuses[i].ID] = &w.statuses[i]
	}
}

func (w *wfSet) clone() *wfSet {
	c := &wfSet{statuses: slices.Clone(w.statuses), def: w.def, byType: make(map[string]*workflowDef, len(w.byType)), nextID: w.nextID}
	for k, v := range w.byType {
		c.byType[k] = v
	}
	c.reindex()
	return c
}

func (w *wfSet) statusByRef(ref string) *statusDef {
	if st := w.byID[ref]; st != nil {
		return st
	}
	for i := range w.statuses {
		if strings.EqualFold(w.statuses[i].Name, ref) {
			return &w.statuses[i]
		}
	}
	return nil
}

func (w *wfSet) forType(typeID string) *workflowDef {
	if d := w.byType[typeID]; d != nil {
		return d
	}
	return w.def
}

func (w *wfSet) rank(id string) int64 {
	for i := range w.statuses {
		if w.statuses[i].ID == id {
			return int64(i)
		}
	}
	return 99
}

// compile validates a workflow, registering new statuses in w (which must be a private
// clone), and returns its compiled form or a user-facing error.
func (w *wfSet) compile(in Workflow) (*workflowDef, error) {
	if len(in.Statuses) == 0 {
		return nil, fmt.Errorf("workflow needs at least one status")
	}
	d := &workflowDef{name: in.Name, src: in}
	if d.name == "" {
		d.name = "Custom workflow"
	}
	local := map[string]string{} // lower name or id -> status id
	for _, ws := range in.Statuses {
		name := strings.TrimSpace(ws.Name)
		if name == "" {
			return nil, fmt.Errorf("status name is required")
		}
		cat, ok := categoryByKey(ws.Category)
		if !ok {
			return nil, fmt.Errorf("status %q: category must be one of new, indeterminate, done", name)
		}
		st := w.statusByRef(name)
		if ws.ID != "" {
			if byID := w.byID[ws.ID]; byID != nil {
				if !strings.EqualFold(byID.Name, name) {
					return nil, fmt.Errorf("status id %s already belongs to status %q", ws.ID, byID.Name)
				}
				st = byID
			} else if st != nil {
				return nil, fmt.Errorf("status %q already exists with id %s", name, st.ID)
			} else if _, err := strconv.Atoi(ws.ID); err != nil {
				return nil, fmt.Errorf("status id %q must be numeric", ws.ID)
			}
		}
		if st != nil && st.Category != cat {
			return nil, fmt.Errorf("status %q exists with category %s", name, st.Category.Key)
		}
		if st == nil {
			id := ws.ID
			if id == "" {
				for w.byID[strconv.Itoa(w.nextID)] != nil {
					w.nextID++
				}
				id = strconv.Itoa(w.nextID)
				w.nextID++
			}
			w.statuses = append(w.statuses, statusDef{ID: id, Name: name, Description: ws.Description, Category: cat})
			w.reindex()
			st = w.byID[id]
		}
		if _, dup := local[strings.ToLower(st.Name)]; dup {
			return nil, fmt.Errorf("status %q listed twice", name)
		}
		local[strings.ToLower(st.Name)] = st.ID
		local[st.ID] = st.ID
		d.statusIDs = append(d.statusIDs, st.ID)
	}
	resolve := func(ref string) (string, bool) {
		id, ok := local[strings.ToLower(strings.TrimSpace(ref))]
		return id, ok
	}
	d.initial = d.statusIDs[0]
	if in.Initial != "" {
		id, ok := resolve(in.Initial)
		if !ok {
			return nil, fmt.Errorf("initial status %q is not in the workflow", in.Initial)
		}
		d.initial = id
	}
	seen := map[string]bool{}
	for _, t := range in.Transitions {
		if _, err := strconv.Atoi(t.ID); err != nil {
			return nil, fmt.Errorf("transition id %q must be numeric", t.ID)
		}
		if seen[t.ID] {
			return nil, fmt.Errorf("transition id %s listed twice", t.ID)
		}
		seen[t.ID] = true
		if strings.TrimSpace(t.Name) == "" {
			return nil, fmt.Errorf("transition %s: name is required", t.ID)
		}
		to, ok := resolve(t.To)
		if !ok {
			return nil, fmt.Errorf("transition %s: target status %q is not in the workflow", t.ID, t.To)
		}
		ct := wfTransition{ID: t.ID, Name: t.Name, To: to, Screen: t.ResolutionScreen}
		if ref := strings.TrimSpace(t.Resolution); ref != "" {
			res := findNamed(resolutions, ref, false)
			if res == nil {
				res = findNamed(resolutions, ref, true)
			}
			if res == nil {
				return nil, fmt.Errorf("transition %s: resolution %q does not exist", t.ID, t.Resolution)
			}
			if st := w.byID[to]; st == nil || st.Category != catDone {
				return nil, fmt.Errorf("transition %s: a resolution post-function needs a target status of the done category", t.ID)
			}
			ct.Resolution = res.ID
		}
		for _, f := range t.From {
			id, ok := resolve(f)
			if !ok {
				return nil, fmt.Errorf("transition %s: source status %q is not in the workflow", t.ID, f)
			}
			ct.From = append(ct.From, id)
		}
		d.transitions = append(d.transitions, ct)
	}
	return d, nil
}

// available lists the transitions usable from status `from`.
func (d *workflowDef) available(from string) []*wfTransition {
	var out []*wfTransition
	for i := range d.transitions {
		t := &d.transitions[i]
		if len(t.From) == 0 {
			if t.To != from {
				out = append(out, t)
			}
			continue
		}
		if slices.Contains(t.From, from) {
			out = append(out, t)
		}
	}
	return out
}

func (d *workflowDef) find(from, id string) *wfTransition {
	for _, t := range d.available(from) {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// ---- server integration ------------------------------------------------------------------

func (s *Server) wf() *wfSet { return s.workflows.Load() }

// status returns a status by id; statuses are never removed, so ids stored on issues
// always resolve (unknown ids render as a placeholder rather than panicking).
func (s *Server) status(id string) *statusDef {
	if st := s.wf().byID[id]; st != nil {
		return st
	}
	return &statusDef{ID: id, Name: "Unknown", Category: catNew}
}

// applyWorkflow installs a workflow for the issue types it names (all when empty).
func (s *Server) applyWorkflow(in Workflow) error {
	if in.Project != "" && !s.matchProject(in.Project) {
		return fmt.Errorf("no project could be found with key '%s'", in.Project)
	}
	var typeIDs []string
	for _, ref := range in.IssueTypes {
		t := s.resolveIssueType(map[string]any{"name": ref})
		if t == nil {
			t = s.resolveIssueType(map[string]any{"id": ref})
		}
		if t == nil {
			return fmt.Errorf("issue type %q does not exist", ref)
		}
		typeIDs = append(typeIDs, t.ID)
	}
	s.wfMu.Lock()
	defer s.wfMu.Unlock()
	next := s.wf().clone()
	d, err := next.compile(in)
	if err != nil {
		return err
	}
	if len(typeIDs) == 0 {
		next.def = d
		next.byType = map[string]*workflowDef{}
	} else {
		for _, id := range typeIDs {
			next.byType[id] = d
		}
	}
	s.workflows.Store(next)
	return nil
}

// SetWorkflow installs a workflow at run time; the Go equivalent of POST /__admin/workflows.
// Existing issues keep their status; if it is not part of the new workflow they have no
// transitions until the workflow is changed back (Jira would force a migration).
func (s *Server) SetWorkflow(w Workflow) error { return s.applyWorkflow(w) }

func (s *Server) resetWorkflows() {
	s.wfMu.Lock()
	s.workflows.Store(newWFSet())
	s.wfMu.Unlock()
	for _, w := range s.opts.Workflows {
		if err := s.applyWorkflow(w); err != nil {
			panic("jira emulator: invalid Options.Workflows: " + err.Error())
		}
	}
}

func (s *Server) handleAdminWorkflows(w http.ResponseWriter, r *http.Request) {
	var in Workflow
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeMsg(w, 400, "invalid workflow document: "+err.Error())
		return
	}
	if err := s.applyWorkflow(in); err != nil {
		writeMsg(w, 400, "invalid workflow: "+err.Error())
		return
	}
	s.handleAdminWorkflowList(w, r)
}

func (s *Server) handleAdminWorkflowList(w http.ResponseWriter, r *http.Request) {
	set := s.wf()
	out := map[string]any{}
	for i := range issueTypes {
		d := set.forType(issueTypes[i].ID)
		src := d.src
		src.Initial = d.initial
		out[issueTypes[i].Name] = map[string]any{"name": d.name, "statuses": d.statusIDs, "initial": d.initial, "workflow": src}
	}
	writeJSON(w, 200, map[string]any{"project": s.projectKey, "issueTypes": out})
}

func (s *Server) transitionJSON(base string, t *wfTransition, withFields bool) map[string]any {
	m := map[string]any{
		"id": t.ID, "name": t.Name, "to": statusJSON(base, s.status(t.To)),
		"hasScreen": t.Screen, "isGlobal": len(t.From) == 0, "isInitial": false, "isAvailable": true,
		"isConditional": false, "isLooped": false,
	}
	if withFields {
		fields := map[string]any{}
		if t.Screen {
			fields["resolution"] = map[string]any{
				"required": false, "schema": map[string]any{"type": "resolution", "system": "resolution"},
				"name": "Resolution", "key": "resolution", "hasDefaultValue": true, "operations": []string{"set"},
				"allowedValues": namedList(base, "resolution", resolutions),
				"defaultValue":  namedJSON(base, "resolution", findNamed(resolutions, resolutionDone, false)),
			}
		}
		m["fields"] = fields
	}
	return m
}
