package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Batched state writes for bulk backfill and reconciliation: one round trip (or one COPY) per
// page instead of one per record, with the same idempotency as the per-record writes.

// LinksByOrigin returns the links of the given origin keys (any state), keyed by origin key.
func (s *Store) LinksByOrigin(ctx context.Context, keys []string) (map[string]*Link, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+linkColumns+` FROM links WHERE origin_key = ANY($1)`, keys)
	if err != nil {
		return nil, unavailable("read links", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Link, error) { return scanLink(r) })
	if err != nil {
		return nil, unavailable("read links", err)
	}
	out := make(map[string]*Link, len(list))
	for _, l := range list {
		out[l.OriginKey] = l
	}
	return out, nil
}

// RecordCreateIntents writes the intent to create the Jira side of many pairs before the bulk
// create (see RecordCreateIntent); existing links are left alone.
func (s *Store) RecordCreateIntents(ctx context.Context, ls []Link) error {
	if len(ls) == 0 {
		return nil
	}
	keys, pairs, objs, ids := make([]string, len(ls)), make([]string, len(ls)), make([]string, len(ls)), make([]string, len(ls))
	for i, l := range ls {
		keys[i], pairs[i], objs[i], ids[i] = l.OriginKey, l.Pair, l.SfObject, l.SfID
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO links (origin_key, pair, sf_object, sf_id, state)
		SELECT k, p, o, nullif(i,''), 'creating' FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(k, p, o, i)
		ON CONFLICT (origin_key) DO NOTHING`, keys, pairs, objs, ids)
	if err != nil {
		return unavailable("record create intents", err)
	}
	return nil
}

// DropCreateIntents removes intents whose create Jira refused (nothing was created), so the
// per-record sync that takes the record over starts clean instead of searching for an issue.
func (s *Store) DropCreateIntents(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM links WHERE origin_key = ANY($1) AND state = 'creating' AND jira_issue_id IS NULL
		AND NOT EXISTS (SELECT 1 FROM pair_state p WHERE p.origin_key = links.origin_key)`, keys)
	if err != nil {
		return unavailable("drop create intents", err)
	}
	return nil
}

// SaveLinks records many pairs as linked in one round trip (see SaveLink).
func (s *Store) SaveLinks(ctx context.Context, ls []Link) error {
	if len(ls) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, l := range ls {
		b.Queue(`INSERT INTO links (origin_key, pair, sf_object, sf_id, jira_issue_id, jira_issue_key, state)
			VALUES ($1, $2, $3, nullif($4,''), nullif($5,''), nullif($6,''), 'linked')
			ON CONFLICT (origin_key) DO UPDATE SET sf_id = coalesce(EXCLUDED.sf_id, links.sf_id),
				jira_issue_id = EXCLUDED.jira_issue_id, jira_issue_key = EXCLUDED.jira_issue_key, state = 'linked', updated_at = now()
			WHERE links.jira_issue_id IS DISTINCT FROM EXCLUDED.jira_issue_id
			   OR links.jira_issue_key IS DISTINCT FROM EXCLUDED.jira_issue_key OR links.state <> 'linked'`,
			l.OriginKey, l.Pair, l.SfObject, l.SfID, l.JiraIssueID, l.JiraIssueKey)
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return fmt.Errorf("store: a Jira issue is already linked to another record: %s", pgErr.Detail)
		}
		return unavailable("save links", err)
	}
	return nil
}

// BulkCommit is one pair's outcome of a bulk pass: its link, new snapshot and audit rows.
type BulkCommit struct {
	Link  Link
	State PairState
	Audit []AuditEntry
}

// CommitBulk writes many pairs' links, snapshots and audit rows in one transaction, set-based:
// each kind of row goes by COPY into a temporary table and then into its table with one
// INSERT … ON CONFLICT (upserts for links and pair state, DO NOTHING for audit rows, so a
// retried page adds no duplicates). A page of 2,000 pairs is a handful of round trips instead
// of thousands of statements.
func (s *Store) CommitBulk(ctx context.Context, items []BulkCommit) error {
	return commitBulkErr(s.commitBulk(ctx, items, false))
}

// CommitBulkFresh is CommitBulk for a first attempt, when no earlier attempt can have written
// these audit rows: they are copied straight into the audit table, skipping the temporary table
// and the conflict check (the audit is most of a page's bookkeeping). Should rows of an earlier
// attempt be there after all, the unique key refuses the copy and it falls back to CommitBulk.
func (s *Store) CommitBulkFresh(ctx context.Context, items []BulkCommit) error {
	err := s.commitBulk(ctx, items, true)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.TableName == "audit" {
		err = s.commitBulk(ctx, items, false)
	}
	return commitBulkErr(err)
}

func commitBulkErr(err error) error {
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return fmt.Errorf("store: a Jira issue is already linked to another record: %s", pgErr.Detail)
		}
		return unavailable("commit bulk", err)
	}
	return nil
}

func (s *Store) commitBulk(ctx context.Context, items []BulkCommit, fresh bool) error {
	if len(items) == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		linkRows := make([][]any, 0, len(items))
		stateRows := make([][]any, 0, len(items))
		for _, it := range items {
			l, p := it.Link, it.State
			sfSnap, err := json.Marshal(p.SfSnapshot)
			if err != nil {
				return err
			}
			jiraSnap, err := json.Marshal(p.JiraSnapshot)
			if err != nil {
				return err
			}
			linkRows = append(linkRows, []any{l.OriginKey, l.Pair, l.SfObject, l.SfID, l.JiraIssueID, l.JiraIssueKey})
			stateRows = append(stateRows, []any{p.OriginKey, p.Pair, p.MappingVersion, sfSnap, jiraSnap, p.SfHash, p.JiraHash, p.SfModstamp,
				p.JiraUpdated, p.SyncedAt, p.WorkflowID, p.RunID})
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE links_in (origin_key text, pair text, sf_object text, sf_id text,
			jira_issue_id text, jira_issue_key text) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"links_in"}, []string{"origin_key", "pair", "sf_object", "sf_id", "jira_issue_id", "jira_issue_key"},
			pgx.CopyFromRows(linkRows)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO links (origin_key, pair, sf_object, sf_id, jira_issue_id, jira_issue_key, state)
			SELECT DISTINCT ON (origin_key) origin_key, pair, sf_object, nullif(sf_id,''), nullif(jira_issue_id,''), nullif(jira_issue_key,''), 'linked'
			FROM links_in ORDER BY origin_key
			ON CONFLICT (origin_key) DO UPDATE SET jira_issue_id = EXCLUDED.jira_issue_id,
				jira_issue_key = EXCLUDED.jira_issue_key, sf_id = coalesce(EXCLUDED.sf_id, links.sf_id), state = 'linked', updated_at = now()
			WHERE links.jira_issue_id IS DISTINCT FROM EXCLUDED.jira_issue_id
			   OR links.jira_issue_key IS DISTINCT FROM EXCLUDED.jira_issue_key OR links.state <> 'linked'`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE state_in (origin_key text, pair text, mapping_version text, sf_snapshot jsonb,
			jira_snapshot jsonb, sf_hash text, jira_hash text, sf_modstamp timestamptz, jira_updated timestamptz, synced_at timestamptz,
			workflow_id text, run_id text) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"state_in"}, []string{"origin_key", "pair", "mapping_version", "sf_snapshot", "jira_snapshot",
			"sf_hash", "jira_hash", "sf_modstamp", "jira_updated", "synced_at", "workflow_id", "run_id"}, pgx.CopyFromRows(stateRows)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pair_state (origin_key, pair, mapping_version, sf_snapshot, jira_snapshot, sf_hash, jira_hash,
				sf_modstamp, jira_updated, synced_at, workflow_id, run_id)
			SELECT DISTINCT ON (origin_key) origin_key, pair, mapping_version, sf_snapshot, jira_snapshot, sf_hash, jira_hash,
				sf_modstamp, jira_updated, synced_at, workflow_id, run_id FROM state_in ORDER BY origin_key
			ON CONFLICT (origin_key) DO UPDATE SET pair = EXCLUDED.pair, mapping_version = EXCLUDED.mapping_version,
				sf_snapshot = EXCLUDED.sf_snapshot, jira_snapshot = EXCLUDED.jira_snapshot, sf_hash = EXCLUDED.sf_hash,
				jira_hash = EXCLUDED.jira_hash, sf_modstamp = EXCLUDED.sf_modstamp, jira_updated = EXCLUDED.jira_updated,
				synced_at = EXCLUDED.synced_at, workflow_id = EXCLUDED.workflow_id, run_id = EXCLUDED.run_id`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE dead_letters SET resolved_at = now()
			WHERE origin_key IN (SELECT origin_key FROM links_in) AND resolved_at IS NULL`); err != nil {
			return err
		}
		cols := []string{"at", "actor", "workflow_id", "run_id", "pass", "origin_key", "pair", "direction", "target_system",
			"target_id", "action", "field", "before_value", "after_value", "mapping_version", "latency_ms", "decided_by"}
		var rows [][]any
		for _, it := range items {
			for _, a := range it.Audit {
				var decided *string
				if a.DecidedBy != "" {
					d := a.DecidedBy
					decided = &d
				}
				rows = append(rows, []any{a.At, a.Actor, a.WorkflowID, a.RunID, a.Pass, a.OriginKey, a.Pair, a.Direction, a.TargetSystem,
					a.TargetID, a.Action, a.Field, a.Before, a.After, a.MappingVersion, a.LatencyMS, decided})
			}
		}
		if len(rows) == 0 {
			return nil
		}
		if fresh {
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"audit"}, cols, pgx.CopyFromRows(rows))
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE audit_in (LIKE audit INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_in"}, cols, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO audit (at, actor, workflow_id, run_id, pass, origin_key, pair, direction, target_system,
				target_id, action, field, before_value, after_value, mapping_version, latency_ms, decided_by)
			SELECT at, actor, workflow_id, run_id, pass, origin_key, pair, direction, target_system,
				target_id, action, field, before_value, after_value, mapping_version, latency_ms, decided_by FROM audit_in
			ON CONFLICT (run_id, pass, target_system, target_id, action, field) DO NOTHING`)
		return err
	})
}

// PairSummary is what reconciliation compares per pair: the link and the snapshot hashes.
type PairSummary struct {
	OriginKey    string
	SfID         string
	JiraIssueID  string
	JiraIssueKey string
	State        string
	SfHash       string
	JiraHash     string
	HasSnapshot  bool
	// SyncedAt is when the snapshot was recorded (Unix milliseconds, 0 without one).
	SyncedAtMS int64
	// MappingVersion is the version of the mapping the snapshot was made with ("" without one).
	MappingVersion string
}

// PairSummaries streams every link of a pair with its snapshot hashes (one query, no snapshots).
func (s *Store) PairSummaries(ctx context.Context, pair string, fn func(PairSummary) error) error {
	rows, err := s.pool.Query(ctx, `SELECT l.origin_key, coalesce(l.sf_id,''), coalesce(l.jira_issue_id,''), coalesce(l.jira_issue_key,''),
		l.state, coalesce(p.sf_hash,''), coalesce(p.jira_hash,''), p.origin_key IS NOT NULL,
		coalesce((extract(epoch from p.synced_at)*1000)::bigint, 0), coalesce(p.mapping_version,'')
		FROM links l LEFT JOIN pair_state p ON p.origin_key = l.origin_key WHERE l.pair = $1`, pair)
	if err != nil {
		return unavailable("read pair summaries", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p PairSummary
		if err := rows.Scan(&p.OriginKey, &p.SfID, &p.JiraIssueID, &p.JiraIssueKey, &p.State, &p.SfHash, &p.JiraHash, &p.HasSnapshot, &p.SyncedAtMS, &p.MappingVersion); err != nil {
			return unavailable("read pair summaries", err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return unavailable("read pair summaries", err)
	}
	return nil
}

// SyncedOrigins reports which of the origin keys have a last-synced snapshot.
func (s *Store) SyncedOrigins(ctx context.Context, keys []string) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT origin_key FROM pair_state WHERE origin_key = ANY($1)`, keys)
	if err != nil {
		return nil, unavailable("read pair state", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, unavailable("read pair state", err)
	}
	out := make(map[string]bool, len(list))
	for _, k := range list {
		out[k] = true
	}
	return out, nil
}
