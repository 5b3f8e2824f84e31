// Package metrics defines sfjira's Prometheus metrics, registered on a registry of their own so
// the worker's /metrics shows exactly what sfjira measures (plus Go runtime metrics).
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the connector's collectors. A nil *Metrics is valid and records nothing, so
// tests and the CLI need not create one.
type Metrics struct {
	reg          *prometheus.Registry
	latency      *prometheus.HistogramVec
	changes      *prometheus.CounterVec
	ingressDrops *prometheus.CounterVec
	budget       budgetCollectors

	ops     *opsMetrics // operational metrics (ops.go)
	sdkOnce sync.Once
	sdk     *sdkBridge // Temporal SDK metrics (temporal.go)
}

// New creates the collectors on a fresh registry.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sfjira_change_reflection_seconds",
		Help:    "Time from a change's modification time at the source to its verified write on the other side.",
		Buckets: []float64{0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30, 60, 300},
	}, []string{"pair", "direction"})
	m.changes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sfjira_change_events_total",
		Help: "Change events handed to sync workflows, by source (salesforce_poll, salesforce_outbound, jira_webhook, jira_poll).",
	}, []string{"source"})
	m.ingressDrops = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sfjira_ingress_rejected_total",
		Help: "Incoming webhook and outbound-message requests rejected, by endpoint and reason.",
	}, []string{"endpoint", "reason"})
	m.registerBudget()
	m.reg.MustRegister(m.latency, m.changes, m.ingressDrops,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registerOps()
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveLatency records one change→reflection latency.
func (m *Metrics) ObserveLatency(pair, direction string, d time.Duration) {
	if m == nil {
		return
	}
	m.latency.WithLabelValues(pair, direction).Observe(d.Seconds())
}

// ChangeEvents counts change events handed to workflows from one source.
func (m *Metrics) ChangeEvents(source string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.changes.WithLabelValues(source).Add(float64(n))
}

// IngressRejected counts a rejected incoming request.
func (m *Metrics) IngressRejected(endpoint, reason string) {
	if m == nil {
		return
	}
	m.ingressDrops.WithLabelValues(endpoint, reason).Inc()
}
