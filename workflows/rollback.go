package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
)

// RollbackInput is the single input of Rollback: which sync writes to undo, and how.
type RollbackInput struct {
	Scope activities.RollbackScope
	// DryRun lists what would be restored and refused, and writes nothing.
	DryRun bool
	// Force overwrites fields a person changed after the sync being rolled back.
	Force bool
	// RequestedBy names the operator, for the audit.
	RequestedBy string
}

// RollbackResult says what the rollback restored, refused and left alone.
type RollbackResult struct {
	DryRun        bool
	Targets       int
	Restored      []string
	Refused       []string
	NotRestorable []string
}

// RollbackWorkflowID names a rollback run; the suffix is chosen by the starter.
func RollbackWorkflowID(suffix string) string { return "rollback/" + suffix }

// Rollback restores the before-images the audit trail holds for the sync writes in scope (one
// workflow, one record since a time, or a time window), target by target, each on its system's
// task queue. Fields a person changed since the sync are refused unless Force; creates, deletes
// and links are listed, not undone. Every restore is audited and pre-recorded in the pair's
// snapshot, so it does not flow back to the other side.
func Rollback(ctx workflow.Context, in RollbackInput) (*RollbackResult, error) {
	sc := in.Scope
	forms := 0
	if sc.WorkflowID != "" {
		forms++
	}
	if sc.OriginKey != "" {
		forms++
		if sc.Since.IsZero() {
			return nil, temporal.NewNonRetryableApplicationError("rollback of a record needs the time to roll back to (--to)", string(catalog.InvalidInput), nil)
		}
	}
	if sc.WorkflowID == "" && sc.OriginKey == "" && !sc.Since.IsZero() {
		forms++
	}
	if forms != 1 {
		return nil, temporal.NewNonRetryableApplicationError("rollback needs exactly one of: a workflow id, a record with a time, or a time window",
			string(catalog.InvalidInput), nil)
	}
	res := &RollbackResult{DryRun: in.DryRun}
	var plan activities.PlanRollbackResult
	if err := workflow.ExecuteActivity(apiCtx(ctx, SystemNone, StepRead, "read the audit trail"), a.PlanRollback, sc).Get(ctx, &plan); err != nil {
		return nil, err
	}
	res.Targets, res.NotRestorable = len(plan.Targets), plan.NotRestorable
	reason := fmt.Sprintf("operator rollback by %s (%s)", in.RequestedBy, describeScope(sc))
	if in.Force {
		reason += ", forced"
	}
	for i, t := range plan.Targets {
		system, name := SystemJira, "Jira issue "+t.TargetID
		if t.System == activities.SystemSalesforce {
			system, name = SystemSalesforce, "Salesforce "+t.TargetID
		}
		verb := "restore"
		if in.DryRun {
			verb = "check (dry run)"
		}
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("%s %d of %d: %s", verb, i+1, len(plan.Targets), name))
		var out activities.RestoreTargetResult
		if err := workflow.ExecuteActivity(apiCtx(ctx, system, StepWrite, verb+" "+name), a.RestoreTarget, activities.RestoreTargetInput{
			Target: t, Force: in.Force, DryRun: in.DryRun, Index: i + 1, Reason: reason,
		}).Get(ctx, &out); err != nil {
			return nil, err
		}
		for _, c := range out.Restored {
			before, after := "", ""
			if c.Before != nil {
				before = *c.Before
			}
			if c.After != nil {
				after = *c.After
			}
			res.Restored = append(res.Restored, fmt.Sprintf("%s %s %s: %q → %q", t.System, t.TargetID, c.Field, before, after))
		}
		res.Refused = append(res.Refused, out.Refused...)
	}
	summary := fmt.Sprintf("**rolled back** %d field(s) on %d target(s)", len(res.Restored), res.Targets)
	if in.DryRun {
		summary = fmt.Sprintf("**dry run**: would restore %d field(s) on %d target(s)", len(res.Restored), res.Targets)
	}
	if len(res.Refused) > 0 {
		summary += fmt.Sprintf("; refused %d changed since (use --force)", len(res.Refused))
	}
	workflow.SetCurrentDetails(ctx, summary)
	return res, nil
}

func describeScope(sc activities.RollbackScope) string {
	var parts []string
	if sc.WorkflowID != "" {
		parts = append(parts, "workflow "+sc.WorkflowID)
	}
	if sc.OriginKey != "" {
		parts = append(parts, "record "+sc.OriginKey)
	}
	if !sc.Since.IsZero() {
		parts = append(parts, "since "+sc.Since.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if !sc.Until.IsZero() {
		parts = append(parts, "until "+sc.Until.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return strings.Join(parts, ", ")
}
