package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/internal/store"
)

func keyring(t *testing.T, entries ...string) *codec.Keyring {
	t.Helper()
	kr, err := codec.ParseKeyring(strings.Join(entries, ","))
	require.NoError(t, err)
	return kr
}

func entry(t *testing.T, id string) string {
	e, err := codec.GenerateEntry(id)
	require.NoError(t, err)
	return e
}

func TestTokensAreEncryptedAtRestAndRotateWithoutDowntime(t *testing.T) {
	st, _ := openTestStore(t)
	ctx := context.Background()
	k1 := entry(t, "k1")
	ts, err := st.Tokens(keyring(t, k1))
	require.NoError(t, err)
	tok := &store.Token{AccessToken: "access-SECRET-1", RefreshToken: "refresh-SECRET-1", Expiry: time.Now().Add(time.Hour).UTC().Truncate(time.Second),
		Extra: map[string]string{"cloud_id": "c-1"}}
	require.NoError(t, ts.Put(ctx, "jira", tok))
	require.NotContains(t, tok.String(), "SECRET")

	// The row holds ciphertext and a key id only.
	var keyID string
	var raw []byte
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT key_id, ciphertext FROM oauth_tokens WHERE name = 'jira'`).Scan(&keyID, &raw))
	require.Equal(t, "k1", keyID)
	require.NotContains(t, string(raw), "SECRET")
	require.NotContains(t, string(raw), "c-1")

	// A ciphertext moved to another row does not decrypt.
	_, err = st.Pool().Exec(ctx, `INSERT INTO oauth_tokens (name, key_id, ciphertext) SELECT 'other', key_id, ciphertext FROM oauth_tokens WHERE name = 'jira'`)
	require.NoError(t, err)
	_, err = ts.Get(ctx, "other")
	require.Error(t, err)
	_, err = st.Pool().Exec(ctx, `DELETE FROM oauth_tokens WHERE name = 'other'`)
	require.NoError(t, err)

	// Rotation: the new key comes first; the old one stays readable while workers refresh.
	k2 := entry(t, "k2")
	rotated, err := st.Tokens(keyring(t, k2, k1))
	require.NoError(t, err)
	got, err := rotated.Get(ctx, "jira")
	require.NoError(t, err)
	require.Equal(t, "refresh-SECRET-1", got.RefreshToken)
	require.Equal(t, "c-1", got.Extra["cloud_id"])

	// A worker still on the old keyring keeps working during the rollout...
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := rotated.Get(ctx, "jira"); err != nil {
				readErr = err
				return
			}
		}
	}()
	require.NoError(t, ts.Put(ctx, "salesforce", &store.Token{AccessToken: "sf-SECRET"}))
	n, err := rotated.Rotate(ctx)
	close(stop)
	wg.Wait()
	require.NoError(t, readErr)
	require.Equal(t, 2, n)
	use, err := rotated.TokenKeyUse(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"k2": 2}, use)
	n, err = rotated.Rotate(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "rotation is idempotent")

	// ...and once everything is re-encrypted, k1 can leave the keyring.
	only2, err := st.Tokens(keyring(t, k2))
	require.NoError(t, err)
	got, err = only2.Get(ctx, "jira")
	require.NoError(t, err)
	require.Equal(t, "access-SECRET-1", got.AccessToken)

	_, err = st.Tokens(nil)
	require.ErrorIs(t, err, store.ErrNoKeyring)
}

func TestTokenUpdateSerialisesConcurrentRefreshers(t *testing.T) {
	st, _ := openTestStore(t)
	ctx := context.Background()
	ts, err := st.Tokens(keyring(t, entry(t, "k1")))
	require.NoError(t, err)
	require.NoError(t, ts.Put(ctx, "jira", &store.Token{RefreshToken: "gen-0"}))
	// Each updater spends the refresh token it reads; under the row lock no two see the same one.
	spent := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := ts.Update(ctx, "jira", func(cur *store.Token) (*store.Token, error) {
				mu.Lock()
				spent[cur.RefreshToken]++
				gen := len(spent)
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
				return &store.Token{RefreshToken: "gen-" + string(rune('0'+gen))}, nil
			})
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	require.Len(t, spent, 8)
	for tok, n := range spent {
		require.Equal(t, 1, n, "refresh token %s spent twice", tok)
	}
	_, err = ts.Update(ctx, "missing", func(cur *store.Token) (*store.Token, error) { return cur, nil })
	require.ErrorIs(t, err, store.ErrNotFound)
}

// TestAuditIsAppendOnlyForTheApplicationRole proves the grant, not just the trigger: as
// sfjira_app, INSERT and SELECT work and UPDATE, DELETE and TRUNCATE are refused with
// insufficient_privilege before any trigger runs.
func TestAuditIsAppendOnlyForTheApplicationRole(t *testing.T) {
	st, dbURL := openTestStore(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `SET ROLE sfjira_app`)
	require.NoError(t, err)
	var who string
	require.NoError(t, conn.QueryRow(ctx, `SELECT current_user`).Scan(&who))
	require.Equal(t, "sfjira_app", who)

	_, err = conn.Exec(ctx, `INSERT INTO audit (actor, workflow_id, run_id, pass, origin_key, pair, direction, target_system, target_id, action, field, before_value, after_value, mapping_version)
		VALUES ('integration@sfjira.demo', 'sync/sf/006x', 'run-1', 1, 'sf/006x', 'opportunity-epic', 'sf_to_jira', 'jira', '10001', 'update', 'summary', 'a', 'b', 'v1')`)
	require.NoError(t, err, "the application role appends to the audit")
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM audit`).Scan(&n))
	require.Equal(t, 1, n)
	// The role can still do its normal work on other tables.
	_, err = conn.Exec(ctx, `INSERT INTO links (origin_key, pair, sf_object, sf_id) VALUES ('sf/006x', 'opportunity-epic', 'Opportunity', '006x')`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `UPDATE links SET jira_issue_key = 'SFJ-1' WHERE origin_key = 'sf/006x'`)
	require.NoError(t, err)

	for _, stmt := range []string{`UPDATE audit SET after_value = 'forged'`, `DELETE FROM audit`, `TRUNCATE audit`} {
		_, err := conn.Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		require.True(t, errors.As(err, &pgErr), "%s: %v", stmt, err)
		require.Equal(t, "42501", pgErr.Code, "%s must fail for lack of privilege, got %s", stmt, pgErr.Message)
	}
	// Nor can it grant itself the privilege back (PostgreSQL only warns) or edit migrations.
	_, _ = conn.Exec(ctx, `GRANT UPDATE ON audit TO sfjira_app`)
	_, err = conn.Exec(ctx, `UPDATE audit SET after_value = 'forged'`)
	require.Error(t, err)
	_, err = conn.Exec(ctx, `DELETE FROM schema_migrations`)
	require.Error(t, err)

	// Still one untouched row, seen by the owner too.
	var after string
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT after_value FROM audit`).Scan(&after))
	require.Equal(t, "b", after)
}

func TestOpenAsRunsAsTheApplicationRole(t *testing.T) {
	_, dbURL := openTestStore(t)
	ctx := context.Background()
	app, err := store.OpenAs(ctx, dbURL, "sfjira_app")
	require.NoError(t, err)
	defer app.Close()
	var who string
	require.NoError(t, app.Pool().QueryRow(ctx, `SELECT current_user`).Scan(&who))
	require.Equal(t, "sfjira_app", who)
	_, err = app.Pool().Exec(ctx, `DELETE FROM audit`)
	require.Error(t, err)
	_, err = store.OpenAs(ctx, dbURL, "no_such_role_sfjira")
	require.ErrorContains(t, err, "no_such_role_sfjira")
}
