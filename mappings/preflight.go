package mappings

import (
	"fmt"
	"strings"
)

// Preflight checks compare a mapping with the live schemas of both systems before anything
// syncs. They are pure: callers fetch the schemas (activities.Preflight) and pass them in.

// JiraLimitSingleLine is the most characters a Jira single-line text field (summary, text
// custom fields) holds; JiraLimitRichText is the limit of a multi-line (ADF) field.
const (
	JiraLimitSingleLine = 255
	JiraLimitRichText   = 32767
)

// PreflightReport is the outcome of the live checks of one mapping: Problems block a sync
// (exit code 1); Warnings are worth a look but do not block; Notes explain what was found
// (e.g. the transition path to each target status).
type PreflightReport struct {
	Problems ErrorList
	Warnings []string
	Notes    []string
}

func (r *PreflightReport) add(m *Mapping, line int, fix, format string, args ...any) {
	r.Problems = append(r.Problems, &Error{File: m.File, Line: line, Msg: fmt.Sprintf(format, args...), Fix: fix})
}

func (r *PreflightReport) warn(m *Mapping, line int, format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf("%s:%d: ", m.File, line)+fmt.Sprintf(format, args...))
}

// Merge appends another report's findings.
func (r *PreflightReport) Merge(o *PreflightReport) {
	r.Problems = append(r.Problems, o.Problems...)
	r.Warnings = append(r.Warnings, o.Warnings...)
	r.Notes = append(r.Notes, o.Notes...)
}

// WorkflowGraph is the workflow of the mapping's Jira issue type, by status name.
type WorkflowGraph struct {
	Name        string
	Initial     string // status new issues start in
	Statuses    []string
	Transitions []GraphTransition
}

// GraphTransition is one workflow transition; an empty From is a global transition, available
// from every status except its target.
type GraphTransition struct {
	Name string
	From []string
	To   string
}

func (g *WorkflowGraph) status(name string) string {
	for _, s := range g.Statuses {
		if strings.EqualFold(s, name) {
			return s
		}
	}
	return ""
}

// ShortestPath returns the transition names of a shortest path from one status to another
// (breadth-first over the workflow, global transitions included); ok is false when the target
// cannot be reached. from == to is the empty path. Status sync uses it when the target status
// is not directly reachable.
func (g *WorkflowGraph) ShortestPath(from, to string) (path []string, ok bool) {
	from, to = g.status(from), g.status(to)
	if from == "" || to == "" {
		return nil, false
	}
	if from == to {
		return []string{}, true
	}
	type step struct {
		prev, via string
	}
	seen := map[string]step{from: {}}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, t := range g.Transitions {
			next := g.status(t.To)
			if next == "" || next == cur {
				continue
			}
			avail := len(t.From) == 0
			for _, f := range t.From {
				if strings.EqualFold(f, cur) {
					avail = true
				}
			}
			if !avail {
				continue
			}
			if _, done := seen[next]; done {
				continue
			}
			seen[next] = step{prev: cur, via: t.Name}
			if next == to {
				var names []string
				for s := to; s != from; s = seen[s].prev {
					names = append([]string{seen[s].via}, names...)
				}
				return names, true
			}
			queue = append(queue, next)
		}
	}
	return nil, false
}

// CheckWorkflow checks the status map against the Jira workflow: every target status exists
// and can be reached from the initial status through some path of transitions (blocking);
// targets that cannot reach each other (a stage moving back) are warnings.
func (m *Mapping) CheckWorkflow(g WorkflowGraph) *PreflightReport {
	r := &PreflightReport{}
	st := m.Status
	if st == nil {
		return r
	}
	targets := map[string]string{} // status → first Salesforce value mapping to it
	var order []string
	for _, v := range st.order() {
		t := st.Values[v]
		line := st.ValueLines[v]
		name := g.status(t.Status)
		if name == "" {
			fix := fmt.Sprintf("use one of the workflow's statuses (%s), or add %q to the workflow", strings.Join(g.Statuses, ", "), t.Status)
			if c := closest(t.Status, g.Statuses); c != "" {
				fix = fmt.Sprintf("did you mean %q? ", c) + fix
			}
			r.add(m, line, fix, "%s value %q targets Jira status %q, which workflow %q of %s does not have", st.SF, v, t.Status, g.Name, m.Jira.IssueType)
			continue
		}
		path, ok := g.ShortestPath(g.Initial, name)
		if !ok {
			r.add(m, line, fmt.Sprintf("add a transition into %q (or a global one) to workflow %q", name, g.Name),
				"Jira status %q (for %s value %q) cannot be reached from the initial status %q in workflow %q", name, st.SF, v, g.Initial, g.Name)
			continue
		}
		if _, dup := targets[name]; !dup {
			targets[name] = v
			order = append(order, name)
			r.Notes = append(r.Notes, fmt.Sprintf("%s: %s %q → %s: %s", m.Pair, st.SF, v, name, describePath(g.Initial, path)))
		}
	}
	for _, a := range order {
		for _, b := range order {
			if a == b {
				continue
			}
			if _, ok := g.ShortestPath(a, b); !ok {
				r.warn(m, st.ValueLines[targets[b]], "Jira status %q cannot be reached from %q in workflow %q: a record moving from %q to %q will keep its Jira status and report it",
					b, a, g.Name, targets[a], targets[b])
			}
		}
	}
	return r
}

func describePath(from string, path []string) string {
	if len(path) == 0 {
		return fmt.Sprintf("initial status %q", from)
	}
	return fmt.Sprintf("from %q via %s (%d transition(s))", from, strings.Join(path, " → "), len(path))
}

// RequiredJiraField is a field of the Jira create screen (createmeta) of the mapping's issue type.
type RequiredJiraField struct {
	ID, Name   string
	Required   bool
	HasDefault bool
}

// automaticJiraFields are filled by the connector or Jira itself on create.
var automaticJiraFields = map[string]bool{"project": true, "issuetype": true, "reporter": true, "parent": true}

// CheckRequiredJira checks that every field Jira requires to create the issue type is written
// by the mapping (blocking) and that mapped required fields cannot end up empty (warning).
func (b *Bound) CheckRequiredJira(create []RequiredJiraField) *PreflightReport {
	r := &PreflightReport{}
	m := b.Mapping
	byID := map[string]BoundField{}
	for _, f := range b.Fields {
		if f.FlowsToJira() {
			byID[f.JiraID] = f
		}
	}
	for _, c := range create {
		if !c.Required || c.HasDefault || automaticJiraFields[c.ID] {
			continue
		}
		f, ok := byID[c.ID]
		if !ok {
			r.add(m, m.pairLine, fmt.Sprintf("add a field entry writing it, e.g. `- { sf: <Salesforce field>, jira: %s, type: … , required: true }`, or give the field a default value in Jira", c.ID),
				"Jira requires %q (%s) to create a %s in %s, but no sf_to_jira field writes it", c.Name, c.ID, m.Jira.IssueType, m.Jira.Project)
			continue
		}
		if !f.Required && f.Default == nil {
			r.warn(m, f.Line, "Jira requires %q (%s); a record with an empty %s will fail to create its issue: add required: true (clear error) or a default:", c.Name, c.ID, f.SF)
		}
	}
	return r
}

// JiraPermissions lists the project permissions the integration user needs for this mapping.
func (m *Mapping) JiraPermissions() []string {
	need := []string{"BROWSE_PROJECTS", "CREATE_ISSUES", "EDIT_ISSUES"}
	if m.Status != nil {
		need = append(need, "TRANSITION_ISSUES")
		for _, t := range m.Status.Values {
			if t.Resolution != "" {
				need = append(need, "RESOLVE_ISSUES")
				break
			}
		}
	}
	if m.Salesforce.OnDelete == OnDeleteDelete {
		need = append(need, "DELETE_ISSUES")
	}
	kinds := map[string]bool{}
	for _, r := range m.Activities {
		kinds[r.To] = true
	}
	if kinds[ActivityComment] {
		need = append(need, "ADD_COMMENTS", "EDIT_OWN_COMMENTS")
	}
	if kinds[ActivityWorklog] {
		need = append(need, "WORK_ON_ISSUES", "EDIT_OWN_WORKLOGS")
	}
	if t := m.versionTrigger(); t != nil {
		need = append(need, "ADMINISTER_PROJECTS") // Jira Cloud: creating a version
	}
	return need
}

// versionTrigger returns the first trigger that creates a version, or nil.
func (m *Mapping) versionTrigger() *Trigger {
	for i := range m.Triggers {
		if m.Triggers[i].Version != nil {
			return &m.Triggers[i]
		}
	}
	return nil
}

// CheckJiraPermissions reports every needed permission the integration user lacks.
func (m *Mapping) CheckJiraPermissions(have map[string]bool) *PreflightReport {
	r := &PreflightReport{}
	why := map[string]string{
		"BROWSE_PROJECTS": "read issues", "CREATE_ISSUES": "create issues", "EDIT_ISSUES": "write mapped fields",
		"TRANSITION_ISSUES": "move issues to the mapped status", "RESOLVE_ISSUES": "set the mapped resolution",
		"DELETE_ISSUES": "delete issues (on_delete: delete)",
		"ADD_COMMENTS":  "write activities as comments", "EDIT_OWN_COMMENTS": "update comments written from activities",
		"WORK_ON_ISSUES": "log meetings as worklogs", "EDIT_OWN_WORKLOGS": "update worklogs written from activities",
	}
	for _, p := range m.JiraPermissions() {
		if have[p] {
			continue
		}
		if p == "ADMINISTER_PROJECTS" {
			// Only the trigger's version needs it, after the pair is synced: a warning, not a block.
			t := m.versionTrigger()
			r.warn(m, t.Line, "the Jira integration user lacks ADMINISTER_PROJECTS in project %s, which Jira Cloud requires to create the version of trigger %s: that action will fail and the sync run with it (dead letter) until it is granted",
				m.Jira.Project, t.Name)
			continue
		}
		line := m.pairLine
		if (p == "TRANSITION_ISSUES" || p == "RESOLVE_ISSUES") && m.Status != nil {
			line = m.Status.Line
		}
		if p == "DELETE_ISSUES" {
			line = m.Salesforce.lines["on_delete"][0]
		}
		r.add(m, line, fmt.Sprintf("grant %s to the integration user in the permission scheme of project %s", p, m.Jira.Project),
			"the Jira integration user lacks %s in project %s, needed to %s", p, m.Jira.Project, why[p])
	}
	return r
}

// CheckSalesforceData runs the live Salesforce checks beyond CheckSalesforce's existence and
// type checks, against the same describe: every active value of the status picklist has a
// target (or unmapped: keep), status map entries name real picklist values, Jira → Salesforce
// text fits the Salesforce field or has a length policy, Salesforce → Jira text fits Jira's
// limits or has one, and fields written on records created from Jira are createable.
func (b *Bound) CheckSalesforceData(describe func(object string) (*SFObject, error)) *PreflightReport {
	r := &PreflightReport{}
	m := b.Mapping
	obj, err := describe(m.Salesforce.Object)
	if err != nil {
		return r // reported by CheckSalesforce
	}
	for _, f := range b.Fields {
		if strings.Contains(f.SF, ".") {
			continue
		}
		sf := obj.field(f.SF)
		if sf == nil {
			continue
		}
		text := f.Type == TypeText || f.Type == TypeRichText
		named := f.JiraID == "status" || f.JiraID == "resolution" || f.JiraID == "priority" || f.JiraID == "issuetype"
		if text && f.FlowsToSF() && sf.Length > 0 && !named && (f.MaxLength == 0 || f.MaxLength > sf.Length) {
			r.add(m, f.Line, fmt.Sprintf("add max_length: %d with on_overflow: truncate (cut with …) or on_overflow: fail", sf.Length),
				"Salesforce field %s holds %d characters but Jira values written to it are not limited to that", f.SF, sf.Length)
		}
		if text && f.FlowsToJira() {
			limit := JiraLimitSingleLine
			if f.ADF {
				limit = JiraLimitRichText
			}
			if sf.Length > limit && (f.MaxLength == 0 || f.MaxLength > limit) {
				r.add(m, f.Line, fmt.Sprintf("add max_length: %d with on_overflow: truncate or fail", limit),
					"Salesforce field %s holds up to %d characters but Jira field %s takes %d", f.SF, sf.Length, f.Jira, limit)
			}
		}
		if vm := f.ValueMap; vm != nil && f.FlowsToJira() && vm.Unmapped != UnmappedPass {
			for _, v := range sf.PicklistValues {
				if _, ok := vm.toJira[foldValue(v)]; !ok {
					r.add(m, f.Line, fmt.Sprintf("add `%s: <Jira value>` under values, or set unmapped: pass", yamlKey(v)),
						"%s value %q (active in Salesforce) has no Jira value in the mapping", f.SF, v)
				}
			}
		}
		if m.Jira.CreateInSalesforce && f.FlowsToSF() && !sf.Createable {
			r.add(m, f.Line, "give the integration user create access to the field, or make the field sf_to_jira",
				"Salesforce field %s is not createable, but issues created in Jira create records with it (create_in_salesforce: true)", f.SF)
		}
	}
	if st := m.Status; st != nil && !strings.Contains(st.SF, ".") {
		if sf := obj.field(st.SF); sf != nil && len(sf.PicklistValues) > 0 {
			inPicklist := map[string]bool{}
			for _, v := range sf.PicklistValues {
				inPicklist[v] = true
				if _, ok := st.Values[v]; ok {
					continue
				}
				if st.Unmapped == UnmappedKeep {
					r.warn(m, st.valuesLineOr(), "%s value %q has no Jira status; records with it keep their Jira status (unmapped: keep)", st.SF, v)
					continue
				}
				fix := fmt.Sprintf("add `%s: { status: <Jira status> }` under status.values, or set unmapped: keep", yamlKey(v))
				if near := nearStatusValue(v, st.Values); near != "" {
					fix = fmt.Sprintf("the map has %q, but values match exactly: ", near) + fix
				}
				r.add(m, st.valuesLineOr(), fix, "%s value %q (active in Salesforce) has no Jira status in the mapping", st.SF, v)
			}
			for _, v := range st.order() {
				if !inPicklist[v] {
					msg := fmt.Sprintf("status value %q is not an active %s value in Salesforce", v, st.SF)
					if c := closest(v, sf.PicklistValues); c != "" {
						msg += fmt.Sprintf(" (did you mean %q?)", c)
					}
					r.warn(m, st.ValueLines[v], "%s", msg)
				}
			}
		}
	}
	return r
}

// StatusRef is a workflow status by id and name.
type StatusRef struct{ ID, Name string }

// WorkflowEdge is a transition as Jira's workflow search returns it: statuses by id, Type
// initial (creates the issue), global (From empty) or directed.
type WorkflowEdge struct {
	Name, Type string
	From       []string
	To         string
}

// GraphFromWorkflow builds a WorkflowGraph from statuses and transitions keyed by status id;
// the initial status is the target of the initial transition, else the first status.
func GraphFromWorkflow(name string, statuses []StatusRef, edges []WorkflowEdge) WorkflowGraph {
	g := WorkflowGraph{Name: name}
	byID := map[string]string{}
	for _, s := range statuses {
		byID[s.ID] = s.Name
		g.Statuses = append(g.Statuses, s.Name)
	}
	nameOf := func(id string) string {
		if n, ok := byID[id]; ok {
			return n
		}
		return id
	}
	for _, t := range edges {
		if t.Type == "initial" {
			g.Initial = nameOf(t.To)
			continue
		}
		gt := GraphTransition{Name: t.Name, To: nameOf(t.To)}
		for _, f := range t.From {
			gt.From = append(gt.From, nameOf(f))
		}
		g.Transitions = append(g.Transitions, gt)
	}
	if g.Initial == "" && len(g.Statuses) > 0 {
		g.Initial = g.Statuses[0]
	}
	return g
}

// Problem builds a positioned problem in the mapping's file; line 0 means the `pair:` line
// (for problems that concern the whole pair, such as a missing Jira project).
func (m *Mapping) Problem(line int, fix, format string, args ...any) *Error {
	if line == 0 {
		line = m.pairLine
	}
	return &Error{File: m.File, Line: line, Msg: fmt.Sprintf(format, args...), Fix: fix}
}
