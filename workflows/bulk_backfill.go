package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
)

// bulkPagesPerRun bounds the pages one run handles before it continues as new (100,000
// records at 2,000 a page), so the history stays small however large the object is.
const bulkPagesPerRun = 50

// DefaultPagesInFlight is how many BulkSyncPage activities a backfill runs at once: two let one
// page's reads and creates overlap another's verification and bookkeeping within a 256 MB
// worker; more need the memory and the sites' rate limits.
const DefaultPagesInFlight = 2

// ProgressQuery is the query every backfill answers with its progress.
const ProgressQuery = "progress"

// BulkBackfillInput is the single input of BulkBackfill. AfterID and Progress carry the cursor
// and the tally across continue-as-new; starters leave them empty.
type BulkBackfillInput struct {
	Pair        string
	SfObject    string
	JiraProject string
	// PageSize is the SOQL page (default and maximum 2,000); Concurrency the bulk calls a page
	// keeps in flight (default 8); PagesInFlight the pages that run at once (default 2), so
	// one page's reads and creates overlap another's verification and bookkeeping.
	PageSize      int
	Concurrency   int
	PagesInFlight int
	DryRun        bool
	// HeartbeatTimeoutSeconds is how soon a page whose worker died is retried elsewhere
	// (default 30).
	HeartbeatTimeoutSeconds int

	AfterID  string
	Progress BulkBackfillProgress
}

// BulkBackfillProgress is what the progress query, the current details and the result show.
type BulkBackfillProgress struct {
	Total         int
	Done          int
	Created       int
	Adopted       int
	AlreadyLinked int
	Failed        int
	HandedOff     int
	Pages         int
	StartedAt     time.Time
	// RatePerSecond is records done per second since the start; ETASeconds the time left at
	// that rate.
	RatePerSecond float64
	ETASeconds    float64
	Finished      bool
	Failures      []activities.BulkFailure
}

// BulkBackfill syncs every record in a pair's scope with the bulk APIs (design §4.7): it pages
// through the Salesforce records 2,000 at a time in id order and hands each page to one
// BulkSyncPage activity, which creates, transitions, back-links, verifies and records the whole
// page with bulk calls, heartbeating its checkpoint. A worker that dies mid-page loses nothing:
// the page is retried on another worker and adopts what the dead one created. Records that fail
// go to their own RecordSync workflow (and from there to dead letters); the page goes on.
func BulkBackfill(ctx workflow.Context, in BulkBackfillInput) (*BulkBackfillProgress, error) {
	if in.Pair == "" || in.SfObject == "" {
		return nil, temporal.NewNonRetryableApplicationError("BulkBackfillInput needs Pair and SfObject", string(catalog.InvalidInput), nil)
	}
	p := in.Progress
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (BulkBackfillProgress, error) { return p, nil }); err != nil {
		return nil, err
	}
	if p.StartedAt.IsZero() {
		p.StartedAt = workflow.Now(ctx)
		if err := workflow.UpsertTypedSearchAttributes(ctx, SfObjectTypeKey.ValueSet(in.SfObject), SyncTriggerKey.ValueSet(TriggerBackfill),
			SyncDirectionKey.ValueSet(activities.DirectionSFToJira)); err != nil {
			return nil, err
		}
		if err := workflow.ExecuteActivity(activityCtx(ctx, "count "+in.SfObject+" records in scope", 10), a.CountInScope,
			activities.CountInScopeInput{Pair: in.Pair}).Get(ctx, &p.Total); err != nil {
			return nil, err
		}
		showProgress(ctx, &p, "counted")
	}
	if in.DryRun {
		p.Done, p.Finished = p.Total, true
		showProgress(ctx, &p, "dry run: nothing written")
		return &p, nil
	}
	hb := time.Duration(in.HeartbeatTimeoutSeconds) * time.Second
	if hb <= 0 {
		hb = 30 * time.Second
	}
	retry := &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 10}
	if workflow.GetVersion(ctx, "bulk-pages-in-flight", workflow.DefaultVersion, 1) == 1 {
		return bulkPagesInFlight(ctx, in, p, hb, retry)
	}
	after := in.AfterID
	for page := 0; ; page++ {
		if page >= bulkPagesPerRun {
			next := in
			next.AfterID, next.Progress = after, p
			return nil, workflow.NewContinueAsNewError(ctx, BulkBackfill, next)
		}
		sctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 15 * time.Minute, HeartbeatTimeout: hb, RetryPolicy: retry,
			Summary: fmt.Sprintf("page %d: %s after %s", p.Pages+1, in.SfObject, orStart(after)),
		})
		var res activities.BulkPageResult
		if err := workflow.ExecuteActivity(sctx, a.BulkSyncPage, activities.BulkPageInput{Pair: in.Pair, SfObject: in.SfObject,
			JiraProject: in.JiraProject, AfterID: after, PageSize: in.PageSize, Concurrency: in.Concurrency}).Get(ctx, &res); err != nil {
			showProgress(ctx, &p, "failed on page after "+orStart(after))
			return nil, err
		}
		p.Pages++
		p.Done += res.Records
		p.Created += res.Created
		p.Adopted += res.Adopted
		p.AlreadyLinked += res.AlreadyLinked
		p.Failed += res.Failed
		p.HandedOff += res.HandedOff
		for _, f := range res.Failures {
			if len(p.Failures) < maxReportedFailures {
				p.Failures = append(p.Failures, f)
			}
		}
		after = res.LastID
		if p.Done > p.Total {
			p.Total = p.Done // records added while the backfill runs
		}
		if res.Last {
			break
		}
		showProgress(ctx, &p, "running")
	}
	return finishBackfill(ctx, &p)
}

func finishBackfill(ctx workflow.Context, p *BulkBackfillProgress) (*BulkBackfillProgress, error) {
	p.Finished = true
	outcome := "backfilled"
	if p.Failed > 0 {
		outcome = "backfilled_with_failures"
	}
	showProgress(ctx, p, outcome)
	return p, workflow.UpsertTypedSearchAttributes(ctx, SyncOutcomeKey.ValueSet(outcome))
}

// addPage adds one page's counts to the progress.
func addPage(p *BulkBackfillProgress, res activities.BulkPageResult) {
	p.Pages++
	p.Done += res.Records
	p.Created += res.Created
	p.Adopted += res.Adopted
	p.AlreadyLinked += res.AlreadyLinked
	p.Failed += res.Failed
	p.HandedOff += res.HandedOff
	for _, f := range res.Failures {
		if len(p.Failures) < maxReportedFailures {
			p.Failures = append(p.Failures, f)
		}
	}
	if p.Done > p.Total {
		p.Total = p.Done // records added while the backfill runs
	}
}

// bulkPagesInFlight is BulkBackfill with several pages at once: one BulkPageBounds call learns
// where the run's pages end (ids only), then up to PagesInFlight BulkSyncPage activities run on
// disjoint id ranges, each bounded by the next page's start. A range that grew while it waited
// (records inserted into it) is finished by a follow-up page; the last range of a backfill is
// open-ended and catches records added after the bounds were read.
func bulkPagesInFlight(ctx workflow.Context, in BulkBackfillInput, p BulkBackfillProgress, hb time.Duration, retry *temporal.RetryPolicy) (*BulkBackfillProgress, error) {
	inFlight := in.PagesInFlight
	if inFlight <= 0 {
		inFlight = DefaultPagesInFlight
	}
	bctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute, HeartbeatTimeout: 2 * time.Minute, RetryPolicy: retry,
		Summary: fmt.Sprintf("page bounds: %s after %s", in.SfObject, orStart(in.AfterID)),
	})
	var bounds activities.BulkBounds
	if err := workflow.ExecuteActivity(bctx, a.BulkPageBounds, activities.BulkBoundsInput{Pair: in.Pair, AfterID: in.AfterID,
		PageSize: in.PageSize, MaxPages: bulkPagesPerRun}).Get(ctx, &bounds); err != nil {
		showProgress(ctx, &p, "failed reading page bounds after "+orStart(in.AfterID))
		return nil, err
	}
	type span struct{ after, upTo string }
	var queue []span
	prev := in.AfterID
	for _, end := range bounds.Ends {
		queue = append(queue, span{prev, end})
		prev = end
	}
	if bounds.Complete {
		queue = append(queue, span{prev, ""})
	}
	sel := workflow.NewSelector(ctx)
	running := 0
	var failed error
	launch := func(sp span) {
		sctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 15 * time.Minute, HeartbeatTimeout: hb, RetryPolicy: retry,
			Summary: fmt.Sprintf("page: %s after %s", in.SfObject, orStart(sp.after)),
		})
		f := workflow.ExecuteActivity(sctx, a.BulkSyncPage, activities.BulkPageInput{Pair: in.Pair, SfObject: in.SfObject,
			JiraProject: in.JiraProject, AfterID: sp.after, UpTo: sp.upTo, PageSize: in.PageSize, Concurrency: in.Concurrency})
		running++
		sel.AddFuture(f, func(f workflow.Future) {
			running--
			var res activities.BulkPageResult
			if err := f.Get(ctx, &res); err != nil {
				if failed == nil {
					failed = err
					showProgress(ctx, &p, "failed on page after "+orStart(sp.after))
				}
				return
			}
			addPage(&p, res)
			if !res.Last {
				queue = append(queue, span{res.LastID, sp.upTo})
			}
			showProgress(ctx, &p, "running")
		})
	}
	for failed == nil && (len(queue) > 0 || running > 0) {
		for len(queue) > 0 && running < inFlight {
			sp := queue[0]
			queue = queue[1:]
			launch(sp)
		}
		sel.Select(ctx)
	}
	if failed != nil {
		return nil, failed
	}
	if !bounds.Complete {
		next := in
		next.AfterID, next.Progress = prev, p
		return nil, workflow.NewContinueAsNewError(ctx, BulkBackfill, next)
	}
	return finishBackfill(ctx, &p)
}

func orStart(id string) string {
	if id == "" {
		return "the start"
	}
	return id
}

// showProgress updates rate and ETA and the run's current details (shown in the Temporal UI).
func showProgress(ctx workflow.Context, p *BulkBackfillProgress, stage string) {
	elapsed := workflow.Now(ctx).Sub(p.StartedAt).Seconds()
	if elapsed > 0 && p.Done > 0 {
		p.RatePerSecond = float64(p.Done) / elapsed
		p.ETASeconds = float64(max(p.Total-p.Done, 0)) / p.RatePerSecond
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** %s %d/%d records (%.0f%%), %.0f records/s, ETA %.0fs\n\n"+
		"created %d, adopted %d, already linked %d, failed %d (handed to per-record syncs: %d), pages %d",
		stage, ProgressBar(p.Done, p.Total, 20), p.Done, p.Total, percent(p.Done, p.Total), p.RatePerSecond, p.ETASeconds,
		p.Created, p.Adopted, p.AlreadyLinked, p.Failed, p.HandedOff, p.Pages))
}

func percent(done, total int) float64 {
	if total <= 0 {
		return 100
	}
	return 100 * float64(done) / float64(total)
}

// ProgressBar renders done/total as a text bar of the given width, for the UI and the CLI.
func ProgressBar(done, total, width int) string {
	filled := width
	if total > 0 {
		filled = min(width, done*width/total)
	}
	return "[" + strings.Repeat("█", filled) + strings.Repeat("░", width-filled) + "]"
}
