package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

// evalTriggers compares each mapping trigger's condition on the Salesforce record with its
// state at the last sync: a condition that was false and now holds fires (its templates are
// rendered into res.FiredTriggers); one without a recorded state (a new pair, or a trigger just
// added to the mapping) only records its baseline, so adding a trigger never fires it for every
// record already won. When the states to record differ from the stored ones, the snapshot hash
// is marked stale so the pass commits them even when no field changed.
func (a *Activities) evalTriggers(ctx context.Context, m *mappings.Mapping, in TransformInput, res *TransformResult) error {
	if len(m.Triggers) == 0 || !in.SF.Found {
		return nil
	}
	stored, err := a.Store.TriggerStates(ctx, in.OriginKey)
	if err != nil {
		return classify(err)
	}
	values := in.SF.Values
	get := func(p string) (any, bool) { v, ok := values[p]; return v, ok }
	res.TriggerStates = map[string]bool{}
	changed := false
	for _, t := range m.Triggers {
		now := t.Holds(get)
		prev, known := stored[t.Name]
		state := now
		if known && now && !prev {
			action := t.Render(get)
			res.FiredTriggers = append(res.FiredTriggers, action)
			res.Warnings = append(res.Warnings, action.Warnings...)
			state = false // true once RunTrigger has done the actions
		}
		res.TriggerStates[t.Name] = state
		if !known || state != prev {
			changed = true
		}
	}
	if changed && res.SnapshotHash == res.SidesHash {
		res.SnapshotHash += "+triggers"
	}
	return nil
}

// RunTriggerInput is one fired trigger to carry out for a pair whose issue exists.
type RunTriggerInput struct {
	Pair, OriginKey, SfID, IssueID, IssueKey string
	MappingVersion                           string
	// Pass numbers the audit rows like the sync pass that fired the trigger.
	Pass   int
	Action mappings.TriggerAction
}

// RunTriggerResult says what the trigger created now (Created) and what it found from an
// earlier attempt or firing (Existing), as "version X", "fix version X", "story SFJ-12".
type RunTriggerResult struct {
	Created, Existing []string
}

// RunTrigger carries out a fired mapping trigger: it finds or creates the Jira version (looked up
// by name first, so a retry or a second firing never makes two), adds it to the issue's fix
// versions, and finds or creates each Story under the issue. Each Story carries the
// TriggerProperty identity, recorded as an intent in PostgreSQL before it is created, so a retry
// after a crash looks for it (waiting out Jira's search-index lag) instead of creating it twice.
// Everything is audited with action `trigger`; the trigger's state turns true last.
func (a *Activities) RunTrigger(ctx context.Context, in RunTriggerInput) (*RunTriggerResult, error) {
	m, err := a.Mappings.Mapping(in.Pair)
	if err != nil {
		return nil, err
	}
	if in.IssueID == "" {
		return nil, newError(catalog.InvalidInput, "trigger "+in.Action.Trigger+" needs the pair's Jira issue", nil)
	}
	info := activity.GetInfo(ctx)
	now := time.Now().UTC()
	res := &RunTriggerResult{}
	var rows []store.AuditEntry
	audit := func(target, field, after string, existed bool) {
		e := store.AuditEntry{At: now, Actor: a.actor(), WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
			Pass: in.Pass, OriginKey: in.OriginKey, Pair: in.Pair, Direction: DirectionSFToJira, TargetSystem: SystemJira,
			TargetID: target, Action: "trigger", Field: in.Action.Trigger + ": " + field, After: strPtr(after),
			MappingVersion: in.MappingVersion, DecidedBy: "trigger_fired"}
		if existed {
			e.Before = strPtr(after) // found from an earlier attempt: nothing new was written
		}
		rows = append(rows, e)
	}
	items, err := a.Store.TriggerItems(ctx, in.OriginKey, in.Action.Trigger)
	if err != nil {
		return nil, classify(err)
	}

	var version *jira.Version
	if in.Action.VersionName != "" {
		v, created, err := a.ensureVersion(ctx, m.Jira.Project, in.Action)
		if err != nil {
			return nil, err
		}
		version = v
		if err := a.Store.SaveTriggerItem(ctx, store.TriggerItem{OriginKey: in.OriginKey, Trigger: in.Action.Trigger, Item: "version", JiraID: v.ID, JiraKey: v.Name}); err != nil {
			return nil, classify(err)
		}
		audit(in.IssueID, "version", fmt.Sprintf("%s (id %s)", v.Name, v.ID), !created)
		note(res, created, "version "+v.Name)
		if in.Action.FixVersion {
			added, err := a.addFixVersion(ctx, in.IssueID, v.ID)
			if err != nil {
				return nil, err
			}
			audit(in.IssueID, "fixVersions", v.Name, !added)
			note(res, added, "fix version "+v.Name+" on "+in.IssueKey)
		}
	}
	// One search finds what earlier attempts created; it waits out the search index only for
	// Stories whose create was started (intent recorded) but not recorded as done.
	var pending []string
	for _, st := range in.Action.Stories {
		if rec, ok := items[st.Item]; ok && rec.JiraID == "" {
			pending = append(pending, st.Item)
		}
	}
	existing := map[string]*jira.CreatedIssue{}
	if len(in.Action.Stories) > 0 {
		if existing, err = a.findTriggerStories(ctx, m.Jira.Project, in.OriginKey, in.Action.Trigger, pending); err != nil {
			return nil, err
		}
	}
	for _, st := range in.Action.Stories {
		key, created, err := a.ensureStory(ctx, m, in, st, items[st.Item], existing[st.Item], version)
		if err != nil {
			return nil, err
		}
		audit(in.IssueID, st.Item, key+" "+st.Summary, !created)
		note(res, created, "story "+key)
	}
	if err := a.Store.AppendAudit(ctx, rows); err != nil {
		return nil, classify(err)
	}
	if err := a.Store.SaveTriggerStates(ctx, in.OriginKey, map[string]bool{in.Action.Trigger: true}); err != nil {
		return nil, classify(err)
	}
	return res, nil
}

func note(res *RunTriggerResult, created bool, what string) {
	if created {
		res.Created = append(res.Created, what)
	} else {
		res.Existing = append(res.Existing, what)
	}
}

// ensureVersion returns the project's version with the action's name, creating it when there is
// none. Jira refuses a second version of the same name, so a create racing another one looks the
// version up again.
func (a *Activities) ensureVersion(ctx context.Context, project string, act mappings.TriggerAction) (*jira.Version, bool, error) {
	find := func() (*jira.Version, error) {
		list, err := a.Jira.ProjectVersions(ctx, project)
		if err != nil {
			return nil, classify(err)
		}
		for i := range list {
			if strings.EqualFold(strings.TrimSpace(list[i].Name), act.VersionName) {
				return &list[i], nil
			}
		}
		return nil, nil
	}
	if v, err := find(); err != nil || v != nil {
		return v, false, err
	}
	pid, err := a.Jira.ProjectID(ctx, project)
	if err != nil {
		return nil, false, classify(err)
	}
	v, err := a.Jira.CreateVersion(ctx, pid, act.VersionName, act.VersionDescription)
	if err != nil {
		if jira.IsDuplicateVersion(err) {
			if v, ferr := find(); ferr != nil || v != nil {
				return v, false, ferr
			}
		}
		return nil, false, classify(err)
	}
	return v, true, nil
}

// addFixVersion adds a version to an issue's fix versions unless it is there; an `update` add
// keeps the versions people set.
func (a *Activities) addFixVersion(ctx context.Context, issueID, versionID string) (bool, error) {
	is, err := a.Jira.GetIssue(ctx, issueID, []string{"fixVersions"}, nil)
	if err != nil {
		return false, classify(err)
	}
	var cur []struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(is.Fields["fixVersions"], &cur)
	for _, v := range cur {
		if v.ID == versionID {
			return false, nil
		}
	}
	err = a.Jira.UpdateIssue(ctx, issueID, map[string][]map[string]any{"fixVersions": {{"add": map[string]any{"id": versionID}}}})
	return err == nil, classify(err)
}

// triggerIdentity is the value of a created Story's TriggerProperty "id".
func triggerIdentity(originKey, trigger, item string) string {
	return originKey + "|" + trigger + "|" + item
}

// ensureStory returns the key of the trigger's Story for one template item, creating it under
// the issue when neither the store nor Jira knows it.
func (a *Activities) ensureStory(ctx context.Context, m *mappings.Mapping, in RunTriggerInput, st mappings.StoryAction, rec store.TriggerItem, found *jira.CreatedIssue, version *jira.Version) (string, bool, error) {
	if rec.JiraID != "" {
		return rec.JiraKey, false, nil
	}
	id := triggerIdentity(in.OriginKey, in.Action.Trigger, st.Item)
	if rec.Item == "" && found == nil {
		if err := a.Store.SaveTriggerItem(ctx, store.TriggerItem{OriginKey: in.OriginKey, Trigger: in.Action.Trigger, Item: st.Item}); err != nil {
			return "", false, classify(err)
		}
	}
	var err error
	created := false
	if found == nil {
		fields := map[string]any{
			"project":   map[string]any{"key": m.Jira.Project},
			"issuetype": map[string]any{"name": in.Action.StoryType},
			"summary":   st.Summary,
			"parent":    map[string]any{"id": in.IssueID},
		}
		if st.Description != "" {
			fields["description"] = mappings.TextToADF(st.Description)
		}
		if version != nil && in.Action.FixVersion {
			fields["fixVersions"] = []any{map[string]any{"id": version.ID}}
		}
		found, err = a.Jira.CreateIssue(ctx, jira.IssueInput{Fields: fields, Properties: []jira.EntityProperty{{Key: mappings.TriggerProperty, Value: map[string]any{
			"id": id, "origin": in.OriginKey, "pair": in.Pair, "trigger": in.Action.Trigger, "item": st.Item,
		}}}})
		if err != nil {
			return "", false, classify(err)
		}
		created = true
	}
	if err := a.Store.SaveTriggerItem(ctx, store.TriggerItem{OriginKey: in.OriginKey, Trigger: in.Action.Trigger, Item: st.Item, JiraID: found.ID, JiraKey: found.Key}); err != nil {
		return "", false, classify(err)
	}
	return found.Key, created, nil
}

// findTriggerStories returns the Stories a trigger created for a pair, by item, from one search
// (paged). While an item in pending (an intent an earlier attempt recorded) is missing, it keeps
// searching up to the search-lag window, since Jira's index lags behind creates.
func (a *Activities) findTriggerStories(ctx context.Context, project, originKey, trigger string, pending []string) (map[string]*jira.CreatedIssue, error) {
	q := func(s string) string { return strings.ReplaceAll(s, `"`, `\"`) }
	jql := fmt.Sprintf(`project = "%s" AND issue.property[%s].origin = "%s" AND issue.property[%s].trigger = "%s"`,
		project, mappings.TriggerProperty, q(originKey), mappings.TriggerProperty, q(trigger))
	deadline := time.Now().Add(a.searchLagWindow())
	for {
		out := map[string]*jira.CreatedIssue{}
		err := a.Jira.SearchEach(ctx, jira.SearchRequest{JQL: jql, Fields: []string{"key"}, Properties: []string{mappings.TriggerProperty}, MaxResults: 100}, func(is *jira.Issue) error {
			var p struct {
				ID, Item string
			}
			_ = json.Unmarshal(is.Properties[mappings.TriggerProperty], &p)
			if p.ID == triggerIdentity(originKey, trigger, p.Item) && out[p.Item] == nil {
				out[p.Item] = &jira.CreatedIssue{ID: is.ID, Key: is.Key}
			}
			return nil
		})
		if err != nil {
			return nil, classify(err)
		}
		missing := false
		for _, item := range pending {
			if out[item] == nil {
				missing = true
			}
		}
		if !missing || time.Now().After(deadline) {
			return out, nil
		}
		activity.RecordHeartbeat(ctx, "waiting for Jira search index")
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
