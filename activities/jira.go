package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// Transform maps the Salesforce values to the Jira fields, status and resolution the issue should
// have. It is pure and deterministic for a given mapping version.
func (a *Activities) Transform(ctx context.Context, in TransformInput) (*TransformResult, error) {
	b, err := a.Mappings.Bound(ctx, in.Pair)
	if err != nil {
		return nil, err
	}
	m := b.Mapping
	values := in.Values
	d, err := b.ToJira(fmt.Sprintf("%s %s", m.Salesforce.Object, in.SfID), func(path string) (any, bool) {
		v, ok := values[path]
		return v, ok
	})
	if err != nil {
		return nil, classify(err)
	}
	return &TransformResult{
		Fields:         d.Fields,
		Projection:     d.Projection,
		Status:         d.Status,
		Resolution:     d.Resolution,
		MappingVersion: m.Version,
		JiraProject:    m.Jira.Project,
		JiraIssueType:  m.Jira.IssueType,
		Warnings:       d.Warnings,
	}, nil
}

// FetchJira reads the linked Jira issue of a pair, found by the link row or by the back-link on
// the Salesforce record. A pair whose issue does not exist yet comes back with Found false.
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
	if ps, err := a.Store.GetPairState(ctx, in.OriginKey); err == nil {
		st.SnapshotHash = ps.SfHash
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, classify(err)
	}
	if issueID == "" {
		return st, nil
	}
	issue, err := a.Jira.GetIssue(ctx, issueID, append(b.JiraFieldIDs(), "updated"), nil)
	if err != nil {
		if jira.IsNotFound(err) {
			return nil, newError(catalog.JiraNotFound, fmt.Sprintf("Jira issue %s linked to %s no longer exists or is not visible to the integration user", issueID, in.OriginKey), nil)
		}
		return nil, classify(err)
	}
	st.Found = true
	st.IssueID = issue.ID
	st.IssueKey = issue.Key
	st.Projection = b.ProjectJira(issue.Fields)
	st.Updated = issue.FieldString("updated")
	return st, nil
}

// WriteJira makes the Jira issue match the desired state: it creates the issue when the pair has
// none (idempotently, see createOnce), edits only the fields that differ, and walks the workflow
// to the target status and resolution.
func (a *Activities) WriteJira(ctx context.Context, in WriteJiraInput) (*WriteJiraResult, error) {
	b, err := a.Mappings.Bound(ctx, in.Pair)
	if err != nil {
		return nil, err
	}
	m := b.Mapping
	res := &WriteJiraResult{}
	current := in.Current.Projection
	if !in.Current.Found {
		issue, created, err := a.createOnce(ctx, b, in)
		if err != nil {
			return nil, err
		}
		res.IssueID, res.IssueKey, res.Created = issue.ID, issue.Key, created
		if created {
			for _, f := range sortedKeys(in.Desired.Projection) {
				if f == keyStatus || f == keyResolution || in.Desired.Projection[f] == "" {
					continue
				}
				res.Changes = append(res.Changes, FieldChange{Action: "create", Field: f, Label: label(b, f), After: strPtr(in.Desired.Projection[f])})
			}
		}
		// Read back what is there now: a previous attempt may have created it with older values.
		got, err := a.Jira.GetIssue(ctx, issue.ID, b.JiraFieldIDs(), nil)
		if err != nil {
			return nil, classify(err)
		}
		current = b.ProjectJira(got.Fields)
	} else {
		res.IssueID, res.IssueKey = in.Current.IssueID, in.Current.IssueKey
	}

	// Edit the fields that differ (status and resolution go through transitions).
	edit := map[string]any{}
	for _, d := range Differences(current, &in.Desired) {
		if d.Field == keyStatus || d.Field == keyResolution {
			continue
		}
		v, ok := in.Desired.Fields[d.Field]
		if !ok {
			v = nil
		}
		edit[d.Field] = v
		if !res.Created {
			res.Changes = append(res.Changes, FieldChange{Action: "update", Field: d.Field, Label: label(b, d.Field), Before: strPtr(d.Before), After: strPtr(d.After)})
		}
	}
	if len(edit) > 0 {
		if err := a.Jira.EditIssue(ctx, res.IssueID, edit); err != nil {
			return nil, classify(err)
		}
	}

	if in.Desired.Status != "" && (current[keyStatus] != in.Desired.Status ||
		(in.Desired.Resolution != "" && current[keyResolution] != in.Desired.Resolution)) {
		if err := a.moveToStatus(ctx, res.IssueID, current[keyStatus], in.Desired.Status, in.Desired.Resolution); err != nil {
			return nil, err
		}
		res.Changes = append(res.Changes, FieldChange{Action: "transition", Field: keyStatus, Label: "Status", Before: strPtr(current[keyStatus]), After: strPtr(in.Desired.Status)})
		if current[keyResolution] != in.Desired.Resolution {
			res.Changes = append(res.Changes, FieldChange{Action: "transition", Field: keyResolution, Label: "Resolution", Before: strPtr(current[keyResolution]), After: strPtr(in.Desired.Resolution)})
		}
	}
	a.Log.Info("jira issue written", zap.String("pair", in.Pair), zap.String("sf_id", in.SfID),
		zap.String("jira_key", res.IssueKey), zap.Bool("created", res.Created), zap.Int("changes", len(res.Changes)),
		zap.String("direction", DirectionSFToJira), zap.String("project", m.Jira.Project))
	return res, nil
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
	for k, v := range in.Desired.Fields {
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
// and looks again. Entering the target sets the resolution when one is wanted.
func (a *Activities) moveToStatus(ctx context.Context, issueID, from, target, resolution string) error {
	visited := map[string]bool{strings.ToLower(from): true}
	current := from
	needLeave := strings.EqualFold(from, target) // same status, different resolution: leave and come back
	for step := 0; step < 8; step++ {
		ts, err := a.Jira.Transitions(ctx, issueID)
		if err != nil {
			return classify(err)
		}
		var direct, next *jira.Transition
		for i := range ts {
			t := &ts[i]
			if strings.EqualFold(t.To.Name, target) && !needLeave {
				direct = t
				break
			}
			if visited[strings.ToLower(t.To.Name)] && !needLeave {
				continue
			}
			if next == nil || (t.To.CategoryKey == "indeterminate" && next.To.CategoryKey != "indeterminate") {
				next = t
			}
		}
		if direct != nil {
			var fields map[string]any
			if _, onScreen := direct.Fields["resolution"]; onScreen && resolution != "" {
				fields = map[string]any{"resolution": map[string]any{"name": resolution}}
			}
			if err := a.Jira.DoTransition(ctx, issueID, direct.ID, fields); err != nil {
				return classify(err)
			}
			return nil
		}
		if next == nil {
			break
		}
		if err := a.Jira.DoTransition(ctx, issueID, next.ID, nil); err != nil {
			return classify(err)
		}
		needLeave = false
		current = next.To.Name
		visited[strings.ToLower(current)] = true
	}
	return newError(catalog.JiraStatusUnreachable, fmt.Sprintf("issue %s: status %q cannot be reached from %q through the workflow's transitions (stopped at %q)", issueID, target, from, current), nil)
}

// VerifyJira reads the issue back and fails (retryably, a few times) when it does not match what
// was written, e.g. because a Jira automation changed a field.
func (a *Activities) VerifyJira(ctx context.Context, in VerifyJiraInput) (*VerifyJiraResult, error) {
	b, err := a.Mappings.Bound(ctx, in.Pair)
	if err != nil {
		return nil, err
	}
	issue, err := a.Jira.GetIssue(ctx, in.IssueID, append(b.JiraFieldIDs(), "updated"), nil)
	if err != nil {
		return nil, classify(err)
	}
	got := b.ProjectJira(issue.Fields)
	if diffs := differences(got, in.Expected, hasKey(in.Expected, keyStatus)); len(diffs) > 0 {
		parts := make([]string, 0, len(diffs))
		for _, d := range diffs {
			parts = append(parts, fmt.Sprintf("%s: read %q, wrote %q", d.Field, d.Before, d.After))
		}
		return nil, newError(catalog.VerifyMismatch, fmt.Sprintf("issue %s: %s", issue.Key, strings.Join(parts, "; ")), nil)
	}
	return &VerifyJiraResult{Projection: got, Updated: issue.FieldString("updated")}, nil
}

// Differences lists the fields where the issue's projection differs from the desired state.
// When the mapping leaves the status alone (unmapped value with policy keep), status and
// resolution are not compared.
func Differences(current mappings.Projection, desired *TransformResult) []mappings.FieldDiff {
	return differences(current, desired.Projection, desired.Status != "")
}

func differences(current, desired mappings.Projection, compareStatus bool) []mappings.FieldDiff {
	all := current.Diff(desired)
	if compareStatus {
		return all
	}
	out := all[:0:0]
	for _, d := range all {
		if d.Field != keyStatus && d.Field != keyResolution {
			out = append(out, d)
		}
	}
	return out
}

func hasKey(p mappings.Projection, k string) bool {
	_, ok := p[k]
	return ok
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

// rawString decodes a JSON string value, or returns "" for anything else.
func rawString(r json.RawMessage) string {
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	return ""
}
