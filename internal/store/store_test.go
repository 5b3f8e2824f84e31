package store_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/internal/store"
)

// openTestStore creates a throwaway database on the PostgreSQL at DATABASE_URL and migrates it.
func openTestStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/sfjira?sslmode=disable"
	}
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.Path = "/sfjira_store_test_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	ctx := context.Background()
	created, err := store.EnsureDatabase(ctx, u.String())
	require.NoError(t, err)
	require.True(t, created)
	t.Cleanup(func() { _ = store.DropDatabase(context.Background(), u.String()) })
	st, err := store.Open(ctx, u.String())
	require.NoError(t, err)
	t.Cleanup(st.Close)
	applied, err := st.Migrate(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, applied)
	return st, u.String()
}

func ptr(s string) *string { return &s }

func TestMigrateIsIdempotentAndConcurrentSafe(t *testing.T) {
	st, dbURL := openTestStore(t)
	ctx := context.Background()
	again, err := st.Migrate(ctx)
	require.NoError(t, err)
	require.Empty(t, again, "a second Migrate applies nothing")
	created, err := store.EnsureDatabase(ctx, dbURL)
	require.NoError(t, err)
	require.False(t, created)
	ms, err := store.Migrations()
	require.NoError(t, err)
	var n int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n))
	require.Equal(t, len(ms), n)
}

func TestCommitSyncIsAtomicIdempotentAndAuditAppendOnly(t *testing.T) {
	st, _ := openTestStore(t)
	ctx := context.Background()
	origin := "sf/006000000000001AAA"
	require.NoError(t, st.RecordCreateIntent(ctx, store.Link{OriginKey: origin, Pair: "opportunity-epic", SfObject: "Opportunity", SfID: "006000000000001AAA"}))
	l, err := st.GetLink(ctx, origin)
	require.NoError(t, err)
	require.Equal(t, "creating", l.State)

	link := store.Link{OriginKey: origin, Pair: "opportunity-epic", SfObject: "Opportunity", SfID: "006000000000001AAA", JiraIssueID: "10001", JiraIssueKey: "SFJ-1"}
	ps := store.PairState{OriginKey: origin, Pair: "opportunity-epic", MappingVersion: "v1",
		SfSnapshot: map[string]string{"summary": "Zoë's Café"}, JiraSnapshot: map[string]string{"summary": "Zoë's Café"},
		SfHash: "h1", JiraHash: "h1", SyncedAt: time.Now(), WorkflowID: "sync/" + origin, RunID: "run-1"}
	audit := []store.AuditEntry{
		{At: time.Now(), Actor: "it", WorkflowID: "sync/" + origin, RunID: "run-1", Pass: 1, OriginKey: origin, Pair: "opportunity-epic",
			Direction: "sf_to_jira", TargetSystem: "jira", TargetID: "10001", Action: "update", Field: "summary", Before: ptr("Old"), After: ptr("Zoë's Café"), MappingVersion: "v1"},
	}
	require.NoError(t, st.CommitSync(ctx, link, ps, audit))
	// An activity retry commits the same pass again: no duplicate audit rows.
	require.NoError(t, st.CommitSync(ctx, link, ps, audit))
	rows, err := st.AuditFor(ctx, origin)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, "Old", *rows[0].Before)

	l, err = st.GetLink(ctx, origin)
	require.NoError(t, err)
	require.Equal(t, "linked", l.State)
	require.Equal(t, "SFJ-1", l.JiraIssueKey)
	got, err := st.GetPairState(ctx, origin)
	require.NoError(t, err)
	require.Equal(t, "Zoë's Café", got.SfSnapshot["summary"])

	_, err = st.Pool().Exec(ctx, `DELETE FROM audit`)
	require.ErrorContains(t, err, "append-only")
	_, err = st.Pool().Exec(ctx, `TRUNCATE audit`)
	require.ErrorContains(t, err, "append-only")

	// A second record cannot claim the same Jira issue.
	other := link
	other.OriginKey, other.SfID = "sf/006000000000002AAA", "006000000000002AAA"
	require.ErrorContains(t, st.SaveLink(ctx, other), "already linked")
}

func TestDeadLettersCountAttemptsAndResolve(t *testing.T) {
	st, _ := openTestStore(t)
	ctx := context.Background()
	d := store.DeadLetter{OriginKey: "sf/006000000000003AAA", Pair: "opportunity-epic", WorkflowID: "sync/sf/006000000000003AAA", RunID: "r1",
		Code: "MAPPING_REQUIRED_VALUE_MISSING", Message: "Account.Name is required", Remediation: "fill it", ReplayInput: json.RawMessage(`{"SfID":"006000000000003AAA"}`)}
	require.NoError(t, st.AddDeadLetter(ctx, d))
	require.NoError(t, st.AddDeadLetter(ctx, d)) // same run retried: not a new attempt
	d.RunID = "r2"
	require.NoError(t, st.AddDeadLetter(ctx, d))
	open, err := st.OpenDeadLetters(ctx)
	require.NoError(t, err)
	require.Len(t, open, 1)
	require.Equal(t, 2, open[0].Attempts)
	require.NoError(t, st.ResolveDeadLetters(ctx, d.OriginKey))
	open, err = st.OpenDeadLetters(ctx)
	require.NoError(t, err)
	require.Empty(t, open)
	c, err := st.Counts(ctx)
	require.NoError(t, err)
	require.Zero(t, c.OpenDeadLetters)
}

func TestOpenReportsUnreachableDatabaseWithFix(t *testing.T) {
	_, err := store.Open(context.Background(), "postgres://postgres@127.0.0.1:1/nope?sslmode=disable&connect_timeout=1")
	require.Error(t, err)
	require.Contains(t, err.Error(), "fix:")
}

// TestCommitBulkIsSetBasedAndIdempotent commits a page of pairs twice (a retried page): links
// and snapshots end linked and current, audit rows are not duplicated, and an open dead letter
// of a pair that now synced is resolved.
func TestCommitBulkIsSetBasedAndIdempotent(t *testing.T) {
	st, _ := openTestStore(t)
	ctx := context.Background()
	var items []store.BulkCommit
	var intents []store.Link
	for i := 0; i < 50; i++ {
		sfID := "006" + strings.Repeat("0", 11) + string(rune('A'+i/26)) + string(rune('A'+i%26)) + "AA"
		origin := "sf/" + sfID
		l := store.Link{OriginKey: origin, Pair: "opportunity-epic", SfObject: "Opportunity", SfID: sfID}
		intents = append(intents, l)
		l.JiraIssueID, l.JiraIssueKey = "1"+strings.Repeat("0", 3)+string(rune('0'+i/10))+string(rune('0'+i%10)), "SFJ-"+string(rune('0'+i/10))+string(rune('0'+i%10))
		mod := time.Now().Add(-time.Minute)
		items = append(items, store.BulkCommit{Link: l,
			State: store.PairState{OriginKey: origin, Pair: "opportunity-epic", MappingVersion: "v1", SfSnapshot: map[string]string{"summary": "Zoë " + sfID},
				JiraSnapshot: map[string]string{"summary": "Zoë " + sfID}, SfHash: "h", JiraHash: "h", SfModstamp: &mod, SyncedAt: time.Now(), WorkflowID: "bulk", RunID: "run-1"},
			Audit: []store.AuditEntry{{At: time.Now(), Actor: "it", WorkflowID: "bulk", RunID: "run-1", Pass: 1, OriginKey: origin, Pair: "opportunity-epic",
				Direction: "sf_to_jira", TargetSystem: "jira", TargetID: l.JiraIssueID, Action: "create", Field: "summary", After: ptr("Zoë " + sfID), MappingVersion: "v1"}}})
	}
	require.NoError(t, st.RecordCreateIntents(ctx, intents))
	dl := store.DeadLetter{OriginKey: items[3].Link.OriginKey, Pair: "opportunity-epic", WorkflowID: "sync/x", RunID: "r1", Code: "JIRA_UNAVAILABLE",
		Message: "down", Remediation: "retry", ReplayInput: json.RawMessage(`{}`)}
	require.NoError(t, st.AddDeadLetter(ctx, dl))
	require.NoError(t, st.CommitBulkFresh(ctx, items))
	require.NoError(t, st.CommitBulkFresh(ctx, items), "rows already there: the straight copy falls back to the conflict-checked path")
	require.NoError(t, st.CommitBulk(ctx, items), "a retried page commits again")
	c, err := st.Counts(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 50, c.Linked)
	require.EqualValues(t, 50, c.PairStates)
	require.Zero(t, c.OpenDeadLetters)
	var audits int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM audit`).Scan(&audits))
	require.Equal(t, 50, audits, "no duplicate audit rows")
	got, err := st.GetPairState(ctx, items[7].Link.OriginKey)
	require.NoError(t, err)
	require.Equal(t, "Zoë "+items[7].Link.SfID, got.SfSnapshot["summary"])
	require.NotNil(t, got.SfModstamp)
	l, err := st.GetLink(ctx, items[7].Link.OriginKey)
	require.NoError(t, err)
	require.Equal(t, "linked", l.State)
	require.Equal(t, items[7].Link.JiraIssueKey, l.JiraIssueKey)
	// A second record cannot claim an issue already linked.
	other := items[0]
	other.Link.OriginKey, other.Link.SfID, other.State.OriginKey = "sf/006999999999999AAA", "006999999999999AAA", "sf/006999999999999AAA"
	require.ErrorContains(t, st.CommitBulk(ctx, []store.BulkCommit{other}), "already linked")
}
