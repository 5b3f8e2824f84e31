package store

import (
	"context"
	"time"
)

// ClaimDelivery records that a webhook delivery (or Outbound Message notification) with this id is
// being processed. It returns false when the id was claimed before: a replayed or re-sent
// delivery, which the caller acknowledges without processing again.
func (s *Store) ClaimDelivery(ctx context.Context, source, id string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO webhook_deliveries (source, delivery_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, source, id)
	if err != nil {
		return false, unavailable("claim delivery", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseDelivery forgets a claim whose processing failed, so the sender's retry is processed.
func (s *Store) ReleaseDelivery(ctx context.Context, source, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM webhook_deliveries WHERE source = $1 AND delivery_id = $2`, source, id); err != nil {
		return unavailable("release delivery", err)
	}
	return nil
}

// PruneDeliveries drops delivery ids older than the replay window; deliveries that old are refused
// by their timestamp anyway. It returns how many it dropped.
func (s *Store) PruneDeliveries(ctx context.Context, olderThan time.Duration) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhook_deliveries WHERE received_at < now() - make_interval(secs => $1)`, olderThan.Seconds())
	if err != nil {
		return 0, unavailable("prune deliveries", err)
	}
	return tag.RowsAffected(), nil
}
