package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRollbackScopeFlags(t *testing.T) {
	sc, err := rollbackScope("sync/sf/006A", "", "", "", "")
	require.NoError(t, err)
	require.Equal(t, "sync/sf/006A", sc.WorkflowID)

	sc, err = rollbackScope("", "sf/006000000000001AAA", "2026-11-26 02:30", "", "")
	require.NoError(t, err)
	require.Equal(t, "sf/006000000000001AAA", sc.OriginKey)
	require.Equal(t, time.Date(2026, 11, 26, 2, 30, 0, 0, time.UTC), sc.Since)

	sc, err = rollbackScope("", "", "", "2026-11-26T02:00:00Z", "2026-11-26T03:30:00+01:00")
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 11, 26, 2, 30, 0, 0, time.UTC), sc.Until)

	for _, c := range []struct{ wf, rec, to, since, until, want string }{
		{"", "", "", "", "", "exactly one of"},
		{"sync/sf/1", "sf/1", "2026-11-26", "", "", "exactly one of"},
		{"", "sf/1", "", "", "", "needs --to"},
		{"", "006A", "2026-11-26", "", "", "origin key"},
		{"", "", "2026-11-26", "", "", "--to goes with --record"},
		{"", "", "", "", "2026-11-26", "--until needs --since"},
		{"", "", "", "yesterday", "", "is not a time"},
		{"", "", "", "2026-11-26T03:00:00Z", "2026-11-26T02:00:00Z", "is not after"},
	} {
		_, err := rollbackScope(c.wf, c.rec, c.to, c.since, c.until)
		require.ErrorContains(t, err, c.want, "%+v", c)
		var ue usageError
		require.ErrorAs(t, err, &ue)
	}
}

func TestRollbackUsageExitCode(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 2, executeTo([]string{"rollback", "--record", "sf/006A"}, &out, &errb))
	require.Contains(t, errb.String(), "--record needs --to")
}
