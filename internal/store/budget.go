package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sfjira/sfjira/internal/budget"
)

var _ budget.Shared = (*Store)(nil)

// PublishBudget records an API budget observation unless a newer one is already stored, so the
// row always holds the latest answer any worker saw.
func (s *Store) PublishBudget(ctx context.Context, o budget.Observation, by string) error {
	var until *time.Time
	if !o.ThrottledUntil.IsZero() {
		until = &o.ThrottledUntil
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO api_budget (system, remaining, lim, throttled_until, observed_at, observed_by)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (system) DO UPDATE SET remaining = EXCLUDED.remaining, lim = EXCLUDED.lim,
			throttled_until = EXCLUDED.throttled_until, observed_at = EXCLUDED.observed_at, observed_by = EXCLUDED.observed_by
		WHERE api_budget.observed_at < EXCLUDED.observed_at`,
		string(o.System), o.Remaining, o.Limit, until, o.At, by)
	if err != nil {
		return unavailable("publish API budget", err)
	}
	return nil
}

// LatestBudget returns the newest published observation of a system (ok false if none).
func (s *Store) LatestBudget(ctx context.Context, system budget.System) (budget.Observation, bool, error) {
	o := budget.Observation{System: system}
	var until *time.Time
	err := s.pool.QueryRow(ctx, `SELECT remaining, lim, throttled_until, observed_at FROM api_budget WHERE system = $1`, string(system)).
		Scan(&o.Remaining, &o.Limit, &until, &o.At)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, false, nil
	}
	if err != nil {
		return o, false, unavailable("read API budget", err)
	}
	if until != nil {
		o.ThrottledUntil = *until
	}
	return o, true, nil
}

// rawOrNil stores an empty JSON value as SQL NULL.
func rawOrNil(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
