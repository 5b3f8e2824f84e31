package metrics

import "github.com/prometheus/client_golang/prometheus"

// budgetCollectors are the guard's own series; the share of budget left
// (sfjira_api_budget_remaining_ratio) is read at scrape time with the other operational gauges (ops.go).
type budgetCollectors struct {
	state     *prometheus.GaugeVec
	throttled *prometheus.CounterVec
}

func (m *Metrics) registerBudget() {
	m.budget.state = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "sfjira_api_budget_guard_state",
		Help: "What the budget guard does to backfill and reconcile: 0 full speed, 1 slowed, 2 paused. Real-time changes are never held.",
	}, []string{"system"})
	m.budget.throttled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sfjira_api_budget_throttled_total",
		Help: "Units of non-urgent work the budget guard slowed or paused, by system, class and state.",
	}, []string{"system", "class", "state"})
	m.reg.MustRegister(m.budget.state, m.budget.throttled)
}

// BudgetState records the guard's state for a system (the share left is exported from the clients'
// last rate-limit headers at scrape time).
func (m *Metrics) BudgetState(system string, _ float64, state int) {
	if m == nil {
		return
	}
	m.budget.state.WithLabelValues(system).Set(float64(state))
}

// BudgetThrottled counts one unit of work the guard slowed or paused.
func (m *Metrics) BudgetThrottled(system, class, state string) {
	if m == nil {
		return
	}
	m.budget.throttled.WithLabelValues(system, class, state).Inc()
}
