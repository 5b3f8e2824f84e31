package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sfjira/sfjira/internal/codec"
)

// Token is one OAuth grant as stored (encrypted) in oauth_tokens. It never appears in logs: its
// String method prints only which fields are set.
type Token struct {
	AccessToken  string            `json:"access_token"`
	RefreshToken string            `json:"refresh_token,omitempty"`
	TokenType    string            `json:"token_type,omitempty"`
	Expiry       time.Time         `json:"expiry,omitempty"`
	Scope        string            `json:"scope,omitempty"`
	Extra        map[string]string `json:"extra,omitempty"` // e.g. cloud_id, instance_url, site_url
	// IssuedAt is when the current refresh token was issued (the start of its reuse interval).
	IssuedAt time.Time `json:"issued_at,omitempty"`
}

// String keeps tokens out of logs and error messages even when a Token is printed by mistake.
func (t *Token) String() string {
	if t == nil {
		return "<nil token>"
	}
	return fmt.Sprintf("token{access:%v refresh:%v expiry:%s}", t.AccessToken != "", t.RefreshToken != "", t.Expiry.Format(time.RFC3339))
}

// TokenStore keeps OAuth tokens in PostgreSQL sealed with the keyring's active key; every row
// names the key it was sealed with, so rows sealed before a rotation stay readable.
type TokenStore struct {
	st   *Store
	keys *codec.Keyring
}

// ErrNoKeyring is returned when tokens are to be stored but no keyring is configured.
var ErrNoKeyring = errors.New("store: OAuth tokens are stored encrypted and no keyring is configured (fix: `sfjira keys generate`, then export SFJIRA_KEYRING or set security.keyring_file)")

// Tokens returns the encrypted token store; keys must not be nil.
func (s *Store) Tokens(keys *codec.Keyring) (*TokenStore, error) {
	if keys == nil {
		return nil, ErrNoKeyring
	}
	return &TokenStore{st: s, keys: keys}, nil
}

func tokenAAD(name string) []byte { return []byte("sfjira/oauth-token/" + name) }

func (t *TokenStore) seal(name string, tok *Token) (string, []byte, error) {
	raw, err := json.Marshal(tok)
	if err != nil {
		return "", nil, err
	}
	return t.keys.Seal(raw, tokenAAD(name))
}

func (t *TokenStore) open(name, keyID string, sealed []byte) (*Token, error) {
	raw, err := t.keys.Open(keyID, sealed, tokenAAD(name))
	if err != nil {
		return nil, fmt.Errorf("token %q: %w", name, err)
	}
	var tok Token
	if err := json.Unmarshal(raw, &tok); err != nil {
		return nil, fmt.Errorf("token %q: decrypted data is not a token: %w", name, err)
	}
	return &tok, nil
}

// Put stores (or replaces) a token set, e.g. after `sfjira auth jira` completed a consent.
func (t *TokenStore) Put(ctx context.Context, name string, tok *Token) error {
	keyID, sealed, err := t.seal(name, tok)
	if err != nil {
		return err
	}
	_, err = t.st.pool.Exec(ctx, `INSERT INTO oauth_tokens (name, key_id, ciphertext) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET key_id = EXCLUDED.key_id, ciphertext = EXCLUDED.ciphertext, updated_at = now()`,
		name, keyID, sealed)
	if err != nil {
		return unavailable("store token", err)
	}
	return nil
}

// Get reads and decrypts a token set; ErrNotFound when none is stored under name.
func (t *TokenStore) Get(ctx context.Context, name string) (*Token, error) {
	var keyID string
	var sealed []byte
	err := t.st.pool.QueryRow(ctx, `SELECT key_id, ciphertext FROM oauth_tokens WHERE name = $1`, name).Scan(&keyID, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, unavailable("read token", err)
	}
	return t.open(name, keyID, sealed)
}

// Update runs fn on the current token while holding the row lock (SELECT … FOR UPDATE) and
// stores what fn returns. Concurrent callers — in this process or in other workers — queue on the
// lock and see the token the previous one stored, which is what makes rotating refresh tokens
// safe: a refresh token is spent at most once. fn returning the same pointer it got (or nil)
// writes nothing; fn's error aborts and is returned.
func (t *TokenStore) Update(ctx context.Context, name string, fn func(cur *Token) (*Token, error)) (*Token, error) {
	var result *Token
	err := pgx.BeginFunc(ctx, t.st.pool, func(tx pgx.Tx) error {
		var keyID string
		var sealed []byte
		err := tx.QueryRow(ctx, `SELECT key_id, ciphertext FROM oauth_tokens WHERE name = $1 FOR UPDATE`, name).Scan(&keyID, &sealed)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return unavailable("lock token", err)
		}
		cur, err := t.open(name, keyID, sealed)
		if err != nil {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		if next == nil || next == cur {
			result = cur
			return nil
		}
		newKey, newSealed, err := t.seal(name, next)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE oauth_tokens SET key_id = $2, ciphertext = $3, updated_at = now(), refreshes = refreshes + 1 WHERE name = $1`,
			name, newKey, newSealed); err != nil {
			return unavailable("store refreshed token", err)
		}
		result = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return result, nil
}

// TokenKeyUse counts stored tokens by the key id they are sealed with.
func (t *TokenStore) TokenKeyUse(ctx context.Context) (map[string]int, error) {
	rows, err := t.st.pool.Query(ctx, `SELECT key_id, count(*) FROM oauth_tokens GROUP BY key_id`)
	if err != nil {
		return nil, unavailable("count tokens by key", err)
	}
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// Rotate re-encrypts every token not sealed with the active key, one row per transaction under
// the row lock, so workers keep reading and refreshing while it runs (no downtime). It returns
// how many rows it re-encrypted.
func (t *TokenStore) Rotate(ctx context.Context) (int, error) {
	rows, err := t.st.pool.Query(ctx, `SELECT name FROM oauth_tokens WHERE key_id <> $1 ORDER BY name`, t.keys.ActiveID())
	if err != nil {
		return 0, unavailable("list tokens to rotate", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, unavailable("list tokens to rotate", err)
	}
	n := 0
	for _, name := range names {
		err := pgx.BeginFunc(ctx, t.st.pool, func(tx pgx.Tx) error {
			var keyID string
			var sealed []byte
			err := tx.QueryRow(ctx, `SELECT key_id, ciphertext FROM oauth_tokens WHERE name = $1 FOR UPDATE`, name).Scan(&keyID, &sealed)
			if errors.Is(err, pgx.ErrNoRows) || keyID == t.keys.ActiveID() {
				return nil // deleted or already re-sealed (a refresh stores with the active key)
			}
			if err != nil {
				return unavailable("lock token", err)
			}
			tok, err := t.open(name, keyID, sealed)
			if err != nil {
				return err
			}
			newKey, newSealed, err := t.seal(name, tok)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE oauth_tokens SET key_id = $2, ciphertext = $3 WHERE name = $1`, name, newKey, newSealed); err != nil {
				return unavailable("store re-encrypted token", err)
			}
			n++
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Refreshes reports how many times a stored token has been replaced by a refresh.
func (t *TokenStore) Refreshes(ctx context.Context, name string) (int64, error) {
	var n int64
	err := t.st.pool.QueryRow(ctx, `SELECT refreshes FROM oauth_tokens WHERE name = $1`, name).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, unavailable("read token", err)
	}
	return n, nil
}
