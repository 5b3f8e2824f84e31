package activities

import (
	"context"
	"time"
)

// MaintenanceState is what a held workflow needs to know about a maintenance window.
type MaintenanceState struct {
	Paused         bool
	Reason         string
	Since          time.Time
	RecheckSeconds int
}

// MaintenanceState reads whether sfjira is paused (`sfjira pause`). RecordSync and the change
// pollers run it as a local activity before each pass or poll; kind ("sync" or "poller") is only
// counted. Without a store (unit tests of workflow logic) nothing is ever paused.
func (a *Activities) MaintenanceState(ctx context.Context, kind string) (*MaintenanceState, error) {
	if a == nil || a.Store == nil {
		return &MaintenanceState{RecheckSeconds: 15}, nil
	}
	m, err := a.Store.GetMaintenance(ctx)
	if err != nil {
		return nil, classify(err)
	}
	if m.Paused {
		a.Metrics.MaintenanceHold(kind)
	}
	return &MaintenanceState{Paused: m.Paused, Reason: m.Reason, Since: m.ChangedAt, RecheckSeconds: m.RecheckSeconds}, nil
}
