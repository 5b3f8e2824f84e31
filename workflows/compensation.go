package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/sfjira/sfjira/activities"
)

// compensationVersion is the GetVersion change id of compensation in RecordSync: histories
// recorded before it replay without it.
const compensationVersion = "compensation"

// pushUndo remembers a completed write of the current pass (runs without compensation ignore it).
func (w *recordSync) pushUndo(step activities.UndoStep) {
	if !w.compensates || (step.Kind == "fields" && len(step.Changes) == 0) {
		return
	}
	step.Pair, step.OriginKey = w.in.Pair, w.in.OriginKey
	w.undo = append(w.undo, step)
}

// transitions picks the status and resolution changes of a write.
func transitions(changes []activities.FieldChange) []activities.FieldChange {
	var out []activities.FieldChange
	for _, c := range changes {
		if c.Action == "transition" {
			out = append(out, c)
		}
	}
	return out
}

// compensate undoes the completed writes of a pass that failed for good, newest first (a saga):
// the back-link is restored before the transition is reversed, the transition before the created
// issue is deleted. It runs in a disconnected context, so it also runs when the workflow is being
// cancelled. A step that cannot be undone is logged and shown in the run's details; the failure
// still goes to the dead letters, and the audit shows every step that was undone.
func (w *recordSync) compensate(ctx workflow.Context, pass int, cause error) {
	if len(w.undo) == 0 {
		return
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	w.setStage(ctx, fmt.Sprintf("compensating %d completed write(s)", len(w.undo)))
	failed := 0
	for i := len(w.undo) - 1; i >= 0; i-- {
		step := w.undo[i]
		system := SystemJira
		if step.System == activities.SystemSalesforce {
			system = SystemSalesforce
		}
		var res activities.CompensateResult
		err := workflow.ExecuteActivity(apiCtx(dctx, system, StepCompensate, "undo: "+step.Describe()), a.Compensate,
			activities.CompensateInput{Step: step, Pass: pass, Cause: rootMessage(cause)}).Get(dctx, &res)
		if err != nil {
			failed++
			workflow.GetLogger(ctx).Error("compensation step failed", "Step", step.Describe(), "Error", err)
			continue
		}
		if step.Kind == "create" && w.result.IssueID == step.IssueID {
			w.result.IssueID, w.result.IssueKey = "", ""
		}
		for _, sk := range res.Skipped {
			w.result.Warnings = append(w.result.Warnings, "not undone: "+sk)
		}
	}
	w.undo = nil
	if failed > 0 {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**compensation incomplete**: %d step(s) could not be undone; see the history and the audit", failed))
	}
}

// ownJiraWrites adds the Jira values a plan wrote (by projection key) to own.
func ownJiraWrites(own map[string]string, plan activities.TransformResult) map[string]string {
	if own == nil {
		own = map[string]string{}
	}
	for f := range plan.JiraFields {
		k := "j:" + f
		if v, ok := plan.ExpectJira[k]; ok {
			own[k] = v
		}
	}
	if plan.Status != "" {
		for _, k := range []string{"j:status", "j:resolution"} {
			if v, ok := plan.ExpectJira[k]; ok {
				own[k] = v
			}
		}
	}
	return own
}
