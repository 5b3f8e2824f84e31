package workflows

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
)

// TriggerReconcile marks runs started by reconciliation in the SyncTrigger attribute.
const TriggerReconcile = "reconcile"

// ReportQuery is the query a Reconcile run answers with its report.
const ReportQuery = "report"

// ReconcileInput is the single input of Reconcile.
type ReconcileInput struct {
	Pair   string
	DryRun bool
	// Full reads every Jira issue in full instead of those changed since the last repair.
	Full bool
}

// Reconcile finds and repairs drift between a pair's two systems and its last-synced state
// (see activities.Reconcile): one heartbeating activity scans both sides in bulk, classifies
// the drift, repairs field drift and creates missing targets in bulk, and hands deletes and
// conflicts to the pairs' RecordSync workflows. It runs on a Temporal Schedule created by `sfjira setup` and on demand
// (`sfjira reconcile run`). The report shows in the UI (current details) and the report query,
// and is stored for `sfjira reconcile report`.
func Reconcile(ctx workflow.Context, in ReconcileInput) (*activities.ReconcileReport, error) {
	if in.Pair == "" {
		return nil, temporal.NewNonRetryableApplicationError("ReconcileInput needs Pair", string(catalog.InvalidInput), nil)
	}
	var rep *activities.ReconcileReport
	if err := workflow.SetQueryHandler(ctx, ReportQuery, func() (*activities.ReconcileReport, error) { return rep, nil }); err != nil {
		return nil, err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, SyncTriggerKey.ValueSet(TriggerReconcile),
		SyncDirectionKey.ValueSet(activities.DirectionBidirectional)); err != nil {
		return nil, err
	}
	mode := "repair"
	if in.DryRun {
		mode = "dry run"
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**scanning** pair `%s` (%s)", in.Pair, mode))
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    2 * time.Minute,
		Summary:             "scan and " + mode + " " + in.Pair,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: 2 * time.Minute, MaximumAttempts: 5},
	})
	if err := workflow.ExecuteActivity(actx, a.Reconcile, activities.ReconcileInput{Pair: in.Pair, DryRun: in.DryRun, Full: in.Full}).Get(ctx, &rep); err != nil {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**failed** pair `%s`: %v", in.Pair, err))
		return nil, err
	}
	outcome := "in_step"
	switch {
	case rep.Total() > 0 && in.DryRun:
		outcome = "drift_found"
	case rep.Total() > 0:
		outcome = "repaired"
	}
	workflow.SetCurrentDetails(ctx, ReportMarkdown(rep))
	return rep, workflow.UpsertTypedSearchAttributes(ctx, SyncOutcomeKey.ValueSet(outcome))
}

// ReportMarkdown renders a report for the Temporal UI and the CLI: counts by kind, then the
// first examples.
func ReportMarkdown(rep *activities.ReconcileReport) string {
	var b strings.Builder
	scan := "incremental since " + rep.Since.Format(time.RFC3339)
	if rep.FullScan {
		scan = "full"
	}
	mode := "repaired"
	if rep.DryRun {
		mode = "dry run: nothing written"
	}
	fmt.Fprintf(&b, "**%d finding(s)** in pair `%s` (%s; %s scan, %.1fs)\n\n", rep.Total(), rep.Pair, mode, scan, rep.Seconds)
	fmt.Fprintf(&b, "scanned %d Salesforce records, %d Jira issues (%d read in full), %d linked pairs\n\n", rep.ScannedSF, rep.ScannedJira, rep.JiraRead, rep.Linked)
	b.WriteString("| kind | found | repaired in bulk |\n|---|---|---|\n")
	for _, k := range activities.DriftKinds {
		fmt.Fprintf(&b, "| %s | %d | %d |\n", k, rep.Found[k], rep.Repaired[k])
	}
	if rep.HandedOff > 0 {
		fmt.Fprintf(&b, "\n%d handed to their per-record syncs (deletes, conflicts, records with a back-link but no link row, creates and repairs that did not verify)\n", rep.HandedOff)
	}
	ex := append([]activities.DriftExample(nil), rep.Examples...)
	sort.SliceStable(ex, func(i, j int) bool { return ex[i].Kind < ex[j].Kind })
	if len(ex) > 0 {
		b.WriteString("\nfirst examples:\n")
		for _, e := range ex {
			fmt.Fprintf(&b, "- %s `%s` %s %s: %s\n", e.Kind, e.OriginKey, e.SfID, e.IssueKey, e.Detail)
		}
	}
	return b.String()
}

// ReconcileScheduleID names a pair's reconcile schedule (and the prefix of its runs' ids).
func ReconcileScheduleID(pair string) string { return "reconcile/" + pair }
