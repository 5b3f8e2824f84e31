package main

import (
	"context"

	"go.temporal.io/sdk/client"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/metrics"
	"github.com/sfjira/sfjira/internal/temporalconn"
)

// metricsSources connects the gauges read at scrape time to where their truth lives: the
// clients' last rate-limit headers, PostgreSQL (dead letters, conflicts, watermarks, maintenance,
// reconcile history) and Temporal (task queue backlog and pollers).
func metricsSources(tc client.Client, namespace string, queues []string, acts *activities.Activities) metrics.Sources {
	return metrics.Sources{
		Budgets: func() []metrics.Budget {
			var out []metrics.Budget
			if acts.SF != nil {
				if used, max, ok := acts.SF.APIUsage(); ok {
					out = append(out, metrics.Budget{System: "salesforce", Remaining: float64(max - used), Limit: float64(max)})
				}
			}
			if acts.Jira != nil {
				if limit, remaining, ok := acts.Jira.RateLimit(); ok {
					out = append(out, metrics.Budget{System: "jira", Remaining: float64(remaining), Limit: float64(limit)})
				}
			}
			return out
		},
		State: func(ctx context.Context) (*metrics.State, error) {
			st := &metrics.State{}
			var err error
			if st.DeadLettersByCode, err = acts.Store.DeadLettersByCode(ctx); err != nil {
				return nil, err
			}
			if st.ConflictsPending, err = acts.Store.ConflictsPending(ctx); err != nil {
				return nil, err
			}
			ps, err := acts.Store.PollerStates(ctx)
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				st.Pollers = append(st.Pollers, metrics.PollerState{Source: p.Source, Watermark: p.Watermark, PolledAt: p.PolledAt})
			}
			m, err := acts.Store.GetMaintenance(ctx)
			if err != nil {
				return nil, err
			}
			st.Paused = m.Paused
			if last, err := acts.Store.LastReconcile(ctx); err == nil && last != nil {
				st.LastReconcileDrift = reconcileDrift(last)
			}
			return st, nil
		},
		Backlog: func(ctx context.Context) ([]metrics.Backlog, error) {
			qs, err := temporalconn.DescribeQueues(ctx, tc, namespace, queues)
			out := make([]metrics.Backlog, 0, len(qs))
			for _, q := range qs {
				out = append(out, metrics.Backlog{TaskQueue: q.TaskQueue, Type: q.Type, Count: float64(q.Backlog), AgeSeconds: q.BacklogAge, Pollers: float64(len(q.Pollers))})
			}
			return out, err
		},
	}
}

// reconcileDrift reads the drift count of the latest reconcile run (its first numeric column
// whose name mentions drift), labelled by its pair column when it has one.
func reconcileDrift(row map[string]any) map[string]float64 {
	pair, _ := row["pair"].(string)
	if pair == "" {
		pair = "all"
	}
	for _, k := range []string{"drift", "drift_found", "drifted", "drift_count", "mismatches"} {
		if v, ok := row[k].(float64); ok {
			return map[string]float64{pair: v}
		}
	}
	return nil
}
