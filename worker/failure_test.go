package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/workflows"
)

// statusCount sums the answers with the given status over every endpoint of an emulator's stats.
func statusCount(stats any, status string) int {
	b, _ := json.Marshal(stats)
	var st struct {
		Endpoints map[string]map[string]int `json:"endpoints"`
	}
	_ = json.Unmarshal(b, &st)
	n := 0
	for _, byStatus := range st.Endpoints {
		n += byStatus[status]
	}
	return n
}

// TestRetriesAbsorbRateLimitsOutagesAndTokenExpiry runs a backfill while both emulators throttle
// (429 with Retry-After), fail (503), drop connections and expire tokens. Every record must sync
// once, with no dead letter: the per-step retry policies, Retry-After through NextRetryDelay with
// jitter, and the one re-authentication on 401 absorb it all. It also checks that the API
// activities ran on the Salesforce and Jira task queues, not on the workflow's.
func TestRetriesAbsorbRateLimitsOutagesAndTokenExpiry(t *testing.T) {
	s := newStack(t, 12)
	s.jiraEmu.SetFaults(jiraemu.Faults{Seed: 11, ExpireTokens: 1,
		Rules: []jiraemu.FaultRule{{Endpoint: "POST /rest/api/3/issue", ErrorRate: 0.3, Status: 503, RetryAfterS: 1},
			{Endpoint: "GET /rest/api/3/issue/{issueIdOrKey}/transitions", ErrorRate: 0.2, Status: 429, RetryAfterS: 1},
			{Endpoint: "GET /rest/api/3/issue/{issueIdOrKey}", ErrorRate: 0.1, Kind: "reset"}}})
	s.sfEmu.SetFaults(sfemu.Faults{Seed: 5, ExpireTokens: true,
		Rules: []sfemu.FaultRule{{Endpoint: "GET /services/data/{version}/query", ErrorRate: 0.2, Status: 503, RetryAfterS: 1},
			{Endpoint: "PATCH /services/data/{version}/sobjects/{object}/{id}", ErrorRate: 0.2, Status: 429, RetryAfterS: 1}}})

	run, res := s.backfillRun()
	require.Equal(t, 12, res.Total)
	require.Equal(t, 12, res.Created, "failures: %+v", res.Failures)
	require.Zero(t, res.Failed)
	dead, err := s.store.OpenDeadLetters(s.ctx)
	require.NoError(t, err)
	require.Empty(t, dead)

	// The faults really fired. (Then cleared: the checks below call the emulators too.)
	jst, sst := s.jiraEmu.Stats(), s.sfEmu.Stats()
	t.Logf("Jira: %d×429, %d×503, %d×401; Salesforce: %d×503, %d×429, %d×401", statusCount(jst, "429"), statusCount(jst, "503"),
		statusCount(jst, "401"), statusCount(sst, "503"), statusCount(sst, "429"), statusCount(sst, "401"))
	require.Positive(t, statusCount(jst, "429"), "Jira 429s")
	require.Positive(t, statusCount(jst, "503"), "Jira 503s")
	require.Positive(t, statusCount(sst, "503")+statusCount(sst, "429"), "Salesforce 503/429s")
	s.jiraEmu.SetFaults(jiraemu.Faults{})
	s.sfEmu.SetFaults(sfemu.Faults{})
	require.Positive(t, s.jira.Reauthentications(), "Jira 401s absorbed by re-authentication")

	// Exactly one Epic per Opportunity despite the failed and retried creates.
	counts, err := s.store.Counts(s.ctx)
	require.NoError(t, err)
	require.EqualValues(t, 12, counts.Linked)
	rep, err := s.acts.CheckPair(s.ctx, s.mapping.Pair)
	require.NoError(t, err)
	require.True(t, rep.OK(), "problems: %+v", rep.Problems)

	// Task queues: the backfill's listing ran on the Salesforce queue; a child's fetches on theirs.
	queues := activityQueues(t, s, run.GetID(), run.GetRunID())
	require.Equal(t, workflows.SalesforceTaskQueue(s.queue), queues["ListInScope"])
	ids, err := s.sf.Query(s.ctx, "SELECT Id FROM Opportunity LIMIT 1")
	require.NoError(t, err)
	child := activityQueues(t, s, workflows.SyncWorkflowID(workflows.SalesforceOriginKey(ids.Records[0].ID())), "")
	require.Equal(t, workflows.SalesforceTaskQueue(s.queue), child["FetchSalesforce"])
	require.Equal(t, workflows.JiraTaskQueue(s.queue), child["FetchJira"])
	require.Equal(t, workflows.JiraTaskQueue(s.queue), child["WriteJira"])
	require.Equal(t, workflows.SalesforceTaskQueue(s.queue), child["WriteSalesforce"])
}

// activityQueues maps each activity type a run scheduled to the task queue it was scheduled on.
func activityQueues(t *testing.T, s *stack, id, runID string) map[string]string {
	out := map[string]string{}
	iter := s.tc.GetWorkflowHistory(s.ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			out[a.GetActivityType().GetName()] = a.GetTaskQueue().GetName()
		}
	}
	require.NotEmpty(t, out, "no activities in %s", id)
	for k, v := range out {
		require.False(t, strings.TrimSpace(v) == "", k)
	}
	return out
}
