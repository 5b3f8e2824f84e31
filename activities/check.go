package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/mappings"
)

// CheckProblem is one way a pair is out of step.
type CheckProblem struct {
	SfID     string `json:"sf_id"`
	IssueKey string `json:"jira_key,omitempty"`
	Kind     string `json:"kind"`
	Detail   string `json:"detail"`
}

// Kinds of CheckProblem.
const (
	ProblemMissingIssue    = "missing_issue"
	ProblemDuplicateIssues = "duplicate_issues"
	ProblemBackLink        = "back_link"
	ProblemFieldDrift      = "field_drift"
	ProblemInvalidSource   = "invalid_source"
	ProblemOrphanIssue     = "orphan_issue"
)

// CheckReport compares every record in a pair's scope with its Jira issue.
type CheckReport struct {
	Pair     string         `json:"pair"`
	Records  int            `json:"records"`
	Issues   int            `json:"issues"`
	InSync   int            `json:"in_sync"`
	Problems []CheckProblem `json:"problems"`
}

// OK reports whether every record has exactly one matching, back-linked issue.
func (r *CheckReport) OK() bool { return len(r.Problems) == 0 }

// CheckPair reads both sides of a pair in bulk (SOQL pages, JQL pages) and reports, per record,
// whether it has exactly one Jira issue carrying its origin, whether the back-links agree, and
// whether the issue's mapped values match the record. It writes nothing.
func (a *Activities) CheckPair(ctx context.Context, pair string) (*CheckReport, error) {
	b, err := a.Mappings.Bound(ctx, pair)
	if err != nil {
		return nil, err
	}
	m := b.Mapping
	rep := &CheckReport{Pair: pair}
	byOrigin := map[string][]*jira.Issue{}
	err = a.Jira.SearchEach(ctx, jira.SearchRequest{
		JQL:        fmt.Sprintf(`project = "%s" AND issuetype = "%s" ORDER BY key ASC`, m.Jira.Project, m.Jira.IssueType),
		Fields:     append(b.JiraFieldIDs(), "key"),
		Properties: []string{m.Jira.Property, mappings.TriggerProperty},
		MaxResults: 100,
	}, func(is *jira.Issue) error {
		if _, byTrigger := is.Properties[mappings.TriggerProperty]; byTrigger && is.Properties[m.Jira.Property] == nil {
			return nil // created by a mapping trigger under another pair's issue, not a pair itself
		}
		rep.Issues++
		var prop struct {
			Origin string `json:"origin"`
		}
		_ = json.Unmarshal(is.Properties[m.Jira.Property], &prop)
		cp := *is
		byOrigin[prop.Origin] = append(byOrigin[prop.Origin], &cp)
		return nil
	})
	if err != nil {
		return nil, err
	}
	states, err := a.Store.PairStates(ctx, pair)
	if err != nil {
		return nil, err
	}
	open, err := a.Store.OpenConflicts(ctx, "")
	if err != nil {
		return nil, err
	}
	held := map[string]bool{}
	for _, c := range open {
		held[c.OriginKey+"|"+c.Field] = true
	}
	fieldsByKey := map[string]mergeField{}
	for _, f := range mergeFields(b) {
		fieldsByKey[f.Key] = f
	}
	seen := map[string]bool{}
	err = a.SF.QueryEach(ctx, m.SOQL(""), func(rec salesforce.Record) error {
		rep.Records++
		id := rec.ID()
		src := &FetchSalesforceResult{Found: true, SfID: id, Values: map[string]any{}}
		for _, f := range m.SOQLFields() {
			src.Values[f], _ = rec.Value(f)
		}
		src.LinkedIssueID = str(src.Values[m.Salesforce.ExternalIDField])
		src.LinkedIssueKey = str(src.Values[m.Salesforce.KeyField])
		origin := "sf/" + id
		issues := byOrigin[origin]
		if len(issues) == 0 && src.LinkedIssueID != "" {
			// A pair that started in Jira carries the Jira origin.
			for o, list := range byOrigin {
				if o == "jira/"+src.LinkedIssueID {
					origin, issues = o, list
				}
			}
		}
		seen[origin] = true
		switch len(issues) {
		case 0:
			rep.Problems = append(rep.Problems, CheckProblem{SfID: id, Kind: ProblemMissingIssue, Detail: "no Jira issue carries origin " + origin})
			return nil
		case 1:
		default:
			keys := []string{}
			for _, is := range issues {
				keys = append(keys, is.Key)
			}
			rep.Problems = append(rep.Problems, CheckProblem{SfID: id, Kind: ProblemDuplicateIssues, Detail: strings.Join(keys, ", ")})
			return nil
		}
		is := issues[0]
		ok := true
		if src.LinkedIssueID != is.ID || src.LinkedIssueKey != is.Key {
			ok = false
			rep.Problems = append(rep.Problems, CheckProblem{SfID: id, IssueKey: is.Key, Kind: ProblemBackLink,
				Detail: fmt.Sprintf("%s/%s on the record are %q/%q, the issue is %s/%s", m.Salesforce.ExternalIDField, m.Salesforce.KeyField, src.LinkedIssueID, src.LinkedIssueKey, is.ID, is.Key)})
		}
		js := &JiraState{Found: true, IssueID: is.ID, IssueKey: is.Key, Projection: b.ProjectJira(is.Fields)}
		js.SFValues = b.ToSalesforce(is.Fields)
		js.SFProjection = b.ProjectSalesforceValues(js.SFValues)
		sfSide, jiraSide, err := sidesOf(b, src, js)
		if err != nil {
			rep.Problems = append(rep.Problems, CheckProblem{SfID: id, IssueKey: is.Key, Kind: ProblemInvalidSource, Detail: err.Error()})
			return nil
		}
		st := states[origin]
		var parts []string
		for _, k := range sortedKeys(sfSide) {
			if sfSide[k] == jiraSide[k] || held[origin+"|"+k] {
				continue
			}
			f := fieldsByKey[k]
			// A Jira status moved in Jira is kept on purpose when the snapshot recorded it so;
			// a field held by a manual conflict is listed by `sfjira conflicts list` instead.
			if st != nil && st.SfSnapshot[k] == sfSide[k] && st.JiraSnapshot[k] == jiraSide[k] && (f.IsStatus || st.SfSnapshot[k] != st.JiraSnapshot[k]) {
				continue
			}
			parts = append(parts, fmt.Sprintf("%s: Jira %q, Salesforce %q", f.Label, jiraSide[k], sfSide[k]))
		}
		if len(parts) > 0 {
			ok = false
			rep.Problems = append(rep.Problems, CheckProblem{SfID: id, IssueKey: is.Key, Kind: ProblemFieldDrift, Detail: strings.Join(parts, "; ")})
		}
		if ok {
			rep.InSync++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for origin, issues := range byOrigin {
		if !seen[origin] {
			if l, err := a.Store.GetLink(ctx, origin); err == nil && l.State == "deleted" {
				continue // the record was deleted and the pair closed by its delete policy
			}
			for _, is := range issues {
				rep.Problems = append(rep.Problems, CheckProblem{IssueKey: is.Key, Kind: ProblemOrphanIssue, Detail: fmt.Sprintf("origin %q matches no record in scope", origin)})
			}
		}
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool {
		if rep.Problems[i].SfID != rep.Problems[j].SfID {
			return rep.Problems[i].SfID < rep.Problems[j].SfID
		}
		return rep.Problems[i].IssueKey < rep.Problems[j].IssueKey
	})
	return rep, nil
}
