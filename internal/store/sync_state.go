package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// LinkBySalesforceID finds the pair a Salesforce record belongs to (any state), or ErrNotFound.
func (s *Store) LinkBySalesforceID(ctx context.Context, pair, sfID string) (*Link, error) {
	return scanLink(s.pool.QueryRow(ctx, `SELECT `+linkColumns+` FROM links WHERE pair = $1 AND sf_id = $2`, pair, sfID))
}

// LinkByJiraID finds the pair a Jira issue belongs to (any state), or ErrNotFound.
func (s *Store) LinkByJiraID(ctx context.Context, issueID string) (*Link, error) {
	return scanLink(s.pool.QueryRow(ctx, `SELECT `+linkColumns+` FROM links WHERE jira_issue_id = $1`, issueID))
}

// RecordJiraOriginIntent records a pair that starts from a Jira issue before its Salesforce
// record is created, so the record's own change events resolve to this pair.
func (s *Store) RecordJiraOriginIntent(ctx context.Context, l Link) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO links (origin_key, pair, sf_object, jira_issue_id, jira_issue_key, state)
		VALUES ($1, $2, $3, $4, nullif($5,''), 'creating') ON CONFLICT (origin_key) DO NOTHING`,
		l.OriginKey, l.Pair, l.SfObject, l.JiraIssueID, l.JiraIssueKey)
	if err != nil {
		return unavailable("record Jira-origin intent", err)
	}
	return nil
}

// MarkLinkDeleted records that one side of a pair was deleted; the pair is not recreated.
func (s *Store) MarkLinkDeleted(ctx context.Context, originKey string) error {
	_, err := s.pool.Exec(ctx, `UPDATE links SET state = 'deleted', updated_at = now() WHERE origin_key = $1`, originKey)
	if err != nil {
		return unavailable("mark link deleted", err)
	}
	return nil
}

// Watermark is how far one change-capture source has read.
type Watermark struct {
	Source string
	At     time.Time
	// IDsAt are the records already handed over whose change time equals At.
	IDsAt []string
}

// GetWatermark returns a source's watermark, or ErrNotFound before its first run.
func (s *Store) GetWatermark(ctx context.Context, source string) (*Watermark, error) {
	w := &Watermark{Source: source}
	err := s.pool.QueryRow(ctx, `SELECT watermark, ids_at_watermark FROM watermarks WHERE source = $1`, source).Scan(&w.At, &w.IDsAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, unavailable("read watermark", err)
	}
	return w, nil
}

// SetWatermark stores a source's watermark; it never moves a watermark backwards.
func (s *Store) SetWatermark(ctx context.Context, w Watermark) error {
	if w.IDsAt == nil {
		w.IDsAt = []string{}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO watermarks (source, watermark, ids_at_watermark) VALUES ($1, $2, $3)
		ON CONFLICT (source) DO UPDATE SET watermark = EXCLUDED.watermark, ids_at_watermark = EXCLUDED.ids_at_watermark, updated_at = now()
		WHERE watermarks.watermark <= EXCLUDED.watermark`, w.Source, w.At, w.IDsAt)
	if err != nil {
		return unavailable("write watermark", err)
	}
	return nil
}

// Watermarks lists every source's watermark, for status output.
func (s *Store) Watermarks(ctx context.Context) ([]Watermark, error) {
	rows, err := s.pool.Query(ctx, `SELECT source, watermark, ids_at_watermark FROM watermarks ORDER BY source`)
	if err != nil {
		return nil, unavailable("read watermarks", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Watermark, error) {
		var w Watermark
		return w, r.Scan(&w.Source, &w.At, &w.IDsAt)
	})
}

// Conflict is a field changed on both sides whose policy is manual.
type Conflict struct {
	ID         int64
	OriginKey  string
	Pair       string
	Field      string
	Label      string
	SfValue    *string
	JiraValue  *string
	BaseSF     *string
	BaseJira   *string
	DetectedAt time.Time
	ResolvedAt *time.Time
	Resolution string
	ResolvedBy string
}

const conflictColumns = `id, origin_key, pair, field, label, sf_value, jira_value, base_sf, base_jira, detected_at, resolved_at, coalesce(resolution,''), coalesce(resolved_by,'')`

func scanConflict(r pgx.CollectableRow) (Conflict, error) {
	var c Conflict
	err := r.Scan(&c.ID, &c.OriginKey, &c.Pair, &c.Field, &c.Label, &c.SfValue, &c.JiraValue, &c.BaseSF, &c.BaseJira, &c.DetectedAt, &c.ResolvedAt, &c.Resolution, &c.ResolvedBy)
	return c, err
}

// SaveConflict stores a manual conflict, or refreshes the values of the open one on that field.
func (s *Store) SaveConflict(ctx context.Context, c Conflict) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO conflicts (origin_key, pair, field, label, sf_value, jira_value, base_sf, base_jira)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (origin_key, field) WHERE applied_at IS NULL DO UPDATE SET sf_value = EXCLUDED.sf_value,
			jira_value = EXCLUDED.jira_value, label = EXCLUDED.label
		WHERE conflicts.resolved_at IS NULL`,
		c.OriginKey, c.Pair, c.Field, c.Label, c.SfValue, c.JiraValue, c.BaseSF, c.BaseJira)
	if err != nil {
		return unavailable("save conflict", err)
	}
	return nil
}

// OpenConflicts lists conflicts not yet applied (waiting for a decision or for the sync that
// applies it), optionally for one pair, oldest first.
func (s *Store) OpenConflicts(ctx context.Context, originKey string) ([]Conflict, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+conflictColumns+` FROM conflicts WHERE applied_at IS NULL AND ($1 = '' OR origin_key = $1) ORDER BY id`, originKey)
	if err != nil {
		return nil, unavailable("read conflicts", err)
	}
	return pgx.CollectRows(rows, scanConflict)
}

// GetConflict returns one conflict by id, or ErrNotFound.
func (s *Store) GetConflict(ctx context.Context, id int64) (*Conflict, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+conflictColumns+` FROM conflicts WHERE id = $1`, id)
	if err != nil {
		return nil, unavailable("read conflict", err)
	}
	cs, err := pgx.CollectRows(rows, scanConflict)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, ErrNotFound
	}
	return &cs[0], nil
}

// ResolveConflict records an operator's decision; the pair's next sync applies it.
func (s *Store) ResolveConflict(ctx context.Context, id int64, take, by string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE conflicts SET resolution = $2, resolved_by = $3, resolved_at = now()
		WHERE id = $1 AND applied_at IS NULL`, id, take, by)
	if err != nil {
		return unavailable("resolve conflict", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// MarkConflictsApplied closes conflicts whose decision a sync has written to both sides.
func (s *Store) MarkConflictsApplied(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE conflicts SET applied_at = now() WHERE id = ANY($1)`, ids)
	if err != nil {
		return unavailable("apply conflicts", err)
	}
	return nil
}

// MirroredComments returns the Jira comment ids of a pair already posted to Salesforce.
func (s *Store) MirroredComments(ctx context.Context, originKey string) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT jira_comment_id FROM comment_links WHERE origin_key = $1`, originKey)
	if err != nil {
		return nil, unavailable("read comment links", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// RecordMirroredComment remembers that a Jira comment was posted as a Chatter feed item.
func (s *Store) RecordMirroredComment(ctx context.Context, originKey, commentID, feedItemID string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO comment_links (jira_comment_id, origin_key, feed_item_id) VALUES ($1,$2,$3)
		ON CONFLICT (jira_comment_id) DO NOTHING`, commentID, originKey, feedItemID)
	if err != nil {
		return unavailable("record comment link", err)
	}
	return nil
}

// PairStates returns the snapshots of every pair of one mapping pair, keyed by origin key.
func (s *Store) PairStates(ctx context.Context, pair string) (map[string]*PairState, error) {
	rows, err := s.pool.Query(ctx, `SELECT origin_key, mapping_version, sf_snapshot, jira_snapshot FROM pair_state WHERE pair = $1`, pair)
	if err != nil {
		return nil, unavailable("read pair states", err)
	}
	defer rows.Close()
	out := map[string]*PairState{}
	for rows.Next() {
		p := &PairState{Pair: pair}
		if err := rows.Scan(&p.OriginKey, &p.MappingVersion, &p.SfSnapshot, &p.JiraSnapshot); err != nil {
			return nil, err
		}
		out[p.OriginKey] = p
	}
	return out, rows.Err()
}
