package activities

import (
	"context"
	"errors"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

// SyncActivitiesInput names the pair whose Salesforce activities (Tasks, Events) are written to
// its Jira issue.
type SyncActivitiesInput struct {
	Pair      string
	OriginKey string
	SfID      string
	IssueID   string
	// DryRun computes what would be written without writing.
	DryRun bool
}

// SyncActivitiesResult counts what was written; Planned describes each write (one line each).
type SyncActivitiesResult struct {
	Created  int
	Updated  int
	Skipped  int
	Planned  []string
	Warnings []string
}

// SyncActivities writes the activities logged on a record as comments or worklogs on its issue,
// following the mapping's `activities:` rules: one SOQL query per rule, then only what is new or
// changed since it was last written (content hash in activity_links). Creates are idempotent: the
// intent is recorded first, and a retry finds what an earlier attempt wrote by the closing
// "(from Salesforce …)" line before creating again. Comments written here are also recorded as
// mirrored, so they never come back to Salesforce as Chatter posts.
func (a *Activities) SyncActivities(ctx context.Context, in SyncActivitiesInput) (*SyncActivitiesResult, error) {
	m, err := a.Mappings.Mapping(in.Pair)
	if err != nil {
		return nil, err
	}
	res := &SyncActivitiesResult{}
	if len(m.Activities) == 0 || in.SfID == "" || in.IssueID == "" {
		return res, nil
	}
	links, err := a.Store.ActivityLinks(ctx, in.OriginKey)
	if err != nil {
		return nil, classify(err)
	}
	var comments []jira.Comment
	var worklogs []jira.Worklog
	listed := map[string]bool{}
	for _, rule := range m.Activities {
		var items []mappings.ActivityItem
		err := a.SF.QueryEach(ctx, rule.SOQL(in.SfID), func(r salesforce.Record) error {
			it, why, ok := rule.Item(r.Value)
			if !ok {
				res.Warnings = append(res.Warnings, why)
				res.Skipped++
				return nil
			}
			items = append(items, it)
			return nil
		})
		if err != nil {
			return nil, classify(err)
		}
		for _, it := range items {
			if activity.IsActivity(ctx) {
				activity.RecordHeartbeat(ctx, it.SfID)
			}
			prev, known := links[it.Kind+"/"+it.SfID]
			if known && prev.JiraItemID != "" && prev.ContentHash == it.Hash && prev.JiraIssueID == in.IssueID {
				continue
			}
			link := store.ActivityLink{SfActivityID: it.SfID, Kind: it.Kind, OriginKey: in.OriginKey, JiraIssueID: in.IssueID, ContentHash: it.Hash}
			body := mappings.TextToADF(it.Text)
			if known && prev.JiraItemID != "" && prev.JiraIssueID == in.IssueID {
				res.Planned = append(res.Planned, "update "+it.Kind+" "+prev.JiraItemID+" from "+rule.Object+" "+it.SfID)
				if in.DryRun {
					res.Updated++
					continue
				}
				if it.Kind == mappings.ActivityComment {
					err = a.Jira.EditComment(ctx, in.IssueID, prev.JiraItemID, body)
				} else {
					err = a.Jira.EditWorklog(ctx, in.IssueID, prev.JiraItemID, jira.WorklogInput{Started: it.Started, TimeSpentSeconds: it.Seconds, Comment: body})
				}
				if err != nil && !jira.IsNotFound(err) {
					return nil, classify(err)
				}
				if err == nil {
					link.JiraItemID = prev.JiraItemID
					if err := a.Store.SaveActivityLink(ctx, link); err != nil {
						return nil, classify(err)
					}
					res.Updated++
					continue
				}
				// Deleted in Jira meanwhile: write it again below.
			}
			res.Planned = append(res.Planned, "create "+it.Kind+" from "+rule.Object+" "+it.SfID)
			if in.DryRun {
				res.Created++
				continue
			}
			if known && prev.JiraItemID == "" {
				// An earlier attempt may have written it before it could record the id.
				if !listed[it.Kind] {
					if it.Kind == mappings.ActivityComment {
						comments, err = a.Jira.Comments(ctx, in.IssueID)
					} else {
						worklogs, err = a.Jira.Worklogs(ctx, in.IssueID)
					}
					if err != nil {
						return nil, classify(err)
					}
					listed[it.Kind] = true
				}
				if id := findWritten(it, rule.Object, comments, worklogs); id != "" {
					link.JiraItemID = id
				}
			}
			if link.JiraItemID == "" {
				intent := link
				if err := a.Store.SaveActivityLink(ctx, intent); err != nil {
					return nil, classify(err)
				}
				if it.Kind == mappings.ActivityComment {
					c, err := a.Jira.AddComment(ctx, in.IssueID, body)
					if err != nil {
						return nil, classify(err)
					}
					link.JiraItemID = c.ID
				} else {
					w, err := a.Jira.AddWorklog(ctx, in.IssueID, jira.WorklogInput{Started: it.Started, TimeSpentSeconds: it.Seconds, Comment: body})
					if err != nil {
						return nil, classify(err)
					}
					link.JiraItemID = w.ID
				}
			}
			if it.Kind == mappings.ActivityComment {
				if err := a.Store.RecordMirroredComment(ctx, in.OriginKey, link.JiraItemID, it.SfID); err != nil {
					return nil, classify(err)
				}
			}
			if err := a.Store.SaveActivityLink(ctx, link); err != nil {
				return nil, classify(err)
			}
			res.Created++
		}
	}
	if a.Log != nil && !in.DryRun && (res.Created+res.Updated) > 0 {
		a.Log.Info("activities written to Jira", zap.String("origin", in.OriginKey), zap.Int("created", res.Created), zap.Int("updated", res.Updated))
	}
	return res, nil
}

// findWritten finds the comment or worklog an earlier attempt wrote for an activity, by the
// closing marker line naming the Salesforce record.
func findWritten(it mappings.ActivityItem, object string, comments []jira.Comment, worklogs []jira.Worklog) string {
	marker := mappings.ActivityMarker(object, it.SfID)
	if it.Kind == mappings.ActivityComment {
		for _, c := range comments {
			if strings.HasSuffix(strings.TrimSpace(mappings.ADFToText(c.Body)), marker) {
				return c.ID
			}
		}
		return ""
	}
	for _, w := range worklogs {
		if strings.HasSuffix(strings.TrimSpace(mappings.ADFToText(w.Comment)), marker) {
			return w.ID
		}
	}
	return ""
}

// isActivityComment reports whether a comment's text ends with the marker of a comment written
// from a Salesforce activity.
func isActivityComment(text string) bool {
	t := strings.TrimSpace(text)
	return strings.HasPrefix(t[strings.LastIndex(t, "\n")+1:], "(from Salesforce ") && strings.HasSuffix(t, ")")
}

// ActivityChangeEvents turns a change of an activity (a Task or Event from an Outbound Message,
// with its fields) into change events for the synced records it is logged on, so a call logged
// in Salesforce reaches the Jira issue in real time: the record's sync writes its activities.
// Only records already linked to an issue are signalled; others get theirs on their first sync.
func (a *Activities) ActivityChangeEvents(ctx context.Context, object string, fields map[string]string) ([]ChangeEvent, error) {
	var out []ChangeEvent
	for _, p := range a.Mappings.Pairs() {
		m, _ := a.Mappings.Mapping(p)
		seen := map[string]bool{}
		for _, r := range m.Activities {
			if !strings.EqualFold(r.Object, object) {
				continue
			}
			parent := fields[r.LinkField]
			if parent == "" || seen[parent] {
				continue
			}
			seen[parent] = true
			l, err := a.Store.LinkBySalesforceID(ctx, p, parent)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, classify(err)
			}
			out = append(out, ChangeEvent{Pair: p, Source: SourceSalesforce, SfID: parent, JiraIssueID: l.JiraIssueID, Trigger: TriggerSalesforceOutbound})
		}
	}
	return out, nil
}
