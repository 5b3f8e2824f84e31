package store

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditRecord is one audit row as exported for retention (JSON lines): who (actor), what
// (target, action, field), when (at), before and after, and which run wrote it.
type AuditRecord struct {
	ID             int64     `json:"id"`
	At             time.Time `json:"at"`
	Actor          string    `json:"actor"`
	WorkflowID     string    `json:"workflow_id"`
	RunID          string    `json:"run_id"`
	Pass           int       `json:"pass"`
	OriginKey      string    `json:"origin_key"`
	Pair           string    `json:"pair"`
	Direction      string    `json:"direction"`
	TargetSystem   string    `json:"target_system"`
	TargetID       string    `json:"target_id"`
	Action         string    `json:"action"`
	Field          string    `json:"field"`
	Before         *string   `json:"before"`
	After          *string   `json:"after"`
	MappingVersion string    `json:"mapping_version"`
	LatencyMS      *int64    `json:"latency_ms,omitempty"`
	DecidedBy      string    `json:"decided_by,omitempty"`
}

// OriginsForRecord finds the origin keys of the pairs a record belongs to: ref is sf/<18-char id>
// or jira/<issue key or numeric id>. A record may belong to several pairs (one per mapping).
func (s *Store) OriginsForRecord(ctx context.Context, ref string) ([]string, error) {
	system, id, _ := strings.Cut(ref, "/")
	var rows pgx.Rows
	var err error
	switch system {
	case "sf":
		rows, err = s.pool.Query(ctx, `SELECT origin_key FROM links WHERE sf_id = $1 OR origin_key = $2 ORDER BY created_at`, id, ref)
	case "jira":
		rows, err = s.pool.Query(ctx, `SELECT origin_key FROM links WHERE jira_issue_key = $1 OR jira_issue_id = $1 OR origin_key = $2 ORDER BY created_at`, id, "jira/"+id)
	default:
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, unavailable("find record", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, unavailable("find record", err)
	}
	if len(keys) == 0 {
		return nil, ErrNotFound
	}
	return keys, nil
}

// ExportAudit calls fn for every audit row written in [since, until) in write order, streaming
// so a large window does not sit in memory. It returns how many rows it passed to fn.
func (s *Store) ExportAudit(ctx context.Context, since, until time.Time, fn func(AuditRecord) error) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, at, actor, workflow_id, run_id, pass, origin_key, pair, direction, target_system,
		target_id, action, field, before_value, after_value, mapping_version, latency_ms, coalesce(decided_by,'')
		FROM audit WHERE at >= $1 AND at < $2 ORDER BY id`, since, until)
	if err != nil {
		return 0, unavailable("export audit", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var a AuditRecord
		if err := rows.Scan(&a.ID, &a.At, &a.Actor, &a.WorkflowID, &a.RunID, &a.Pass, &a.OriginKey, &a.Pair, &a.Direction, &a.TargetSystem,
			&a.TargetID, &a.Action, &a.Field, &a.Before, &a.After, &a.MappingVersion, &a.LatencyMS, &a.DecidedBy); err != nil {
			return n, unavailable("export audit", err)
		}
		if err := fn(a); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, unavailable("export audit", err)
	}
	return n, nil
}
