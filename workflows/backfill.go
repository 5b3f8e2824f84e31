package workflows

import (
	"fmt"
	"sort"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
)

// DefaultBackfillConcurrency is how many RecordSync children a backfill keeps running at once.
const DefaultBackfillConcurrency = 20

// maxReportedFailures caps the failures carried in the result (the rest are counted).
const maxReportedFailures = 50

// BackfillInput is the single input of Backfill. Tally and NextRecordsURL carry progress across
// continue-as-new; starters leave them empty.
type BackfillInput struct {
	Pair        string
	SfObject    string
	JiraProject string
	Concurrency int
	DryRun      bool

	NextRecordsURL string
	Tally          BackfillResult
}

// BackfillFailure is one record that did not sync, with its catalog code.
type BackfillFailure struct {
	SfID    string
	Code    string
	Message string
}

// BackfillResult counts what the backfill did.
type BackfillResult struct {
	Total     int
	Done      int
	Created   int
	Updated   int
	Unchanged int
	Joined    int
	Failed    int
	Failures  []BackfillFailure
	Pages     int
}

// Backfill syncs every record in a pair's scope: it pages through Salesforce ids (2,000 a page)
// and runs one RecordSync child per record on the pair's own workflow id, a bounded number at a
// time. Records already syncing are signalled instead. One failing record never stops the others;
// each failure is counted with its code (and kept as a dead letter by its RecordSync).
// This is the simple per-record backfill; the bulk-API backfill replaces it for large volumes.
func Backfill(ctx workflow.Context, in BackfillInput) (*BackfillResult, error) {
	if in.Pair == "" || in.SfObject == "" {
		return nil, temporal.NewNonRetryableApplicationError("BackfillInput needs Pair and SfObject", string(catalog.InvalidInput), nil)
	}
	if in.Concurrency <= 0 {
		in.Concurrency = DefaultBackfillConcurrency
	}
	tally := in.Tally
	if err := workflow.UpsertTypedSearchAttributes(ctx, SfObjectTypeKey.ValueSet(in.SfObject), SyncTriggerKey.ValueSet(TriggerBackfill),
		SyncDirectionKey.ValueSet(activities.DirectionSFToJira)); err != nil {
		return nil, err
	}
	if err := workflow.SetQueryHandler(ctx, "progress", func() (BackfillResult, error) { return tally, nil }); err != nil {
		return nil, err
	}
	guarded := workflow.GetVersion(ctx, budgetGuardVersion, workflow.DefaultVersion, 1) >= 1
	if guarded {
		budgetGate(ctx, "listing a page")
	}
	actx := apiCtx(ctx, SystemSalesforce, StepRead, "list "+in.SfObject+" ids in scope")
	var page activities.ListInScopeResult
	if err := workflow.ExecuteActivity(actx, a.ListInScope, activities.ListInScopeInput{Pair: in.Pair, NextRecordsURL: in.NextRecordsURL}).Get(ctx, &page); err != nil {
		return nil, err
	}
	tally.Total = page.Total
	tally.Pages++
	if !in.DryRun {
		syncPage(ctx, in, page.IDs, &tally, guarded)
	} else {
		tally.Done += len(page.IDs)
	}
	if page.NextRecordsURL != "" {
		next := in
		next.NextRecordsURL = page.NextRecordsURL
		next.Tally = tally
		return nil, workflow.NewContinueAsNewError(ctx, Backfill, next)
	}
	outcome := "completed"
	if tally.Failed > 0 {
		outcome = fmt.Sprintf("completed with %d failed", tally.Failed)
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s**: %d/%d records (created %d, updated %d, unchanged %d, failed %d)",
		outcome, tally.Done, tally.Total, tally.Created, tally.Updated, tally.Unchanged, tally.Failed))
	o := "backfilled"
	if tally.Failed > 0 {
		o = "backfilled_with_failures"
	}
	return &tally, workflow.UpsertTypedSearchAttributes(ctx, SyncOutcomeKey.ValueSet(o))
}

// syncPage runs a sliding window of RecordSync children over one page of ids.
// With guarded, the API budget guard is asked before starting children (see budgetGate).
func syncPage(ctx workflow.Context, in BackfillInput, ids []string, tally *BackfillResult, guarded bool) {
	sel := workflow.NewSelector(ctx)
	inFlight := 0
	started := 0
	start := func(id string) {
		origin := SalesforceOriginKey(id)
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            SyncWorkflowID(origin),
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			WorkflowRunTimeout:    time.Hour,
			StaticSummary:         fmt.Sprintf("%s %s → Jira (backfill)", in.SfObject, id),
			TypedSearchAttributes: temporal.NewSearchAttributes(
				SfObjectTypeKey.ValueSet(in.SfObject), SfRecordIDKey.ValueSet(id), SyncTriggerKey.ValueSet(TriggerBackfill),
				SyncDirectionKey.ValueSet(activities.DirectionSFToJira)),
		})
		f := workflow.ExecuteChildWorkflow(cctx, RecordSync, RecordSyncInput{
			OriginKey: origin, Pair: in.Pair, SfObject: in.SfObject, SfID: id, Trigger: TriggerBackfill, JiraProject: in.JiraProject,
		})
		inFlight++
		sel.AddFuture(f, func(f workflow.Future) {
			inFlight--
			tally.Done++
			var res RecordSyncResult
			err := f.Get(ctx, &res)
			switch {
			case err == nil:
				switch res.Outcome {
				case OutcomeCreated:
					tally.Created++
				case OutcomeUpdated:
					tally.Updated++
				default:
					tally.Unchanged++
				}
			case temporal.IsWorkflowExecutionAlreadyStartedError(err):
				// A sync of this pair is already running: hand it our request instead.
				tally.Joined++
				_ = workflow.SignalExternalWorkflow(ctx, SyncWorkflowID(origin), "", SyncSignal,
					SyncRequest{Trigger: TriggerBackfill, Source: "operator"}).Get(ctx, nil)
			default:
				tally.Failed++
				if len(tally.Failures) < maxReportedFailures {
					tally.Failures = append(tally.Failures, BackfillFailure{SfID: id, Code: activities.ErrorCode(err), Message: rootMessage(err)})
				}
			}
			workflow.SetCurrentDetails(ctx, fmt.Sprintf("page %d: %d/%d records synced, %d failed", tally.Pages, tally.Done, tally.Total, tally.Failed))
		})
	}
	gate := "ok"
	for started < len(ids) || inFlight > 0 {
		for inFlight < in.Concurrency && started < len(ids) {
			if guarded && (gate != "ok" || started%gateEvery == 0) {
				gate = budgetGate(ctx, fmt.Sprintf("record %d of page %d", started+1, tally.Pages))
			}
			start(ids[started])
			started++
		}
		sel.Select(ctx)
	}
	sort.Slice(tally.Failures, func(i, j int) bool { return tally.Failures[i].SfID < tally.Failures[j].SfID })
}
