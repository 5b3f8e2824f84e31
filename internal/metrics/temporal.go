package metrics

import (
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// TemporalHandler returns a Temporal SDK metrics handler that records the SDK's own metrics
// (workflow/activity task latencies, poll counts, request failures, sticky cache, …) on this
// registry, so one /metrics endpoint shows the SDK and the connector. Pass it as
// client.Options.MetricsHandler. A nil *Metrics gives the SDK's no-op handler.
func (m *Metrics) TemporalHandler() client.MetricsHandler {
	if m == nil {
		return client.MetricsNopHandler
	}
	m.sdkOnce.Do(func() { m.sdk = &sdkBridge{reg: m.reg, vecs: map[string]*sdkVec{}} })
	return &sdkHandler{b: m.sdk}
}

// sdkBridge owns one Prometheus vector per SDK metric name. Prometheus needs a fixed label set
// per name while the SDK attaches tags freely, so the first use of a name fixes its labels; later
// uses fill missing labels with "" and drop tags the name was not created with.
type sdkBridge struct {
	reg  *prometheus.Registry
	mu   sync.Mutex
	vecs map[string]*sdkVec
}

type sdkVec struct {
	labels    []string
	counter   *prometheus.CounterVec
	gauge     *prometheus.GaugeVec
	histogram *prometheus.HistogramVec
}

// sdkBuckets suit SDK timers, which range from sub-millisecond task handling to minute-long polls.
var sdkBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

func (b *sdkBridge) vec(name, kind string, tags map[string]string) *sdkVec {
	b.mu.Lock()
	defer b.mu.Unlock()
	key := kind + ":" + name
	if v, ok := b.vecs[key]; ok {
		return v
	}
	labels := make([]string, 0, len(tags))
	for k := range tags {
		labels = append(labels, sanitize(k))
	}
	sort.Strings(labels)
	v := &sdkVec{labels: labels}
	metricName := sanitize(name)
	help := "Temporal SDK metric " + name + " (see the Temporal SDK metrics reference)."
	var c prometheus.Collector
	switch kind {
	case "counter":
		v.counter = prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricName, Help: help}, labels)
		c = v.counter
	case "gauge":
		v.gauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricName, Help: help}, labels)
		c = v.gauge
	default:
		v.histogram = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: metricName + "_seconds", Help: help, Buckets: sdkBuckets}, labels)
		c = v.histogram
	}
	if err := b.reg.Register(c); err != nil {
		// Same name under another kind: keep the SDK working, just don't export this one.
		v.counter, v.gauge, v.histogram = nil, nil, nil
	}
	b.vecs[key] = v
	return v
}

func (v *sdkVec) values(tags map[string]string) []string {
	clean := make(map[string]string, len(tags))
	for k, val := range tags {
		clean[sanitize(k)] = val
	}
	out := make([]string, len(v.labels))
	for i, l := range v.labels {
		out[i] = clean[l]
	}
	return out
}

type sdkHandler struct {
	b    *sdkBridge
	tags map[string]string
}

func (h *sdkHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := make(map[string]string, len(h.tags)+len(tags))
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	return &sdkHandler{b: h.b, tags: merged}
}

func (h *sdkHandler) Counter(name string) client.MetricsCounter {
	v := h.b.vec(name, "counter", h.tags)
	if v.counter == nil {
		return client.MetricsNopHandler.Counter(name)
	}
	c := v.counter.WithLabelValues(v.values(h.tags)...)
	return counterFunc(func(d int64) {
		if d > 0 {
			c.Add(float64(d))
		}
	})
}

func (h *sdkHandler) Gauge(name string) client.MetricsGauge {
	v := h.b.vec(name, "gauge", h.tags)
	if v.gauge == nil {
		return client.MetricsNopHandler.Gauge(name)
	}
	g := v.gauge.WithLabelValues(v.values(h.tags)...)
	return gaugeFunc(g.Set)
}

func (h *sdkHandler) Timer(name string) client.MetricsTimer {
	v := h.b.vec(name, "timer", h.tags)
	if v.histogram == nil {
		return client.MetricsNopHandler.Timer(name)
	}
	o := v.histogram.WithLabelValues(v.values(h.tags)...)
	return timerFunc(func(d time.Duration) { o.Observe(d.Seconds()) })
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }

// sanitize makes an SDK metric or tag name a valid Prometheus name.
func sanitize(s string) string {
	var b strings.Builder
	for i, r := range s {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if ok {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
