package main

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/worker/ingress"
	"github.com/sfjira/sfjira/workflows"
)

// backfillPair runs the per-record backfill of one pair of the loaded mappings to its end.
func (s *stack) backfillPair(pair, object string) workflows.BackfillResult {
	s.t.Helper()
	run, err := s.tc.ExecuteWorkflow(s.ctx, clientStart(workflows.BackfillWorkflowID(pair, uuid.NewString()), s.queue),
		workflows.Backfill, workflows.BackfillInput{Pair: pair, SfObject: object, JiraProject: "SFJ", Concurrency: 10})
	require.NoError(s.t, err)
	var res workflows.BackfillResult
	require.NoError(s.t, run.Get(s.ctx, &res))
	return res
}

func clientStart(id, queue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: id, TaskQueue: queue}
}

// syncPair runs one RecordSync of a Salesforce record of any pair and waits for it.
func (s *stack) syncPair(pair, object, sfID string) *workflows.RecordSyncResult {
	s.t.Helper()
	origin := workflows.SalesforceOriginKey(sfID)
	run, err := s.tc.SignalWithStartWorkflow(s.ctx, workflows.SyncWorkflowID(origin), workflows.SyncSignal,
		workflows.SyncRequest{Trigger: workflows.TriggerManual, Source: "operator"},
		client.StartWorkflowOptions{TaskQueue: s.queue, WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE},
		workflows.RecordSync, workflows.RecordSyncInput{OriginKey: origin, Pair: pair, SfObject: object, SfID: sfID, Trigger: workflows.TriggerManual, JiraProject: "SFJ"})
	require.NoError(s.t, err)
	var res workflows.RecordSyncResult
	require.NoError(s.t, run.Get(s.ctx, &res))
	return &res
}

func (s *stack) issue(t *testing.T, id string, fields ...string) *jira.Issue {
	t.Helper()
	is, err := s.jira.GetIssue(s.ctx, id, fields, nil)
	require.NoError(t, err)
	return is
}

func userAccount(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var u *struct{ AccountID string }
	require.NoError(t, json.Unmarshal(raw, &u))
	if u == nil {
		return ""
	}
	return u.AccountID
}

// The rest of the default pack on the dev server: Feature Requests become Stories under their
// Opportunity's Epic (lookup → parent), Cases become Bugs with the Account denormalised and the
// Contact as a Jira user or, without one, as text; a second run writes nothing, and a contact
// who joins Jira later replaces the text on the next sync.
func TestEndToEndDefaultPackCasesAndFeatureRequests(t *testing.T) {
	s := newStackWith(t, stackOptions{Opportunities: 6, MappingDir: "../mappings/default",
		More: sfemu.SeedOptions{Cases: 5, FeatureRequests: 4, Activities: 9}})
	ctx := s.ctx

	// One contact is already a Jira user (a customer portal account).
	var cases []salesforce.Record
	require.NoError(t, s.sf.QueryEach(ctx, "SELECT Id, CaseNumber, Subject, Status, Priority, Account.Name, Account.Industry, Account.Type, Contact.Email FROM Case ORDER BY CaseNumber", func(r salesforce.Record) error {
		cases = append(cases, r)
		return nil
	}))
	require.Len(t, cases, 5)
	portalEmail, _ := cases[0].Value("Contact.Email")
	require.NotEmpty(t, portalEmail)
	portalID := "712020:" + uuid.NewString()
	require.NoError(t, s.jiraEmu.AddUser(jiraemu.User{AccountID: portalID, DisplayName: "Portal user", Email: strings.ToUpper(portalEmail.(string)), Active: true}))

	opp := s.backfillPair("opportunity-epic", "Opportunity")
	require.Equal(t, 6, opp.Created, "failures: %+v", opp.Failures)

	// Feature Requests → Stories under the Epic of their Opportunity.
	fr := s.backfillPair("feature-request-story", "Feature_Request__c")
	require.Equal(t, 4, fr.Created, "failures: %+v", fr.Failures)
	var frs []salesforce.Record
	require.NoError(t, s.sf.QueryEach(ctx, "SELECT Id, Name, Status__c, Priority__c, Estimate_Days__c, Jira_Issue_Id__c, Opportunity__r.Jira_Issue_Id__c, Opportunity__r.Account.Name FROM Feature_Request__c", func(r salesforce.Record) error {
		frs = append(frs, r)
		return nil
	}))
	for _, r := range frs {
		issueID, _ := r.Value("Jira_Issue_Id__c")
		epicID, _ := r.Value("Opportunity__r.Jira_Issue_Id__c")
		require.NotEmpty(t, epicID)
		is := s.issue(t, issueID.(string), "summary", "issuetype", "parent", "priority", jiraemu.FieldCustomer, jiraemu.FieldEstimateDays, "status")
		var typ struct{ Name string }
		require.NoError(t, json.Unmarshal(is.Fields["issuetype"], &typ))
		require.Equal(t, "Story", typ.Name)
		var parent struct{ ID string }
		require.NoError(t, json.Unmarshal(is.Fields["parent"], &parent))
		require.Equal(t, epicID, parent.ID, "Story %s sits under the Opportunity's Epic", is.Key)
		name, _ := r.Value("Name")
		require.Equal(t, name, is.FieldString("summary"))
		account, _ := r.Value("Opportunity__r.Account.Name")
		require.Equal(t, account, is.FieldString(jiraemu.FieldCustomer))
		status, _ := r.Value("Status__c")
		prio, _ := r.Value("Priority__c")
		want := prio
		if status == "Declined" {
			want = "Lowest"
		}
		require.Equal(t, want, is.FieldString("priority"), "expr: if(Status__c = \"Declined\", …) on %s", is.Key)
		est, _ := r.Value("Estimate_Days__c")
		var gotEst float64
		require.NoError(t, json.Unmarshal(is.Fields[jiraemu.FieldEstimateDays], &gotEst))
		require.InDelta(t, est.(float64), gotEst, 0.05)
	}

	// Cases → Bugs.
	bugs := s.backfillPair("case-bug", "Case")
	require.Equal(t, 5, bugs.Created, "failures: %+v", bugs.Failures)
	caseTarget := map[string]string{"New": "To Do", "Working": "In Progress", "Escalated": "In Review", "Closed": "Done"}
	issueOf := map[string]string{}
	for i, c := range cases {
		var linked salesforce.Record
		require.NoError(t, s.sf.QueryEach(ctx, fmt.Sprintf("SELECT Id, Jira_Issue_Id__c, Jira_Status__c FROM Case WHERE Id = '%s'", c.ID()), func(r salesforce.Record) error {
			linked = r
			return nil
		}))
		issueID, _ := linked.Value("Jira_Issue_Id__c")
		require.NotEmpty(t, issueID, "back-link on Case %s", c.ID())
		issueOf[c.ID()] = issueID.(string)
		is := s.issue(t, issueID.(string), "summary", "issuetype", "priority", "status", jiraemu.FieldCustomer, jiraemu.FieldIndustry,
			jiraemu.FieldAccountType, jiraemu.FieldCustomerContact, jiraemu.FieldContactEmail)
		var typ struct{ Name string }
		require.NoError(t, json.Unmarshal(is.Fields["issuetype"], &typ))
		require.Equal(t, "Bug", typ.Name)
		num, _ := c.Value("CaseNumber")
		subj, _ := c.Value("Subject")
		require.Equal(t, fmt.Sprintf("Case %s: %s", num, subj), is.FieldString("summary"), "expr concat")
		for path, fid := range map[string]string{"Account.Name": jiraemu.FieldCustomer, "Account.Industry": jiraemu.FieldIndustry, "Account.Type": jiraemu.FieldAccountType} {
			v, _ := c.Value(path)
			require.Equal(t, v, is.FieldString(fid), "%s denormalised onto %s", path, is.Key)
		}
		st, _ := c.Value("Status")
		require.Equal(t, caseTarget[st.(string)], is.StatusName())
		jst, _ := linked.Value("Jira_Status__c")
		require.Equal(t, caseTarget[st.(string)], jst, "Jira status flows back to the Case")
		email, _ := c.Value("Contact.Email")
		switch {
		case i == 0:
			require.Equal(t, portalID, userAccount(t, is.Fields[jiraemu.FieldCustomerContact]), "contact with a Jira account → user")
			require.Empty(t, is.FieldString(jiraemu.FieldContactEmail))
		case email == nil:
			require.Empty(t, userAccount(t, is.Fields[jiraemu.FieldCustomerContact]))
			require.Empty(t, is.FieldString(jiraemu.FieldContactEmail))
		default:
			require.Empty(t, userAccount(t, is.Fields[jiraemu.FieldCustomerContact]), "no Jira user for %s", email)
			require.Equal(t, strings.ToLower(email.(string)), is.FieldString(jiraemu.FieldContactEmail), "fallback text field")
		}
	}

	s.checkActivities(t)

	// Nothing changed: a second run writes nothing, on either side.
	sfWrites, jiraWrites := writes(s.sfEmu.Stats()), writes(s.jiraEmu.Stats())
	againOpp := s.backfillPair("opportunity-epic", "Opportunity")
	require.Equal(t, 6, againOpp.Unchanged, "%+v", againOpp)
	again := s.backfillPair("case-bug", "Case")
	require.Equal(t, 5, again.Unchanged, "%+v", again)
	againFR := s.backfillPair("feature-request-story", "Feature_Request__c")
	require.Equal(t, 4, againFR.Unchanged, "%+v", againFR)
	require.Equal(t, sfWrites, writes(s.sfEmu.Stats()))
	require.Equal(t, jiraWrites, writes(s.jiraEmu.Stats()))

	// A contact who joins Jira later: the next sync sets the user and clears the text.
	var late salesforce.Record
	for _, c := range cases[1:] {
		if e, _ := c.Value("Contact.Email"); e != nil {
			late = c
			break
		}
	}
	lateEmail, _ := late.Value("Contact.Email")
	lateID := "712020:" + uuid.NewString()
	require.NoError(t, s.jiraEmu.AddUser(jiraemu.User{AccountID: lateID, DisplayName: "Late joiner", Email: lateEmail.(string), Active: true}))
	res := s.syncPair("case-bug", "Case", late.ID())
	require.Equal(t, workflows.OutcomeUpdated, res.Outcome)
	is := s.issue(t, issueOf[late.ID()], jiraemu.FieldCustomerContact, jiraemu.FieldContactEmail)
	require.Equal(t, lateID, userAccount(t, is.Fields[jiraemu.FieldCustomerContact]))
	require.Empty(t, is.FieldString(jiraemu.FieldContactEmail))
}

// activityWant is what one Salesforce activity should have become in Jira.
type activityWant struct {
	object, id, parent, subject, kind string
	seconds                           int
	started                           string
}

// checkActivities checks that every call and e-mail (Task) and every meeting (Event) logged on a
// synced record is a comment on its issue, or a worklog when the meeting has a duration; that
// editing a Task updates its comment in place; and that these comments never come back to
// Salesforce as Chatter posts.
func (s *stack) checkActivities(t *testing.T) {
	ctx := s.ctx
	var wants []activityWant
	require.NoError(t, s.sf.QueryEach(ctx, "SELECT Id, Subject, TaskSubtype, WhatId FROM Task", func(r salesforce.Record) error {
		subj, _ := r.Value("Subject")
		what, _ := r.Value("WhatId")
		wants = append(wants, activityWant{object: "Task", id: r.ID(), parent: what.(string), subject: subj.(string), kind: "comment"})
		return nil
	}))
	require.NoError(t, s.sf.QueryEach(ctx, "SELECT Id, Subject, WhatId, DurationInMinutes, StartDateTime FROM Event", func(r salesforce.Record) error {
		subj, _ := r.Value("Subject")
		what, _ := r.Value("WhatId")
		w := activityWant{object: "Event", id: r.ID(), parent: what.(string), subject: subj.(string), kind: "comment"}
		if mins, _ := r.Value("DurationInMinutes"); mins != nil {
			st, _ := r.Value("StartDateTime")
			w.kind, w.seconds, w.started = "worklog", int(mins.(float64))*60, st.(string)
		}
		wants = append(wants, w)
		return nil
	}))
	require.Len(t, wants, 9)
	kinds := map[string]int{}
	issueOf := func(sfID string) string {
		obj := "Opportunity"
		if strings.HasPrefix(sfID, "500") {
			obj = "Case"
		}
		var id string
		require.NoError(t, s.sf.QueryEach(ctx, fmt.Sprintf("SELECT Jira_Issue_Id__c FROM %s WHERE Id = '%s'", obj, sfID), func(r salesforce.Record) error {
			v, _ := r.Value("Jira_Issue_Id__c")
			id, _ = v.(string)
			return nil
		}))
		require.NotEmpty(t, id, "issue of %s", sfID)
		return id
	}
	findComment := func(issueID, marker string) (jira.Comment, int) {
		cs, err := s.jira.Comments(ctx, issueID)
		require.NoError(t, err)
		var hit jira.Comment
		n := 0
		for _, c := range cs {
			if strings.HasSuffix(strings.TrimSpace(adfText(c.Body)), marker) {
				hit = c
				n++
			}
		}
		return hit, n
	}
	for _, w := range wants {
		issueID := issueOf(w.parent)
		marker := fmt.Sprintf("(from Salesforce %s %s)", w.object, w.id)
		kinds[w.kind]++
		if w.kind == "comment" {
			c, n := findComment(issueID, marker)
			require.Equal(t, 1, n, "exactly one comment for %s %s on issue %s", w.object, w.id, issueID)
			require.Contains(t, adfText(c.Body), w.subject)
			continue
		}
		wls, err := s.jira.Worklogs(ctx, issueID)
		require.NoError(t, err)
		n := 0
		for _, wl := range wls {
			if strings.HasSuffix(strings.TrimSpace(adfText(wl.Comment)), marker) {
				n++
				require.Equal(t, w.seconds, wl.TimeSpentSeconds, "worklog of %s", w.id)
				require.Equal(t, w.started, wl.Started, "worklog start of %s", w.id)
				require.Contains(t, adfText(wl.Comment), "Meeting: "+w.subject)
			}
		}
		require.Equal(t, 1, n, "exactly one worklog for Event %s", w.id)
	}
	require.Equal(t, map[string]int{"comment": 7, "worklog": 2}, kinds, "the seed has calls, e-mails, meetings with and without a duration")

	// Editing a call in Salesforce updates its comment in place on the next sync of the record.
	var call activityWant
	for _, w := range wants {
		if w.object == "Task" && !strings.HasPrefix(w.parent, "500") {
			call = w
			break
		}
	}
	require.NoError(t, s.sf.Update(ctx, "Task", call.id, map[string]any{"Subject": "Call: pricing agreed ✅"}))
	s.syncPair("opportunity-epic", "Opportunity", call.parent)
	issueID := issueOf(call.parent)
	c, n := findComment(issueID, fmt.Sprintf("(from Salesforce Task %s)", call.id))
	require.Equal(t, 1, n)
	require.Contains(t, adfText(c.Body), "Call: pricing agreed ✅")

	// A change from Jira mirrors Jira comments to Chatter, but not the ones written from activities.
	origin := workflows.SalesforceOriginKey(call.parent)
	run, err := s.tc.SignalWithStartWorkflow(ctx, workflows.SyncWorkflowID(origin), workflows.SyncSignal,
		workflows.SyncRequest{Trigger: "jira_webhook", Source: "jira"},
		client.StartWorkflowOptions{TaskQueue: s.queue, WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE},
		workflows.RecordSync, workflows.RecordSyncInput{OriginKey: origin, Pair: "opportunity-epic", SfObject: "Opportunity", SfID: call.parent, Trigger: "jira_webhook", JiraProject: "SFJ"})
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, nil))
	posts := 0
	require.NoError(t, s.sf.QueryEach(ctx, fmt.Sprintf("SELECT Id FROM FeedItem WHERE ParentId = '%s'", call.parent), func(salesforce.Record) error {
		posts++
		return nil
	}))
	require.Zero(t, posts, "activity comments are not echoed back as Chatter posts")

	// Real time: an Outbound Message on Task reaches the worker, which syncs the Task's record;
	// the new call is a comment on the Epic within seconds.
	in := &ingress.Ingress{Acts: s.acts, JiraSecret: webhookSecret, Log: zap.NewNop()}
	srv := httptest.NewServer(NewHTTPHandler(s.tc, s.acts, in))
	t.Cleanup(srv.Close)
	_, err = s.sfEmu.AddOutbound(sfemu.OutboundConfig{Object: "Task", URL: srv.URL + "/webhooks/salesforce", Fields: []string{"Id", "WhatId"}})
	require.NoError(t, err)
	newTask, err := s.sf.Create(ctx, "Task", map[string]any{"Subject": "Call: security review booked", "TaskSubtype": "Call",
		"Status": "Completed", "WhatId": call.parent, "Description": "Customer's CISO joins."})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, n := findComment(issueID, fmt.Sprintf("(from Salesforce Task %s)", newTask))
		return n == 1
	}, 30*time.Second, 200*time.Millisecond, "the new call reaches the Epic through the Outbound Message")
}

func adfText(raw json.RawMessage) string { return mappings.ADFToText(raw) }
