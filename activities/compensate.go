package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

// Systems of undo steps and restores.
const (
	SystemJira       = "jira"
	SystemSalesforce = "salesforce"
)

// UndoStep is one completed write of a sync pass that compensation can undo: a created Jira issue
// (Kind "create"), or field values written to one side (Kind "fields", restored to their
// before-images).
type UndoStep struct {
	System    string
	Kind      string
	Pair      string
	OriginKey string
	IssueID   string
	IssueKey  string
	SfID      string
	Changes   []FieldChange
}

// Describe names the step for summaries and logs.
func (u UndoStep) Describe() string {
	switch {
	case u.Kind == "create":
		return "delete created Jira issue " + u.IssueKey
	case u.System == SystemJira:
		return fmt.Sprintf("restore %d field(s) of %s", len(u.Changes), u.IssueKey)
	default:
		return fmt.Sprintf("restore %d field(s) of Salesforce %s", len(u.Changes), u.SfID)
	}
}

// CompensateInput is one undo step and the pass it belongs to (for the audit rows).
type CompensateInput struct {
	Step UndoStep
	Pass int
	// Cause is the failure that triggered the compensation, recorded in the audit.
	Cause string
}

// CompensateResult says what was undone, and which fields were left because a person changed
// them after the write being undone (their edit wins over an undo).
type CompensateResult struct {
	Undone  []FieldChange
	Skipped []string
}

// Compensate undoes one completed write of a sync pass that failed later on: it deletes an issue
// the pass created, or writes the before-images of the fields it changed. Fields someone edited
// since are left alone. Its own writes are recorded in the pair's snapshot first, so they are not
// synced back, and audited with action "compensate".
func (a *Activities) Compensate(ctx context.Context, in CompensateInput) (*CompensateResult, error) {
	st := in.Step
	b, err := a.Mappings.Bound(ctx, st.Pair)
	if err != nil {
		return nil, err
	}
	spec := restoreSpec{Pair: st.Pair, OriginKey: st.OriginKey, System: st.System, Changes: st.Changes, Action: "compensate",
		Pass: in.Pass, DecidedBy: "compensation: " + truncateText(in.Cause, 200)}
	if st.System == SystemJira {
		spec.Target = st.IssueID
	} else {
		spec.Target = st.SfID
	}
	res := &CompensateResult{}
	if st.Kind == "create" {
		if err := a.Jira.DeleteIssue(ctx, st.IssueID); err != nil && !jira.IsNotFound(err) {
			return nil, classify(err)
		}
		if err := a.Store.ForgetIssue(ctx, st.OriginKey, st.IssueID); err != nil {
			return nil, classify(err)
		}
		ch := FieldChange{Action: "compensate", Field: "issue", Label: "Issue", Before: strPtr(st.IssueID)}
		res.Undone = append(res.Undone, ch)
		if err := a.appendAudit(ctx, a.auditRows(ctx, spec, []FieldChange{ch})); err != nil {
			return nil, classify(err)
		}
		a.Log.Warn("compensated: deleted the Jira issue a failed sync created", zap.String("origin", st.OriginKey),
			zap.String("jira_key", st.IssueKey), zap.String("cause", in.Cause))
		return res, nil
	}
	undone, refused, err := a.restoreFields(ctx, b, spec)
	if err != nil {
		return nil, err
	}
	res.Undone = undone
	for _, r := range refused {
		res.Skipped = append(res.Skipped, r.String())
	}
	a.Log.Warn("compensated: restored fields a failed sync had written", zap.String("origin", st.OriginKey),
		zap.String("system", st.System), zap.Int("restored", len(undone)), zap.Int("left_alone", len(refused)), zap.String("cause", in.Cause))
	return res, nil
}

// restoreSpec says which written values to put back on one target.
type restoreSpec struct {
	Pair, OriginKey string
	System, Target  string
	// Changes are the writes to undo: Before/BeforeRaw is restored, After is what the write left
	// (a field that no longer reads After was changed by someone since).
	Changes []FieldChange
	Force   bool
	// Action ("compensate", "rollback") and Pass key the audit rows; DecidedBy says why.
	Action    string
	Pass      int
	DecidedBy string
	// DryRun computes what would be restored and refused, and writes nothing.
	DryRun bool
}

// Refusal is a field a restore left alone because its value changed after the write being undone.
type Refusal struct {
	Field, Label     string
	Current, Written string
}

func (r Refusal) String() string {
	return fmt.Sprintf("%s is now %q, not %q as written by the sync (someone changed it since)", r.Label, r.Current, r.Written)
}

// restoreFields writes the before-images of spec.Changes back to one target. It reads the target
// first: a field whose value is no longer what the undone write left is refused unless Force. The
// pair snapshot learns the restored values before the write (so the resulting change events are
// echoes), and every restored field gets an audit row.
func (a *Activities) restoreFields(ctx context.Context, b *mappings.Bound, spec restoreSpec) ([]FieldChange, []Refusal, error) {
	// Later writes of the same field override earlier ones in the list; keep the earliest
	// before-image and the latest after-value per field.
	type plan struct {
		field, label string
		before       *string
		beforeRaw    json.RawMessage
		after        *string
	}
	var order []string
	plans := map[string]*plan{}
	for _, c := range spec.Changes {
		if c.Field == "" || strings.HasPrefix(c.Field, "property:") {
			continue
		}
		p, ok := plans[c.Field]
		if !ok {
			p = &plan{field: c.Field, label: c.Label, before: c.Before, beforeRaw: c.BeforeRaw}
			plans[c.Field] = p
			order = append(order, c.Field)
		}
		p.after = c.After
	}
	if len(order) == 0 {
		return nil, nil, nil
	}
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	var current map[string]string
	var currentRaw map[string]json.RawMessage
	switch spec.System {
	case SystemJira:
		issue, err := a.Jira.GetIssue(ctx, spec.Target, append(append([]string{}, order...), keyStatus, keyResolution), nil)
		if err != nil {
			return nil, nil, classify(err)
		}
		current, currentRaw = b.ProjectJira(issue.Fields), issue.Fields
	case SystemSalesforce:
		rec, err := a.SF.Get(ctx, b.Mapping.Salesforce.Object, spec.Target, order...)
		if err != nil {
			return nil, nil, classify(err)
		}
		current, currentRaw = map[string]string{}, map[string]json.RawMessage{}
		for _, f := range order {
			current[f] = canonString(rec[f])
			currentRaw[f], _ = json.Marshal(rec[f])
		}
	default:
		return nil, nil, newError(catalog.InvalidInput, "restore: unknown system "+spec.System, nil)
	}

	var refused []Refusal
	var undone []FieldChange
	write := map[string]any{}
	snap := map[string]string{}
	status, resolution := "", ""
	moveStatus := false
	for _, f := range order {
		p := plans[f]
		cur := current[f]
		if cur == deref(p.before) {
			continue // already at its before-image
		}
		if cur != deref(p.after) && !spec.Force {
			refused = append(refused, Refusal{Field: f, Label: p.label, Current: cur, Written: deref(p.after)})
			continue
		}
		ch := FieldChange{Action: spec.Action, Field: f, Label: p.label, Before: strPtr(cur), After: p.before, BeforeRaw: currentRaw[f]}
		undone = append(undone, ch)
		if spec.System == SystemJira {
			snap["j:"+f] = deref(p.before)
			if f == keyStatus || f == keyResolution {
				moveStatus = true
				continue
			}
		} else {
			snap["s:"+f] = deref(p.before)
		}
		var v any
		switch {
		case len(p.beforeRaw) > 0:
			if err := json.Unmarshal(p.beforeRaw, &v); err != nil {
				return nil, nil, newError(catalog.InvalidInput, fmt.Sprintf("restore %s: stored before-image is not JSON: %v", f, err), nil)
			}
		case p.before != nil:
			v = *p.before
		}
		write[f] = v
	}
	if len(undone) == 0 || spec.DryRun {
		return undone, refused, nil
	}
	if moveStatus {
		status, resolution = current[keyStatus], current[keyResolution]
		if p, ok := plans[keyStatus]; ok && current[keyStatus] != deref(p.before) {
			status = deref(p.before)
		}
		if p, ok := plans[keyResolution]; ok {
			resolution = deref(p.before)
		}
	}
	// The snapshot first: the change events of these writes then read as our own echoes.
	if spec.System == SystemJira {
		if err := a.Store.SetSnapshotValues(ctx, spec.OriginKey, nil, snap); err != nil {
			return nil, nil, classify(err)
		}
	} else {
		if err := a.Store.SetSnapshotValues(ctx, spec.OriginKey, snap, nil); err != nil {
			return nil, nil, classify(err)
		}
	}
	switch spec.System {
	case SystemJira:
		if len(write) > 0 {
			if err := a.Jira.EditIssue(ctx, spec.Target, write); err != nil {
				return nil, nil, classify(err)
			}
		}
		if moveStatus && status != "" {
			if err := a.moveToStatus(ctx, b, spec.Target, current[keyStatus], status, resolution); err != nil {
				return nil, nil, err
			}
		}
	case SystemSalesforce:
		if err := a.SF.Update(ctx, b.Mapping.Salesforce.Object, spec.Target, write); err != nil {
			return nil, nil, classify(err)
		}
	}
	if err := a.appendAudit(ctx, a.auditRows(ctx, spec, undone)); err != nil {
		return nil, nil, classify(err)
	}
	return undone, refused, nil
}

// appendAudit writes audit rows outside a sync commit, PII values protected (protectAudit).
func (a *Activities) appendAudit(ctx context.Context, rows []store.AuditEntry) error {
	rows, err := a.protectAudit(ctx, rows)
	if err != nil {
		return err
	}
	return a.Store.AppendAudit(ctx, rows)
}

// auditRows turns restored fields into audit rows of the running workflow.
func (a *Activities) auditRows(ctx context.Context, spec restoreSpec, changes []FieldChange) []store.AuditEntry {
	wfID, runID := "", ""
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		wfID, runID = info.WorkflowExecution.ID, info.WorkflowExecution.RunID
	}
	direction := DirectionJiraToSF
	if spec.System == SystemJira {
		direction = DirectionSFToJira
	}
	now := time.Now().UTC()
	rows := make([]store.AuditEntry, 0, len(changes))
	for _, c := range changes {
		rows = append(rows, store.AuditEntry{At: now, Actor: a.actor(), WorkflowID: wfID, RunID: runID, Pass: spec.Pass,
			OriginKey: spec.OriginKey, Pair: spec.Pair, Direction: direction, TargetSystem: spec.System, TargetID: spec.Target,
			Action: c.Action, Field: c.Field, Before: c.Before, After: c.After, MappingVersion: "-", DecidedBy: spec.DecidedBy, BeforeRaw: c.BeforeRaw})
	}
	return rows
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
