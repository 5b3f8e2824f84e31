package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/workflows"
)

// TestMaintenancePauseHoldsAndResumeLosesNothing pauses the connector, makes changes on both
// sides that arrive through the real Outbound Message and webhook paths, checks that they are
// accepted but nothing is written and no poll runs, then resumes and checks every change lands.
func TestMaintenancePauseHoldsAndResumeLosesNothing(t *testing.T) {
	s := newStackWith(t, stackOptions{Opportunities: 3, MappingDir: "testdata/live"})
	ctx := s.ctx
	res := s.backfill()
	require.Equal(t, 3, res.Created, "%+v", res)
	var recs []string
	require.NoError(t, s.sf.QueryEach(ctx, "SELECT Id FROM Opportunity ORDER BY Id", func(r salesforce.Record) error {
		recs = append(recs, r.ID())
		return nil
	}))
	linkA, err := s.store.LinkBySalesforceID(ctx, s.mapping.Pair, recs[0])
	require.NoError(t, err)
	linkB, err := s.store.LinkBySalesforceID(ctx, s.mapping.Pair, recs[1])
	require.NoError(t, err)

	m, err := s.store.SetMaintenance(ctx, true, "it: database upgrade", "it", 1)
	require.NoError(t, err)
	require.True(t, m.Paused)
	s.goLive(t, 1, 1) // pollers start during the window

	require.NoError(t, s.sf.Update(ctx, "Opportunity", recs[0], map[string]any{"Name": "Changed in Salesforce during maintenance"}))
	require.NoError(t, s.jira.EditIssue(ctx, linkB.JiraIssueKey, map[string]any{"summary": "Changed in Jira during maintenance"}))

	// Both deliveries were accepted and signalled: each pair has an open run, held before its pass.
	held := func(origin string) bool {
		v, err := s.tc.QueryWorkflow(ctx, workflows.SyncWorkflowID(origin), "", "stage")
		if err != nil {
			return false
		}
		var stage string
		return v.Get(&stage) == nil && stage == "held"
	}
	require.Eventually(t, func() bool { return held(linkA.OriginKey) && held(linkB.OriginKey) }, 20*time.Second, 200*time.Millisecond,
		"both pairs' runs are open and held")
	time.Sleep(3 * time.Second) // several recheck periods
	require.True(t, held(linkA.OriginKey) && held(linkB.OriginKey))
	is, err := s.jira.GetIssue(ctx, linkA.JiraIssueKey, []string{"summary"}, nil)
	require.NoError(t, err)
	require.NotEqual(t, "Changed in Salesforce during maintenance", is.FieldString("summary"), "nothing is written while paused")
	require.NotEqual(t, "Changed in Jira during maintenance", s.sfField(t, recs[1], "Name"))
	polls, err := s.store.PollerStates(ctx)
	require.NoError(t, err)
	require.Empty(t, polls, "no poll runs while paused")
	// The poller shows that it is held in its current details (the UI's "Current details").
	md, err := s.tc.QueryWorkflow(ctx, workflows.PollerWorkflowID("jira", s.mapping.Pair), "", "__temporal_workflow_metadata")
	require.NoError(t, err)
	var meta sdkpb.WorkflowMetadata
	require.NoError(t, md.Get(&meta))
	require.Contains(t, meta.GetCurrentDetails(), "paused for maintenance")
	require.Contains(t, meta.GetCurrentDetails(), "it: database upgrade")

	_, err = s.store.SetMaintenance(ctx, false, "", "it", 0)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		is, err := s.jira.GetIssue(ctx, linkA.JiraIssueKey, []string{"summary"}, nil)
		return err == nil && is.FieldString("summary") == "Changed in Salesforce during maintenance"
	}, 30*time.Second, 200*time.Millisecond, "the Salesforce change lands after resume")
	require.Eventually(t, func() bool { return s.sfField(t, recs[1], "Name") == "Changed in Jira during maintenance" },
		30*time.Second, 200*time.Millisecond, "the Jira change lands after resume")
	require.Eventually(t, func() bool {
		polls, err := s.store.PollerStates(ctx)
		seen := map[string]bool{}
		for _, p := range polls {
			seen[p.Source] = true
		}
		return err == nil && seen["salesforce:"+s.mapping.Pair] && seen["jira:"+s.mapping.Pair]
	}, 20*time.Second, 200*time.Millisecond, "both pollers poll after resume")
	for _, src := range []string{"salesforce", "jira"} {
		md, err := s.tc.QueryWorkflow(ctx, workflows.PollerWorkflowID(src, s.mapping.Pair), "", "__temporal_workflow_metadata")
		require.NoError(t, err)
		var meta sdkpb.WorkflowMetadata
		require.NoError(t, md.Get(&meta))
		require.NotContains(t, meta.GetCurrentDetails(), "held", "poller %s", src)
	}
	s.quiesce(t, 2*time.Second, 60*time.Second)
	resp, err := s.tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: `WorkflowType = "RecordSync" AND ExecutionStatus = "Failed"`})
	require.NoError(t, err)
	require.Zero(t, resp.Count)
	rep, err := s.acts.CheckPair(ctx, s.mapping.Pair)
	require.NoError(t, err)
	require.True(t, rep.OK(), "problems: %+v", rep.Problems)
}
