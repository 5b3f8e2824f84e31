// Package store keeps the connector state that must outlive workflow histories in PostgreSQL:
// links between records, last-synced snapshots, the append-only audit trail and dead letters.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the connector's PostgreSQL state, safe for concurrent use by many activities.
type Store struct {
	pool *pgxpool.Pool
}

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("store: not found")

// UnavailableError marks failures to reach or use PostgreSQL; activities treat them as retryable.
type UnavailableError struct {
	Op  string
	Err error
}

func (e *UnavailableError) Error() string { return "store: " + e.Op + ": " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

func unavailable(op string, err error) error { return &UnavailableError{Op: op, Err: err} }

// Open connects to PostgreSQL and checks the connection. It does not migrate; call Migrate.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	return OpenAs(ctx, databaseURL, "")
}

// OpenAs is Open with every connection switched to role (SET ROLE) — normally sfjira_app, which
// may not UPDATE or DELETE the audit trail. Migrate with a store opened as the owner first.
func OpenAs(ctx context.Context, databaseURL, role string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("database url %q is invalid: %v (fix: use postgres://user@host:5432/dbname?sslmode=disable)", redact(databaseURL), err)
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	if role != "" {
		setRole := `SET ROLE ` + pgx.Identifier{role}.Sanitize()
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			if _, err := c.Exec(ctx, setRole); err != nil {
				return fmt.Errorf("SET ROLE %s: %w (fix: run migrations as the database owner so the role exists, and GRANT %s TO the login user)", role, err, role)
			}
			return nil
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("PostgreSQL at %s is not reachable: %v (fix: start PostgreSQL or set DATABASE_URL; `sfjira setup` creates the database)", cfg.ConnConfig.Host, err)
	}
	return &Store{pool: pool}, nil
}

// Close releases all connections.
func (s *Store) Close() { s.pool.Close() }

// Pool exposes the connection pool to tests and admin commands.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Link ties a Salesforce record to a Jira issue under the pair's origin key.
type Link struct {
	OriginKey    string
	Pair         string
	SfObject     string
	SfID         string
	JiraIssueID  string
	JiraIssueKey string
	State        string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

const linkColumns = `origin_key, pair, sf_object, coalesce(sf_id,''), coalesce(jira_issue_id,''), coalesce(jira_issue_key,''), state, created_at, updated_at`

func scanLink(row pgx.Row) (*Link, error) {
	var l Link
	err := row.Scan(&l.OriginKey, &l.Pair, &l.SfObject, &l.SfID, &l.JiraIssueID, &l.JiraIssueKey, &l.State, &l.CreatedAt, &l.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, unavailable("read link", err)
	}
	return &l, nil
}

// GetLink returns the link for an origin key, or ErrNotFound.
func (s *Store) GetLink(ctx context.Context, originKey string) (*Link, error) {
	return scanLink(s.pool.QueryRow(ctx, `SELECT `+linkColumns+` FROM links WHERE origin_key = $1`, originKey))
}

// RecordCreateIntent writes the intent to create the Jira side of a pair before the create call, so
// a retried create looks for the issue instead of making a second one. It never downgrades a link.
func (s *Store) RecordCreateIntent(ctx context.Context, l Link) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO links (origin_key, pair, sf_object, sf_id, state)
		VALUES ($1, $2, $3, nullif($4,''), 'creating') ON CONFLICT (origin_key) DO NOTHING`,
		l.OriginKey, l.Pair, l.SfObject, l.SfID)
	if err != nil {
		return unavailable("record create intent", err)
	}
	return nil
}

// SaveLink records both sides of a pair as linked (insert or update).
func (s *Store) SaveLink(ctx context.Context, l Link) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO links (origin_key, pair, sf_object, sf_id, jira_issue_id, jira_issue_key, state)
		VALUES ($1, $2, $3, nullif($4,''), nullif($5,''), nullif($6,''), 'linked')
		ON CONFLICT (origin_key) DO UPDATE SET sf_id = coalesce(EXCLUDED.sf_id, links.sf_id),
			jira_issue_id = EXCLUDED.jira_issue_id, jira_issue_key = EXCLUDED.jira_issue_key,
			state = 'linked', updated_at = now()
		WHERE links.jira_issue_id IS DISTINCT FROM EXCLUDED.jira_issue_id
		   OR links.jira_issue_key IS DISTINCT FROM EXCLUDED.jira_issue_key
		   OR links.state <> 'linked'`,
		l.OriginKey, l.Pair, l.SfObject, l.SfID, l.JiraIssueID, l.JiraIssueKey)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return fmt.Errorf("store: Jira issue %s is already linked to another record: %s", l.JiraIssueID, pgErr.Detail)
		}
		return unavailable("save link", err)
	}
	return nil
}

// PairState is the last-synced snapshot of both sides of a pair.
type PairState struct {
	OriginKey      string
	Pair           string
	MappingVersion string
	SfSnapshot     map[string]string
	JiraSnapshot   map[string]string
	SfHash         string
	JiraHash       string
	SfModstamp     *time.Time
	JiraUpdated    *time.Time
	SyncedAt       time.Time
	WorkflowID     string
	RunID          string
}

// GetPairState returns the snapshot for an origin key, or ErrNotFound.
func (s *Store) GetPairState(ctx context.Context, originKey string) (*PairState, error) {
	var p PairState
	var sfSnap, jiraSnap []byte
	err := s.pool.QueryRow(ctx, `SELECT origin_key, pair, mapping_version, sf_snapshot, jira_snapshot, sf_hash, jira_hash,
		sf_modstamp, jira_updated, synced_at, workflow_id, run_id FROM pair_state WHERE origin_key = $1`, originKey).
		Scan(&p.OriginKey, &p.Pair, &p.MappingVersion, &sfSnap, &jiraSnap, &p.SfHash, &p.JiraHash, &p.SfModstamp, &p.JiraUpdated, &p.SyncedAt, &p.WorkflowID, &p.RunID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, unavailable("read pair state", err)
	}
	if err := json.Unmarshal(sfSnap, &p.SfSnapshot); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(jiraSnap, &p.JiraSnapshot); err != nil {
		return nil, err
	}
	return &p, nil
}

// AuditEntry is one field written to one target by one sync pass, with its before-image.
type AuditEntry struct {
	At             time.Time
	Actor          string
	WorkflowID     string
	RunID          string
	Pass           int
	OriginKey      string
	Pair           string
	Direction      string
	TargetSystem   string
	TargetID       string
	Action         string
	Field          string
	Before         *string
	After          *string
	MappingVersion string
	// LatencyMS is the change→reflection latency: from the source's modification time to
	// the verified write (nil when unknown).
	LatencyMS *int64
	// DecidedBy says why this value won (sf_changed, jira_changed, owner_wins, last_writer_wins, …).
	DecidedBy string
	// BeforeRaw is the exact before-image as the target's API returned it (JSON), when known.
	BeforeRaw json.RawMessage
}

// CommitSync writes the outcome of one sync pass atomically: the link, the pair's new snapshot
// and the audit rows. Re-running it for the same pass (an activity retry) changes nothing.
func (s *Store) CommitSync(ctx context.Context, l Link, p PairState, audit []AuditEntry) error {
	sfSnap, err := json.Marshal(p.SfSnapshot)
	if err != nil {
		return err
	}
	jiraSnap, err := json.Marshal(p.JiraSnapshot)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO links (origin_key, pair, sf_object, sf_id, jira_issue_id, jira_issue_key, state)
			VALUES ($1, $2, $3, nullif($4,''), nullif($5,''), nullif($6,''), 'linked')
			ON CONFLICT (origin_key) DO UPDATE SET jira_issue_id = EXCLUDED.jira_issue_id,
				jira_issue_key = EXCLUDED.jira_issue_key, sf_id = coalesce(EXCLUDED.sf_id, links.sf_id), state = 'linked', updated_at = now()
			WHERE links.jira_issue_id IS DISTINCT FROM EXCLUDED.jira_issue_id
			   OR links.jira_issue_key IS DISTINCT FROM EXCLUDED.jira_issue_key
			   OR (EXCLUDED.sf_id IS NOT NULL AND links.sf_id IS DISTINCT FROM EXCLUDED.sf_id) OR links.state <> 'linked'`,
			l.OriginKey, l.Pair, l.SfObject, l.SfID, l.JiraIssueID, l.JiraIssueKey)
		b.Queue(`INSERT INTO pair_state (origin_key, pair, mapping_version, sf_snapshot, jira_snapshot, sf_hash, jira_hash,
				sf_modstamp, jira_updated, synced_at, workflow_id, run_id)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)
			ON CONFLICT (origin_key) DO UPDATE SET pair = EXCLUDED.pair, mapping_version = EXCLUDED.mapping_version,
				sf_snapshot = EXCLUDED.sf_snapshot, jira_snapshot = EXCLUDED.jira_snapshot, sf_hash = EXCLUDED.sf_hash,
				jira_hash = EXCLUDED.jira_hash, sf_modstamp = EXCLUDED.sf_modstamp, jira_updated = EXCLUDED.jira_updated,
				synced_at = EXCLUDED.synced_at, workflow_id = EXCLUDED.workflow_id, run_id = EXCLUDED.run_id`,
			p.OriginKey, p.Pair, p.MappingVersion, sfSnap, jiraSnap, p.SfHash, p.JiraHash, p.SfModstamp, p.JiraUpdated,
			p.SyncedAt, p.WorkflowID, p.RunID)
		for _, a := range audit {
			queueAudit(b, a)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return fmt.Errorf("store: Jira issue %s is already linked to another record: %s", l.JiraIssueID, pgErr.Detail)
		}
		return unavailable("commit sync", err)
	}
	return nil
}

// AuditFor returns the audit rows of one pair in time order.
func (s *Store) AuditFor(ctx context.Context, originKey string) ([]AuditEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT at, actor, workflow_id, run_id, pass, origin_key, pair, direction, target_system,
		target_id, action, field, before_value, after_value, mapping_version, latency_ms, coalesce(decided_by,''), before_raw
		FROM audit WHERE origin_key = $1 ORDER BY id`, originKey)
	if err != nil {
		return nil, unavailable("read audit", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var a AuditEntry
		err := r.Scan(&a.At, &a.Actor, &a.WorkflowID, &a.RunID, &a.Pass, &a.OriginKey, &a.Pair, &a.Direction, &a.TargetSystem,
			&a.TargetID, &a.Action, &a.Field, &a.Before, &a.After, &a.MappingVersion, &a.LatencyMS, &a.DecidedBy, &a.BeforeRaw)
		return a, err
	})
}

// DeadLetter is a sync that failed for good, with what an operator needs to fix and replay it.
type DeadLetter struct {
	ID          int64
	OriginKey   string
	Pair        string
	WorkflowID  string
	RunID       string
	Code        string
	Message     string
	Remediation string
	Attempts    int
	ReplayInput json.RawMessage
	FirstFailed time.Time
	LastFailed  time.Time
}

// AddDeadLetter records a failed sync; a second failure of the same pair while its dead letter is
// open updates that row (attempts, last error) instead of adding another.
func (s *Store) AddDeadLetter(ctx context.Context, d DeadLetter) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO dead_letters (origin_key, pair, workflow_id, run_id, code, message, remediation, replay_input)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (origin_key) WHERE resolved_at IS NULL DO UPDATE SET workflow_id = EXCLUDED.workflow_id,
			run_id = EXCLUDED.run_id, code = EXCLUDED.code, message = EXCLUDED.message, remediation = EXCLUDED.remediation,
			replay_input = EXCLUDED.replay_input, attempts = dead_letters.attempts + 1, last_failed_at = now()
		WHERE dead_letters.run_id <> EXCLUDED.run_id`,
		d.OriginKey, d.Pair, d.WorkflowID, d.RunID, d.Code, d.Message, d.Remediation, d.ReplayInput)
	if err != nil {
		return unavailable("add dead letter", err)
	}
	return nil
}

// ResolveDeadLetters closes the open dead letter of a pair after a successful sync.
func (s *Store) ResolveDeadLetters(ctx context.Context, originKey string) error {
	_, err := s.pool.Exec(ctx, `UPDATE dead_letters SET resolved_at = now() WHERE origin_key = $1 AND resolved_at IS NULL`, originKey)
	if err != nil {
		return unavailable("resolve dead letters", err)
	}
	return nil
}

// OpenDeadLetters lists dead letters not yet resolved, oldest first.
func (s *Store) OpenDeadLetters(ctx context.Context) ([]DeadLetter, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, origin_key, pair, workflow_id, run_id, code, message, remediation, attempts,
		replay_input, first_failed_at, last_failed_at FROM dead_letters WHERE resolved_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, unavailable("read dead letters", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DeadLetter, error) {
		var d DeadLetter
		err := r.Scan(&d.ID, &d.OriginKey, &d.Pair, &d.WorkflowID, &d.RunID, &d.Code, &d.Message, &d.Remediation, &d.Attempts,
			&d.ReplayInput, &d.FirstFailed, &d.LastFailed)
		return d, err
	})
}

// Counts summarises the state tables for the demo and status output.
type Counts struct {
	Links, Linked, PairStates, AuditRows, OpenDeadLetters int64
}

// Counts returns row counts of the state tables.
func (s *Store) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM links), (SELECT count(*) FROM links WHERE state = 'linked'),
		(SELECT count(*) FROM pair_state), (SELECT count(*) FROM audit),
		(SELECT count(*) FROM dead_letters WHERE resolved_at IS NULL)`).
		Scan(&c.Links, &c.Linked, &c.PairStates, &c.AuditRows, &c.OpenDeadLetters)
	if err != nil {
		return c, unavailable("count rows", err)
	}
	return c, nil
}
