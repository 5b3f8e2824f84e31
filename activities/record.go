package activities

import (
	"context"
	"encoding/json"
	"time"

	"go.temporal.io/sdk/activity"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/store"
)

// CommitSync records the outcome of one sync pass in one transaction: the link, the pair's
// last-synced snapshot of both sides, and an audit row with before/after for every field written.
// It also closes any open dead letter of the pair, since the pair now syncs.
func (a *Activities) CommitSync(ctx context.Context, in CommitSyncInput) error {
	info := activity.GetInfo(ctx)
	now := time.Now().UTC()
	ps := store.PairState{
		OriginKey: in.OriginKey, Pair: in.Pair, MappingVersion: in.MappingVersion,
		SfSnapshot: in.SfProjection, JiraSnapshot: in.JiraProjection,
		SfHash: in.SfProjection.Hash(), JiraHash: in.JiraProjection.Hash(),
		SfModstamp: parseTime(in.SfModstamp), JiraUpdated: parseTime(in.JiraUpdated),
		SyncedAt: now, WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
	}
	var rows []store.AuditEntry
	add := func(system, target string, changes []FieldChange) {
		for _, c := range changes {
			rows = append(rows, store.AuditEntry{
				At: now, Actor: a.actor(), WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
				Pass: in.Pass, OriginKey: in.OriginKey, Pair: in.Pair, Direction: in.Direction,
				TargetSystem: system, TargetID: target, Action: c.Action, Field: c.Field,
				Before: c.Before, After: c.After, MappingVersion: in.MappingVersion,
			})
		}
	}
	add("jira", in.IssueID, in.JiraChanges)
	add("salesforce", in.SfID, in.SfChanges)
	link := store.Link{OriginKey: in.OriginKey, Pair: in.Pair, SfObject: in.SfObject, SfID: in.SfID, JiraIssueID: in.IssueID, JiraIssueKey: in.IssueKey}
	if err := a.Store.CommitSync(ctx, link, ps, rows); err != nil {
		return classify(err)
	}
	if err := a.Store.ResolveDeadLetters(ctx, in.OriginKey); err != nil {
		return classify(err)
	}
	return nil
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
	return classify(a.Store.AddDeadLetter(ctx, store.DeadLetter{
		OriginKey: in.OriginKey, Pair: in.Pair, WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
		Code: in.Code, Message: in.Message, Remediation: remediation, ReplayInput: replay,
	}))
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
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return &t
		}
	}
	return nil
}
