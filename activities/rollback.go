package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/store"
)

// RollbackScope selects the sync writes to roll back: one workflow's, one pair's after a time, or
// a time window's (see store.RollbackScope).
type RollbackScope struct {
	WorkflowID string
	OriginKey  string
	Since      time.Time
	Until      time.Time
}

// RollbackTarget is one record or issue with the field writes to undo on it.
type RollbackTarget struct {
	Pair      string
	OriginKey string
	System    string
	TargetID  string
	Changes   []FieldChange
}

// PlanRollbackResult lists the targets to restore, and the writes a rollback does not undo.
type PlanRollbackResult struct {
	Targets []RollbackTarget
	// NotRestorable are writes outside a field rollback: creates, deletes and back-links.
	NotRestorable []string
}

// PlanRollback reads the audit trail for the sync writes in scope and groups them per target,
// oldest first, so each field returns to its before-image from before the first write in scope.
// Creates, deletes and link changes are listed, not undone: removing a created issue or
// unlinking a pair is a decision for a person.
func (a *Activities) PlanRollback(ctx context.Context, sc RollbackScope) (*PlanRollbackResult, error) {
	rows, err := a.Store.SyncWritesIn(ctx, store.RollbackScope(sc))
	if err != nil {
		return nil, classify(err)
	}
	res := &PlanRollbackResult{}
	index := map[string]int{}
	for _, r := range rows {
		switch r.Action {
		case "update", "transition":
		default:
			res.NotRestorable = append(res.NotRestorable, fmt.Sprintf("%s %s %s on %s %s (%s, run %s)", r.Action, r.TargetSystem, r.Field, r.TargetSystem, r.TargetID,
				r.At.UTC().Format(time.RFC3339), r.WorkflowID))
			continue
		}
		if IsPIIProtected(r.Before) || IsPIIProtected(r.After) {
			// audit.pii: hash kept a keyed hash of this PII field, not the value to write back.
			res.NotRestorable = append(res.NotRestorable, fmt.Sprintf("%s %s %s on %s %s (%s, run %s): PII field audited as a hash, restore it by hand",
				r.Action, r.TargetSystem, r.Field, r.TargetSystem, r.TargetID, r.At.UTC().Format(time.RFC3339), r.WorkflowID))
			continue
		}
		key := r.OriginKey + "|" + r.TargetSystem + "|" + r.TargetID
		i, ok := index[key]
		if !ok {
			i = len(res.Targets)
			index[key] = i
			res.Targets = append(res.Targets, RollbackTarget{Pair: r.Pair, OriginKey: r.OriginKey, System: r.TargetSystem, TargetID: r.TargetID})
		}
		res.Targets[i].Changes = append(res.Targets[i].Changes, FieldChange{Action: r.Action, Field: r.Field, Label: r.Field,
			Before: r.Before, After: r.After, BeforeRaw: r.BeforeRaw})
	}
	return res, nil
}

// RestoreTargetInput is one target of a rollback.
type RestoreTargetInput struct {
	Target RollbackTarget
	Force  bool
	DryRun bool
	// Index numbers the target within the rollback run (keys its audit rows).
	Index int
	// Reason is written to the audit rows (who asked, and the scope).
	Reason string
}

// RestoreTargetResult says what was (or, dry, would be) restored and what was refused.
type RestoreTargetResult struct {
	Restored []FieldChange
	Refused  []string
}

// RestoreTarget writes the before-images of one target's fields back. A field someone changed
// after the sync being rolled back is refused (listed, not written) unless Force. The writes are
// recorded in the pair snapshot first, so they do not sync back to the other side, and audited
// with action "rollback".
func (a *Activities) RestoreTarget(ctx context.Context, in RestoreTargetInput) (*RestoreTargetResult, error) {
	t := in.Target
	if t.System != SystemJira && t.System != SystemSalesforce {
		return nil, newError(catalog.InvalidInput, "rollback target has unknown system "+t.System, nil)
	}
	b, err := a.Mappings.Bound(ctx, t.Pair)
	if err != nil {
		return nil, err
	}
	restored, refused, err := a.restoreFields(ctx, b, restoreSpec{Pair: t.Pair, OriginKey: t.OriginKey, System: t.System, Target: t.TargetID,
		Changes: t.Changes, Force: in.Force, DryRun: in.DryRun, Action: "rollback", Pass: in.Index, DecidedBy: in.Reason})
	if err != nil {
		return nil, err
	}
	out := &RestoreTargetResult{Restored: restored}
	for _, r := range refused {
		out.Refused = append(out.Refused, fmt.Sprintf("%s %s: %s", t.System, t.TargetID, r.String()))
	}
	return out, nil
}
