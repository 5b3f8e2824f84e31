package main

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/activities"
	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/worker/ingress"
	"github.com/sfjira/sfjira/workflows"
)

// On the dev server with the default pack: a person moves a Story under another Epic in Jira,
// and the Jira webhook → RecordSync → merge → write → verify → audit path moves the Feature
// Request to the Opportunity linked to the new Epic; with webhooks lost, the JQL poller carries
// the move back. Moving it under an Epic no Opportunity is
// linked to fails that pair's sync with MAPPING_LOOKUP_UNLINKED, kept as a dead letter whose
// message names the Story, the Epic and the fix, and leaves Salesforce as it was.
func TestLiveStoryReparentReachesSalesforce(t *testing.T) {
	s := newStackWith(t, stackOptions{Opportunities: 3, MappingDir: "../mappings/default",
		More: sfemu.SeedOptions{FeatureRequests: 2}})
	ctx := s.ctx
	opp := s.backfillPair("opportunity-epic", "Opportunity")
	require.Equal(t, 3, opp.Created, "failures: %+v", opp.Failures)
	fr := s.backfillPair("feature-request-story", "Feature_Request__c")
	require.Equal(t, 2, fr.Created, "failures: %+v", fr.Failures)

	// Jira change capture: the admin webhook pointed at the worker's receiver.
	in := &ingress.Ingress{Acts: s.acts, JiraSecret: webhookSecret, Log: zap.NewNop()}
	srv := httptest.NewServer(NewHTTPHandler(s.tc, s.acts, in))
	t.Cleanup(srv.Close)
	_, err := s.jira.RegisterWebhook(ctx, jira.Webhook{Name: "sfjira", URL: srv.URL + "/webhooks/jira", Secret: webhookSecret, Enabled: true,
		Events: []string{"jira:issue_created", "jira:issue_updated", "jira:issue_deleted"}, JQL: `project in ("SFJ")`})
	require.NoError(t, err)

	// Salesforce change capture for the pair: the poller, as `sfjira setup` starts it.
	_, err = workflows.StartPoller(ctx, s.tc, s.queue, workflows.PollerInput{Pair: "feature-request-story", Source: activities.SourceSalesforce, IntervalSeconds: 1})
	require.NoError(t, err)
	s.waitFirstPoll(t, activities.SourceSalesforce+":feature-request-story")

	var req salesforce.Record
	require.NoError(t, s.sf.QueryEach(ctx, "SELECT Id, Opportunity__c, Jira_Issue_Id__c, Jira_Issue_Key__c FROM Feature_Request__c ORDER BY Id LIMIT 1", func(r salesforce.Record) error {
		req = r
		return nil
	}))
	frID := req.ID()
	from, _ := req.Value("Opportunity__c")
	storyKey, _ := req.Value("Jira_Issue_Key__c")
	require.NotEmpty(t, storyKey)
	// Another Opportunity, with its Epic.
	var to, epicKey string
	require.NoError(t, s.sf.QueryEach(ctx, fmt.Sprintf("SELECT Id, Jira_Issue_Key__c FROM Opportunity WHERE Id != '%s' ORDER BY Id LIMIT 1", from), func(r salesforce.Record) error {
		to = r.ID()
		k, _ := r.Value("Jira_Issue_Key__c")
		epicKey, _ = k.(string)
		return nil
	}))
	require.NotEmpty(t, epicKey)
	lookup := func() any {
		rec, err := s.sf.Get(ctx, "Feature_Request__c", frID, "Opportunity__c")
		require.NoError(t, err)
		return rec["Opportunity__c"]
	}

	require.NoError(t, s.jira.EditIssue(ctx, storyKey.(string), map[string]any{"parent": map[string]any{"key": epicKey}}))
	require.Eventually(t, func() bool { return lookup() == to }, 30*time.Second, 100*time.Millisecond,
		"Story %s moved under %s: Feature Request %s follows to Opportunity %s", storyKey, epicKey, frID, to)
	s.quiesce(t, 2*time.Second, time.Minute)
	audit, err := s.store.AuditFor(ctx, "sf/"+frID)
	require.NoError(t, err)
	var audited bool
	for _, a := range audit {
		if a.TargetSystem == "salesforce" && a.Field == "Opportunity__c" && a.Before != nil && *a.Before == from && a.After != nil && *a.After == to {
			audited = a.DecidedBy == "jira_changed"
		}
	}
	require.True(t, audited, "audit row Opportunity__c %s → %s decided by jira_changed", from, to)
	// The Feature Request's own change, caught by the Salesforce poller, then gives the Story
	// its new Opportunity's customer (Opportunity__r.Account.Name).
	var customer any
	require.NoError(t, s.sf.QueryEach(ctx, fmt.Sprintf("SELECT Account.Name FROM Opportunity WHERE Id = '%s'", to), func(r salesforce.Record) error {
		customer, _ = r.Value("Account.Name")
		return nil
	}))
	require.NotEmpty(t, customer)
	require.Eventually(t, func() bool {
		return s.issue(t, storyKey.(string), jiraemu.FieldCustomer).FieldString(jiraemu.FieldCustomer) == customer
	}, 30*time.Second, 200*time.Millisecond, "the Story shows the customer of Opportunity %s", to)
	s.quiesce(t, 2*time.Second, time.Minute)

	// Webhooks lost: the JQL poller carries the next move (back under the first Epic).
	var fromEpic string
	require.NoError(t, s.sf.QueryEach(ctx, fmt.Sprintf("SELECT Jira_Issue_Key__c FROM Opportunity WHERE Id = '%s'", from), func(r salesforce.Record) error {
		k, _ := r.Value("Jira_Issue_Key__c")
		fromEpic, _ = k.(string)
		return nil
	}))
	require.NotEmpty(t, fromEpic)
	s.jiraEmu.SetFaults(jiraemu.Faults{WebhookDropRate: 1})
	_, err = workflows.StartPoller(ctx, s.tc, s.queue, workflows.PollerInput{Pair: "feature-request-story", Source: activities.SourceJira, IntervalSeconds: 1})
	require.NoError(t, err)
	s.waitFirstPoll(t, activities.SourceJira+":feature-request-story")
	require.NoError(t, s.jira.EditIssue(ctx, storyKey.(string), map[string]any{"parent": map[string]any{"key": fromEpic}}))
	require.Eventually(t, func() bool { return lookup() == from }, 30*time.Second, 200*time.Millisecond,
		"Story %s moved back under %s: the poller brings Feature Request %s back to Opportunity %s", storyKey, fromEpic, frID, from)
	s.quiesce(t, 2*time.Second, time.Minute)
	s.jiraEmu.SetFaults(jiraemu.Faults{})

	// An Epic made in Jira only: the sync stops with a catalog error instead of dropping the move.
	lone, err := s.jira.CreateIssue(ctx, jira.IssueInput{Fields: map[string]any{"project": map[string]any{"key": "SFJ"},
		"issuetype": map[string]any{"name": "Epic"}, "summary": "Jira-only Epic"}})
	require.NoError(t, err)
	require.NoError(t, s.jira.EditIssue(ctx, storyKey.(string), map[string]any{"parent": map[string]any{"key": lone.Key}}))
	var msg string
	require.Eventually(t, func() bool {
		dls, err := s.store.OpenDeadLetters(ctx)
		require.NoError(t, err)
		for _, d := range dls {
			if d.OriginKey == "sf/"+frID && d.Code == "MAPPING_LOOKUP_UNLINKED" {
				msg = d.Message
				return true
			}
		}
		return false
	}, 30*time.Second, 200*time.Millisecond, "dead letter MAPPING_LOOKUP_UNLINKED for %s", frID)
	for _, want := range []string{"Jira issue " + storyKey.(string) + " now has parent " + lone.Key, "not linked to a Salesforce record", "Opportunity__c cannot follow it", "fix: "} {
		require.True(t, strings.Contains(msg, want), "dead letter message %q lacks %q", msg, want)
	}
	require.Equal(t, from, lookup(), "nothing written to Salesforce")
}

// waitFirstPoll waits for a poller's first run, which only sets its watermark (what exists is
// the backfill's job), so a change made afterwards is one it hands over.
func (s *stack) waitFirstPoll(t *testing.T, source string) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := s.store.GetWatermark(s.ctx, source)
		return err == nil
	}, 30*time.Second, 200*time.Millisecond, "first run of poller %s", source)
}
