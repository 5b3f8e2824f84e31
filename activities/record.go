package activities

import (
	"context"
	"encoding/json"
	"errors"

	"time"

	"go.temporal.io/sdk/activity"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

// CommitSync records the outcome of one sync pass in one transaction: the link, the pair's
// last-synced snapshot of both sides, and an audit row with before/after for every field written
// (with the change→reflection latency and why the value won). Fields held by an open manual
// conflict keep their old base in the snapshot, so the conflict stays visible until decided.
func (a *Activities) CommitSync(ctx context.Context, in CommitSyncInput) (*CommitSyncResult, error) {
	info := activity.GetInfo(ctx)
	now := time.Now().UTC()
	res := &CommitSyncResult{}
	var latency *int64
	if t := parseTime(in.SourceTime); t != nil && (len(in.JiraChanges) > 0 || len(in.SfChanges) > 0) {
		ms := now.Sub(*t).Milliseconds()
		if ms < 0 {
			ms = 0
		}
		latency, res.LatencyMS = &ms, ms
		if a.Metrics != nil {
			a.Metrics.ObserveLatency(in.Pair, in.Direction, now.Sub(*t))
		}
	}
	sfSnap, jiraSnap := copyProj(in.SFSide), copyProj(in.JiraSide)
	if len(in.Held) > 0 {
		prev, err := a.Store.GetPairState(ctx, in.OriginKey)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, classify(err)
		}
		for _, k := range in.Held {
			if prev != nil {
				sfSnap[k], jiraSnap[k] = prev.SfSnapshot[k], prev.JiraSnapshot[k]
			} else {
				delete(sfSnap, k)
				delete(jiraSnap, k)
			}
		}
	}
	ps := store.PairState{
		OriginKey: in.OriginKey, Pair: in.Pair, MappingVersion: in.MappingVersion,
		SfSnapshot: sfSnap, JiraSnapshot: jiraSnap,
		SfHash: mappings.Projection(sfSnap).Hash(), JiraHash: mappings.Projection(jiraSnap).Hash(),
		SfModstamp: parseTime(in.SfModstamp), JiraUpdated: parseTime(in.JiraUpdated),
		SyncedAt: now, WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
	}
	reasons := in.Reasons
	if reasons == nil {
		reasons = map[string]string{}
	}
	var rows []store.AuditEntry
	add := func(system, target, prefix, direction string, changes []FieldChange) {
		for _, c := range changes {
			rows = append(rows, store.AuditEntry{
				At: now, Actor: a.actor(), WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
				Pass: in.Pass, OriginKey: in.OriginKey, Pair: in.Pair, Direction: direction,
				TargetSystem: system, TargetID: target, Action: c.Action, Field: c.Field,
				Before: c.Before, After: c.After, MappingVersion: in.MappingVersion, LatencyMS: latency,
				DecidedBy: reasons[prefix+c.Field], BeforeRaw: c.BeforeRaw,
			})
		}
	}
	add("jira", in.IssueID, "jira:", DirectionSFToJira, in.JiraChanges)
	add("salesforce", in.SfID, "salesforce:", DirectionJiraToSF, in.SfChanges)
	rows, err := a.protectAudit(ctx, rows)
	if err != nil {
		return nil, err
	}
	link := store.Link{OriginKey: in.OriginKey, Pair: in.Pair, SfObject: in.SfObject, SfID: in.SfID, JiraIssueID: in.IssueID, JiraIssueKey: in.IssueKey}
	if err := a.Store.CommitSync(ctx, link, ps, rows); err != nil {
		return nil, classify(err)
	}
	for _, c := range in.Conflicts {
		if err := a.Store.SaveConflict(ctx, store.Conflict{OriginKey: in.OriginKey, Pair: in.Pair, Field: c.Key, Label: c.Label,
			SfValue: strPtr(c.SFValue), JiraValue: strPtr(c.JiraValue), BaseSF: strPtr(c.BaseSF), BaseJira: strPtr(c.BaseJira)}); err != nil {
			return nil, classify(err)
		}
	}
	if err := a.Store.MarkConflictsApplied(ctx, in.AppliedConflicts); err != nil {
		return nil, classify(err)
	}
	if err := a.Store.SaveTriggerStates(ctx, in.OriginKey, in.TriggerStates); err != nil {
		return nil, classify(err)
	}
	if in.Deleted {
		if err := a.Store.MarkLinkDeleted(ctx, in.OriginKey); err != nil {
			return nil, classify(err)
		}
	}
	if err := a.Store.ResolveDeadLetters(ctx, in.OriginKey); err != nil {
		return nil, classify(err)
	}
	return res, nil
}

func copyProj(p mappings.Projection) map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// RecordFailure keeps a sync that failed for good as a dead letter with its catalog code, the
// operator's remediation and the input needed to replay it, so nothing is lost silently.
func (a *Activities) RecordFailure(ctx context.Context, in RecordFailureInput) error {
	info := activity.GetInfo(ctx)
	entry, ok := catalog.Lookup(catalog.Code(in.Code))
	remediation := entry.Fix
	if !ok {
		remediation = "Unclassified failure: read the message and the workflow history in the Temporal UI, fix the cause, then replay."
	}
	replay, err := json.Marshal(in.ReplayInput)
	if err != nil {
		return err
	}
	a.Log.Warn("sync failed; kept as dead letter", zap.String("pair", in.Pair), zap.String("sf_id", in.SfID),
		zap.String("code", in.Code), zap.String("workflow_id", info.WorkflowExecution.ID), zap.String("run_id", info.WorkflowExecution.RunID))
	if err := a.Store.AddDeadLetter(ctx, store.DeadLetter{
		OriginKey: in.OriginKey, Pair: in.Pair, WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
		Code: in.Code, Message: in.Message, Remediation: remediation, ReplayInput: replay,
	}); err != nil {
		return classify(err)
	}
	a.Metrics.RecordFailed(a.objectOf(in.Pair), DirectionBidirectional, in.Code)
	return nil
}

func (a *Activities) actor() string {
	if a.Actor != "" {
		return a.Actor
	}
	return "sfjira"
}

// parseTime reads Salesforce and Jira datetimes ("2024-01-31T10:00:00.000+0000") and RFC 3339.
func parseTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return &t
		}
	}
	return nil
}

// objectOf names a pair's Salesforce object for metric labels ("" for an unknown pair).
func (a *Activities) objectOf(pair string) string {
	if a.Mappings == nil {
		return ""
	}
	if m, err := a.Mappings.Mapping(pair); err == nil {
		return m.Salesforce.Object
	}
	return ""
}

// ResolveDeadLetters closes the open dead letter of a pair whose sync ended with nothing to do
// (both records gone, or the pair out of scope): a replay that finds nothing left to sync has
// done its job, and leaving the letter open would ask an operator to act on nothing.
func (a *Activities) ResolveDeadLetters(ctx context.Context, originKey string) error {
	if err := a.Store.ResolveDeadLetters(ctx, originKey); err != nil {
		return classify(err)
	}
	return nil
}
