package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sfjira/sfjira/mappings"
)

// SetSnapshotValues changes single keys of a pair's last-synced snapshot (nil leaves a side alone)
// and recomputes its hashes. Compensation and rollback call it before they write, so the change
// events their own writes cause read as echoes and are not synced back.
func (s *Store) SetSnapshotValues(ctx context.Context, originKey string, sfVals, jiraVals map[string]string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var sfRaw, jiraRaw []byte
		err := tx.QueryRow(ctx, `SELECT sf_snapshot, jira_snapshot FROM pair_state WHERE origin_key = $1 FOR UPDATE`, originKey).Scan(&sfRaw, &jiraRaw)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // never synced: nothing to keep in step
		}
		if err != nil {
			return err
		}
		sf, jr := mappings.Projection{}, mappings.Projection{}
		if err := json.Unmarshal(sfRaw, &sf); err != nil {
			return err
		}
		if err := json.Unmarshal(jiraRaw, &jr); err != nil {
			return err
		}
		for k, v := range sfVals {
			sf[k] = v
		}
		for k, v := range jiraVals {
			jr[k] = v
		}
		sfRaw, _ = json.Marshal(sf)
		jiraRaw, _ = json.Marshal(jr)
		_, err = tx.Exec(ctx, `UPDATE pair_state SET sf_snapshot = $2, jira_snapshot = $3, sf_hash = $4, jira_hash = $5 WHERE origin_key = $1`,
			originKey, sfRaw, jiraRaw, sf.Hash(), jr.Hash())
		return err
	})
	if err != nil {
		return unavailable("set snapshot values", err)
	}
	return nil
}

// AppendAudit adds audit rows outside a sync commit (compensation, rollback, trigger actions);
// a retried call adds nothing twice.
func (s *Store) AppendAudit(ctx context.Context, rows []AuditEntry) error {
	if len(rows) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, a := range rows {
		queueAudit(b, a)
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return unavailable("append audit", err)
	}
	return nil
}

// ForgetIssue removes a compensated (deleted) Jira issue from a pair's link: the link row goes
// when the pair was never synced, otherwise it returns to the creating state, so a replay
// creates the issue afresh instead of adopting a deleted one.
func (s *Store) ForgetIssue(ctx context.Context, originKey, issueID string) error {
	_, err := s.pool.Exec(ctx, `WITH gone AS (
			DELETE FROM links WHERE origin_key = $1 AND jira_issue_id = $2
			  AND NOT EXISTS (SELECT 1 FROM pair_state WHERE pair_state.origin_key = $1) RETURNING 1)
		UPDATE links SET jira_issue_id = NULL, jira_issue_key = NULL, state = 'creating', updated_at = now()
		WHERE origin_key = $1 AND jira_issue_id = $2 AND NOT EXISTS (SELECT 1 FROM gone)`, originKey, issueID)
	if err != nil {
		return unavailable("forget issue", err)
	}
	return nil
}

// RollbackScope selects the sync writes an operator rolls back; exactly one form is used.
type RollbackScope struct {
	// WorkflowID: every write of one workflow (all its runs).
	WorkflowID string
	// OriginKey with Since: every write to one pair after that time ("--record sf/… --to TIME").
	OriginKey string
	// Since and Until: every write in a time window (Until zero = up to now).
	Since, Until time.Time
}

// SyncWritesIn returns the audit rows of sync writes (not compensations or rollbacks) in scope,
// oldest first.
func (s *Store) SyncWritesIn(ctx context.Context, sc RollbackScope) ([]AuditEntry, error) {
	cond, args := "", []any{}
	switch {
	case sc.WorkflowID != "":
		cond, args = "workflow_id = $1", []any{sc.WorkflowID}
	case sc.OriginKey != "":
		cond, args = "origin_key = $1 AND at > $2", []any{sc.OriginKey, sc.Since}
	default:
		until := sc.Until
		if until.IsZero() {
			until = time.Now().Add(time.Hour)
		}
		cond, args = "at >= $1 AND at <= $2", []any{sc.Since, until}
	}
	rows, err := s.pool.Query(ctx, `SELECT at, actor, workflow_id, run_id, pass, origin_key, pair, direction, target_system,
		target_id, action, field, before_value, after_value, mapping_version, latency_ms, coalesce(decided_by,''), before_raw
		FROM audit WHERE `+cond+` AND action NOT IN ('compensate', 'rollback') ORDER BY id`, args...)
	if err != nil {
		return nil, unavailable("read audit for rollback", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var a AuditEntry
		err := r.Scan(&a.At, &a.Actor, &a.WorkflowID, &a.RunID, &a.Pass, &a.OriginKey, &a.Pair, &a.Direction, &a.TargetSystem,
			&a.TargetID, &a.Action, &a.Field, &a.Before, &a.After, &a.MappingVersion, &a.LatencyMS, &a.DecidedBy, &a.BeforeRaw)
		return a, err
	})
}

// queueAudit queues one audit row; the unique key (run, pass, target, action, field) makes a
// retried write add nothing twice.
func queueAudit(b *pgx.Batch, a AuditEntry) {
	b.Queue(`INSERT INTO audit (at, actor, workflow_id, run_id, pass, origin_key, pair, direction, target_system,
			target_id, action, field, before_value, after_value, mapping_version, latency_ms, decided_by, before_raw)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,nullif($17,''),$18)
		ON CONFLICT (run_id, pass, target_system, target_id, action, field) DO NOTHING`,
		a.At, a.Actor, a.WorkflowID, a.RunID, a.Pass, a.OriginKey, a.Pair, a.Direction, a.TargetSystem,
		a.TargetID, a.Action, a.Field, a.Before, a.After, a.MappingVersion, a.LatencyMS, a.DecidedBy, rawOrNil(a.BeforeRaw))
}
