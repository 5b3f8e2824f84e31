package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// EnsureReconcileSchedule creates the pair's Reconcile schedule, or updates it when it exists, so
// `sfjira setup` can run on every deploy: every interval, overlapping runs skipped (a long scan is
// never doubled), and a run missed while the cluster was down still starts within catchup.
func EnsureReconcileSchedule(ctx context.Context, c client.Client, taskQueue, pair string, interval, catchup time.Duration) (string, error) {
	if interval <= 0 {
		return "", fmt.Errorf("reconcile interval for pair %s must be positive (fix: set sync.reconcile_interval_minutes, or 0 to skip the schedule)", pair)
	}
	id := ReconcileScheduleID(pair)
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: interval}}}
	action := &client.ScheduleWorkflowAction{
		ID:                    id,
		Workflow:              Reconcile,
		Args:                  []any{ReconcileInput{Pair: pair}},
		TaskQueue:             taskQueue,
		StaticSummary:         "Scheduled reconciliation of pair " + pair,
		TypedSearchAttributes: temporal.NewSearchAttributes(SyncTriggerKey.ValueSet(TriggerReconcile)),
	}
	sc := c.ScheduleClient()
	h := sc.GetHandle(ctx, id)
	_, err := h.Describe(ctx)
	var nf *serviceerror.NotFound
	switch {
	case err == nil:
		err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Spec = &spec
			s.Action = action
			if s.Policy == nil {
				s.Policy = &client.SchedulePolicies{}
			}
			s.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
			s.Policy.CatchupWindow = catchup
			return &client.ScheduleUpdate{Schedule: &s}, nil
		}})
		if err != nil {
			return "", fmt.Errorf("update schedule %s: %w", id, err)
		}
		return "updated", nil
	case errors.As(err, &nf):
		_, err = sc.Create(ctx, client.ScheduleOptions{ID: id, Spec: spec, Action: action,
			Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, CatchupWindow: catchup})
		if err != nil {
			return "", fmt.Errorf("create schedule %s: %w", id, err)
		}
		return "created", nil
	default:
		return "", fmt.Errorf("describe schedule %s: %w", id, err)
	}
}
