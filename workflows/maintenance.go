package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/sfjira/sfjira/activities"
)

// maintenanceChange guards the maintenance gate with workflow.GetVersion, so histories recorded
// before the gate existed replay without it.
const maintenanceChange = "maintenance-gate"

// maxHoldChecks bounds how often one run looks at the maintenance state before it continues as
// new, so a long maintenance window does not grow a history without end.
const maxHoldChecks = 240

// errHoldTooLong asks the caller to continue as new while still held.
var errHoldTooLong = errors.New("held for maintenance too long in one run")

// holdWhilePaused waits while sfjira is paused for maintenance (`sfjira pause`), looking again
// every few seconds, and returns once it is resumed. Signals keep arriving meanwhile and are
// handled by the next pass. kind is "sync" or "poller".
func holdWhilePaused(ctx workflow.Context, kind string, setDetails func(string)) error {
	if workflow.GetVersion(ctx, maintenanceChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	for checks := 0; ; checks++ {
		var st activities.MaintenanceState
		if err := workflow.ExecuteLocalActivity(localCtx(ctx, "check maintenance window", 10), "MaintenanceState", kind).Get(ctx, &st); err != nil {
			return err
		}
		if !st.Paused {
			if checks > 0 {
				setDetails("maintenance window over: resuming")
			}
			return nil
		}
		if checks >= maxHoldChecks {
			return errHoldTooLong
		}
		reason := st.Reason
		if reason == "" {
			reason = "no reason given"
		}
		setDetails(fmt.Sprintf("**held: paused for maintenance** since %s (%s); changes keep queuing and run after `sfjira resume`",
			st.Since.UTC().Format(time.RFC3339), reason))
		wait := time.Duration(st.RecheckSeconds) * time.Second
		if wait <= 0 {
			wait = 15 * time.Second
		}
		if err := workflow.NewTimerWithOptions(ctx, wait, workflow.TimerOptions{Summary: "held for maintenance"}).Get(ctx, nil); err != nil {
			return err
		}
	}
}
