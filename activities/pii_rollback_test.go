package activities_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/store"
)

// A rollback cannot write a hash back: writes of PII fields audited as hashes (before or after)
// are listed as not restorable, next to the ordinary fields it restores.
func TestRollbackListsPIIHashesAsNotRestorable(t *testing.T) {
	f := newFixture(t)
	at := time.Now().UTC()
	hash := activities.PIIHashPrefix + "k1:" + "ab12"
	str := func(s string) *string { return &s }
	rows := []store.AuditEntry{
		{At: at, Actor: "t", WorkflowID: "sync/sf/500X", RunID: "r1", Pass: 1, OriginKey: "sf/500X", Pair: "case-bug", Direction: "sf_to_jira",
			TargetSystem: "jira", TargetID: "10001", Action: "update", Field: "customfield_10056", Before: str(hash), After: str(hash + "cd"), MappingVersion: "v"},
		{At: at, Actor: "t", WorkflowID: "sync/sf/500X", RunID: "r1", Pass: 1, OriginKey: "sf/500X", Pair: "case-bug", Direction: "sf_to_jira",
			TargetSystem: "jira", TargetID: "10001", Action: "update", Field: "customfield_10099", After: str(hash), MappingVersion: "v"},
		{At: at, Actor: "t", WorkflowID: "sync/sf/500X", RunID: "r1", Pass: 1, OriginKey: "sf/500X", Pair: "case-bug", Direction: "sf_to_jira",
			TargetSystem: "jira", TargetID: "10001", Action: "update", Field: "summary", Before: str("Old"), After: str("New"), MappingVersion: "v"},
	}
	require.NoError(t, f.acts.Store.AppendAudit(f.ctx, rows))
	plan, err := f.acts.PlanRollback(f.ctx, activities.RollbackScope{WorkflowID: "sync/sf/500X"})
	require.NoError(t, err)
	require.Len(t, plan.Targets, 1)
	require.Len(t, plan.Targets[0].Changes, 1)
	assert.Equal(t, "summary", plan.Targets[0].Changes[0].Field)
	require.Len(t, plan.NotRestorable, 2)
	for _, n := range plan.NotRestorable {
		assert.Contains(t, n, "PII field audited as a hash, restore it by hand")
	}
}
