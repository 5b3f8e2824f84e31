package activities

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/mappings"
)

// broadJiraPermissions are project permissions that widen what a leaked integration credential
// could do and that a mapping needs only in the cases checked in leastPrivilegeWarnings.
var broadJiraPermissions = []string{"ADMINISTER_PROJECTS", "DELETE_ALL_COMMENTS", "DELETE_ALL_WORKLOGS", "MODIFY_REPORTER"}

// leastPrivilegeWarnings reports the broad permissions the Jira integration user holds in the
// mapping's project beyond what the mappings of that project need (least privilege): not a
// failure, a warning with the fix. Needs are per project, since permissions are: one mapping's
// trigger needing ADMINISTER_PROJECTS makes it needed for all mappings there.
func leastPrivilegeWarnings(ctx context.Context, jc *jira.Client, m *mappings.Mapping, all []*mappings.Mapping) ([]string, error) {
	needed := map[string]bool{}
	for _, o := range all {
		if o != m && !strings.EqualFold(o.Jira.Project, m.Jira.Project) {
			continue
		}
		for _, p := range o.JiraPermissions() {
			needed[p] = true
		}
	}
	var ask []string
	for _, p := range broadJiraPermissions {
		if !needed[p] {
			ask = append(ask, p)
		}
	}
	if len(ask) == 0 {
		return nil, nil
	}
	have, err := jc.MyPermissions(ctx, m.Jira.Project, ask)
	if err != nil {
		return nil, fmt.Errorf("preflight: Jira permissions in %s: %w", m.Jira.Project, err)
	}
	var out []string
	for _, p := range ask {
		if have[p] {
			out = append(out, fmt.Sprintf("%s: the Jira integration user holds %s in project %s, which no mapping of that project needs (least privilege: remove it from the project's permission scheme for that user)",
				m.File, p, m.Jira.Project))
		}
	}
	return out, nil
}

// PreflightOptions carries what preflight cannot read from the clients themselves.
type PreflightOptions struct {
	// JiraScopes are the scopes of the stored Jira OAuth 2.0 (3LO) grant; nil when Jira is reached
	// with an API token (which carries the user's full permissions and no scopes).
	JiraScopes []string
}

// sfScopesFine are the Salesforce OAuth scopes sfjira uses or that grant nothing beyond them: api
// (REST and SOQL), refresh_token / offline_access (the refresh_token flow), id / openid (the
// identity URL in the token response names the org).
var sfScopesFine = map[string]bool{"api": true, "refresh_token": true, "offline_access": true, "id": true, "openid": true}

// sfScopeWarnings reports Salesforce OAuth scopes granted beyond what sfjira needs, and a
// missing api scope (without it no REST call works).
func sfScopeWarnings(granted []string, file string) (warnings []string, missingAPI bool) {
	if len(granted) == 0 {
		return nil, false // the org sent no scope: nothing to judge
	}
	has := map[string]bool{}
	var extra []string
	for _, s := range granted {
		has[s] = true
		if !sfScopesFine[s] {
			extra = append(extra, s)
		}
	}
	sort.Strings(extra)
	for _, s := range extra {
		why := "sfjira uses only api (and refresh_token for the refresh_token flow)"
		if s == "full" {
			why = "full grants every scope, including web and Visualforce sessions, which sfjira never uses"
		}
		warnings = append(warnings, fmt.Sprintf("%s: the Salesforce token grants OAuth scope %q: %s (least privilege: remove it from the connected app's Selected OAuth Scopes, keep api and refresh_token)",
			file, s, why))
	}
	return warnings, !has["api"] && !has["full"]
}

// jiraScopesNeeded are the classic 3LO scopes a mapping set needs: read and write issues, keep a
// refresh token, read users when a user field maps e-mails to accounts, and manage the project
// when a trigger creates releases (versions).
func jiraScopesNeeded(ms []*mappings.Mapping) map[string]string {
	need := map[string]string{
		"read:jira-work":  "read issues, fields and workflows",
		"write:jira-work": "create, edit and transition issues",
		"offline_access":  "a refresh token, so the grant outlives the first hour",
	}
	for _, m := range ms {
		for _, f := range m.Fields {
			if f.Type == mappings.TypeUser {
				need["read:jira-user"] = "look users up by e-mail for user fields (" + m.File + ")"
			}
		}
		for _, t := range m.Triggers {
			if t.Version != nil {
				need["manage:jira-project"] = "create the release of trigger " + t.Name + " (" + m.File + ")"
			}
		}
	}
	return need
}

// jiraScopeReport compares a 3LO grant's scopes with what the mappings need: scopes beyond that
// are warnings (least privilege), missing ones problems (syncs would fail with 401/403). Granular
// scopes (read:issue:jira …) are listed as a note: sfjira checks the classic scopes only.
func jiraScopeReport(granted []string, ms []*mappings.Mapping, rep *mappings.PreflightReport) {
	if granted == nil || len(ms) == 0 {
		return
	}
	need := jiraScopesNeeded(ms)
	has := map[string]bool{}
	var extra, granular []string
	for _, s := range granted {
		has[s] = true
		switch {
		case need[s] != "":
		case strings.Count(s, ":") >= 2:
			granular = append(granular, s)
		default:
			extra = append(extra, s)
		}
	}
	sort.Strings(extra)
	first := ms[0]
	for _, s := range extra {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: the Jira OAuth grant holds scope %q, which these mappings never need (least privilege: remove it from jira.oauth.scopes and the app's permissions, then run `sfjira auth jira` again)",
			first.File, s))
	}
	if len(granular) > 0 {
		sort.Strings(granular)
		rep.Notes = append(rep.Notes, "jira: granular OAuth scopes are not checked: "+strings.Join(granular, " "))
	}
	missing := make([]string, 0, len(need))
	for s := range need {
		if !has[s] && len(granular) == 0 {
			missing = append(missing, s)
		}
	}
	sort.Strings(missing)
	for _, s := range missing {
		rep.Problems = append(rep.Problems, first.Problem(0, fmt.Sprintf("add %s to jira.oauth.scopes and run `sfjira auth jira` again", s),
			"the Jira OAuth grant lacks scope %s, needed to %s", s, need[s]))
	}
}

// sfNeeds is what the mappings need of one Salesforce object.
type sfNeeds struct {
	file           string          // the mapping file syncing the object (else the first reading it)
	owned          bool            // a mapping syncs the object itself
	create, update bool            // object permissions needed
	write          map[string]bool // fields written (lower case)
}

// salesforceNeeds lists every object the mappings touch and what they need of it: their own
// objects are updated (back-links, Jira → Salesforce fields) and created only with
// create_in_salesforce; parent objects behind relationship paths and activity objects are only
// read. sfjira never deletes Salesforce records.
func salesforceNeeds(ms []*mappings.Mapping, describe func(string) (*salesforce.SObjectDescribe, error)) (map[string]*sfNeeds, []string, error) {
	needs := map[string]*sfNeeds{}
	var order []string
	get := func(object, file string) *sfNeeds {
		k := strings.ToLower(object)
		n, ok := needs[k]
		if !ok {
			n = &sfNeeds{file: file, write: map[string]bool{}}
			needs[k] = n
			order = append(order, object)
		}
		return n
	}
	for _, m := range ms {
		own := get(m.Salesforce.Object, m.File)
		if !own.owned {
			own.file, own.owned = m.File, true
		}
		own.update = true
		own.create = own.create || m.Jira.CreateInSalesforce
		own.write[strings.ToLower(m.Salesforce.ExternalIDField)] = true
		if m.Salesforce.KeyField != "" {
			own.write[strings.ToLower(m.Salesforce.KeyField)] = true
		}
		var paths []string
		for _, f := range m.Fields {
			if f.FlowsToSF() && f.Expr == nil {
				own.write[strings.ToLower(f.SF)] = true
				if lf := f.LookupField(); lf != "" {
					// A lookup written back from Jira writes its lookup field, not the path it reads.
					own.write[strings.ToLower(lf)] = true
				}
			}
			if f.Expr != nil {
				paths = append(paths, f.Expr.Paths...)
			} else {
				paths = append(paths, f.SF)
			}
		}
		for _, r := range m.Activities {
			get(r.Object, m.File)
		}
		// Parent objects: walk each relationship path through describe.
		for _, p := range paths {
			parts := strings.Split(p, ".")
			object := m.Salesforce.Object
			for _, rel := range parts[:len(parts)-1] {
				d, err := describe(object)
				if err != nil {
					return nil, nil, err
				}
				next := ""
				for _, f := range d.Fields {
					if strings.EqualFold(f.RelationshipName, rel) && len(f.ReferenceTo) > 0 {
						next = f.ReferenceTo[0]
					}
				}
				if next == "" {
					break // CheckSalesforce reports the broken path
				}
				get(next, m.File)
				object = next
			}
		}
	}
	return needs, order, nil
}

// sfPrivilegeWarnings reports the Salesforce object and field permissions the integration user
// holds beyond what the mappings need, from describe (which Salesforce answers for the calling
// user): create/edit/delete on objects only read, delete anywhere, create without
// create_in_salesforce, and fields it may edit that no mapping writes.
func sfPrivilegeWarnings(ms []*mappings.Mapping, describe func(string) (*salesforce.SObjectDescribe, error)) ([]string, error) {
	needs, order, err := salesforceNeeds(ms, describe)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, object := range order {
		n := needs[strings.ToLower(object)]
		d, err := describe(object)
		if err != nil {
			return nil, err
		}
		var ops []string
		if d.Createable && !n.create {
			ops = append(ops, "create")
		}
		if d.Updateable && !n.update {
			ops = append(ops, "edit")
		}
		if d.Deletable {
			ops = append(ops, "delete")
		}
		if len(ops) > 0 {
			use := "only reads"
			if n.update {
				use = "updates but never " + map[bool]string{true: "deletes", false: "creates or deletes"}[n.create]
			}
			out = append(out, fmt.Sprintf("%s: the Salesforce integration user may %s %s records, which sfjira %s (least privilege: take %s away in the user's profile or permission set)",
				n.file, strings.Join(ops, ", "), object, use, strings.Join(ops, "/")))
		}
		if !n.update {
			continue // the object-level warning covers its fields
		}
		var editable []string
		for _, f := range d.Fields {
			if (f.Createable || f.Updateable) && !n.write[strings.ToLower(f.Name)] {
				editable = append(editable, f.Name)
			}
		}
		if len(editable) > 0 {
			sort.Strings(editable)
			list := editable
			more := ""
			if len(list) > 8 {
				list, more = list[:8], fmt.Sprintf(" and %d more", len(editable)-8)
			}
			out = append(out, fmt.Sprintf("%s: the Salesforce integration user may edit %d %s field(s) no mapping writes: %s%s (least privilege: make them read-only for the user with field-level security)",
				n.file, len(editable), object, strings.Join(list, ", "), more))
		}
	}
	return out, nil
}
