package activities

import (
	"context"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/mappings"
)

// checkLinkTypes adds a preflight problem for every link_type of m the Jira site lacks; it
// asks Jira only when the mapping has a lookup written as an issue link.
func checkLinkTypes(ctx context.Context, jc *jira.Client, m *mappings.Mapping, rep *mappings.PreflightReport) error {
	uses := false
	for _, f := range m.Fields {
		uses = uses || f.LinkType != ""
	}
	if !uses {
		return nil
	}
	types, err := jc.IssueLinkTypes(ctx)
	if err != nil {
		return fmt.Errorf("preflight: Jira issue link types: %w", err)
	}
	names := make([]string, 0, len(types))
	for _, t := range types {
		names = append(names, t.Name)
	}
	rep.Merge(m.CheckLinkTypes(names))
	return nil
}

// splitIssueLink takes the issue-link lookup out of the fields to write, since Jira refuses
// issuelinks in create and edit requests; ok says whether the plan changes the link.
func splitIssueLink(b *mappings.Bound, fields map[string]any) (rest map[string]any, want any, ok bool) {
	bf, has := b.IssueLinkField()
	if !has {
		return fields, nil, false
	}
	want, ok = fields[bf.JiraID]
	if !ok {
		return fields, nil, false
	}
	rest = make(map[string]any, len(fields))
	for k, v := range fields {
		if k != bf.JiraID {
			rest[k] = v
		}
	}
	return rest, want, true
}

// writeIssueLink makes issueID carry exactly one link of the mapping's link type, to the issue
// in want ({"id": …}), or none when want is empty. It reads the issue's links first, so a
// retried or repeated sync deletes only what is wrong and never creates a second link.
func (a *Activities) writeIssueLink(ctx context.Context, b *mappings.Bound, issueID string, want any) ([]FieldChange, error) {
	bf, _ := b.IssueLinkField()
	target := projectionOf(b, bf.JiraID, want)
	got, err := a.Jira.GetIssue(ctx, issueID, []string{bf.JiraID}, nil)
	if err != nil {
		return nil, classify(err)
	}
	before := b.ProjectJira(got.Fields)[bf.JiraID]
	have := false
	for _, l := range got.Links() {
		if !strings.EqualFold(l.Type.Name, bf.LinkType) || l.OutwardIssue == nil {
			continue
		}
		if l.OutwardIssue.ID == target && !have {
			have = true
			continue
		}
		if err := a.Jira.DeleteIssueLink(ctx, l.ID); err != nil && !jira.IsNotFound(err) {
			return nil, classify(err)
		}
	}
	if target != "" && !have {
		if err := a.Jira.CreateIssueLink(ctx, bf.LinkType, issueID, target); err != nil {
			return nil, classify(err)
		}
	}
	if before == target {
		return nil, nil
	}
	a.Log.Info("jira issue link written", zap.String("issue", issueID), zap.String("link_type", bf.LinkType),
		zap.String("before", before), zap.String("after", target))
	return []FieldChange{{Action: "update", Field: bf.JiraID, Label: label(b, bf.JiraID), Before: strPtr(before), After: strPtr(target)}}, nil
}
