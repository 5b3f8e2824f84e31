// Package storetest gives tests a throwaway PostgreSQL database on the server of DATABASE_URL
// (the local default otherwise), so each test starts from an empty, migrated schema and leaves
// nothing behind.
package storetest

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/internal/store"
)

// DefaultURL is the database the tests use when DATABASE_URL is unset (the Makefile's default).
const DefaultURL = "postgres://postgres@127.0.0.1:5432/sfjira?sslmode=disable"

// URL creates an empty database named <prefix>_<random> and returns its URL; it is dropped when
// the test ends. Tests run with -short skip, since they need PostgreSQL.
func URL(t testing.TB, prefix string) string {
	t.Helper()
	return URLOn(t, "", prefix)
}

// URLOn is URL on the server of base (a test's private PostgreSQL); "" means DATABASE_URL.
func URLOn(t testing.TB, base, prefix string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	if base == "" {
		base = os.Getenv("DATABASE_URL")
	}
	if base == "" {
		base = DefaultURL
	}
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.Path = "/" + prefix + "_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	dbURL := u.String()
	_, err = store.EnsureDatabase(context.Background(), dbURL)
	require.NoError(t, err, "PostgreSQL must be reachable at DATABASE_URL (fix: start it, or point DATABASE_URL at one)")
	t.Cleanup(func() { _ = store.DropDatabase(context.Background(), dbURL) })
	return dbURL
}

// Open is URL plus a migrated store on it, closed when the test ends (before the drop).
func Open(t testing.TB, prefix string) (*store.Store, string) {
	t.Helper()
	return OpenOn(t, "", prefix)
}

// OpenOn is Open on the server of base ("" means DATABASE_URL).
func OpenOn(t testing.TB, base, prefix string) (*store.Store, string) {
	t.Helper()
	dbURL := URLOn(t, base, prefix)
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(st.Close)
	_, err = st.Migrate(ctx)
	require.NoError(t, err)
	return st, dbURL
}
