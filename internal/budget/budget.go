// Package budget is the connector's API budget guard. Salesforce counts API requests per org per
// 24 hours (Sforce-Limit-Info: api-usage=used/max on every answer); Jira Cloud meters cost per
// user and answers with X-RateLimit-Limit/Remaining and, when throttling, Retry-After or
// beta-retry-after. Both budgets are shared by every worker of a deployment and by real-time
// syncs, so the guard slows, then pauses, non-urgent work (backfill, reconcile) well before the
// quota is gone, and never holds back real-time changes: a customer's edit must still flow when
// a backfill has spent most of the day's budget.
//
// Observations come from the clients' latest response headers and are published to a shared store
// (PostgreSQL), so a worker that has made no calls yet still sees what the others saw.
package budget

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.uber.org/zap"
)

// Class says how urgent a piece of work is.
type Class int

const (
	// ClassRealtime is a change a person made: never slowed or paused by the guard.
	ClassRealtime Class = iota
	// ClassBatch is backfill, reconciliation and other bulk work: slowed, then paused, as the
	// budget runs low.
	ClassBatch
)

func (c Class) String() string {
	if c == ClassBatch {
		return "batch"
	}
	return "realtime"
}

// System names an API budget.
type System string

// The two budgets.
const (
	Salesforce System = "salesforce"
	Jira       System = "jira"
)

// Observation is a budget as one API answer reported it.
type Observation struct {
	System    System
	Remaining int
	Limit     int
	// ThrottledUntil is when a Retry-After (or beta-retry-after) the system sent runs out.
	ThrottledUntil time.Time
	// At is when the answer came.
	At time.Time
}

// Ratio is the share of the budget left, 0..1 (1 when the limit is unknown).
func (o Observation) Ratio() float64 {
	if o.Limit <= 0 {
		return 1
	}
	r := float64(o.Remaining) / float64(o.Limit)
	if r < 0 {
		return 0
	}
	return r
}

// Source reads the latest observation of one system from its client (ok false before any answer).
type Source func() (Observation, bool)

// Shared publishes observations to, and reads them from, storage every worker sees.
type Shared interface {
	PublishBudget(ctx context.Context, o Observation, by string) error
	LatestBudget(ctx context.Context, system System) (Observation, bool, error)
}

// Thresholds are the points, as a share of the budget left, where batch work slows and pauses.
type Thresholds struct {
	// SlowBelow: below this share left, batch work waits SlowDelay before each unit.
	SlowBelow float64
	// PauseBelow: below this share left, batch work waits until the budget recovers.
	PauseBelow float64
	// SlowDelay is the wait per unit of batch work while slowed.
	SlowDelay time.Duration
	// StaleAfter is how long an observation counts (default: Salesforce 2 minutes, Jira 10 s,
	// its rate-limit window being short). A paused guard hears of no new answers, so an old
	// observation lets one unit through as a probe, whose answer then decides again.
	StaleAfter time.Duration
}

func (t Thresholds) staleAfter(s System) time.Duration {
	switch {
	case t.StaleAfter > 0:
		return t.StaleAfter
	case s == Jira:
		return 10 * time.Second
	default:
		return 2 * time.Minute
	}
}

// DefaultThresholds slow batch work below 30 % of the budget left and pause it below 10 %.
func DefaultThresholds() Thresholds {
	return Thresholds{SlowBelow: 0.30, PauseBelow: 0.10, SlowDelay: 500 * time.Millisecond}
}

// State is what the guard does to batch work.
type State int

// States, in increasing severity.
const (
	StateOK State = iota
	StateSlow
	StatePaused
)

func (s State) String() string {
	switch s {
	case StateSlow:
		return "slow"
	case StatePaused:
		return "paused"
	}
	return "ok"
}

// Decision is the guard's answer for one unit of work.
type Decision struct {
	State State
	// Delay is how long to wait before the unit (slow), or before asking again (paused).
	Delay  time.Duration
	System System
	// Remaining and Limit are the budget that decided, for logs and the UI.
	Remaining, Limit int
	Reason           string
}

// Metrics receives the guard's state; *metrics.Metrics implements it. May be nil.
type Metrics interface {
	BudgetState(system string, ratio float64, state int)
	BudgetThrottled(system, class, state string)
}

// Options configure a Guard.
type Options struct {
	Sources    map[System]Source
	Shared     Shared // may be nil: local observations only
	Thresholds map[System]Thresholds
	// Recheck is how long a paused unit waits before asking again (default 15s).
	Recheck time.Duration
	// Worker names this process in the shared store.
	Worker  string
	Log     *zap.Logger
	Metrics Metrics
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Guard decides whether batch work may call the APIs now. It is safe for concurrent use.
type Guard struct {
	o Options

	mu        sync.Mutex
	published map[System]time.Time   // At of the last observation published
	cache     map[System]cachedShare // shared observations read recently
	states    map[System]State       // last state per system, to log changes once
}

type cachedShare struct {
	o    Observation
	ok   bool
	read time.Time
}

// New builds a guard.
func New(o Options) *Guard {
	if o.Recheck <= 0 {
		o.Recheck = 15 * time.Second
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Guard{o: o, published: map[System]time.Time{}, cache: map[System]cachedShare{}, states: map[System]State{}}
}

func (g *Guard) thresholds(s System) Thresholds {
	if t, ok := g.o.Thresholds[s]; ok {
		return t
	}
	return DefaultThresholds()
}

// Decide returns the guard's decision for one unit of work of class c: the most severe over the
// systems. Real-time work is always admitted at once.
func (g *Guard) Decide(ctx context.Context, c Class) Decision {
	worst := Decision{State: StateOK}
	for _, s := range []System{Salesforce, Jira} {
		obs, ok := g.observe(ctx, s)
		if !ok {
			continue
		}
		d := g.decideOne(s, obs)
		g.note(s, obs, d)
		if c == ClassRealtime {
			continue
		}
		if d.State > worst.State || (d.State == worst.State && d.Delay > worst.Delay) {
			worst = d
		}
	}
	if c == ClassRealtime {
		return Decision{State: StateOK}
	}
	if worst.State != StateOK && g.o.Metrics != nil {
		g.o.Metrics.BudgetThrottled(string(worst.System), c.String(), worst.State.String())
	}
	return worst
}

func (g *Guard) decideOne(s System, o Observation) Decision {
	th := g.thresholds(s)
	now := g.o.Now()
	d := Decision{System: s, Remaining: o.Remaining, Limit: o.Limit}
	ratio := o.Ratio()
	stale := !o.At.IsZero() && now.Sub(o.At) > th.staleAfter(s)
	switch {
	case o.ThrottledUntil.After(now):
		d.State, d.Delay = StatePaused, o.ThrottledUntil.Sub(now)
		d.Reason = fmt.Sprintf("%s asked to retry after %s", s, o.ThrottledUntil.Sub(now).Round(time.Second))
	case stale:
		// Too old to judge by: let the unit through; its own answer brings a fresh observation.
	case o.Limit > 0 && ratio < th.PauseBelow:
		d.State, d.Delay = StatePaused, g.o.Recheck
		d.Reason = fmt.Sprintf("%s budget %d/%d left (%.0f%%) is below the pause threshold %.0f%%", s, o.Remaining, o.Limit, ratio*100, th.PauseBelow*100)
	case o.Limit > 0 && ratio < th.SlowBelow:
		d.State, d.Delay = StateSlow, th.SlowDelay
		d.Reason = fmt.Sprintf("%s budget %d/%d left (%.0f%%) is below the slow-down threshold %.0f%%", s, o.Remaining, o.Limit, ratio*100, th.SlowBelow*100)
	}
	return d
}

// note updates the metric and logs a state change once per change.
func (g *Guard) note(s System, o Observation, d Decision) {
	if g.o.Metrics != nil {
		g.o.Metrics.BudgetState(string(s), o.Ratio(), int(d.State))
	}
	g.mu.Lock()
	prev := g.states[s]
	g.states[s] = d.State
	g.mu.Unlock()
	if prev == d.State {
		return
	}
	fields := []zap.Field{zap.String("system", string(s)), zap.Int("remaining", o.Remaining), zap.Int("limit", o.Limit),
		zap.String("state", d.State.String()), zap.String("was", prev.String())}
	switch d.State {
	case StatePaused:
		g.o.Log.Warn("API budget guard: pausing backfill and reconcile (real-time changes continue): "+d.Reason, fields...)
	case StateSlow:
		g.o.Log.Warn("API budget guard: slowing backfill and reconcile (real-time changes continue): "+d.Reason, fields...)
	default:
		g.o.Log.Info("API budget guard: budget recovered, backfill and reconcile run at full speed", fields...)
	}
}

// observe returns the newest observation of a system: the local client's, or the shared one
// another worker published. A local observation newer than the last published one is published.
func (g *Guard) observe(ctx context.Context, s System) (Observation, bool) {
	var local Observation
	var haveLocal bool
	if src := g.o.Sources[s]; src != nil {
		local, haveLocal = src()
		local.System = s
	}
	if g.o.Shared == nil {
		return local, haveLocal
	}
	now := g.o.Now()
	g.mu.Lock()
	pub := g.published[s]
	c := g.cache[s]
	g.mu.Unlock()
	if haveLocal && local.At.After(pub) && local.At.Sub(pub) >= 500*time.Millisecond {
		if err := g.o.Shared.PublishBudget(ctx, local, g.o.Worker); err == nil {
			g.mu.Lock()
			g.published[s] = local.At
			g.mu.Unlock()
		} else {
			g.o.Log.Debug("could not publish API budget", zap.String("system", string(s)), zap.Error(err))
		}
	}
	if now.Sub(c.read) > time.Second {
		o, ok, err := g.o.Shared.LatestBudget(ctx, s)
		if err == nil {
			c = cachedShare{o: o, ok: ok, read: now}
			g.mu.Lock()
			g.cache[s] = c
			g.mu.Unlock()
		}
	}
	switch {
	case c.ok && (!haveLocal || c.o.At.After(local.At)):
		return c.o, true
	default:
		return local, haveLocal
	}
}

// Admit blocks a unit of work of class c until the guard lets it call the APIs: at once for
// real-time work and while the budget is healthy; after SlowDelay while slowed; and while paused,
// until the budget recovers (asking again every Recheck). Inside an activity it heartbeats while
// it waits, so long pauses neither time the activity out nor hide it from cancellation. It returns
// ctx.Err() if the context ends first.
func (g *Guard) Admit(ctx context.Context, c Class) error {
	if c == ClassRealtime {
		return nil
	}
	for {
		d := g.Decide(ctx, c)
		if d.State == StateOK {
			return nil
		}
		wait := d.Delay
		if d.State == StatePaused && wait > g.o.Recheck {
			wait = g.o.Recheck
		}
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, "API budget guard: "+d.Reason)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if d.State == StateSlow {
			return nil
		}
	}
}
