package budget

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

type fakeShared struct {
	mu  sync.Mutex
	obs map[System]Observation
	pub int
}

func (f *fakeShared) PublishBudget(_ context.Context, o Observation, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if prev, ok := f.obs[o.System]; !ok || prev.At.Before(o.At) {
		f.obs[o.System] = o
	}
	f.pub++
	return nil
}

func (f *fakeShared) LatestBudget(_ context.Context, s System) (Observation, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.obs[s]
	return o, ok, nil
}

type fakeMetrics struct {
	state     map[string]int
	throttled int
}

func (m *fakeMetrics) BudgetState(system string, _ float64, state int) { m.state[system] = state }
func (m *fakeMetrics) BudgetThrottled(string, string, string)          { m.throttled++ }

func TestGuardSlowsThenPausesBatchButNeverRealtime(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	sf := Observation{Remaining: 900, Limit: 1000, At: now}
	core, logs := observer.New(zap.InfoLevel)
	m := &fakeMetrics{state: map[string]int{}}
	g := New(Options{
		Sources:    map[System]Source{Salesforce: func() (Observation, bool) { return sf, true }},
		Thresholds: map[System]Thresholds{Salesforce: {SlowBelow: 0.3, PauseBelow: 0.1, SlowDelay: 200 * time.Millisecond}},
		Recheck:    5 * time.Second, Log: zap.New(core), Metrics: m, Now: func() time.Time { return now },
	})
	ctx := context.Background()
	require.Equal(t, StateOK, g.Decide(ctx, ClassBatch).State)

	sf = Observation{Remaining: 250, Limit: 1000, At: now}
	d := g.Decide(ctx, ClassBatch)
	require.Equal(t, StateSlow, d.State)
	require.Equal(t, 200*time.Millisecond, d.Delay)
	require.Contains(t, d.Reason, "250/1000")
	require.Equal(t, StateOK, g.Decide(ctx, ClassRealtime).State, "real-time work is never slowed")

	sf = Observation{Remaining: 50, Limit: 1000, At: now}
	d = g.Decide(ctx, ClassBatch)
	require.Equal(t, StatePaused, d.State)
	require.Equal(t, 5*time.Second, d.Delay)
	require.Equal(t, StateOK, g.Decide(ctx, ClassRealtime).State, "real-time work is never paused")
	require.Equal(t, int(StatePaused), m.state["salesforce"])
	require.Equal(t, 2, m.throttled)

	sf = Observation{Remaining: 990, Limit: 1000, At: now}
	require.Equal(t, StateOK, g.Decide(ctx, ClassBatch).State)

	// One log line per state change, saying what is held and that real-time changes go on.
	var msgs []string
	for _, e := range logs.All() {
		msgs = append(msgs, e.Message)
	}
	require.Len(t, msgs, 3, "%q", msgs)
	require.Contains(t, msgs[0], "slowing backfill and reconcile (real-time changes continue)")
	require.Contains(t, msgs[1], "pausing backfill and reconcile")
	require.Contains(t, msgs[2], "recovered")
}

func TestGuardHonoursRetryAfterAndSharedObservations(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	shared := &fakeShared{obs: map[System]Observation{}}
	// Worker 1 saw Jira throttle with Retry-After 40s.
	jira1 := Observation{Remaining: 0, Limit: 100, ThrottledUntil: now.Add(40 * time.Second), At: now}
	g1 := New(Options{Sources: map[System]Source{Jira: func() (Observation, bool) { return jira1, true }}, Shared: shared,
		Worker: "w1", Now: func() time.Time { return now }})
	d := g1.Decide(context.Background(), ClassBatch)
	require.Equal(t, StatePaused, d.State)
	require.Equal(t, 40*time.Second, d.Delay)
	require.Equal(t, 1, shared.pub)

	// Worker 2 has made no Jira call yet: it pauses too, from the shared observation.
	g2 := New(Options{Sources: map[System]Source{Jira: func() (Observation, bool) { return Observation{}, false }}, Shared: shared,
		Worker: "w2", Now: func() time.Time { return now.Add(10 * time.Second) }})
	d = g2.Decide(context.Background(), ClassBatch)
	require.Equal(t, StatePaused, d.State)
	require.Equal(t, 30*time.Second, d.Delay)
	require.Equal(t, System("jira"), d.System)

	// A newer local answer wins over an older shared one.
	local := Observation{Remaining: 95, Limit: 100, At: now.Add(11 * time.Second)}
	g3 := New(Options{Sources: map[System]Source{Jira: func() (Observation, bool) { return local, true }}, Shared: shared,
		Worker: "w3", Now: func() time.Time { return now.Add(12 * time.Second) }})
	require.Equal(t, StateOK, g3.Decide(context.Background(), ClassBatch).State)
}

func TestAdmitWaitsOutASlowDownAndReturnsWhenTheContextEnds(t *testing.T) {
	obs := Observation{Remaining: 20, Limit: 100, At: time.Now()}
	g := New(Options{Sources: map[System]Source{Salesforce: func() (Observation, bool) { return obs, true }},
		Thresholds: map[System]Thresholds{Salesforce: {SlowBelow: 0.3, PauseBelow: 0.1, SlowDelay: 50 * time.Millisecond}},
		Recheck:    20 * time.Millisecond})
	start := time.Now()
	require.NoError(t, g.Admit(context.Background(), ClassBatch))
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	require.NoError(t, g.Admit(context.Background(), ClassRealtime))

	obs = Observation{Remaining: 1, Limit: 100, At: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, g.Admit(ctx, ClassBatch), context.DeadlineExceeded, "paused: waits until the budget recovers")
}

func TestGuardLetsAProbeThroughWhenTheObservationIsStale(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	clock := now
	obs := Observation{Remaining: 1, Limit: 100, At: now}
	g := New(Options{Sources: map[System]Source{Jira: func() (Observation, bool) { return obs, true }}, Now: func() time.Time { return clock }})
	require.Equal(t, StatePaused, g.Decide(context.Background(), ClassBatch).State)
	clock = now.Add(11 * time.Second) // Jira's window is short: the old answer no longer says anything
	require.Equal(t, StateOK, g.Decide(context.Background(), ClassBatch).State)
}
