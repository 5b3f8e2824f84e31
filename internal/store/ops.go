package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Maintenance is the connector's maintenance state (`sfjira pause` / `sfjira resume`).
type Maintenance struct {
	Paused         bool      `json:"paused"`
	Reason         string    `json:"reason,omitempty"`
	ChangedBy      string    `json:"changed_by,omitempty"`
	ChangedAt      time.Time `json:"changed_at"`
	RecheckSeconds int       `json:"recheck_seconds"`
}

// GetMaintenance reads the maintenance state.
func (s *Store) GetMaintenance(ctx context.Context) (*Maintenance, error) {
	m := &Maintenance{}
	err := s.pool.QueryRow(ctx, `SELECT paused, reason, changed_by, changed_at, recheck_seconds FROM maintenance WHERE id = 1`).
		Scan(&m.Paused, &m.Reason, &m.ChangedBy, &m.ChangedAt, &m.RecheckSeconds)
	if errors.Is(err, pgx.ErrNoRows) {
		return &Maintenance{RecheckSeconds: 15}, nil
	}
	if err != nil {
		return nil, unavailable("read maintenance state", err)
	}
	return m, nil
}

// SetMaintenance pauses or resumes; recheck (seconds, 0 = keep) is how often held workflows look
// again.
func (s *Store) SetMaintenance(ctx context.Context, paused bool, reason, by string, recheck int) (*Maintenance, error) {
	_, err := s.pool.Exec(ctx, `INSERT INTO maintenance (id, paused, reason, changed_by, changed_at, recheck_seconds)
		VALUES (1, $1, $2, $3, now(), CASE WHEN $4 > 0 THEN $4 ELSE 15 END)
		ON CONFLICT (id) DO UPDATE SET paused = EXCLUDED.paused, reason = EXCLUDED.reason, changed_by = EXCLUDED.changed_by,
			changed_at = now(), recheck_seconds = CASE WHEN $4 > 0 THEN $4 ELSE maintenance.recheck_seconds END`,
		paused, reason, by, recheck)
	if err != nil {
		return nil, unavailable("write maintenance state", err)
	}
	return s.GetMaintenance(ctx)
}

// DeadLettersByCode counts open dead letters per catalog code.
func (s *Store) DeadLettersByCode(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT code, count(*) FROM dead_letters WHERE resolved_at IS NULL GROUP BY code`)
	if err != nil {
		return nil, unavailable("count dead letters", err)
	}
	out := map[string]int64{}
	var code string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&code, &n}, func() error { out[code] = n; return nil })
	if err != nil {
		return nil, unavailable("count dead letters", err)
	}
	return out, nil
}

// ConflictsPending counts manual conflicts not yet applied.
func (s *Store) ConflictsPending(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM conflicts WHERE applied_at IS NULL`).Scan(&n); err != nil {
		return 0, unavailable("count conflicts", err)
	}
	return n, nil
}

// PollerState is a change-capture source's watermark and the time of its last completed poll.
type PollerState struct {
	Source    string    `json:"source"`
	Watermark time.Time `json:"watermark"`
	PolledAt  time.Time `json:"polled_at"`
}

// PollerStates lists every change-capture source with its watermark and last poll.
func (s *Store) PollerStates(ctx context.Context) ([]PollerState, error) {
	rows, err := s.pool.Query(ctx, `SELECT source, watermark, updated_at FROM watermarks ORDER BY source`)
	if err != nil {
		return nil, unavailable("read watermarks", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PollerState, error) {
		var p PollerState
		return p, r.Scan(&p.Source, &p.Watermark, &p.PolledAt)
	})
	if err != nil {
		return nil, unavailable("read watermarks", err)
	}
	return out, nil
}

// LastReconcile returns the newest row of the reconcile_runs table as JSON, or nil when that table
// does not exist (reconciliation history is kept by the reconcile workflow's own migration).
func (s *Store) LastReconcile(ctx context.Context) (map[string]any, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('reconcile_runs') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, unavailable("look for reconcile_runs", err)
	}
	if !exists {
		return nil, nil
	}
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT row_to_json(r) FROM (SELECT * FROM reconcile_runs ORDER BY 1 DESC LIMIT 1) r`).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil // no reconcile has run yet
	}
	if err != nil {
		return nil, unavailable("read reconcile_runs", err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}
