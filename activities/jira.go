package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

// Projection keys for the workflow status and resolution; every other key is a Jira field id.
const (
	keyStatus     = "status"
	keyResolution = "resolution"
)

// DefaultSearchLagWindow is how long a retried create keeps looking for an issue an earlier
// attempt may have created, because Jira's search index is eventually consistent.
const DefaultSearchLagWindow = 15 * time.Second

// FetchJira reads the linked Jira issue of a pair, found by the link row or by the back-link on
// the Salesforce record, and maps it: the canonical values of the fields that flow to Jira and the
// Salesforce values of the fields that flow back. A pair whose issue does not exist yet comes back
// with Found false; an issue that was deleted with Deleted true.
func (a *Activities) FetchJira(ctx context.Context, in FetchJiraInput) (*JiraState, error) {
	b, err := a.Mappings.Bound(ctx, in.Pair)
	if err != nil {
		return nil, err
	}
	st := &JiraState{}
	issueID := in.LinkedIssueID
	link, err := a.Store.GetLink(ctx, in.OriginKey)
	switch {
	case err == nil && link.JiraIssueID != "":
		issueID = link.JiraIssueID
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, classify(err)
	}
	if issueID == "" {
		if strings.HasPrefix(in.OriginKey, "jira/") {
			issueID = strings.TrimPrefix(in.OriginKey, "jira/")
		} else {
			return st, nil
		}
	}
	issue, err := a.Jira.GetIssue(ctx, issueID, append(b.JiraFieldIDs(), "updated"), nil)
	if err != nil {
		if jira.IsNotFound(err) {
			st.Deleted = link != nil || strings.HasPrefix(in.OriginKey, "jira/") || in.LinkedIssueID != ""
			st.IssueID = issueID
			return st, nil
		}
		return nil, classify(err)
	}
	st.Found = true
	st.IssueID = issue.ID
	st.IssueKey = issue.Key
	st.Projection = b.ProjectJira(issue.Fields)
	st.SFValues = b.ToSalesforce(issue.Fields)
	st.SFProjection = b.ProjectSalesforceValues(st.SFValues)
	st.LookupKeys = b.LinkedIssueKeys(issue.Fields)
	st.SFProblems = b.SalesforceProblems("Jira issue "+issue.Key, issue.Fields)
	st.Updated = issue.FieldString("updated")
	return st, nil
}

// WriteJira makes the Jira issue match the plan: it creates the issue when the pair has none
// (idempotently, see createOnce), edits only the planned fields, walks the workflow to the target
// status and resolution, or applies the delete policy (label the issue, or delete it).
func (a *Activities) WriteJira(ctx context.Context, in WriteJiraInput) (out *WriteJiraResult, outErr error) {
	defer func() {
		if outErr == nil && out != nil && !out.Stale && len(out.Changes) > 0 && in.DeleteAction == "" && !in.MarkOrigin {
			a.Metrics.RecordsSynced(a.objectOf(in.Pair), DirectionSFToJira, 1)
		}
	}()
	b, err := a.Mappings.Bound(ctx, in.Pair)
	if err != nil {
		return nil, err
	}
	m := b.Mapping
	res := &WriteJiraResult{IssueID: in.IssueID}
	switch in.DeleteAction {
	case "mark_jira":
		got, err := a.Jira.GetIssue(ctx, in.IssueID, []string{"labels"}, nil)
		if err != nil {
			return nil, classify(err)
		}
		var labels []string
		_ = json.Unmarshal(got.Fields["labels"], &labels)
		if !slices.Contains(labels, DeletedLabel) {
			if err := a.Jira.EditIssue(ctx, in.IssueID, map[string]any{"labels": append(labels, DeletedLabel)}); err != nil {
				return nil, classify(err)
			}
		}
		res.Changes = append(res.Changes, FieldChange{Action: "mark_deleted", Field: "labels", Label: "Labels", After: strPtr(DeletedLabel)})
		return res, nil
	case "delete_jira":
		if err := a.Jira.DeleteIssue(ctx, in.IssueID); err != nil && !jira.IsNotFound(err) {
			return nil, classify(err)
		}
		res.Changes = append(res.Changes, FieldChange{Action: "delete", Field: "issue", Label: "Issue", Before: strPtr(in.IssueID)})
		return res, nil
	case "":
	default:
		return res, nil
	}
	if in.MarkOrigin {
		if err := a.Jira.SetProperty(ctx, in.IssueID, m.Jira.Property, map[string]any{
			"origin": in.OriginKey, "pair": in.Pair, "sf_object": m.Salesforce.Object, "sf_id": in.SfID,
		}); err != nil {
			return nil, classify(err)
		}
		res.Changes = append(res.Changes, FieldChange{Action: "link", Field: "property:" + m.Jira.Property, Label: "origin property", After: strPtr(in.OriginKey)})
		return res, nil
	}
	var linkWant any
	var hasLink bool
	in.Fields, linkWant, hasLink = splitIssueLink(b, in.Fields)
	current := in.Before
	if in.Create {
		issue, created, err := a.createOnce(ctx, b, in)
		if err != nil {
			return nil, err
		}
		res.IssueID, res.IssueKey, res.Created = issue.ID, issue.Key, created
		if created {
			for _, f := range sortedAnyKeys(in.Fields) {
				res.Changes = append(res.Changes, FieldChange{Action: "create", Field: f, Label: label(b, f), After: strPtr(projectionOf(b, f, in.Fields[f]))})
			}
		}
		// Read back what is there now: a previous attempt may have created it with older values.
		got, err := a.Jira.GetIssue(ctx, issue.ID, b.JiraFieldIDs(), nil)
		if err != nil {
			return nil, classify(err)
		}
		current = b.ProjectJira(got.Fields)
		if !created {
			// Adopted an issue an earlier attempt created: bring every field up to date.
			for k, v := range in.Fields {
				if current[k] != projectionOf(b, k, v) {
					if err := a.Jira.EditIssue(ctx, res.IssueID, map[string]any{k: v}); err != nil {
						return nil, classify(err)
					}
				}
			}
		}
	}
	var beforeRaw map[string]json.RawMessage
	if !in.Create && in.ExpectUpdated != "" && (len(in.Fields) > 0 || in.Status != "") {
		// One read serves the optimistic-concurrency check and the exact before-image.
		got, err := a.Jira.GetIssue(ctx, in.IssueID, append(sortedAnyKeys(in.Fields), "updated", keyStatus, keyResolution), nil)
		if err != nil {
			return nil, classify(err)
		}
		if got.FieldString("updated") != in.ExpectUpdated {
			if !ownEarlierJiraWrite(b, got.Fields, in.Fields) {
				res.Stale = true
				return res, nil
			}
			// An earlier attempt of this activity already wrote these values (it was cut off
			// before reporting back): going on is idempotent, whereas planning again would take
			// our own write for a person's edit. The before-image stays the planned one.
			now := b.ProjectJira(got.Fields)
			current = copyProjection(current)
			current[keyStatus], current[keyResolution] = now[keyStatus], now[keyResolution]
		} else {
			beforeRaw = got.Fields
		}
	}
	if !in.Create && len(in.Fields) > 0 {
		if err := a.Jira.EditIssue(ctx, res.IssueID, in.Fields); err != nil {
			return nil, classify(err)
		}
		for _, f := range sortedAnyKeys(in.Fields) {
			res.Changes = append(res.Changes, FieldChange{Action: "update", Field: f, Label: label(b, f), Before: strPtr(current[f]),
				After: strPtr(projectionOf(b, f, in.Fields[f])), BeforeRaw: beforeRaw[f]})
		}
	}

	if hasLink && !res.Stale {
		changes, err := a.writeIssueLink(ctx, b, res.IssueID, linkWant)
		if err != nil {
			return nil, err
		}
		res.Changes = append(res.Changes, changes...)
	}

	if in.Status != "" && (current[keyStatus] != in.Status || current[keyResolution] != in.Resolution) {
		if err := a.moveToStatus(ctx, b, res.IssueID, current[keyStatus], in.Status, in.Resolution); err != nil {
			return nil, err
		}
		if current[keyStatus] != in.Status {
			res.Changes = append(res.Changes, FieldChange{Action: "transition", Field: keyStatus, Label: "Status", Before: strPtr(current[keyStatus]), After: strPtr(in.Status)})
		}
		if current[keyResolution] != in.Resolution {
			res.Changes = append(res.Changes, FieldChange{Action: "transition", Field: keyResolution, Label: "Resolution", Before: strPtr(current[keyResolution]), After: strPtr(in.Resolution)})
		}
	}
	if res.IssueKey == "" {
		res.IssueKey = in.IssueKey
	}
	a.Log.Info("jira issue written", zap.String("pair", in.Pair), zap.String("sf_id", in.SfID),
		zap.String("jira_key", res.IssueKey), zap.Bool("created", res.Created), zap.Int("changes", len(res.Changes)),
		zap.String("direction", DirectionSFToJira), zap.String("project", m.Jira.Project))
	return res, nil
}

// DeletedLabel marks a Jira issue whose Salesforce record was deleted (on_delete: mark).
const DeletedLabel = "salesforce-deleted"

// projectionOf is the canonical form of one Jira wire value, as ProjectJira would read it back.
func projectionOf(b *mappings.Bound, field string, v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return b.ProjectJira(map[string]json.RawMessage{field: raw})[field]
}

// createOnce creates the pair's issue at most once across retries and worker crashes: the intent
// is recorded in PostgreSQL first, the origin property is set in the create request itself, and a
// retry looks for the issue (link row, then property JQL, waiting out search-index lag) before
// creating again.
func (a *Activities) createOnce(ctx context.Context, b *mappings.Bound, in WriteJiraInput) (*jira.CreatedIssue, bool, error) {
	m := b.Mapping
	link, err := a.Store.GetLink(ctx, in.OriginKey)
	switch {
	case err == nil && link.JiraIssueID != "":
		return &jira.CreatedIssue{ID: link.JiraIssueID, Key: link.JiraIssueKey}, false, nil
	case err == nil:
		// An intent without an issue id: an earlier attempt may have created the issue.
		found, err := a.findByOrigin(ctx, m, in.OriginKey, a.searchLagWindow())
		if err != nil {
			return nil, false, err
		}
		if found != nil {
			return found, false, a.saveLink(ctx, m, in, found)
		}
	case errors.Is(err, store.ErrNotFound):
		if err := a.Store.RecordCreateIntent(ctx, store.Link{OriginKey: in.OriginKey, Pair: in.Pair, SfObject: m.Salesforce.Object, SfID: in.SfID}); err != nil {
			return nil, false, classify(err)
		}
		// A first-time pair can still have an issue, e.g. when the state database was restored
		// from an older backup; the indexed lookup is cheap.
		found, err := a.findByOrigin(ctx, m, in.OriginKey, 0)
		if err != nil {
			return nil, false, err
		}
		if found != nil {
			return found, false, a.saveLink(ctx, m, in, found)
		}
	default:
		return nil, false, classify(err)
	}

	fields := map[string]any{
		"project":   map[string]any{"key": m.Jira.Project},
		"issuetype": map[string]any{"name": m.Jira.IssueType},
	}
	for k, v := range in.Fields {
		if v != nil {
			fields[k] = v
		}
	}
	created, err := a.Jira.CreateIssue(ctx, jira.IssueInput{
		Fields: fields,
		Properties: []jira.EntityProperty{{Key: m.Jira.Property, Value: map[string]any{
			"origin": in.OriginKey, "pair": in.Pair, "sf_object": m.Salesforce.Object, "sf_id": in.SfID,
		}}},
	})
	if err != nil {
		return nil, false, classify(err)
	}
	return created, true, a.saveLink(ctx, m, in, created)
}

func (a *Activities) saveLink(ctx context.Context, m *mappings.Mapping, in WriteJiraInput, issue *jira.CreatedIssue) error {
	return classify(a.Store.SaveLink(ctx, store.Link{OriginKey: in.OriginKey, Pair: in.Pair, SfObject: m.Salesforce.Object,
		SfID: in.SfID, JiraIssueID: issue.ID, JiraIssueKey: issue.Key}))
}

func (a *Activities) searchLagWindow() time.Duration {
	if a.SearchLagWindow > 0 {
		return a.SearchLagWindow
	}
	return DefaultSearchLagWindow
}

// findByOrigin searches for issues carrying the pair's origin property. With wait > 0 it keeps
// searching for that long before concluding there is none.
func (a *Activities) findByOrigin(ctx context.Context, m *mappings.Mapping, originKey string, wait time.Duration) (*jira.CreatedIssue, error) {
	jql := fmt.Sprintf(`project = "%s" AND issue.property[%s].origin = "%s"`, m.Jira.Project, m.Jira.Property, originKey)
	deadline := time.Now().Add(wait)
	for {
		page, err := a.Jira.Search(ctx, jira.SearchRequest{JQL: jql, Fields: []string{"key"}, MaxResults: 10})
		if err != nil {
			return nil, classify(err)
		}
		switch len(page.Issues) {
		case 0:
		case 1:
			return &jira.CreatedIssue{ID: page.Issues[0].ID, Key: page.Issues[0].Key}, nil
		default:
			keys := make([]string, 0, len(page.Issues))
			for _, is := range page.Issues {
				keys = append(keys, is.Key)
			}
			return nil, newError(catalog.JiraDuplicateIssues, fmt.Sprintf("issues %s all carry origin %s", strings.Join(keys, ", "), originKey), nil)
		}
		if time.Now().After(deadline) {
			return nil, nil
		}
		activity.RecordHeartbeat(ctx, "waiting for Jira search index")
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// moveToStatus walks the Jira workflow from the issue's status to the target one, one available
// transition at a time. Workflows need not have global transitions: when the target is not
// directly reachable it steps to a status it has not visited yet (preferring in-progress ones)
// and looks again. Entering the target sets the resolution when one is wanted: through the
// transition the mapping names for it (whose post-function sets it), else on the screen.
func (a *Activities) moveToStatus(ctx context.Context, b *mappings.Bound, issueID, from, target, resolution string) error {
	var m *mappings.Mapping
	if b != nil {
		m = b.Mapping
	}
	route := routeFor(m, target, resolution, "")
	visited := map[string]bool{strings.ToLower(from): true}
	current := from
	needLeave := strings.EqualFold(from, target) // same status, different resolution: leave and come back
	for step := 0; step < 8; step++ {
		ts, err := a.Jira.Transitions(ctx, issueID)
		if err != nil {
			return classify(err)
		}
		c, ok := chooseStep(ts, route, visited, needLeave)
		if !ok {
			break
		}
		if c.direct {
			var fields map[string]any
			if c.screen {
				fields = map[string]any{"resolution": map[string]any{"name": resolution}}
			}
			if err := a.Jira.DoTransition(ctx, issueID, c.t.ID, fields); err != nil {
				return classify(err)
			}
			return nil
		}
		if err := a.Jira.DoTransition(ctx, issueID, c.t.ID, nil); err != nil {
			return classify(err)
		}
		needLeave = false
		current = c.t.To.Name
		visited[strings.ToLower(current)] = true
	}
	return newError(catalog.JiraStatusUnreachable, fmt.Sprintf("issue %s: status %q cannot be reached from %q through the workflow's transitions (stopped at %q)", issueID, target, from, current), nil)
}

// label returns the Jira display name of a bound field id, or the id itself.
func label(b *mappings.Bound, id string) string {
	for _, f := range b.Fields {
		if f.JiraID == id {
			return f.JiraName
		}
	}
	return id
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ownEarlierJiraWrite reports whether the issue already holds every value the write would set,
// which after an `updated` change means an earlier attempt of the same write got through.
func ownEarlierJiraWrite(b *mappings.Bound, got map[string]json.RawMessage, fields map[string]any) bool {
	if len(fields) == 0 {
		return false
	}
	now := b.ProjectJira(got)
	for k, v := range fields {
		if now[k] != projectionOf(b, k, v) {
			return false
		}
	}
	return true
}

func copyProjection(p mappings.Projection) mappings.Projection {
	out := make(mappings.Projection, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}
