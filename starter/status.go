package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/internal/temporalconn"
	"github.com/sfjira/sfjira/workflows"
)

// Status is everything `sfjira status` reports; --json prints it as is.
type Status struct {
	At          time.Time                `json:"at"`
	Maintenance *store.Maintenance       `json:"maintenance"`
	Workers     []temporalconn.QueueInfo `json:"task_queues"`
	Pollers     []PollerStatus           `json:"pollers"`
	// LastReconcile is the newest reconcile_runs row (nil when there is no reconcile history).
	LastReconcile    map[string]any   `json:"last_reconcile"`
	DeadLetters      map[string]int64 `json:"dead_letters_by_code"`
	ConflictsPending int64            `json:"conflicts_pending"`
	Budgets          []BudgetStatus   `json:"api_budget"`
	// BudgetSource says where the budget came from (the worker's /metrics) or why it is missing.
	BudgetSource string       `json:"api_budget_source"`
	Recent       ErrorRate    `json:"recent_syncs"`
	Problems     []string     `json:"problems"`
	Links        store.Counts `json:"state_rows"`
}

// PollerStatus is one change-capture source with its lag.
type PollerStatus struct {
	Source           string    `json:"source"`
	Watermark        time.Time `json:"watermark"`
	LastPoll         time.Time `json:"last_poll"`
	SecondsSincePoll float64   `json:"seconds_since_poll"`
	WatermarkLag     float64   `json:"watermark_lag_seconds"`
	Running          bool      `json:"workflow_running"`
}

// BudgetStatus is one system's API budget as the worker last saw it.
type BudgetStatus struct {
	System    string  `json:"system"`
	Remaining float64 `json:"remaining"`
	Limit     float64 `json:"limit"`
}

// ErrorRate is the share of record syncs that failed over a recent window.
type ErrorRate struct {
	Window  string  `json:"window"`
	Closed  int64   `json:"closed"`
	Failed  int64   `json:"failed"`
	Running int64   `json:"running"`
	Rate    float64 `json:"failure_rate"`
}

func statusCmd(g *globals) *cobra.Command {
	var asJSON bool
	var window time.Duration
	cmd := &cobra.Command{
		Use:   "status [--json] [--window 1h]",
		Short: "Show whether the two systems are in step: workers, pollers and lag, reconcile drift, dead letters, conflicts, API budget, error rate",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := store.Open(ctx, cfg.Database.URL)
			if err != nil {
				return err
			}
			defer st.Close()
			if _, err := st.Migrate(ctx); err != nil {
				return err
			}
			tc, err := temporalconn.Dial(ctx, cfg.Temporal, log)
			if err != nil {
				return err
			}
			defer tc.Close()
			s, err := collectStatus(ctx, cfg, st, tc, window)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			printStatus(cmd.OutOrStdout(), s)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.Flags().DurationVar(&window, "window", time.Hour, "how far back the error rate looks")
	return cmd
}

func collectStatus(ctx context.Context, cfg *config.Config, st *store.Store, tc client.Client, window time.Duration) (*Status, error) {
	now := time.Now().UTC()
	s := &Status{At: now, Problems: []string{}}
	var err error
	if s.Maintenance, err = st.GetMaintenance(ctx); err != nil {
		return nil, err
	}
	if s.Links, err = st.Counts(ctx); err != nil {
		return nil, err
	}
	if s.DeadLetters, err = st.DeadLettersByCode(ctx); err != nil {
		return nil, err
	}
	if s.ConflictsPending, err = st.ConflictsPending(ctx); err != nil {
		return nil, err
	}
	if s.LastReconcile, err = st.LastReconcile(ctx); err != nil {
		return nil, err
	}
	if s.Workers, err = temporalconn.DescribeQueues(ctx, tc, cfg.Temporal.Namespace,
		[]string{cfg.Temporal.TaskQueue, workflows.SalesforceTaskQueue(cfg.Temporal.TaskQueue), workflows.JiraTaskQueue(cfg.Temporal.TaskQueue)}); err != nil {
		return nil, err
	}
	// The Salesforce and Jira queues carry activities only.
	kept := s.Workers[:0]
	for _, q := range s.Workers {
		if q.TaskQueue == cfg.Temporal.TaskQueue || q.Type != "workflow" {
			kept = append(kept, q)
		}
	}
	s.Workers = kept
	alive := 0
	for _, q := range s.Workers {
		alive += len(q.Pollers)
	}
	if alive == 0 {
		s.Problems = append(s.Problems, fmt.Sprintf("no worker polls task queue %s (fix: start bin/sfjira-worker)", cfg.Temporal.TaskQueue))
	}
	running := map[string]bool{}
	resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: cfg.Temporal.Namespace,
		Query: `WorkflowType = "ChangePoller" AND ExecutionStatus = "Running"`, PageSize: 100})
	if err != nil {
		return nil, fmt.Errorf("list pollers: %w", err)
	}
	for _, e := range resp.GetExecutions() {
		// poller/<source>/<pair> ↔ watermark source "<source>:<pair>"
		if rest, ok := strings.CutPrefix(e.GetExecution().GetWorkflowId(), "poller/"); ok {
			src, pair, _ := strings.Cut(rest, "/")
			running[src+":"+pair] = true
		}
	}
	ps, err := st.PollerStates(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		// The Salesforce poller also keeps the getDeleted window as "sfdel:<pair>".
		owner := p.Source
		if rest, ok := strings.CutPrefix(p.Source, "sfdel:"); ok {
			owner = "salesforce:" + rest
		}
		s.Pollers = append(s.Pollers, PollerStatus{Source: p.Source, Watermark: p.Watermark, LastPoll: p.PolledAt,
			SecondsSincePoll: now.Sub(p.PolledAt).Seconds(), WatermarkLag: now.Sub(p.Watermark).Seconds(), Running: running[owner]})
		if !running[owner] {
			s.Problems = append(s.Problems, fmt.Sprintf("poller %s is not running (fix: sfjira setup starts the pollers, or check the workflow in the UI)", p.Source))
		}
	}
	s.Recent, err = recentErrorRate(ctx, tc, cfg.Temporal.Namespace, now, window)
	if err != nil {
		return nil, err
	}
	s.Budgets, s.BudgetSource = workerBudgets(ctx, cfg.Worker.HTTPAddr)
	for _, b := range s.Budgets {
		if b.Limit > 0 && b.Remaining/b.Limit < 0.1 {
			s.Problems = append(s.Problems, fmt.Sprintf("%s API budget low: %.0f of %.0f left", b.System, b.Remaining, b.Limit))
		}
	}
	var dl int64
	for _, n := range s.DeadLetters {
		dl += n
	}
	if dl > 0 {
		s.Problems = append(s.Problems, fmt.Sprintf("%d open dead letter(s) (see sfjira dlq list)", dl))
	}
	if s.ConflictsPending > 0 {
		s.Problems = append(s.Problems, fmt.Sprintf("%d conflict(s) wait for a decision (see sfjira conflicts list)", s.ConflictsPending))
	}
	if s.Maintenance.Paused {
		s.Problems = append(s.Problems, "paused for maintenance (sfjira resume ends it)")
	}
	return s, nil
}

func recentErrorRate(ctx context.Context, tc client.Client, ns string, now time.Time, window time.Duration) (ErrorRate, error) {
	since := now.Add(-window).Format(time.RFC3339)
	r := ErrorRate{Window: window.String()}
	count := func(q string) (int64, error) {
		resp, err := tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: ns, Query: q})
		if err != nil {
			return 0, fmt.Errorf("count workflows (%s): %w", q, err)
		}
		return resp.GetCount(), nil
	}
	var err error
	if r.Closed, err = count(fmt.Sprintf(`WorkflowType = "RecordSync" AND CloseTime > "%s"`, since)); err != nil {
		return r, err
	}
	if r.Failed, err = count(fmt.Sprintf(`WorkflowType = "RecordSync" AND CloseTime > "%s" AND ExecutionStatus = "Failed"`, since)); err != nil {
		return r, err
	}
	if r.Running, err = count(`WorkflowType = "RecordSync" AND ExecutionStatus = "Running"`); err != nil {
		return r, err
	}
	if r.Closed > 0 {
		r.Rate = float64(r.Failed) / float64(r.Closed)
	}
	return r, nil
}

// workerBudgets reads the API budget the worker last saw from its /metrics: only the worker sees
// the systems' rate-limit headers, and asking the APIs here would spend budget.
func workerBudgets(ctx context.Context, addr string) ([]BudgetStatus, string) {
	if addr == "" {
		return nil, "unknown: worker.http_addr is not set"
	}
	url := "http://" + addr + "/metrics"
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Sprintf("unknown: worker /metrics not reachable at %s (%v)", url, err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Sprintf("unknown: %s is not Prometheus text (%v)", url, err)
	}
	by := map[string]*BudgetStatus{}
	read := func(name string, set func(*BudgetStatus, float64)) {
		f := fams[name]
		if f == nil {
			return
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "system" {
					b := by[l.GetValue()]
					if b == nil {
						b = &BudgetStatus{System: l.GetValue()}
						by[l.GetValue()] = b
					}
					set(b, m.GetGauge().GetValue())
				}
			}
		}
	}
	read("sfjira_api_budget_remaining", func(b *BudgetStatus, v float64) { b.Remaining = v })
	read("sfjira_api_budget_limit", func(b *BudgetStatus, v float64) { b.Limit = v })
	var out []BudgetStatus
	for _, b := range by {
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].System < out[j].System })
	if len(out) == 0 {
		return nil, "unknown: the worker has made no API call yet (" + url + ")"
	}
	return out, url
}

func printStatus(w io.Writer, s *Status) {
	state := "running"
	if s.Maintenance.Paused {
		state = fmt.Sprintf("PAUSED since %s by %s", s.Maintenance.ChangedAt.UTC().Format(time.RFC3339), s.Maintenance.ChangedBy)
		if s.Maintenance.Reason != "" {
			state += " (" + s.Maintenance.Reason + ")"
		}
	}
	fmt.Fprintf(w, "sfjira status at %s\n", s.At.Format(time.RFC3339))
	fmt.Fprintf(w, "  state:         %s\n", state)
	fmt.Fprintf(w, "  links:         %d linked of %d, %d audit rows\n", s.Links.Linked, s.Links.Links, s.Links.AuditRows)
	fmt.Fprintln(w, "workers (task queues):")
	for _, q := range s.Workers {
		fmt.Fprintf(w, "  %-24s %-8s pollers %d  backlog %d (oldest %.0fs)\n", q.TaskQueue, q.Type, len(q.Pollers), q.Backlog, q.BacklogAge)
	}
	fmt.Fprintln(w, "pollers:")
	if len(s.Pollers) == 0 {
		fmt.Fprintln(w, "  none has polled yet")
	}
	for _, p := range s.Pollers {
		run := "running"
		if !p.Running {
			run = "NOT RUNNING"
		}
		fmt.Fprintf(w, "  %-36s %-11s last poll %5.0fs ago, watermark %s (lag %.0fs)\n", p.Source, run, p.SecondsSincePoll, p.Watermark.UTC().Format(time.RFC3339), p.WatermarkLag)
	}
	if s.LastReconcile == nil {
		fmt.Fprintln(w, "last reconcile: none recorded")
	} else {
		b, _ := json.Marshal(s.LastReconcile)
		fmt.Fprintf(w, "last reconcile: %s\n", b)
	}
	fmt.Fprint(w, "dead letters:  ")
	if len(s.DeadLetters) == 0 {
		fmt.Fprintln(w, "none")
	} else {
		codes := make([]string, 0, len(s.DeadLetters))
		for c := range s.DeadLetters {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		for i, c := range codes {
			if i > 0 {
				fmt.Fprint(w, ", ")
			}
			fmt.Fprintf(w, "%s %d", c, s.DeadLetters[c])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "conflicts:     %d pending\n", s.ConflictsPending)
	fmt.Fprint(w, "API budget:    ")
	if len(s.Budgets) == 0 {
		fmt.Fprintln(w, s.BudgetSource)
	}
	for i, b := range s.Budgets {
		if i > 0 {
			fmt.Fprint(w, "; ")
		}
		fmt.Fprintf(w, "%s %.0f of %.0f left", b.System, b.Remaining, b.Limit)
	}
	if len(s.Budgets) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "recent syncs:  %d closed in the last %s, %d failed (%.1f%%), %d running\n", s.Recent.Closed, s.Recent.Window, s.Recent.Failed, 100*s.Recent.Rate, s.Recent.Running)
	if len(s.Problems) == 0 {
		fmt.Fprintln(w, "in step: no problems found")
		return
	}
	fmt.Fprintln(w, "attention:")
	for _, p := range s.Problems {
		fmt.Fprintln(w, "  - "+p)
	}
}
