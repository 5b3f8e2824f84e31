package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sfjira/sfjira/internal/store"
)

// PlannedWrite is one field a sync would write, in the form the audit trail records it: the
// target system, the action, the field and the canonical values before and after.
type PlannedWrite struct {
	System string // "jira" or "salesforce"
	Action string // create, update, transition, link, …
	Field  string
	Label  string
	Before *string
	After  *string
}

// SyncPlan is what one sync of a record would do, computed by reading both systems and the
// store and writing nothing (`sfjira sync --dry-run`, `sfjira backfill --dry-run`).
type SyncPlan struct {
	Pair, SfObject, SfID, OriginKey string
	IssueID, IssueKey               string
	// Skip says why nothing would happen (e.g. pair_deleted); DeleteAction is the delete policy
	// that would run.
	Skip, DeleteAction string
	CreateJira         bool
	CreateSalesforce   bool
	Writes             []PlannedWrite
	// Activities lists the comments and worklogs that would be written from Tasks and Events.
	Activities []string
	// Triggers lists what the mapping triggers this sync fires would find or create in Jira.
	Triggers  []string
	Conflicts []ConflictNote
	Warnings  []string
}

// Empty reports whether the plan writes nothing.
func (p *SyncPlan) Empty() bool {
	return p.Skip == "" && p.DeleteAction == "" && len(p.Writes) == 0 && len(p.Activities) == 0 && len(p.Triggers) == 0
}

// PlanSync runs the read half of a sync pass for one Salesforce record (fetch both sides,
// transform, three-way merge) and returns the writes the write half would make, field by field
// with before and after values exactly as the audit would record them. It writes nothing.
func (a *Activities) PlanSync(ctx context.Context, pair, sfID string) (*SyncPlan, error) {
	b, err := a.Mappings.Bound(ctx, pair)
	if err != nil {
		return nil, err
	}
	m := b.Mapping
	p := &SyncPlan{Pair: pair, SfObject: m.Salesforce.Object, SfID: sfID, OriginKey: "sf/" + sfID}
	if l, err := a.Store.LinkBySalesforceID(ctx, pair, sfID); err == nil {
		p.OriginKey = l.OriginKey
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, classify(err)
	}
	src, err := a.FetchSalesforce(ctx, FetchSalesforceInput{Pair: pair, SfID: sfID})
	if err != nil {
		return nil, err
	}
	cur, err := a.FetchJira(ctx, FetchJiraInput{Pair: pair, OriginKey: p.OriginKey, LinkedIssueID: src.LinkedIssueID})
	if err != nil {
		return nil, err
	}
	p.IssueID, p.IssueKey = cur.IssueID, cur.IssueKey
	plan, err := a.Transform(ctx, TransformInput{Pair: pair, OriginKey: p.OriginKey, SF: *src, Jira: *cur})
	if err != nil {
		return nil, err
	}
	p.Conflicts, p.Warnings = plan.Conflicts, plan.Warnings
	switch {
	case plan.Skip != "":
		p.Skip = plan.Skip
		return p, nil
	case plan.DeleteAction != "":
		p.DeleteAction = plan.DeleteAction
		return p, nil
	case plan.CreateSalesforce:
		p.CreateSalesforce = true
		for _, k := range sortedAnyKeys(plan.SFFields) {
			p.Writes = append(p.Writes, PlannedWrite{System: "salesforce", Action: "create", Field: k, Label: k, After: strPtr(canonString(plan.SFFields[k]))})
		}
		return p, nil
	case plan.CreateJira:
		p.CreateJira = true
		for _, f := range sortedAnyKeys(plan.JiraFields) {
			p.Writes = append(p.Writes, PlannedWrite{System: "jira", Action: "create", Field: f, Label: label(b, f), After: strPtr(projectionOf(b, f, plan.JiraFields[f]))})
		}
		if plan.Status != "" {
			p.Writes = append(p.Writes, PlannedWrite{System: "jira", Action: "transition", Field: keyStatus, Label: "Status", After: strPtr(plan.Status)})
		}
		p.Writes = append(p.Writes, PlannedWrite{System: "salesforce", Action: "link", Field: m.Salesforce.ExternalIDField, Label: m.Salesforce.ExternalIDField,
			Before: strPtr(src.LinkedIssueID), After: strPtr("(id of the new issue)")})
		return p, nil
	}
	// Jira, as WriteJira would write it.
	for _, f := range sortedAnyKeys(plan.JiraFields) {
		p.Writes = append(p.Writes, PlannedWrite{System: "jira", Action: "update", Field: f, Label: label(b, f),
			Before: strPtr(cur.Projection[f]), After: strPtr(projectionOf(b, f, plan.JiraFields[f]))})
	}
	if plan.Status != "" && (cur.Projection[keyStatus] != plan.Status || cur.Projection[keyResolution] != plan.Resolution) {
		if cur.Projection[keyStatus] != plan.Status {
			p.Writes = append(p.Writes, PlannedWrite{System: "jira", Action: "transition", Field: keyStatus, Label: "Status", Before: strPtr(cur.Projection[keyStatus]), After: strPtr(plan.Status)})
		}
		if cur.Projection[keyResolution] != plan.Resolution {
			p.Writes = append(p.Writes, PlannedWrite{System: "jira", Action: "transition", Field: keyResolution, Label: "Resolution", Before: strPtr(cur.Projection[keyResolution]), After: strPtr(plan.Resolution)})
		}
	}
	// Salesforce, as WriteSalesforce would write it (fields plus the back-link when it is off).
	linkOK := src.LinkedIssueID == cur.IssueID && src.LinkedIssueKey == cur.IssueKey
	if len(plan.SFFields) > 0 || !linkOK {
		fields := map[string]any{}
		for k, v := range plan.SFFields {
			fields[k] = v
		}
		if cur.IssueID != "" && cur.IssueID != src.LinkedIssueID {
			fields[m.Salesforce.ExternalIDField] = cur.IssueID
		}
		if m.Salesforce.KeyField != "" && cur.IssueKey != "" && cur.IssueKey != src.LinkedIssueKey {
			fields[m.Salesforce.KeyField] = cur.IssueKey
		}
		for _, k := range sortedAnyKeys(fields) {
			action, before := "update", plan.SFBefore[k]
			switch k {
			case m.Salesforce.ExternalIDField:
				action, before = "link", src.LinkedIssueID
			case m.Salesforce.KeyField:
				action, before = "link", src.LinkedIssueKey
			}
			p.Writes = append(p.Writes, PlannedWrite{System: "salesforce", Action: action, Field: k, Label: k, Before: strPtr(before), After: strPtr(canonString(fields[k]))})
		}
	}
	for _, t := range plan.FiredTriggers {
		if t.VersionName != "" {
			line := fmt.Sprintf("%s fires: version %s (found by name or created)", t.Trigger, quoteShort(t.VersionName))
			if t.FixVersion {
				line += ", added to the fix versions of " + cur.IssueKey
			}
			p.Triggers = append(p.Triggers, line)
		}
		for _, s := range t.Stories {
			p.Triggers = append(p.Triggers, fmt.Sprintf("%s fires: %s %s %s under %s (unless already created)", t.Trigger, t.StoryType, s.Item, quoteShort(s.Summary), cur.IssueKey))
		}
	}
	if plan.HasActivities && cur.Found {
		act, err := a.SyncActivities(ctx, SyncActivitiesInput{Pair: pair, OriginKey: p.OriginKey, SfID: sfID, IssueID: cur.IssueID, DryRun: true})
		if err != nil {
			return nil, err
		}
		p.Activities = act.Planned
		p.Warnings = append(p.Warnings, act.Warnings...)
	}
	return p, nil
}

// Print renders the plan for people: one line per write, "system field: before → after".
func (p *SyncPlan) Print(w io.Writer) {
	target := p.IssueKey
	if target == "" {
		target = "(no issue yet)"
	}
	fmt.Fprintf(w, "%s %s ⇄ Jira %s (pair %s)\n", p.SfObject, p.SfID, target, p.Pair)
	switch {
	case p.Skip != "":
		fmt.Fprintf(w, "  nothing to do: %s\n", p.Skip)
		return
	case p.DeleteAction != "":
		fmt.Fprintf(w, "  would apply the delete policy: %s\n", p.DeleteAction)
		return
	case p.CreateJira:
		fmt.Fprintln(w, "  would create the Jira issue:")
	case p.CreateSalesforce:
		fmt.Fprintln(w, "  would create the Salesforce record:")
	case p.Empty():
		fmt.Fprintln(w, "  in step: nothing would be written")
	}
	for _, wr := range p.Writes {
		before := "(empty)"
		if wr.Before != nil && *wr.Before != "" {
			before = quoteShort(*wr.Before)
		}
		after := "(empty)"
		if wr.After != nil && *wr.After != "" {
			after = quoteShort(*wr.After)
		}
		name := wr.Label
		if name != wr.Field {
			name += " (" + wr.Field + ")"
		}
		if wr.Action == "create" {
			fmt.Fprintf(w, "  %-10s %-10s %s = %s\n", wr.System, wr.Action, name, after)
			continue
		}
		fmt.Fprintf(w, "  %-10s %-10s %s: %s → %s\n", wr.System, wr.Action, name, before, after)
	}
	for _, s := range p.Activities {
		fmt.Fprintf(w, "  %-10s %-10s %s\n", "jira", "activity", s)
	}
	for _, s := range p.Triggers {
		fmt.Fprintf(w, "  %-10s %-10s %s\n", "jira", "trigger", s)
	}
	for _, c := range p.Conflicts {
		fmt.Fprintf(w, "  conflict (held for a decision): %s: Salesforce %s, Jira %s\n", c.Label, quoteShort(c.SFValue), quoteShort(c.JiraValue))
	}
	for _, s := range p.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", s)
	}
}

func quoteShort(s string) string {
	s = strings.ReplaceAll(s, "\n", "⏎")
	if r := []rune(s); len(r) > 80 {
		s = string(r[:79]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
