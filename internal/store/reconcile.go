package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReconcileRun is one stored reconciliation report of one pair.
type ReconcileRun struct {
	ID         int64
	Pair       string
	WorkflowID string
	RunID      string
	DryRun     bool
	FullScan   bool
	StartedAt  time.Time
	FinishedAt time.Time
	Since      *time.Time
	Report     json.RawMessage
}

// SaveReconcileRun stores a report; saving the same run again (an activity retry) replaces it.
func (s *Store) SaveReconcileRun(ctx context.Context, r ReconcileRun) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO reconcile_runs (pair, workflow_id, run_id, dry_run, full_scan, started_at, since, report)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (run_id, pair) DO UPDATE SET report = EXCLUDED.report, finished_at = now(), since = EXCLUDED.since`,
		r.Pair, r.WorkflowID, r.RunID, r.DryRun, r.FullScan, r.StartedAt, r.Since, r.Report)
	if err != nil {
		return unavailable("save reconcile run", err)
	}
	return nil
}

const reconcileColumns = `id, pair, workflow_id, run_id, dry_run, full_scan, started_at, finished_at, since, report`

func scanReconcile(row pgx.Row) (*ReconcileRun, error) {
	var r ReconcileRun
	err := row.Scan(&r.ID, &r.Pair, &r.WorkflowID, &r.RunID, &r.DryRun, &r.FullScan, &r.StartedAt, &r.FinishedAt, &r.Since, &r.Report)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, unavailable("read reconcile run", err)
	}
	return &r, nil
}

// LastRepairRun returns the latest run of a pair that repaired (not a dry run), or ErrNotFound;
// its start is the next run's watermark for the incremental Jira scan.
func (s *Store) LastRepairRun(ctx context.Context, pair string) (*ReconcileRun, error) {
	return scanReconcile(s.pool.QueryRow(ctx, `SELECT `+reconcileColumns+` FROM reconcile_runs
		WHERE pair = $1 AND NOT dry_run ORDER BY started_at DESC LIMIT 1`, pair))
}

// LatestReconcileRuns returns the latest run of every pair (any kind), by pair name.
func (s *Store) LatestReconcileRuns(ctx context.Context) ([]ReconcileRun, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (pair) `+reconcileColumns+` FROM reconcile_runs ORDER BY pair, started_at DESC`)
	if err != nil {
		return nil, unavailable("read reconcile runs", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ReconcileRun, error) {
		x, err := scanReconcile(r)
		if err != nil {
			return ReconcileRun{}, err
		}
		return *x, nil
	})
}
