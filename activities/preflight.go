package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/mappings"
)

// Preflight checks mappings against the live systems before anything syncs: Salesforce fields
// exist with fitting types, lengths and permissions (describe), the status picklist is fully
// mapped, Jira fields exist with fitting types, the fields Jira requires on create are written
// (createmeta), every target status is reachable through the issue type's workflow, and the
// Jira integration user holds the project permissions the mapping needs (mypermissions).
// Mapping problems are collected in the report; an unreachable system is returned as an error.
// It needs no database, so it can run before the connector is installed.
func Preflight(ctx context.Context, sf *salesforce.Client, jc *jira.Client, ms []*mappings.Mapping) (*mappings.PreflightReport, error) {
	return PreflightWith(ctx, sf, jc, ms, PreflightOptions{})
}

// PreflightWith is Preflight with what the clients cannot tell (the Jira grant's scopes). Beyond
// Preflight's checks it reports least privilege on both sides: Salesforce OAuth scopes from the
// token response, object and field permissions from describe against what the mappings write,
// Jira project permissions from mypermissions and the 3LO grant's scopes.
func PreflightWith(ctx context.Context, sf *salesforce.Client, jc *jira.Client, ms []*mappings.Mapping, opts PreflightOptions) (*mappings.PreflightReport, error) {
	rep := &mappings.PreflightReport{}
	fields, err := jc.Fields(ctx)
	if err != nil {
		return nil, fmt.Errorf("preflight: read Jira fields: %w", err)
	}
	jf := make([]mappings.JiraField, 0, len(fields))
	for _, f := range fields {
		jf = append(jf, mappings.JiraField{ID: f.ID, Name: f.Name, SchemaType: f.Schema.Type, SchemaItems: f.Schema.Items, SchemaCustom: f.Schema.Custom})
	}
	cache := map[string]*mappings.SFObject{}
	raw := map[string]*salesforce.SObjectDescribe{}
	var transport error
	describe := func(object string) (*mappings.SFObject, error) {
		if o, ok := cache[strings.ToLower(object)]; ok {
			return o, nil
		}
		d, err := sf.Describe(ctx, object)
		if err != nil {
			var apiErr *salesforce.APIError
			if !errors.As(err, &apiErr) {
				transport = err
			}
			return nil, err
		}
		raw[strings.ToLower(object)] = d
		o := &mappings.SFObject{Name: d.Name}
		for _, f := range d.Fields {
			sff := mappings.SFField{Name: f.Name, Type: f.Type, Length: f.Length, ExternalID: f.ExternalID,
				Createable: f.Createable, Updateable: f.Updateable, ReferenceTo: f.ReferenceTo, RelationshipName: f.RelationshipName}
			for _, v := range f.PicklistValues {
				if v.Active {
					sff.PicklistValues = append(sff.PicklistValues, v.Value)
				}
			}
			o.Fields = append(o.Fields, sff)
		}
		cache[strings.ToLower(object)] = o
		return o, nil
	}
	addErr := func(err error) error {
		var list mappings.ErrorList
		if errors.As(err, &list) {
			rep.Problems = append(rep.Problems, list...)
			return nil
		}
		return err
	}
	projects := map[string]*jira.ProjectInfo{}
	for _, m := range ms {
		if err := addErr(m.CheckSalesforce(describe)); err != nil {
			return nil, err
		}
		if transport != nil {
			return nil, fmt.Errorf("preflight: Salesforce: %w", transport)
		}
		b, err := m.Bind(jf)
		if err != nil {
			if err := addErr(err); err != nil {
				return nil, err
			}
		} else {
			rep.Merge(b.CheckSalesforceData(describe))
			if transport != nil {
				return nil, fmt.Errorf("preflight: Salesforce: %w", transport)
			}
		}

		p, ok := projects[m.Jira.Project]
		if !ok {
			p, err = jc.Project(ctx, m.Jira.Project)
			if err != nil {
				if jira.IsNotFound(err) {
					rep.Problems = append(rep.Problems, m.Problem(0, "check jira.project, and that the integration user can browse the project",
						"Jira project %s does not exist or is not visible to the integration user", m.Jira.Project))
					continue
				}
				return nil, fmt.Errorf("preflight: Jira project %s: %w", m.Jira.Project, err)
			}
			projects[m.Jira.Project] = p
		}
		var typeID string
		var names []string
		for _, t := range p.IssueTypes {
			names = append(names, t.Name)
			if strings.EqualFold(t.Name, m.Jira.IssueType) || t.ID == m.Jira.IssueType {
				typeID = t.ID
			}
		}
		if typeID == "" {
			rep.Problems = append(rep.Problems, m.Problem(0, "use one of: "+strings.Join(names, ", "),
				"Jira project %s has no issue type %q", m.Jira.Project, m.Jira.IssueType))
			continue
		}
		for _, t := range m.Triggers {
			if len(t.Stories) > 0 && !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, t.StoryType) }) {
				rep.Problems = append(rep.Problems, m.Problem(t.Line, "set story_type to one of: "+strings.Join(names, ", "),
					"trigger %s creates %q issues, which Jira project %s does not have", t.Name, t.StoryType, m.Jira.Project))
			}
		}
		cm, err := jc.CreateMeta(ctx, m.Jira.Project, typeID)
		if err != nil {
			return nil, fmt.Errorf("preflight: Jira createmeta %s/%s: %w", m.Jira.Project, m.Jira.IssueType, err)
		}
		if b != nil {
			req := make([]mappings.RequiredJiraField, 0, len(cm))
			for _, f := range cm {
				req = append(req, mappings.RequiredJiraField{ID: f.FieldID, Name: f.Name, Required: f.Required, HasDefault: f.HasDefaultValue})
			}
			rep.Merge(b.CheckRequiredJira(req))
		}
		checkCreateScreen(m, cm, jf, rep)
		if m.Status != nil {
			wf, err := jc.IssueTypeWorkflow(ctx, p.ID, typeID)
			if err != nil {
				return nil, fmt.Errorf("preflight: Jira workflow of %s/%s: %w", m.Jira.Project, m.Jira.IssueType, err)
			}
			sts := make([]mappings.StatusRef, 0, len(wf.Statuses))
			for _, s := range wf.Statuses {
				sts = append(sts, mappings.StatusRef{ID: s.ID, Name: s.Name})
			}
			edges := make([]mappings.WorkflowEdge, 0, len(wf.Transitions))
			for _, t := range wf.Transitions {
				edges = append(edges, mappings.WorkflowEdge{Name: t.Name, Type: t.Type, From: t.From, To: t.To})
			}
			rep.Merge(m.CheckWorkflow(mappings.GraphFromWorkflow(wf.Name, sts, edges)))
		}
		have, err := jc.MyPermissions(ctx, m.Jira.Project, m.JiraPermissions())
		if err != nil {
			return nil, fmt.Errorf("preflight: Jira permissions in %s: %w", m.Jira.Project, err)
		}
		rep.Merge(m.CheckJiraPermissions(have))
		broad, err := leastPrivilegeWarnings(ctx, jc, m, ms)
		if err != nil {
			return nil, err
		}
		rep.Warnings = append(rep.Warnings, broad...)
		if err := checkLinkTypes(ctx, jc, m, rep); err != nil {
			return nil, err
		}
	}
	if err := salesforcePrivilege(ctx, sf, ms, func(object string) (*salesforce.SObjectDescribe, error) {
		if d, ok := raw[strings.ToLower(object)]; ok {
			return d, nil
		}
		if _, err := describe(object); err != nil {
			return nil, err
		}
		return raw[strings.ToLower(object)], nil
	}, rep); err != nil {
		return nil, err
	}
	jiraScopeReport(opts.JiraScopes, ms, rep)
	rep.Problems = sortedProblems(rep.Problems)
	return rep, nil
}

// salesforcePrivilege adds the Salesforce least-privilege findings (scopes, object and field
// permissions) to rep. An object describe refuses was reported as a problem already; only an
// unreachable org is an error.
func salesforcePrivilege(ctx context.Context, sf *salesforce.Client, ms []*mappings.Mapping, describe func(string) (*salesforce.SObjectDescribe, error), rep *mappings.PreflightReport) error {
	if len(ms) == 0 {
		return nil
	}
	warnings, err := sfPrivilegeWarnings(ms, describe)
	var apiErr *salesforce.APIError
	switch {
	case errors.As(err, &apiErr):
		rep.Notes = append(rep.Notes, "salesforce: object permissions not checked: "+apiErr.Error())
	case err != nil:
		return fmt.Errorf("preflight: Salesforce: %w", err)
	}
	rep.Warnings = append(rep.Warnings, warnings...)
	scopes, err := sf.GrantedScopes(ctx)
	if err != nil {
		return fmt.Errorf("preflight: Salesforce: %w", err)
	}
	sw, missingAPI := sfScopeWarnings(scopes, ms[0].File)
	rep.Warnings = append(rep.Warnings, sw...)
	if missingAPI {
		rep.Problems = append(rep.Problems, ms[0].Problem(0, "add \"Manage user data via APIs (api)\" to the connected app's Selected OAuth Scopes",
			"the Salesforce token grants scopes %q but not api, which every REST call needs", strings.Join(scopes, " ")))
	}
	return nil
}

func sortedProblems(l mappings.ErrorList) mappings.ErrorList {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return l
}
