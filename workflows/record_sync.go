package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
)

// jiraKeyAttrChange guards setting JiraIssueKey on runs that find an existing issue, so histories
// recorded before it replay.
const jiraKeyAttrChange = "jira-key-search-attribute"

// maxPassesPerRun bounds how many drained bursts one run handles before it continues as new, so
// the history of a busy pair stays small.
const maxPassesPerRun = 25

// RecordSyncInput is the single input of RecordSync. A pair that started in Salesforce has an
// sf/ origin and SfID; one that started in Jira has a jira/ origin and JiraIssueID, and learns
// SfID once its Salesforce record exists.
type RecordSyncInput struct {
	OriginKey   string
	Pair        string
	SfObject    string
	SfID        string
	JiraIssueID string
	Trigger     string
	// JiraProject is only used for the search attribute; the mapping decides the real project.
	JiraProject string
	// RetriesAfterFailure counts the runs in a row started by retryAfterFailure.
	RetriesAfterFailure int
}

// RecordSyncResult summarises what the run did.
type RecordSyncResult struct {
	Outcome   string
	SfID      string
	IssueID   string
	IssueKey  string
	Passes    int
	Changed   []string
	Conflicts []string
	Warnings  []string
	LatencyMS int64
}

// Outcomes beyond created/updated/unchanged/failed.
const (
	OutcomeDeleted = "deleted"
	OutcomeSkipped = "skipped"
)

// RecordSync keeps one record pair in step in both directions: fetch both sides, transform and
// merge them against the last-synced snapshot, write each side only what changed, verify, then
// record link, snapshot and audit. Every change event for the pair arrives as a SyncSignal on the
// same workflow id; the run repeats while signals are pending and completes only once drained.
func RecordSync(ctx workflow.Context, in RecordSyncInput) (*RecordSyncResult, error) {
	w := &recordSync{in: in, result: &RecordSyncResult{SfID: in.SfID, IssueID: in.JiraIssueID}}
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
	// fromJira is true when a drained request came from Jira (comments may need mirroring).
	fromJira bool
	// fromSF is true when a drained request came from Salesforce, an operator or a backfill
	// (activities may need writing to Jira).
	fromSF bool
	// realtimeOnly is true for runs started by change capture: batch fields wait for
	// backfill and reconciliation (hybrid mode).
	realtimeOnly bool
	// compensates is true for runs that undo a failed pass's completed writes (see compensate);
	// undo holds those writes, in the order they were made, until the pass is recorded.
	compensates bool
	undo        []activities.UndoStep
	// rerun asks for another pass without waiting for a signal (see VerifyPairResult.EditedAfterWrite).
	rerun bool
	// editNotes keep those edits in the result's warnings across passes.
	editNotes []string
}

var a *activities.Activities

func (w *recordSync) setup(ctx workflow.Context) error {
	if w.in.OriginKey == "" || w.in.Pair == "" || (w.in.SfID == "" && w.in.JiraIssueID == "") {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("RecordSyncInput needs OriginKey, Pair and SfID or JiraIssueID (got %+v)", w.in), string(catalog.InvalidInput), nil)
	}
	w.signals = workflow.GetSignalChannel(ctx, SyncSignal)
	if err := workflow.SetQueryHandler(ctx, "stage", func() (string, error) { return w.stage, nil }); err != nil {
		return err
	}
	trigger := w.in.Trigger
	if trigger == "" {
		trigger = TriggerManual
	}
	w.fromJira = strings.HasPrefix(trigger, "jira")
	w.fromSF = !w.fromJira
	if workflow.GetVersion(ctx, "hybrid-sync-modes", workflow.DefaultVersion, 1) >= 1 {
		w.realtimeOnly = IsChangeCapture(trigger)
	}
	updates := []temporal.SearchAttributeUpdate{
		SfObjectTypeKey.ValueSet(w.in.SfObject),
		SyncDirectionKey.ValueSet(activities.DirectionBidirectional),
		SyncTriggerKey.ValueSet(trigger),
	}
	if w.in.SfID != "" {
		updates = append(updates, SfRecordIDKey.ValueSet(w.in.SfID))
	}
	if w.in.JiraProject != "" {
		updates = append(updates, JiraProjectKey.ValueSet(w.in.JiraProject))
	}
	return workflow.UpsertTypedSearchAttributes(ctx, updates...)
}

func (w *recordSync) run(ctx workflow.Context) (*RecordSyncResult, error) {
	w.compensates = workflow.GetVersion(ctx, compensationVersion, workflow.DefaultVersion, 1) >= 1
	for {
		if err := holdWhilePaused(ctx, "sync", func(d string) { w.stage = "held"; workflow.SetCurrentDetails(ctx, d) }); err != nil {
			if errors.Is(err, errHoldTooLong) {
				w.drain()
				next := w.in
				next.SfID, next.Trigger = w.result.SfID, "continued"
				return nil, workflow.NewContinueAsNewError(ctx, RecordSync, next)
			}
			return nil, w.fail(ctx, err)
		}
		w.drain()
		w.result.Passes++
		outcome, err := w.pass(ctx, w.result.Passes)
		if err != nil {
			w.compensate(ctx, w.result.Passes, err)
			ferr := w.fail(ctx, err)
			if next, ok := w.retryAfterFailure(ctx); ok {
				return nil, workflow.NewContinueAsNewError(ctx, RecordSync, next)
			}
			return nil, ferr
		}
		w.result.Outcome = merge(w.result.Outcome, outcome)
		again := w.rerun && workflow.GetVersion(ctx, rerunAfterEditVersion, workflow.DefaultVersion, 1) >= 1
		w.rerun = false
		if !w.pending() && !again {
			break
		}
		if w.result.Passes >= maxPassesPerRun {
			w.drain()
			next := w.in
			next.SfID, next.Trigger = w.result.SfID, "continued"
			return nil, workflow.NewContinueAsNewError(ctx, RecordSync, next)
		}
	}
	if w.result.Outcome == OutcomeSkipped && workflow.GetVersion(ctx, resolveOnSkipVersion, workflow.DefaultVersion, 1) >= 1 {
		// Nothing left to sync: a dead letter of the pair (a replay that found nothing) is done.
		if err := workflow.ExecuteLocalActivity(localCtx(ctx, "close the pair's dead letter", 10), "ResolveDeadLetters", w.in.OriginKey).Get(ctx, nil); err != nil {
			return nil, w.fail(ctx, err)
		}
	}
	w.stage = "done: " + w.result.Outcome
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** after %d pass(es); Jira issue %s", w.result.Outcome, w.result.Passes, w.result.IssueKey))
	return w.result, workflow.UpsertTypedSearchAttributes(ctx, SyncOutcomeKey.ValueSet(w.result.Outcome), ErrorCodeKey.ValueUnset())
}

// replanOnDeleteVersion guards planning again when a write or the read-back meets a deleted
// record, so histories recorded before it replay.
const replanOnDeleteVersion = "replan-when-a-side-is-deleted-mid-pass"

// deletedMidPass reports whether err says a side of the pair was deleted while the pass ran; the
// pass then plans again, and the next fetch sees the deletion and applies the delete policy, as
// if the deletion had come before the pass (versioned: older runs failed instead).
func deletedMidPass(ctx workflow.Context, err error) bool {
	code := activities.ErrorCode(err)
	if code != string(catalog.SalesforceRecordNotFound) && code != string(catalog.JiraNotFound) {
		return false
	}
	return workflow.GetVersion(ctx, replanOnDeleteVersion, workflow.DefaultVersion, 1) >= 1
}

// syncActivitiesAttempts bounds SyncActivities' retries (see syncActivities).
const syncActivitiesAttempts = 25

// resolveOnSkipVersion guards closing the dead letter of a run that ends skipped.
const resolveOnSkipVersion = "resolve-dead-letter-on-skip"

// rerunAfterEditVersion guards the extra pass after a Jira edit seen by verification, so
// histories recorded before it replay.
const rerunAfterEditVersion = "rerun-after-edit-during-verify"

// retryAfterFailureVersion guards retryAfterFailure, so histories recorded before it replay.
const retryAfterFailureVersion = "retry-after-failure-with-pending-changes"

// maxRetriesAfterFailure bounds how many runs in a row a pair starts because change events
// arrived while the previous run was failing. The bound matters: compensation's own writes come
// back as events too, and a pair whose failure persists must settle in the dead letters.
const maxRetriesAfterFailure = 1

// retryAfterFailure decides what happens to change events that arrived while a run was failing
// (its dead letter is already recorded): completing would drop them, and one of them may be the
// fix (a person correcting the record). So the pair gets one more run, as a continuation, which
// reads both sides afresh; if it succeeds, the dead letter is resolved.
func (w *recordSync) retryAfterFailure(ctx workflow.Context) (RecordSyncInput, bool) {
	if !w.pending() || w.in.RetriesAfterFailure >= maxRetriesAfterFailure {
		return RecordSyncInput{}, false
	}
	if workflow.GetVersion(ctx, retryAfterFailureVersion, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return RecordSyncInput{}, false
	}
	w.drain()
	next := w.in
	next.SfID, next.Trigger = w.result.SfID, TriggerRetry
	if w.fromJira {
		next.Trigger = TriggerJiraRetry
	}
	next.RetriesAfterFailure++
	return next, true
}

// drain consumes every pending signal: one pass covers them all, which is what coalesces bursts.
func (w *recordSync) drain() {
	var req SyncRequest
	for w.signals.ReceiveAsync(&req) {
		if req.Source == "jira" {
			w.fromJira = true
		} else {
			w.fromSF = true
		}
	}
}

func (w *recordSync) pending() bool { return w.signals.Len() > 0 }

// merge keeps the most significant outcome over several passes of one run.
func merge(prev, next string) string {
	rank := map[string]int{"": 0, OutcomeSkipped: 1, OutcomeUnchanged: 2, OutcomeUpdated: 3, OutcomeCreated: 4, OutcomeDeleted: 5}
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

// localCtx runs short, local work (mapping and merging, recording to PostgreSQL) as local
// activities: they run inside the workflow task, saving a task round trip each, which is most of
// the change→reflection latency on a busy cluster. They are invoked by their registered names.
func localCtx(ctx workflow.Context, summary string, attempts int32) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 5 * time.Minute,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    attempts,
		},
	})
}

// maxSteps bounds the steps of one pass: creating a missing side, or planning again because a
// side changed while the pass ran (optimistic concurrency).
const maxSteps = 6

// pass runs fetch → transform (map + merge) → write → verify → record once. Creating a missing
// side is a step of its own, after which the pass starts over with both sides present.
func (w *recordSync) pass(ctx workflow.Context, pass int) (string, error) {
	in := w.in
	outcome := ""
	// carried are Jira changes written in a step whose Salesforce write then found the record
	// changed; they are audited with the step that completes the pass.
	var carried []activities.FieldChange
	// ownJira are the Jira values this pass wrote before it had to plan again (see TransformInput).
	var ownJira map[string]string
	for step := 0; ; step++ {
		if step > maxSteps {
			return "", temporal.NewApplicationErrorWithOptions(fmt.Sprintf("pair %s: no stable plan after %d steps (a side kept changing or a create kept missing)", in.OriginKey, maxSteps),
				string(catalog.VerifyMismatch), temporal.ApplicationErrorOptions{NonRetryable: true})
		}
		// Both sides are read at once: the Jira side is found through the link row (or the
		// origin), so it does not wait for the Salesforce back-link.
		w.setStage(ctx, "fetching both sides")
		sfF := workflow.ExecuteActivity(apiCtx(ctx, SystemSalesforce, StepRead, "fetch "+in.SfObject+" "+w.result.SfID), a.FetchSalesforce,
			activities.FetchSalesforceInput{Pair: in.Pair, SfID: w.result.SfID, JiraIssueID: w.result.IssueID})
		jF := workflow.ExecuteActivity(apiCtx(ctx, SystemJira, StepRead, "fetch Jira issue "+w.result.IssueKey), a.FetchJira,
			activities.FetchJiraInput{Pair: in.Pair, OriginKey: in.OriginKey, LinkedIssueID: w.result.IssueID})
		var src activities.FetchSalesforceResult
		var cur activities.JiraState
		sfErr, jErr := sfF.Get(ctx, &src), jF.Get(ctx, &cur)
		if sfErr != nil {
			return "", sfErr
		}
		if jErr != nil {
			return "", jErr
		}
		if src.Found && w.result.SfID != src.SfID {
			w.result.SfID = src.SfID
			_ = workflow.UpsertTypedSearchAttributes(ctx, SfRecordIDKey.ValueSet(src.SfID))
		}
		if cur.Found {
			if cur.IssueKey != w.result.IssueKey && workflow.GetVersion(ctx, jiraKeyAttrChange, workflow.DefaultVersion, 1) == 1 {
				// Found through the link: make the run findable by its issue key in the UI too.
				_ = workflow.UpsertTypedSearchAttributes(ctx, JiraIssueKeyKey.ValueSet(cur.IssueKey))
			}
			w.result.IssueID, w.result.IssueKey = cur.IssueID, cur.IssueKey
		}
		w.setStage(ctx, "transforming and merging")
		var plan activities.TransformResult
		if err := workflow.ExecuteLocalActivity(localCtx(ctx, "transform + three-way merge "+in.Pair, 5), "Transform",
			activities.TransformInput{Pair: in.Pair, OriginKey: in.OriginKey, SF: src, Jira: cur, RealtimeOnly: w.realtimeOnly, OwnJira: ownJira}).Get(ctx, &plan); err != nil {
			return "", err
		}
		w.result.Warnings = append(append([]string(nil), w.editNotes...), plan.Warnings...)
		switch {
		case plan.Skip != "":
			w.setStage(ctx, "nothing to do: "+plan.Skip)
			if outcome != "" {
				return outcome, nil
			}
			return OutcomeSkipped, nil
		case plan.DeleteAction != "":
			return OutcomeDeleted, w.applyDelete(ctx, pass, src, cur, plan, carried)
		case plan.CreateJira:
			w.setStage(ctx, "creating the Jira issue")
			var wr activities.WriteJiraResult
			if err := workflow.ExecuteActivity(apiCtx(ctx, SystemJira, StepWrite, "create Jira "+plan.JiraIssueType), a.WriteJira, activities.WriteJiraInput{
				Pair: in.Pair, OriginKey: in.OriginKey, SfObject: in.SfObject, SfID: src.SfID, Create: true,
				Fields: plan.JiraFields, Status: plan.Status, Resolution: plan.Resolution,
			}).Get(ctx, &wr); err != nil {
				return "", err
			}
			w.result.IssueID, w.result.IssueKey = wr.IssueID, wr.IssueKey
			// What the create wrote is this pass's own (see TransformInput.OwnJira).
			ownJira = ownJiraWrites(ownJira, plan)
			if wr.Created {
				w.pushUndo(activities.UndoStep{System: activities.SystemJira, Kind: "create", IssueID: wr.IssueID, IssueKey: wr.IssueKey})
				w.pushUndo(activities.UndoStep{System: activities.SystemJira, Kind: "fields", IssueID: wr.IssueID, IssueKey: wr.IssueKey, Changes: transitions(wr.Changes)})
			}
			_ = workflow.UpsertTypedSearchAttributes(ctx, JiraIssueKeyKey.ValueSet(wr.IssueKey), JiraProjectKey.ValueSet(plan.JiraProject))
			// The created fields are noted and audited with the step that completes the pass.
			carried = append(carried, wr.Changes...)
			outcome = OutcomeCreated
			continue
		case plan.CreateSalesforce:
			w.setStage(ctx, "creating the Salesforce record")
			var sw activities.WriteSalesforceResult
			if err := workflow.ExecuteActivity(apiCtx(ctx, SystemSalesforce, StepWrite, "create "+in.SfObject+" from "+cur.IssueKey), a.WriteSalesforce, activities.WriteSalesforceInput{
				Pair: in.Pair, OriginKey: in.OriginKey, Create: true, Fields: plan.SFFields, IssueID: cur.IssueID, IssueKey: cur.IssueKey,
			}).Get(ctx, &sw); err != nil {
				return "", err
			}
			w.result.SfID = sw.SfID
			_ = workflow.UpsertTypedSearchAttributes(ctx, SfRecordIDKey.ValueSet(sw.SfID), JiraIssueKeyKey.ValueSet(cur.IssueKey))
			w.noteChanges(sw.Changes)
			var mark activities.WriteJiraResult
			if err := workflow.ExecuteActivity(apiCtx(ctx, SystemJira, StepWrite, "mark origin on "+cur.IssueKey), a.WriteJira, activities.WriteJiraInput{
				Pair: in.Pair, OriginKey: in.OriginKey, SfObject: in.SfObject, SfID: sw.SfID, IssueID: cur.IssueID, IssueKey: cur.IssueKey, MarkOrigin: true,
			}).Get(ctx, &mark); err != nil {
				return "", err
			}
			outcome = OutcomeCreated
			continue
		}

		linkOK := src.LinkedIssueID == cur.IssueID && src.LinkedIssueKey == cur.IssueKey
		if plan.NothingToWrite() && linkOK {
			if plan.SnapshotHash != plan.SidesHash || len(plan.Conflicts) > 0 || len(plan.AppliedConflicts) > 0 {
				// In step, but the snapshot is missing or stale (e.g. both sides got the same edit).
				if _, err := w.commit(ctx, pass, src.SfID, cur, &plan, plan.SFSide, plan.JiraSide, src.Modstamp, cur.Updated, carried, nil, false); err != nil {
					return "", err
				}
			}
			w.noteChanges(carried)
			w.noteConflicts(plan.Conflicts)
			if err := w.mirrorComments(ctx, cur); err != nil {
				return "", err
			}
			if err := w.syncActivities(ctx, &plan); err != nil {
				return "", err
			}
			if err := w.runTriggers(ctx, pass, &plan); err != nil {
				return "", err
			}
			if outcome != "" {
				return outcome, nil
			}
			return OutcomeUnchanged, nil
		}

		var jiraChanges, sfChanges []activities.FieldChange
		if len(plan.JiraFields) > 0 || plan.Status != "" {
			w.setStage(ctx, "writing Jira")
			var wr activities.WriteJiraResult
			if err := workflow.ExecuteActivity(apiCtx(ctx, SystemJira, StepWrite, "write Jira "+cur.IssueKey), a.WriteJira, activities.WriteJiraInput{
				Pair: in.Pair, OriginKey: in.OriginKey, SfObject: in.SfObject, SfID: src.SfID, IssueID: cur.IssueID, IssueKey: cur.IssueKey,
				Fields: plan.JiraFields, Status: plan.Status, Resolution: plan.Resolution, Before: cur.Projection, ExpectUpdated: cur.Updated,
			}).Get(ctx, &wr); err != nil {
				if deletedMidPass(ctx, err) {
					w.setStage(ctx, "the Jira issue was deleted meanwhile: planning again")
					continue
				}
				return "", err
			}
			if wr.Stale {
				w.setStage(ctx, "the Jira issue changed meanwhile: planning again")
				continue
			}
			w.pushUndo(activities.UndoStep{System: activities.SystemJira, Kind: "fields", IssueID: cur.IssueID, IssueKey: cur.IssueKey, Changes: wr.Changes})
			jiraChanges = wr.Changes
			ownJira = ownJiraWrites(ownJira, plan)
		}
		if len(plan.SFFields) > 0 || !linkOK {
			w.setStage(ctx, "writing Salesforce")
			var sw activities.WriteSalesforceResult
			if err := workflow.ExecuteActivity(apiCtx(ctx, SystemSalesforce, StepWrite, "write "+in.SfObject+" "+src.SfID), a.WriteSalesforce, activities.WriteSalesforceInput{
				Pair: in.Pair, OriginKey: in.OriginKey, SfID: src.SfID, Fields: plan.SFFields, IssueID: cur.IssueID, IssueKey: cur.IssueKey,
				CurrentIssueID: src.LinkedIssueID, CurrentIssueKey: src.LinkedIssueKey, Before: plan.SFBefore, ExpectModstamp: src.Modstamp,
			}).Get(ctx, &sw); err != nil {
				if deletedMidPass(ctx, err) {
					w.setStage(ctx, "the Salesforce record was deleted meanwhile: planning again")
					carried = append(carried, jiraChanges...)
					continue
				}
				return "", err
			}
			if sw.Stale {
				w.setStage(ctx, "the Salesforce record changed meanwhile: planning again")
				carried = append(carried, jiraChanges...)
				continue
			}
			w.pushUndo(activities.UndoStep{System: activities.SystemSalesforce, Kind: "fields", SfID: src.SfID, Changes: sw.Changes})
			sfChanges = sw.Changes
		}
		jiraChanges = append(carried, jiraChanges...)
		w.setStage(ctx, "verifying both sides")
		var vr activities.VerifyPairResult
		if err := workflow.ExecuteActivity(apiCtx(ctx, SystemJira, StepVerify, "verify "+cur.IssueKey+" ⇄ "+src.SfID), a.VerifyPair, activities.VerifyPairInput{
			Pair: in.Pair, OriginKey: in.OriginKey, SfID: src.SfID, IssueID: cur.IssueID, Checks: plan.Checks, JiraReadUpdated: cur.Updated,
		}).Get(ctx, &vr); err != nil {
			if deletedMidPass(ctx, err) {
				w.setStage(ctx, "a side was deleted after the write: planning again")
				carried = jiraChanges
				continue
			}
			return "", err
		}
		if len(vr.EditedAfterWrite) > 0 {
			// Someone changed what this pass wrote once it had landed: record this pass, then
			// merge their change in another pass even if its event has not arrived yet.
			w.rerun = true
			note := "changed on Jira after this pass wrote it: " + strings.Join(vr.EditedAfterWrite, ", ")
			w.editNotes = append(w.editNotes, note)
			w.result.Warnings = append(w.result.Warnings, note)
		}
		w.noteChanges(jiraChanges)
		w.noteChanges(sfChanges)
		w.noteConflicts(plan.Conflicts)
		expSF, expJira := plan.ExpectSF, plan.ExpectJira
		if expSF == nil {
			expSF, expJira = plan.SFSide, plan.JiraSide
		}
		if _, err := w.commit(ctx, pass, src.SfID, cur, &plan, expSF, expJira, vr.SfModstamp, vr.JiraUpdated, jiraChanges, sfChanges, false); err != nil {
			return "", err
		}
		if err := w.mirrorComments(ctx, cur); err != nil {
			return "", err
		}
		if err := w.syncActivities(ctx, &plan); err != nil {
			return "", err
		}
		if err := w.runTriggers(ctx, pass, &plan); err != nil {
			return "", err
		}
		if outcome != "" {
			return outcome, nil
		}
		if len(jiraChanges) == 0 && len(sfChanges) == 0 {
			return OutcomeUnchanged, nil
		}
		return OutcomeUpdated, nil
	}
}

func (w *recordSync) noteChanges(changes []activities.FieldChange) {
	for _, c := range changes {
		name := c.Label
		if name == "" {
			name = c.Field
		}
		w.result.Changed = append(w.result.Changed, name)
	}
}

func (w *recordSync) noteConflicts(cs []activities.ConflictNote) {
	for _, c := range cs {
		w.result.Conflicts = append(w.result.Conflicts, c.Label)
	}
}

// applyDelete carries out the pair's delete policy and closes the pair.
// carried are Jira writes of earlier steps of the pass (before a side turned out deleted): they
// are audited with it.
func (w *recordSync) applyDelete(ctx workflow.Context, pass int, src activities.FetchSalesforceResult, cur activities.JiraState, plan activities.TransformResult, carried []activities.FieldChange) error {
	in := w.in
	jiraChanges := append([]activities.FieldChange(nil), carried...)
	var sfChanges []activities.FieldChange
	switch plan.DeleteAction {
	case "mark_jira", "delete_jira":
		w.setStage(ctx, "Salesforce record deleted: "+plan.DeleteAction)
		var wr activities.WriteJiraResult
		if err := workflow.ExecuteActivity(apiCtx(ctx, SystemJira, StepWrite, plan.DeleteAction+" "+cur.IssueKey), a.WriteJira, activities.WriteJiraInput{
			Pair: in.Pair, OriginKey: in.OriginKey, SfID: w.result.SfID, IssueID: cur.IssueID, IssueKey: cur.IssueKey, DeleteAction: plan.DeleteAction,
		}).Get(ctx, &wr); err != nil {
			return err
		}
		jiraChanges = append(jiraChanges, wr.Changes...)
	case "unlink_salesforce":
		w.setStage(ctx, "Jira issue deleted: clearing the back-link")
		var sw activities.WriteSalesforceResult
		if err := workflow.ExecuteActivity(apiCtx(ctx, SystemSalesforce, StepWrite, "unlink "+src.SfID), a.WriteSalesforce, activities.WriteSalesforceInput{
			Pair: in.Pair, OriginKey: in.OriginKey, SfID: src.SfID, DeleteAction: plan.DeleteAction,
			CurrentIssueID: src.LinkedIssueID, CurrentIssueKey: src.LinkedIssueKey,
		}).Get(ctx, &sw); err != nil {
			return err
		}
		sfChanges = sw.Changes
	}
	w.noteChanges(jiraChanges)
	w.noteChanges(sfChanges)
	_, err := w.commit(ctx, pass, w.result.SfID, cur, &plan, nil, nil, src.Modstamp, cur.Updated, jiraChanges, sfChanges, true)
	return err
}

func (w *recordSync) commit(ctx workflow.Context, pass int, sfID string, cur activities.JiraState, plan *activities.TransformResult,
	sfSide, jiraSide map[string]string, sfModstamp, jiraUpdated string, jiraChanges, sfChanges []activities.FieldChange, deleted bool) (*activities.CommitSyncResult, error) {
	w.setStage(ctx, "recording")
	var res activities.CommitSyncResult
	err := workflow.ExecuteLocalActivity(localCtx(ctx, "record link, snapshot and audit", 10), "CommitSync", activities.CommitSyncInput{
		Pair: w.in.Pair, OriginKey: w.in.OriginKey, SfObject: w.in.SfObject, SfID: sfID,
		IssueID: cur.IssueID, IssueKey: cur.IssueKey, MappingVersion: plan.MappingVersion,
		SFSide: sfSide, JiraSide: jiraSide, Held: plan.Held, SfModstamp: sfModstamp, JiraUpdated: jiraUpdated,
		Pass: pass, Direction: activities.DirectionBidirectional, JiraChanges: jiraChanges, SfChanges: sfChanges,
		Decisions: plan.Decisions, Reasons: plan.Reasons, Conflicts: plan.Conflicts, AppliedConflicts: plan.AppliedConflicts,
		SourceTime: plan.SourceTime, Deleted: deleted, TriggerStates: plan.TriggerStates,
	}).Get(ctx, &res)
	if res.LatencyMS > 0 {
		w.result.LatencyMS = res.LatencyMS
	}
	if err == nil {
		w.undo = nil // recorded: a later failure no longer undoes these writes
	}
	return &res, err
}

// mirrorComments posts new Jira comments to Salesforce Chatter when the change came from Jira.
func (w *recordSync) mirrorComments(ctx workflow.Context, cur activities.JiraState) error {
	if !w.fromJira || !cur.Found || w.result.SfID == "" {
		return nil
	}
	w.fromJira = false
	w.setStage(ctx, "mirroring Jira comments to Chatter")
	return workflow.ExecuteActivity(apiCtx(ctx, SystemJira, StepWrite, "mirror comments of "+cur.IssueKey), a.MirrorComments, activities.MirrorCommentsInput{
		Pair: w.in.Pair, OriginKey: w.in.OriginKey, SfID: w.result.SfID, IssueID: cur.IssueID,
	}).Get(ctx, nil)
}

// syncActivities writes the record's Salesforce activities (calls, e-mails, meetings) to its
// Jira issue as comments and worklogs, when the mapping has activity rules and the pass was
// started from the Salesforce side. Versioned: histories recorded before it never run it.
func (w *recordSync) syncActivities(ctx workflow.Context, plan *activities.TransformResult) error {
	if !plan.HasActivities || !w.fromSF || w.result.SfID == "" || w.result.IssueID == "" {
		return nil
	}
	if workflow.GetVersion(ctx, "sync-activities", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	w.fromSF = false
	w.setStage(ctx, "writing Salesforce activities to Jira")
	var res activities.SyncActivitiesResult
	// One attempt makes a query per activity rule and writes to Jira, so a flaky API fails it
	// more often than a single call: it gets more attempts (idempotent: comments and worklogs are
	// found by their activity link before anything is created).
	if err := workflow.ExecuteActivity(activityCtx(ctx, "activities of "+w.result.SfID+" → "+w.result.IssueKey, syncActivitiesAttempts), a.SyncActivities, activities.SyncActivitiesInput{
		Pair: w.in.Pair, OriginKey: w.in.OriginKey, SfID: w.result.SfID, IssueID: w.result.IssueID,
	}).Get(ctx, &res); err != nil {
		return err
	}
	if res.Created+res.Updated > 0 {
		w.result.Changed = append(w.result.Changed, fmt.Sprintf("activities (%d new, %d updated)", res.Created, res.Updated))
	}
	w.result.Warnings = append(w.result.Warnings, res.Warnings...)
	return nil
}

// triggersVersion guards running mapping triggers after the commit, so histories recorded before
// it replay.
const triggersVersion = "mapping-triggers"

// runTriggers carries out the mapping triggers this pass's plan fired (a condition that became
// true since the last sync), one RunTrigger activity each, after the pass is recorded. The
// actions are idempotent and a trigger's state turns true only when its actions are done, so a
// failure here fails the run (dead letter) and the replay fires the trigger again.
func (w *recordSync) runTriggers(ctx workflow.Context, pass int, plan *activities.TransformResult) error {
	if len(plan.FiredTriggers) == 0 || w.result.IssueID == "" {
		return nil
	}
	if workflow.GetVersion(ctx, triggersVersion, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	for _, t := range plan.FiredTriggers {
		w.setStage(ctx, "running trigger "+t.Trigger)
		var res activities.RunTriggerResult
		if err := workflow.ExecuteActivity(activityCtx(ctx, "trigger "+t.Trigger+" on "+w.result.IssueKey, 8), a.RunTrigger, activities.RunTriggerInput{
			Pair: w.in.Pair, OriginKey: w.in.OriginKey, SfID: w.result.SfID, IssueID: w.result.IssueID, IssueKey: w.result.IssueKey,
			MappingVersion: plan.MappingVersion, Pass: pass, Action: t,
		}).Get(ctx, &res); err != nil {
			return err
		}
		if len(res.Created) > 0 {
			w.result.Changed = append(w.result.Changed, "trigger "+t.Trigger+": "+strings.Join(res.Created, ", "))
		}
	}
	return nil
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
	replay := w.in
	replay.SfID = w.result.SfID
	rerr := workflow.ExecuteActivity(apiCtx(dctx, SystemNone, StepDeadLetter, "keep dead letter "+code), a.RecordFailure, activities.RecordFailureInput{
		Pair: w.in.Pair, OriginKey: w.in.OriginKey, SfObject: w.in.SfObject, SfID: w.result.SfID,
		Code: code, Message: rootMessage(err), ReplayInput: replay,
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

// IsChangeCapture reports whether a trigger is change capture (webhook, outbound message,
// poller) rather than an operator, a backfill or reconciliation.
func IsChangeCapture(trigger string) bool {
	switch trigger {
	case activities.TriggerJiraWebhook, activities.TriggerJiraPoll, activities.TriggerSalesforcePoll, activities.TriggerSalesforceOutbound:
		return true
	}
	return false
}
