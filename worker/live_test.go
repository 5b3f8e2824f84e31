package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/activities"
	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/worker/ingress"
	"github.com/sfjira/sfjira/workflows"
)

const webhookSecret = "it-webhook-secret"

// goLive turns on real-time change capture the way a deployment does: the worker's HTTP receivers
// behind a real HTTP server, Salesforce Outbound Messages and a Jira admin webhook pointed at
// them, and both pollers running as workflows.
func (s *stack) goLive(t *testing.T, sfPoll, jiraPoll int) string {
	t.Helper()
	in := &ingress.Ingress{Acts: s.acts, JiraSecret: webhookSecret, Log: zap.NewNop()}
	srv := httptest.NewServer(NewHTTPHandler(s.tc, s.acts, in))
	t.Cleanup(srv.Close)
	s.goLiveAt(t, srv.URL, sfPoll, jiraPoll)
	return srv.URL
}

// goLiveAt points Salesforce Outbound Messages and a Jira webhook at the worker HTTP server at
// base (which checks webhookSecret) and starts the pollers whose interval is > 0.
func (s *stack) goLiveAt(t *testing.T, base string, sfPoll, jiraPoll int) {
	t.Helper()
	_, err := s.sfEmu.AddOutbound(sfemu.OutboundConfig{Object: "Opportunity", URL: base + "/webhooks/salesforce",
		Fields: []string{"Id", "Jira_Issue_Id__c", "SystemModstamp"}})
	require.NoError(t, err)
	_, err = s.jira.RegisterWebhook(s.ctx, jira.Webhook{Name: "sfjira", URL: base + "/webhooks/jira", Secret: webhookSecret, Enabled: true,
		Events: []string{"jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created", "comment_updated"}, JQL: `project in ("SFJ")`})
	require.NoError(t, err)
	for _, p := range []workflows.PollerInput{
		{Pair: s.mapping.Pair, Source: activities.SourceSalesforce, IntervalSeconds: sfPoll},
		{Pair: s.mapping.Pair, Source: activities.SourceJira, IntervalSeconds: jiraPoll},
	} {
		if p.IntervalSeconds > 0 {
			_, err := workflows.StartPoller(s.ctx, s.tc, s.queue, p)
			require.NoError(t, err)
		}
	}
}

// quiesce waits until no RecordSync is running for a few consecutive checks.
func (s *stack) quiesce(t *testing.T, settle time.Duration, max time.Duration) {
	t.Helper()
	deadline := time.Now().Add(max)
	quiet := 0
	lastLog := time.Now()
	for time.Now().Before(deadline) {
		resp, err := s.tc.CountWorkflow(s.ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: `WorkflowType = "RecordSync" AND ExecutionStatus = "Running"`})
		require.NoError(t, err)
		if time.Since(lastLog) > 15*time.Second {
			t.Logf("waiting for quiescence: %d syncs running", resp.Count)
			lastLog = time.Now()
		}
		if resp.Count == 0 {
			quiet++
			if time.Duration(quiet)*500*time.Millisecond >= settle {
				return
			}
		} else {
			quiet = 0
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("no quiescence within %s", max)
}

func (s *stack) sfField(t *testing.T, id, field string) any {
	rec, err := s.sf.Get(s.ctx, "Opportunity", id, field)
	require.NoError(t, err)
	return rec[field]
}

func TestLiveChangeCaptureBothWays(t *testing.T) {
	s := newStackWith(t, stackOptions{Opportunities: 5, MappingDir: "testdata/live"})
	ctx := s.ctx
	res := s.backfill()
	require.Equal(t, 5, res.Created, "%+v", res)
	base := s.goLive(t, 1, 2)
	var recs []string
	require.NoError(t, s.sf.QueryEach(ctx, "SELECT Id FROM Opportunity WHERE Amount != null ORDER BY Id", func(r salesforce.Record) error {
		recs = append(recs, r.ID())
		return nil
	}))
	opp := recs[0]
	link, err := s.store.LinkBySalesforceID(ctx, s.mapping.Pair, opp)
	require.NoError(t, err)
	key := link.JiraIssueKey

	// Salesforce → Jira through the Outbound Message.
	require.NoError(t, s.sf.Update(ctx, "Opportunity", opp, map[string]any{"Name": "Ærø Ferries – renewal 2027"}))
	require.Eventually(t, func() bool {
		is, err := s.jira.GetIssue(ctx, key, []string{"summary"}, nil)
		return err == nil && is.FieldString("summary") == "Ærø Ferries – renewal 2027"
	}, 20*time.Second, 100*time.Millisecond, "Name → summary")

	// Jira → Salesforce through the webhook: summary, and a transition reported back.
	require.NoError(t, s.jira.EditIssue(ctx, key, map[string]any{"summary": "Renamed in Jira ✓"}))
	require.Eventually(t, func() bool { return s.sfField(t, opp, "Name") == "Renamed in Jira ✓" }, 20*time.Second, 100*time.Millisecond, "summary → Name")
	ts, err := s.jira.Transitions(ctx, key)
	require.NoError(t, err)
	var next string
	for _, tr := range ts {
		if tr.To.Name != "To Do" {
			next = tr.To.Name
			require.NoError(t, s.jira.DoTransition(ctx, key, tr.ID, nil))
			break
		}
	}
	require.NotEmpty(t, next)
	require.Eventually(t, func() bool { return s.sfField(t, opp, "Jira_Status__c") == next }, 20*time.Second, 100*time.Millisecond, "status → Jira_Status__c")

	// A Jira comment becomes a Chatter post on the Opportunity, once.
	_, err = s.jira.AddComment(ctx, key, map[string]any{"type": "doc", "version": 1, "content": []any{
		map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": "Customer asked for a pilot in März."}}}}})
	require.NoError(t, err)
	feed := func() int {
		q, err := s.sf.Query(ctx, fmt.Sprintf("SELECT Id, Body FROM FeedItem WHERE ParentId = '%s'", opp))
		require.NoError(t, err)
		return len(q.Records)
	}
	require.Eventually(t, func() bool { return feed() == 1 }, 20*time.Second, 100*time.Millisecond, "comment → Chatter")

	// A forged delivery is refused and starts nothing.
	body := []byte(`{"webhookEvent":"jira:issue_updated","issue":{"id":"1","key":"SFJ-1","fields":{"project":{"key":"SFJ"}}}}`)
	for _, sig := range []string{"", "sha256=00"} {
		req, _ := http.NewRequest("POST", base+"/webhooks/jira", bytes.NewReader(body))
		if sig != "" {
			req.Header.Set("X-Hub-Signature", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	_, err = s.store.LinkByJiraID(ctx, "1")
	require.ErrorIs(t, err, store.ErrNotFound)

	// Lost webhooks: the Jira poller catches the change anyway.
	require.NoError(t, s.jiraEmuSetDrop(1))
	require.NoError(t, s.jira.EditIssue(ctx, key, map[string]any{"duedate": "2031-05-17"}))
	require.Eventually(t, func() bool { return s.sfField(t, opp, "CloseDate") == "2031-05-17" }, 30*time.Second, 200*time.Millisecond, "poller fallback")
	require.NoError(t, s.jiraEmuSetDrop(0))

	// Manual conflict: both sides change the Description before either is synced.
	require.NoError(t, s.jiraEmuSetDrop(1))
	s.sfEmu.SetFaults(sfemu.Faults{OutboundDropRate: 1})
	pollers := []string{workflows.PollerWorkflowID(activities.SourceSalesforce, s.mapping.Pair), workflows.PollerWorkflowID(activities.SourceJira, s.mapping.Pair)}
	for _, id := range pollers {
		require.NoError(t, s.tc.TerminateWorkflow(ctx, id, "", "test: hold change capture"))
	}
	if dir := os.Getenv("SFJIRA_RECORD_HISTORY"); dir != "" {
		saveHistory(t, s, pollers[0], "", filepath.Join(dir, "change_poller.json"))
	}
	// Let anything already handed over finish before the two edits.
	s.quiesce(t, 2*time.Second, time.Minute)
	require.NoError(t, s.sf.Update(ctx, "Opportunity", opp, map[string]any{"Description": "Salesforce says: three seats"}))
	require.NoError(t, s.jira.EditIssue(ctx, key, map[string]any{"description": adf("Jira says: five seats")}))
	_, out, err := s.sync(opp)
	require.NoError(t, err)
	require.Equal(t, []string{"Description"}, out.Conflicts)
	open, err := s.store.OpenConflicts(ctx, "sf/"+opp)
	require.NoError(t, err)
	require.Len(t, open, 1)
	require.Equal(t, "Salesforce says: three seats", *open[0].SfValue)
	require.Equal(t, "Jira says: five seats", *open[0].JiraValue)
	// Neither side was overwritten, and a later sync keeps it that way.
	_, _, err = s.sync(opp)
	require.NoError(t, err)
	require.Equal(t, "Salesforce says: three seats", s.sfField(t, opp, "Description"))
	// The operator sees it with `sfjira conflicts list` and decides with `sfjira conflicts resolve`,
	// which syncs the pair at once and writes the chosen value to the other side.
	stdout, stderr, code := s.cli("conflicts", "list", "--json")
	require.Equal(t, 0, code, stderr)
	var listed []store.Conflict
	require.NoError(t, json.Unmarshal([]byte(stdout), &listed), stdout)
	require.Len(t, listed, 1)
	require.Equal(t, open[0].ID, listed[0].ID)
	require.Equal(t, "Jira says: five seats", *listed[0].JiraValue)
	stdout, _, _ = s.cli("conflicts", "list")
	require.Contains(t, stdout, fmt.Sprintf("#%d  sf/%s", open[0].ID, opp))
	_, stderr, code = s.cli("conflicts", "resolve", fmt.Sprint(open[0].ID), "--take", "both")
	require.Equal(t, 2, code, "a bad --take is a usage error")
	require.Contains(t, stderr, "--take must be sf or jira")
	stdout, stderr, code = s.cli("conflicts", "resolve", fmt.Sprint(open[0].ID), "--take", "jira")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "taking the jira value")
	require.Equal(t, "Jira says: five seats", s.sfField(t, opp, "Description"))
	_, stderr, code = s.cli("conflicts", "resolve", fmt.Sprint(open[0].ID), "--take", "sf")
	require.Equal(t, 1, code, "an applied decision cannot be taken again")
	require.Contains(t, stderr, "already applied")
	open, err = s.store.OpenConflicts(ctx, "sf/"+opp)
	require.NoError(t, err)
	require.Empty(t, open)

	// An Epic created in Jira creates its Opportunity (upsert on the Jira id), exactly once.
	require.NoError(t, s.jiraEmuSetDrop(0))
	s.sfEmu.SetFaults(sfemu.Faults{})
	created, err := s.jira.CreateIssue(ctx, jira.IssueInput{Fields: map[string]any{"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Epic"},
		"summary": "Born in Jira", "duedate": "2028-02-29"}})
	require.NoError(t, err)
	var sfID string
	require.Eventually(t, func() bool {
		q, err := s.sf.Query(ctx, fmt.Sprintf("SELECT Id, Name, CloseDate, StageName, Jira_Issue_Key__c FROM Opportunity WHERE Jira_Issue_Id__c = '%s'", created.ID))
		if err != nil || len(q.Records) != 1 {
			return false
		}
		r := q.Records[0]
		sfID = r.ID()
		return r["Name"] == "Born in Jira" && r["CloseDate"] == "2028-02-29" && r["StageName"] != nil && r["Jira_Issue_Key__c"] == created.Key
	}, 20*time.Second, 100*time.Millisecond, "Jira-created Epic → Opportunity")
	require.Eventually(t, func() bool {
		l, err := s.store.LinkBySalesforceID(ctx, s.mapping.Pair, sfID)
		return err == nil && l.OriginKey == "jira/"+created.ID
	}, 10*time.Second, 50*time.Millisecond, "the Opportunity's own change events resolve to the Jira-origin pair")

	// Deleting the Opportunity marks its Epic (on_delete: mark) and keeps it. (Deletes reach
	// the poller through getDeleted, whose window must exceed a minute; the convergence test
	// waits for that, here the sync is asked for directly.)
	require.NoError(t, s.sf.Delete(ctx, "Opportunity", recs[1]))
	l2, err := s.store.LinkBySalesforceID(ctx, s.mapping.Pair, recs[1])
	require.NoError(t, err)
	_, out, err = s.sync(recs[1])
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeDeleted, out.Outcome)
	require.Eventually(t, func() bool {
		is, err := s.jira.GetIssue(ctx, l2.JiraIssueID, []string{"labels"}, nil)
		if err != nil {
			return false
		}
		var labels []string
		_ = json.Unmarshal(is.Fields["labels"], &labels)
		return len(labels) == 1 && labels[0] == activities.DeletedLabel
	}, 20*time.Second, 100*time.Millisecond, "deleted Opportunity → labelled Epic")

	s.quiesce(t, 2*time.Second, 60*time.Second)
	rep, err := s.acts.CheckPair(ctx, s.mapping.Pair)
	require.NoError(t, err)
	require.True(t, rep.OK(), "problems: %+v", rep.Problems)
}

func adf(text string) map[string]any {
	return map[string]any{"type": "doc", "version": 1, "content": []any{
		map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": text}}}}}
}

func (s *stack) jiraEmuSetDrop(rate float64) error {
	s.jiraEmu.SetFaults(jiraemu.Faults{WebhookDropRate: rate})
	return nil
}
