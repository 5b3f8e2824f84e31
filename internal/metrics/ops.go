package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// apiCalls counts every HTTP call made to Salesforce and Jira. It is package-level because the
// clients are built before the worker's Metrics exist; every registry from New includes it.
var apiCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "sfjira_api_calls_total",
	Help: "HTTP calls made to each system's API, by system (salesforce, jira) and status class (2xx, 4xx, 429, 5xx, error).",
}, []string{"system", "status"})

// CountingTransport wraps an http.RoundTripper so every call to a system's API is counted in
// sfjira_api_calls_total, the base of the "API calls per synced record" measure. A nil base means
// http.DefaultTransport.
func CountingTransport(system string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &countingRT{system: system, base: base}
}

type countingRT struct {
	system string
	base   http.RoundTripper
}

func (c *countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	class := "error"
	if err == nil {
		switch s := resp.StatusCode; {
		case s == http.StatusTooManyRequests:
			class = "429"
		default:
			class = strconv.Itoa(s/100) + "xx"
		}
	}
	apiCalls.WithLabelValues(c.system, class).Inc()
	return resp, err
}

// Budget is one system's API allowance as last reported by its rate-limit headers.
type Budget struct {
	System           string
	Remaining, Limit float64
}

// PollerState is how far one change-capture source has read and when it last polled.
type PollerState struct {
	Source    string
	Watermark time.Time
	PolledAt  time.Time
}

// State is what the worker reads from PostgreSQL at scrape time.
type State struct {
	DeadLettersByCode map[string]int64
	ConflictsPending  int64
	Pollers           []PollerState
	Paused            bool
	// LastReconcileDrift is the drift found by the latest reconcile run per pair, when a reconcile
	// history exists.
	LastReconcileDrift map[string]float64
}

// Backlog is one task queue's approximate backlog, from DescribeTaskQueue.
type Backlog struct {
	TaskQueue  string
	Type       string // workflow or activity
	Count      float64
	AgeSeconds float64
	Pollers    float64
}

// Sources are read on every scrape; any may be nil. They are functions so internal/metrics does
// not depend on the store or the Temporal client.
type Sources struct {
	Budgets func() []Budget
	State   func(ctx context.Context) (*State, error)
	Backlog func(ctx context.Context) ([]Backlog, error)
}

type opsMetrics struct {
	synced      *prometheus.CounterVec
	failed      *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	drift       *prometheus.CounterVec
	reconciles  *prometheus.CounterVec
	held        *prometheus.CounterVec

	started  time.Time
	mu       sync.Mutex
	webhooks map[string]time.Time
	sources  atomic.Pointer[Sources]
}

func (m *Metrics) registerOps() {
	o := &opsMetrics{started: time.Now(), webhooks: map[string]time.Time{}}
	o.synced = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sfjira_records_synced_total",
		Help: "Records written to the other side by a verified sync, by Salesforce object and direction (sf_to_jira, jira_to_sf).",
	}, []string{"object", "direction"})
	o.failed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sfjira_records_failed_total",
		Help: "Record syncs that failed for good (kept as dead letters), by object, direction and catalog error code.",
	}, []string{"object", "direction", "code"})
	o.deadLetters = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sfjira_dead_letters_total",
		Help: "Dead letters written, by catalog error code (sfjira_dead_letters_open is what is still open).",
	}, []string{"code"})
	o.drift = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sfjira_reconcile_drift_found_total",
		Help: "Pairs found out of step by reconciliation runs, by pair.",
	}, []string{"pair"})
	o.reconciles = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sfjira_reconcile_runs_total",
		Help: "Reconciliation runs completed, by pair.",
	}, []string{"pair"})
	o.held = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sfjira_maintenance_holds_total",
		Help: "Times a sync pass or a poll waited because sfjira is paused for maintenance, by kind (sync, poller).",
	}, []string{"kind"})
	m.ops = o
	m.reg.MustRegister(o.synced, o.failed, o.deadLetters, o.drift, o.reconciles, o.held, apiCalls, &scrapeCollector{o: o})
}

// SetSources installs the functions read at scrape time (the worker does this once it has a store
// and a Temporal client).
func (m *Metrics) SetSources(s Sources) {
	if m == nil {
		return
	}
	m.ops.sources.Store(&s)
}

// RecordsSynced counts records written in one direction by a verified sync.
func (m *Metrics) RecordsSynced(object, direction string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.ops.synced.WithLabelValues(object, direction).Add(float64(n))
}

// RecordFailed counts a sync that failed for good and the dead letter written for it.
func (m *Metrics) RecordFailed(object, direction, code string) {
	if m == nil {
		return
	}
	m.ops.failed.WithLabelValues(object, direction, code).Inc()
	m.ops.deadLetters.WithLabelValues(code).Inc()
}

// ReconcileFinished is the hook a reconciliation run calls with the drift it found.
func (m *Metrics) ReconcileFinished(pair string, drift int) {
	if m == nil {
		return
	}
	m.ops.reconciles.WithLabelValues(pair).Inc()
	m.ops.drift.WithLabelValues(pair).Add(float64(drift))
}

// MaintenanceHold counts one pass or poll that waited for a maintenance window to end.
func (m *Metrics) MaintenanceHold(kind string) {
	if m == nil {
		return
	}
	m.ops.held.WithLabelValues(kind).Inc()
}

// WebhookVerified notes a delivery from a source (jira, salesforce) that passed its checks, so
// sfjira_webhook_silence_seconds can tell when a source has gone quiet.
func (m *Metrics) WebhookVerified(source string) {
	if m == nil {
		return
	}
	m.ops.mu.Lock()
	m.ops.webhooks[source] = time.Now()
	m.ops.mu.Unlock()
}

var (
	descBudgetRemaining = prometheus.NewDesc("sfjira_api_budget_remaining", "API calls left in the current window, from Sforce-Limit-Info (salesforce, daily) and X-RateLimit-Remaining (jira).", []string{"system"}, nil)
	descBudgetLimit     = prometheus.NewDesc("sfjira_api_budget_limit", "API calls allowed in the current window, by system.", []string{"system"}, nil)
	descBudgetRatio     = prometheus.NewDesc("sfjira_api_budget_remaining_ratio", "Share of the API budget left (0..1), by system.", []string{"system"}, nil)
	descDeadOpen        = prometheus.NewDesc("sfjira_dead_letters_open", "Dead letters not yet replayed or resolved, by catalog error code.", []string{"code"}, nil)
	descConflicts       = prometheus.NewDesc("sfjira_conflicts_pending", "Field conflicts waiting for an operator's decision (sfjira conflicts list).", nil, nil)
	descPollAge         = prometheus.NewDesc("sfjira_poller_seconds_since_poll", "Seconds since a change-capture source last completed a poll (poller lag).", []string{"source"}, nil)
	descWatermarkLag    = prometheus.NewDesc("sfjira_poller_watermark_lag_seconds", "Seconds between now and the newest change a poller has read.", []string{"source"}, nil)
	descSilence         = prometheus.NewDesc("sfjira_webhook_silence_seconds", "Seconds since the last verified webhook or outbound message from a source (since worker start if none).", []string{"source"}, nil)
	descPaused          = prometheus.NewDesc("sfjira_maintenance_paused", "1 while sfjira is paused for maintenance (sfjira pause), else 0.", nil, nil)
	descLastDrift       = prometheus.NewDesc("sfjira_reconcile_last_drift", "Drift found by the latest reconciliation run, by pair.", []string{"pair"}, nil)
	descBacklog         = prometheus.NewDesc("sfjira_task_queue_backlog", "Approximate tasks waiting in a Temporal task queue, by queue and type (workflow, activity).", []string{"task_queue", "type"}, nil)
	descBacklogAge      = prometheus.NewDesc("sfjira_task_queue_backlog_age_seconds", "Age of the oldest task waiting in a Temporal task queue.", []string{"task_queue", "type"}, nil)
	descQueuePollers    = prometheus.NewDesc("sfjira_task_queue_pollers", "Workers polling a Temporal task queue, by queue and type.", []string{"task_queue", "type"}, nil)
	descSourceUp        = prometheus.NewDesc("sfjira_metrics_source_up", "1 if the scrape could read a source of gauges (state: PostgreSQL, backlog: Temporal), else 0.", []string{"source"}, nil)
)

// scrapeCollector reads gauges whose truth lives elsewhere (PostgreSQL, Temporal, the clients'
// last rate-limit headers) at scrape time, so they are never stale.
type scrapeCollector struct{ o *opsMetrics }

func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBudgetRemaining, descBudgetLimit, descBudgetRatio, descDeadOpen, descConflicts, descPollAge,
		descWatermarkLag, descSilence, descPaused, descLastDrift, descBacklog, descBacklogAge, descQueuePollers, descSourceUp} {
		ch <- d
	}
}

func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	c.o.mu.Lock()
	for _, src := range []string{"jira", "salesforce"} {
		last, ok := c.o.webhooks[src]
		if !ok {
			last = c.o.started
		}
		ch <- prometheus.MustNewConstMetric(descSilence, prometheus.GaugeValue, now.Sub(last).Seconds(), src)
	}
	c.o.mu.Unlock()
	s := c.o.sources.Load()
	if s == nil {
		return
	}
	if s.Budgets != nil {
		for _, b := range s.Budgets() {
			ch <- prometheus.MustNewConstMetric(descBudgetRemaining, prometheus.GaugeValue, b.Remaining, b.System)
			ch <- prometheus.MustNewConstMetric(descBudgetLimit, prometheus.GaugeValue, b.Limit, b.System)
			if b.Limit > 0 {
				ch <- prometheus.MustNewConstMetric(descBudgetRatio, prometheus.GaugeValue, b.Remaining/b.Limit, b.System)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if s.State != nil {
		st, err := s.State(ctx)
		ch <- prometheus.MustNewConstMetric(descSourceUp, prometheus.GaugeValue, up(err), "state")
		if err == nil {
			for code, n := range st.DeadLettersByCode {
				ch <- prometheus.MustNewConstMetric(descDeadOpen, prometheus.GaugeValue, float64(n), code)
			}
			ch <- prometheus.MustNewConstMetric(descConflicts, prometheus.GaugeValue, float64(st.ConflictsPending))
			for _, p := range st.Pollers {
				ch <- prometheus.MustNewConstMetric(descPollAge, prometheus.GaugeValue, now.Sub(p.PolledAt).Seconds(), p.Source)
				ch <- prometheus.MustNewConstMetric(descWatermarkLag, prometheus.GaugeValue, now.Sub(p.Watermark).Seconds(), p.Source)
			}
			paused := 0.0
			if st.Paused {
				paused = 1
			}
			ch <- prometheus.MustNewConstMetric(descPaused, prometheus.GaugeValue, paused)
			for pair, d := range st.LastReconcileDrift {
				ch <- prometheus.MustNewConstMetric(descLastDrift, prometheus.GaugeValue, d, pair)
			}
		}
	}
	if s.Backlog != nil {
		bl, err := s.Backlog(ctx)
		ch <- prometheus.MustNewConstMetric(descSourceUp, prometheus.GaugeValue, up(err), "backlog")
		for _, b := range bl {
			ch <- prometheus.MustNewConstMetric(descBacklog, prometheus.GaugeValue, b.Count, b.TaskQueue, b.Type)
			ch <- prometheus.MustNewConstMetric(descBacklogAge, prometheus.GaugeValue, b.AgeSeconds, b.TaskQueue, b.Type)
			ch <- prometheus.MustNewConstMetric(descQueuePollers, prometheus.GaugeValue, b.Pollers, b.TaskQueue, b.Type)
		}
	}
}

func up(err error) float64 {
	if err != nil {
		return 0
	}
	return 1
}
