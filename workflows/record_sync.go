package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
)

// maxPassesPerRun bounds how many drained bursts one run handles before it continues as new, so
// the history of a busy pair stays small.
const maxPassesPerRun = 25

// RecordSyncInput is the single input of RecordSync.
type RecordSyncInput struct {
	OriginKey string
	Pair      string
	SfObject  string
	SfID      string
	Trigger   string
	// JiraProject is only used for the search attribute; the mapping decides the real project.
	JiraProject string
}

// RecordSyncResult summarises what the run did.
type RecordSyncResult struct {
	Outcome  string
	IssueID  string
	IssueKey string
	Passes   int
	Changed  []string
	Warnings []string
}

// RecordSync keeps one record pair in step: fetch both sides, transform, write Jira, write the
// Salesforce back-link, verify, then record link, snapshot and audit. Every change event for the
// pair arrives as a SyncSignal on the same workflow id; the run repeats while signals are pending
// and completes only once drained.
func RecordSync(ctx workflow.Context, in RecordSyncInput) (*RecordSyncResult, error) {
	w := &recordSync{in: in, result: &RecordSyncResult{}}
	if err := w.setup(ctx); err != nil {
		return nil, err
	}
	return w.run(ctx)
}

type recordSync struct {
	in      RecordSyncInput
	result  *RecordSyncResult
	signals workflow.ReceiveChannel
	stage   string
}

var a *activities.Activities

func (w *recordSync) setup(ctx workflow.Context) error {
	if w.in.OriginKey == "" || w.in.Pair == "" || w.in.SfID == "" {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("RecordSyncInput needs OriginKey, Pair and SfID (got %+v)", w.in), string(catalog.InvalidInput), nil)
	}
	w.signals = workflow.GetSignalChannel(ctx, SyncSignal)
	if err := workflow.SetQueryHandler(ctx, "stage", func() (string, error) { return w.stage, nil }); err != nil {
		return err
	}
	trigger := w.in.Trigger
	if trigger == "" {
		trigger = TriggerManual
	}
	updates := []temporal.SearchAttributeUpdate{
		SfObjectTypeKey.ValueSet(w.in.SfObject),
		SfRecordIDKey.ValueSet(w.in.SfID),
		SyncDirectionKey.ValueSet(activities.DirectionSFToJira),
		SyncTriggerKey.ValueSet(trigger),
	}
	if w.in.JiraProject != "" {
		updates = append(updates, JiraProjectKey.ValueSet(w.in.JiraProject))
	}
	return workflow.UpsertTypedSearchAttributes(ctx, updates...)
}

func (w *recordSync) run(ctx workflow.Context) (*RecordSyncResult, error) {
	for {
		w.drain()
		w.result.Passes++
		outcome, err := w.pass(ctx, w.result.Passes)
		if err != nil {
			return nil, w.fail(ctx, err)
		}
		w.result.Outcome = merge(w.result.Outcome, outcome)
		if !w.pending() {
			break
		}
		if w.result.Passes >= maxPassesPerRun {
			w.drain()
			next := w.in
			next.Trigger = "continued"
			return nil, workflow.NewContinueAsNewError(ctx, RecordSync, next)
		}
	}
	w.stage = "done: " + w.result.Outcome
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** after %d pass(es); Jira issue %s", w.result.Outcome, w.result.Passes, w.result.IssueKey))
	return w.result, workflow.UpsertTypedSearchAttributes(ctx, SyncOutcomeKey.ValueSet(w.result.Outcome), ErrorCodeKey.ValueUnset())
}

// drain consumes every pending signal: one pass covers them all, which is what coalesces bursts.
func (w *recordSync) drain() {
	var req SyncRequest
	for w.signals.ReceiveAsync(&req) {
	}
}

func (w *recordSync) pending() bool { return w.signals.Len() > 0 }

// merge keeps the most significant outcome over several passes of one run.
func merge(prev, next string) string {
	rank := map[string]int{"": 0, OutcomeUnchanged: 1, OutcomeUpdated: 2, OutcomeCreated: 3}
	if rank[next] > rank[prev] {
		return next
	}
	return prev
}

func (w *recordSync) setStage(ctx workflow.Context, stage string) {
	w.stage = stage
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("pass %d: %s", w.result.Passes, stage))
}

func activityCtx(ctx workflow.Context, summary string, attempts int32) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		HeartbeatTimeout:    20 * time.Second,
		Summary:             summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    attempts,
		},
	})
}

// pass runs fetch → transform → write → link → verify → commit once.
func (w *recordSync) pass(ctx workflow.Context, pass int) (string, error) {
	in := w.in
	w.setStage(ctx, "fetching Salesforce")
	var src activities.FetchSalesforceResult
	if err := workflow.ExecuteActivity(activityCtx(ctx, "fetch "+in.SfObject+" "+in.SfID, 10), a.FetchSalesforce,
		activities.FetchSalesforceInput{Pair: in.Pair, SfID: in.SfID}).Get(ctx, &src); err != nil {
		return "", err
	}
	w.setStage(ctx, "transforming")
	var desired activities.TransformResult
	if err := workflow.ExecuteActivity(activityCtx(ctx, "transform "+in.Pair, 5), a.Transform,
		activities.TransformInput{Pair: in.Pair, SfID: src.SfID, Values: src.Values}).Get(ctx, &desired); err != nil {
		return "", err
	}
	w.result.Warnings = desired.Warnings
	w.setStage(ctx, "fetching Jira")
	var cur activities.JiraState
	if err := workflow.ExecuteActivity(activityCtx(ctx, "fetch Jira issue", 10), a.FetchJira,
		activities.FetchJiraInput{Pair: in.Pair, OriginKey: in.OriginKey, LinkedIssueID: src.LinkedIssueID}).Get(ctx, &cur); err != nil {
		return "", err
	}
	linked := cur.Found && src.LinkedIssueID == cur.IssueID && src.LinkedIssueKey == cur.IssueKey
	if linked && len(activities.Differences(cur.Projection, &desired)) == 0 {
		// Already in step: write nothing, only refresh the snapshot if it is missing or stale.
		w.result.IssueID, w.result.IssueKey = cur.IssueID, cur.IssueKey
		if cur.SnapshotHash != desired.Projection.Hash() {
			if err := w.commit(ctx, pass, src, desired, cur.IssueID, cur.IssueKey, cur.Projection, cur.Updated, nil, nil); err != nil {
				return "", err
			}
		}
		return OutcomeUnchanged, nil
	}

	w.setStage(ctx, "writing Jira")
	var wr activities.WriteJiraResult
	if err := workflow.ExecuteActivity(activityCtx(ctx, "write Jira "+desired.JiraIssueType, 8), a.WriteJira,
		activities.WriteJiraInput{Pair: in.Pair, OriginKey: in.OriginKey, SfObject: in.SfObject, SfID: src.SfID, Desired: desired, Current: cur}).Get(ctx, &wr); err != nil {
		return "", err
	}
	w.result.IssueID, w.result.IssueKey = wr.IssueID, wr.IssueKey
	if err := workflow.UpsertTypedSearchAttributes(ctx, JiraIssueKeyKey.ValueSet(wr.IssueKey), JiraProjectKey.ValueSet(desired.JiraProject)); err != nil {
		return "", err
	}

	w.setStage(ctx, "linking Salesforce")
	var ln activities.LinkSalesforceResult
	if err := workflow.ExecuteActivity(activityCtx(ctx, "back-link "+in.SfObject+" → "+wr.IssueKey, 8), a.LinkSalesforce,
		activities.LinkSalesforceInput{Pair: in.Pair, SfID: src.SfID, IssueID: wr.IssueID, IssueKey: wr.IssueKey,
			CurrentIssueID: src.LinkedIssueID, CurrentIssueKey: src.LinkedIssueKey}).Get(ctx, &ln); err != nil {
		return "", err
	}

	w.setStage(ctx, "verifying")
	var vr activities.VerifyJiraResult
	if err := workflow.ExecuteActivity(activityCtx(ctx, "verify "+wr.IssueKey, 4), a.VerifyJira,
		activities.VerifyJiraInput{Pair: in.Pair, IssueID: wr.IssueID, Expected: desired.Projection}).Get(ctx, &vr); err != nil {
		return "", err
	}
	for _, c := range append(wr.Changes, ln.Changes...) {
		name := c.Label
		if name == "" {
			name = c.Field
		}
		w.result.Changed = append(w.result.Changed, name)
	}
	if err := w.commit(ctx, pass, src, desired, wr.IssueID, wr.IssueKey, vr.Projection, vr.Updated, wr.Changes, ln.Changes); err != nil {
		return "", err
	}
	if wr.Created {
		return OutcomeCreated, nil
	}
	if len(wr.Changes) == 0 && len(ln.Changes) == 0 {
		return OutcomeUnchanged, nil
	}
	return OutcomeUpdated, nil
}

func (w *recordSync) commit(ctx workflow.Context, pass int, src activities.FetchSalesforceResult, desired activities.TransformResult,
	issueID, issueKey string, jiraProj map[string]string, jiraUpdated string, jiraChanges, sfChanges []activities.FieldChange) error {
	w.setStage(ctx, "recording")
	return workflow.ExecuteActivity(activityCtx(ctx, "record link, snapshot and audit", 10), a.CommitSync, activities.CommitSyncInput{
		Pair: w.in.Pair, OriginKey: w.in.OriginKey, SfObject: w.in.SfObject, SfID: src.SfID,
		IssueID: issueID, IssueKey: issueKey, MappingVersion: desired.MappingVersion,
		SfProjection: desired.Projection, JiraProjection: jiraProj,
		SfModstamp: src.Modstamp, JiraUpdated: jiraUpdated, Pass: pass, Direction: activities.DirectionSFToJira,
		JiraChanges: jiraChanges, SfChanges: sfChanges,
	}).Get(ctx, nil)
}

// fail records the failure as a dead letter and in the search attributes, then returns it so the
// run shows as failed with the catalog code.
func (w *recordSync) fail(ctx workflow.Context, err error) error {
	code := activities.ErrorCode(err)
	if code == "" {
		code = "UNCLASSIFIED"
	}
	w.stage = "failed: " + code
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**failed** with %s: %v", code, err))
	_ = workflow.UpsertTypedSearchAttributes(ctx, SyncOutcomeKey.ValueSet(OutcomeFailed), ErrorCodeKey.ValueSet(code))
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	rerr := workflow.ExecuteActivity(activityCtx(dctx, "keep dead letter "+code, 20), a.RecordFailure, activities.RecordFailureInput{
		Pair: w.in.Pair, OriginKey: w.in.OriginKey, SfObject: w.in.SfObject, SfID: w.in.SfID,
		Code: code, Message: rootMessage(err), ReplayInput: w.in,
	}).Get(dctx, nil)
	if rerr != nil {
		workflow.GetLogger(ctx).Error("could not record dead letter", "Error", rerr)
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return temporal.NewNonRetryableApplicationError(app.Error(), code, nil)
	}
	return temporal.NewNonRetryableApplicationError(err.Error(), code, nil)
}

// rootMessage returns the innermost error message (the client's words, not the SDK's wrapping).
func rootMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Error()
	}
	return err.Error()
}
