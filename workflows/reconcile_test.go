package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/workflows"
)

func TestReconcileReportsAndRetries(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.Reconcile)
	env.RegisterActivity(a)
	rep := &activities.ReconcileReport{Pair: "opportunity-epic", FullScan: true, ScannedSF: 100, ScannedJira: 100, Linked: 99,
		Found:    map[string]int{activities.DriftField: 2, activities.DriftMissingTarget: 1, activities.DriftOrphanLink: 0, activities.DriftUnlinkedDuplicate: 0},
		Repaired: map[string]int{activities.DriftField: 2}, HandedOff: 1,
		Examples: []activities.DriftExample{{Kind: activities.DriftMissingTarget, OriginKey: "sf/006x", SfID: "006x", Detail: "no Jira issue"}}}
	attempts := 0
	env.OnActivity(a.Reconcile, mock.Anything, activities.ReconcileInput{Pair: "opportunity-epic"}).Return(func(_ context.Context, _ activities.ReconcileInput) (*activities.ReconcileReport, error) {
		attempts++
		if attempts == 1 {
			return nil, temporal.NewApplicationError("Jira answered 503", string(catalog.JiraUnavailable))
		}
		return rep, nil
	})
	env.ExecuteWorkflow(workflows.Reconcile, workflows.ReconcileInput{Pair: "opportunity-epic"})
	require.NoError(t, env.GetWorkflowError())
	var got activities.ReconcileReport
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Equal(t, 2, attempts, "a failed scan is retried")
	require.Equal(t, 3, got.Total())
	v, err := env.QueryWorkflow(workflows.ReportQuery)
	require.NoError(t, err)
	var q activities.ReconcileReport
	require.NoError(t, v.Get(&q))
	require.Equal(t, 2, q.Repaired[activities.DriftField])
	md := workflows.ReportMarkdown(&got)
	require.Contains(t, md, "| field_drift | 2 | 2 |")
	require.Contains(t, md, "missing_target `sf/006x`")
	_ = time.Second
}

func TestReconcileNeedsPair(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.Reconcile)
	env.ExecuteWorkflow(workflows.Reconcile, workflows.ReconcileInput{})
	require.Error(t, env.GetWorkflowError())
}
