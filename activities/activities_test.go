package activities_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/activities"
	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/internal/store/storetest"
	"github.com/sfjira/sfjira/mappings"
)

const pair = "opportunity-epic"

type fixture struct {
	acts    *activities.Activities
	sfEmu   *sfemu.Server
	jiraEmu *jiraemu.Server
	env     *testsuite.TestActivityEnvironment
	ctx     context.Context
}

// newFixture wires the real activities to both emulators over HTTP and a throwaway database.
func newFixture(t *testing.T) *fixture { return newFixtureDir(t, "../mappings/default") }

func newFixtureDir(t *testing.T, mappingDir string) *fixture {
	t.Helper()
	ctx := context.Background()
	st, _ := storetest.Open(t, "sfjira_act_test")

	sfE := sfemu.New(sfemu.DemoOptions())
	sfE.Seed(sfemu.SeedOptions{Accounts: 3, Contacts: 0, Opportunities: 10})
	sfHTTP := httptest.NewServer(sfE)
	t.Cleanup(sfHTTP.Close)
	jE := jiraemu.New(jiraemu.DemoOptions())
	jHTTP := httptest.NewServer(jE)
	t.Cleanup(jHTTP.Close)
	sfc, err := salesforce.New(salesforce.Config{LoginURL: sfHTTP.URL, ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret"})
	require.NoError(t, err)
	jc, err := jira.New(jira.Config{BaseURL: jHTTP.URL, Email: "integration@sfjira.demo", APIToken: "sfjira-demo-token"})
	require.NoError(t, err)
	ms, err := mappings.LoadDir(mappingDir)
	require.NoError(t, err)
	set, err := activities.NewMappingSet(ms, jc)
	require.NoError(t, err)
	acts := &activities.Activities{SF: sfc, Jira: jc, Store: st, Mappings: set, Log: zap.NewNop(), SearchLagWindow: 5 * time.Second}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return &fixture{acts: acts, sfEmu: sfE, jiraEmu: jE, env: env, ctx: ctx}
}

func (f *fixture) firstOpportunity(t *testing.T, where string) string {
	res, err := f.acts.SF.Query(f.ctx, "SELECT Id FROM Opportunity WHERE "+where+" ORDER BY Id LIMIT 1")
	require.NoError(t, err)
	require.NotEmpty(t, res.Records, "no Opportunity with %s", where)
	return res.Records[0].ID()
}

// plan fetches both sides of a Salesforce-origin pair and runs Transform.
func (f *fixture) plan(t *testing.T, sfID string) (*activities.FetchSalesforceResult, *activities.JiraState, *activities.TransformResult) {
	v, err := f.env.ExecuteActivity(f.acts.FetchSalesforce, activities.FetchSalesforceInput{Pair: pair, SfID: sfID})
	require.NoError(t, err)
	var src activities.FetchSalesforceResult
	require.NoError(t, v.Get(&src))
	v, err = f.env.ExecuteActivity(f.acts.FetchJira, activities.FetchJiraInput{Pair: pair, OriginKey: "sf/" + src.SfID, LinkedIssueID: src.LinkedIssueID})
	require.NoError(t, err)
	var cur activities.JiraState
	require.NoError(t, v.Get(&cur))
	v, err = f.env.ExecuteActivity(f.acts.Transform, activities.TransformInput{Pair: pair, OriginKey: "sf/" + src.SfID, SF: src, Jira: cur})
	require.NoError(t, err)
	var p activities.TransformResult
	require.NoError(t, v.Get(&p))
	return &src, &cur, &p
}

// syncOnce runs one full pass the way RecordSync does: create or write, back-link, verify, commit.
func (f *fixture) syncOnce(t *testing.T, sfID string) activities.VerifyPairResult {
	t.Helper()
	origin := "sf/" + sfID
	for step := 0; step < 3; step++ {
		src, cur, p := f.plan(t, sfID)
		if p.CreateJira {
			v, err := f.env.ExecuteActivity(f.acts.WriteJira, activities.WriteJiraInput{Pair: pair, OriginKey: origin, SfObject: "Opportunity", SfID: sfID, Create: true, Fields: p.JiraFields, Status: p.Status, Resolution: p.Resolution})
			require.NoError(t, err)
			var wr activities.WriteJiraResult
			require.NoError(t, v.Get(&wr))
			continue
		}
		if len(p.JiraFields) > 0 || p.Status != "" {
			_, err := f.env.ExecuteActivity(f.acts.WriteJira, activities.WriteJiraInput{Pair: pair, OriginKey: origin, SfID: sfID, IssueID: cur.IssueID, IssueKey: cur.IssueKey, Fields: p.JiraFields, Status: p.Status, Resolution: p.Resolution, Before: cur.Projection})
			require.NoError(t, err)
		}
		_, err := f.env.ExecuteActivity(f.acts.WriteSalesforce, activities.WriteSalesforceInput{Pair: pair, OriginKey: origin, SfID: sfID, Fields: p.SFFields, IssueID: cur.IssueID, IssueKey: cur.IssueKey, CurrentIssueID: src.LinkedIssueID, CurrentIssueKey: src.LinkedIssueKey})
		require.NoError(t, err)
		v, err := f.env.ExecuteActivity(f.acts.VerifyPair, activities.VerifyPairInput{Pair: pair, OriginKey: origin, SfID: sfID, IssueID: cur.IssueID, Checks: p.Checks})
		require.NoError(t, err)
		var vr activities.VerifyPairResult
		require.NoError(t, v.Get(&vr))
		_, err = f.env.ExecuteActivity(f.acts.CommitSync, activities.CommitSyncInput{Pair: pair, OriginKey: origin, SfObject: "Opportunity", SfID: sfID, IssueID: cur.IssueID, IssueKey: vr.IssueKey,
			MappingVersion: p.MappingVersion, SFSide: p.ExpectSF, JiraSide: p.ExpectJira, Held: p.Held, Pass: step + 1, TriggerStates: p.TriggerStates})
		require.NoError(t, err)
		return vr
	}
	t.Fatal("no convergence in 3 steps")
	return activities.VerifyPairResult{}
}

func appErr(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "not an application error: %v", err)
	return app
}

func postCount(stats jiraemu.Stats, endpoint string) int {
	n := 0
	for _, c := range stats.Endpoints[endpoint] {
		n += c
	}
	return n
}

func TestFetchSalesforceReadsMappedFieldsIn15Or18CharForm(t *testing.T) {
	f := newFixture(t)
	id := f.firstOpportunity(t, "StageName = 'Closed Won'")
	src, _, d := f.plan(t, id[:15])
	require.Equal(t, id, src.SfID, "15-character ids are normalised to 18")
	require.NotEmpty(t, src.Values["Account.Name"])
	require.NotEmpty(t, src.Modstamp)
	require.True(t, d.CreateJira)
	require.Equal(t, "Done", d.Status)
	require.Equal(t, "Done", d.Resolution)
	require.Equal(t, "SFJ", d.JiraProject)

	_, err := f.env.ExecuteActivity(f.acts.FetchSalesforce, activities.FetchSalesforceInput{Pair: pair, SfID: "006000000000000AAA"})
	app := appErr(t, err)
	require.Equal(t, string(catalog.SalesforceRecordNotFound), app.Type())
	require.True(t, app.NonRetryable())

	_, err = f.env.ExecuteActivity(f.acts.FetchSalesforce, activities.FetchSalesforceInput{Pair: "no-such-pair", SfID: id})
	require.Equal(t, string(catalog.MappingUnknownPair), appErr(t, err).Type())
}

func TestCreateAfterCrashFindsTheIssueDespiteSearchLag(t *testing.T) {
	f := newFixture(t)
	id := f.firstOpportunity(t, "StageName = 'Prospecting'")
	_, _, d := f.plan(t, id)
	origin := "sf/" + id
	// An earlier attempt recorded its intent and created the issue, then the worker died before
	// it could record the issue id. The search index has not caught up yet.
	require.NoError(t, f.acts.Store.RecordCreateIntent(f.ctx, store.Link{OriginKey: origin, Pair: pair, SfObject: "Opportunity", SfID: id}))
	f.jiraEmu.SetFaults(jiraemu.Faults{SearchLagMS: 1500})
	fields := map[string]any{"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Epic"}}
	for k, v := range d.JiraFields {
		fields[k] = v
	}
	earlier, err := f.acts.Jira.CreateIssue(f.ctx, jira.IssueInput{Fields: fields,
		Properties: []jira.EntityProperty{{Key: "sfjira", Value: map[string]any{"origin": origin}}}})
	require.NoError(t, err)
	creates := postCount(f.jiraEmu.Stats(), "POST /rest/api/3/issue")

	v, err := f.env.ExecuteActivity(f.acts.WriteJira, activities.WriteJiraInput{Pair: pair, OriginKey: origin, SfObject: "Opportunity", SfID: id, Create: true, Fields: d.JiraFields, Status: d.Status})
	require.NoError(t, err)
	var res activities.WriteJiraResult
	require.NoError(t, v.Get(&res))
	require.Equal(t, earlier.ID, res.IssueID, "the retry adopts the issue the earlier attempt created")
	require.False(t, res.Created)
	require.Equal(t, creates, postCount(f.jiraEmu.Stats(), "POST /rest/api/3/issue"), "no second create")
	link, err := f.acts.Store.GetLink(f.ctx, origin)
	require.NoError(t, err)
	require.Equal(t, earlier.Key, link.JiraIssueKey)

	// Once linked, another write goes by the link row: still no new issue.
	v, err = f.env.ExecuteActivity(f.acts.WriteJira, activities.WriteJiraInput{Pair: pair, OriginKey: origin, SfObject: "Opportunity", SfID: id, Create: true, Fields: d.JiraFields, Status: d.Status})
	require.NoError(t, err)
	require.NoError(t, v.Get(&res))
	require.Equal(t, earlier.ID, res.IssueID)
	require.Equal(t, creates, postCount(f.jiraEmu.Stats(), "POST /rest/api/3/issue"))
}

func TestWriteWalksNonGlobalTransitionsAndVerifyCatchesDrift(t *testing.T) {
	f := newFixture(t)
	id := f.firstOpportunity(t, "StageName = 'Prospecting'")
	vr := f.syncOnce(t, id)
	require.Equal(t, "To Do", vr.JiraSide["j:status"])
	link, err := f.acts.Store.GetLink(f.ctx, "sf/"+id)
	require.NoError(t, err)
	// To Do → In Review needs two hops (To Do → In Progress → In Review); Done → To Do needs Reopen.
	steps := []struct{ status, resolution string }{{"In Review", ""}, {"Done", "Won't Do"}, {"Done", "Done"}, {"To Do", ""}, {"Done", "Done"}}
	for _, s := range steps {
		v, err := f.env.ExecuteActivity(f.acts.FetchJira, activities.FetchJiraInput{Pair: pair, OriginKey: "sf/" + id})
		require.NoError(t, err)
		var cur activities.JiraState
		require.NoError(t, v.Get(&cur))
		_, err = f.env.ExecuteActivity(f.acts.WriteJira, activities.WriteJiraInput{Pair: pair, OriginKey: "sf/" + id, SfID: id, IssueID: link.JiraIssueID,
			Status: s.status, Resolution: s.resolution, Before: cur.Projection})
		require.NoError(t, err)
		is, err := f.acts.Jira.GetIssue(f.ctx, link.JiraIssueID, []string{"status", "resolution"}, nil)
		require.NoError(t, err)
		require.Equal(t, s.status, is.StatusName())
		require.Equal(t, s.resolution, is.ResolutionName())
	}

	// Verification catches a write that did not stick (the value reads as before) …
	check := activities.VerifyCheck{Key: "j:customfield_10050", Label: "Deal Amount", Side: "jira", Want: "777.00", Before: vr.JiraSide["j:customfield_10050"]}
	_, err = f.env.ExecuteActivity(f.acts.VerifyPair, activities.VerifyPairInput{Pair: pair, OriginKey: "sf/" + id, SfID: id, IssueID: link.JiraIssueID, Checks: []activities.VerifyCheck{check}})
	app := appErr(t, err)
	require.Equal(t, string(catalog.VerifyMismatch), app.Type())
	require.Contains(t, app.Error(), "Deal Amount")
	// … but accepts a third value: someone edited the field after the write; their change
	// comes as its own event.
	require.NoError(t, f.acts.Jira.EditIssue(f.ctx, link.JiraIssueID, map[string]any{"customfield_10050": 1.5}))
	_, err = f.env.ExecuteActivity(f.acts.VerifyPair, activities.VerifyPairInput{Pair: pair, OriginKey: "sf/" + id, SfID: id, IssueID: link.JiraIssueID, Checks: []activities.VerifyCheck{check}})
	require.NoError(t, err)
}

func TestJiraErrorsAreClassifiedWithRetryAfter(t *testing.T) {
	f := newFixture(t)
	f.jiraEmu.SetFaults(jiraemu.Faults{ErrorRate: 1, ErrorStatus: 429, RetryAfterS: 7})
	_, err := f.env.ExecuteActivity(f.acts.FetchJira, activities.FetchJiraInput{Pair: pair, OriginKey: "sf/x", LinkedIssueID: "10000"})
	app := appErr(t, err)
	require.Equal(t, string(catalog.JiraRateLimited), app.Type())
	require.False(t, app.NonRetryable())
	require.Equal(t, 7*time.Second, app.NextRetryDelay())

	// A linked issue that is gone is reported as deleted (the pair's delete handling takes over).
	f.jiraEmu.SetFaults(jiraemu.Faults{})
	v, err := f.env.ExecuteActivity(f.acts.FetchJira, activities.FetchJiraInput{Pair: pair, OriginKey: "sf/x", LinkedIssueID: "99999"})
	require.NoError(t, err)
	var st activities.JiraState
	require.NoError(t, v.Get(&st))
	require.True(t, st.Deleted)
	require.False(t, st.Found)
}

func TestWriteSalesforceWritesOnlyWhatDiffers(t *testing.T) {
	f := newFixture(t)
	id := f.firstOpportunity(t, "StageName = 'Qualification'")
	v, err := f.env.ExecuteActivity(f.acts.WriteSalesforce, activities.WriteSalesforceInput{Pair: pair, SfID: id, IssueID: "10042", IssueKey: "SFJ-42",
		Fields: map[string]any{"Jira_Status__c": "In Review"}})
	require.NoError(t, err)
	var res activities.WriteSalesforceResult
	require.NoError(t, v.Get(&res))
	require.Len(t, res.Changes, 3)
	rec, err := f.acts.SF.Get(f.ctx, "Opportunity", id, "Jira_Issue_Id__c", "Jira_Issue_Key__c", "Jira_Status__c")
	require.NoError(t, err)
	require.Equal(t, "10042", rec["Jira_Issue_Id__c"])
	require.Equal(t, "SFJ-42", rec["Jira_Issue_Key__c"])
	require.Equal(t, "In Review", rec["Jira_Status__c"])

	before := f.sfEmu.Stats().Total
	v, err = f.env.ExecuteActivity(f.acts.WriteSalesforce, activities.WriteSalesforceInput{Pair: pair, SfID: id, IssueID: "10042", IssueKey: "SFJ-42", CurrentIssueID: "10042", CurrentIssueKey: "SFJ-42"})
	require.NoError(t, err)
	require.NoError(t, v.Get(&res))
	require.Empty(t, res.Changes)
	require.Equal(t, before, f.sfEmu.Stats().Total, "an unchanged back-link makes no call")
}

func TestTransformMergesAgainstTheSnapshot(t *testing.T) {
	f := newFixture(t)
	id := f.firstOpportunity(t, "StageName = 'Prospecting'")
	f.syncOnce(t, id)
	link, err := f.acts.Store.GetLink(f.ctx, "sf/"+id)
	require.NoError(t, err)
	// In step: nothing to write, and the snapshot matches.
	_, _, p := f.plan(t, id)
	require.True(t, p.NothingToWrite(), "%+v", p)
	require.Equal(t, p.SnapshotHash, p.SidesHash)

	// One edit on each side, on different fields: each flows to the other side.
	require.NoError(t, f.acts.SF.Update(f.ctx, "Opportunity", id, map[string]any{"Amount": 4242.5}))
	require.NoError(t, f.acts.Jira.EditIssue(f.ctx, link.JiraIssueID, map[string]any{"summary": "Renamed in Jira"}))
	_, _, p = f.plan(t, id)
	require.Equal(t, map[string]any{"customfield_10050": 4242.5}, p.JiraFields)
	require.Equal(t, map[string]any{"Name": "Renamed in Jira"}, p.SFFields)
	f.syncOnce(t, id)
	rec, err := f.acts.SF.Get(f.ctx, "Opportunity", id, "Name")
	require.NoError(t, err)
	require.Equal(t, "Renamed in Jira", rec["Name"])

	// Our own writes coming back change nothing.
	_, _, p = f.plan(t, id)
	require.True(t, p.NothingToWrite(), "echo: %+v", p)

	// A stage change moves the Jira status, and the pass also writes the status Jira reports
	// back (Jira_Status__c), so one edit is one pass that leaves the pair in step.
	require.NoError(t, f.acts.SF.Update(f.ctx, "Opportunity", id, map[string]any{"StageName": "Closed Lost"}))
	_, _, p = f.plan(t, id)
	require.Equal(t, "Done", p.Status)
	require.Equal(t, "Won't Do", p.Resolution)
	require.Equal(t, map[string]any{"Jira_Status__c": "Done", "Jira_Resolution__c": "Won't Do"}, p.SFFields)
	vr := f.syncOnce(t, id)
	require.Equal(t, "Done", vr.JiraSide["j:status"])
	_, _, p = f.plan(t, id)
	require.True(t, p.NothingToWrite(), "after the stage change: %+v", p)
}

func TestCheckLiveAcceptsDefaultPackAndNamesLineOfUnknownOrMistypedField(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.acts.Mappings.CheckLive(f.ctx, f.acts.SF), "the default pack fits the emulated org")

	dir := t.TempDir()
	body := `version: 1
pair: bad-opportunity
salesforce:
  object: Opportunity
  external_id_field: Jira_Issue_Id__c
jira:
  project: SFJ
  issue_type: Epic
fields:
  - sf: Name
    jira: summary
    type: text
  - sf: Amont
    jira: Deal Amount
    type: currency
  - sf: CloseDate
    jira: Probability
    type: number
`
	path := dir + "/bad.yaml"
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	ms, err := mappings.LoadDir(dir)
	require.NoError(t, err, "offline the file is well-formed")
	set, err := activities.NewMappingSet(ms, f.acts.Jira)
	require.NoError(t, err)
	err = set.CheckLive(f.ctx, f.acts.SF)
	var list mappings.ErrorList
	require.True(t, errors.As(err, &list), "got %v", err)
	text := err.Error()
	require.Contains(t, text, path+":13:")
	require.Contains(t, text, `Salesforce field "Amont" does not exist`)
	require.Contains(t, text, path+":16:")
	require.Contains(t, text, "type number does not fit Salesforce field CloseDate of type date")
	require.Contains(t, text, "fix:")
}

type recordingStarter struct{ got []activities.SyncStart }

func (r *recordingStarter) StartSync(_ context.Context, s activities.SyncStart) error {
	r.got = append(r.got, s)
	return nil
}

// Polling must neither miss nor repeat a change, across identical timestamps and restarts.
func TestPollSalesforceIdenticalTimestampsAndRestart(t *testing.T) {
	f := newFixture(t)
	rec := &recordingStarter{}
	f.acts.Syncs = rec
	poll := func() *activities.PollResult {
		v, err := f.env.ExecuteActivity(f.acts.PollChanges, activities.PollInput{Pair: pair, Source: activities.SourceSalesforce, BaseIntervalSeconds: 1})
		require.NoError(t, err)
		var res activities.PollResult
		require.NoError(t, v.Get(&res))
		return &res
	}
	require.Zero(t, poll().Events, "the first poll only sets the watermark")
	ids := []string{f.firstOpportunity(t, "StageName = 'Prospecting'"), f.firstOpportunity(t, "StageName = 'Closed Won'")}
	// Freeze the emulated org's clock: both edits get the very same SystemModstamp.
	frozen := time.Now().UTC().Add(time.Second).Truncate(time.Millisecond)
	f.sfEmu.SetClock(func() time.Time { return frozen })
	require.NoError(t, f.acts.SF.Update(f.ctx, "Opportunity", ids[0], map[string]any{"NextStep": "call back"}))
	require.Equal(t, 1, poll().Events)
	require.NoError(t, f.acts.SF.Update(f.ctx, "Opportunity", ids[1], map[string]any{"NextStep": "send quote"}))
	require.Equal(t, 1, poll().Events, "a second record at the same timestamp is seen, the first is not handed over again")
	require.Zero(t, poll().Events)
	// A restarted worker (new activities, same database) carries on from the stored watermark.
	restarted := *f.acts
	restarted.Syncs = rec
	f.env.RegisterActivity(&restarted)
	require.Zero(t, poll().Events)
	require.Len(t, rec.got, 2)
	require.Equal(t, "sf/"+ids[0], rec.got[0].OriginKey)
	require.Equal(t, "sf/"+ids[1], rec.got[1].OriginKey)
	require.Equal(t, activities.TriggerSalesforcePoll, rec.got[1].Trigger)
}

// A person reopens the issue while the pass that moved it to Done verifies: the status reads as
// before, but the changelog shows the write landed and a later change: not a failed write.
func TestVerifyTellsAReopenAfterTheWriteFromAWriteThatDidNotStick(t *testing.T) {
	f := newFixture(t)
	id := f.firstOpportunity(t, "StageName = 'Prospecting'")
	vr := f.syncOnce(t, id)
	require.Equal(t, "To Do", vr.JiraSide["j:status"])
	link, err := f.acts.Store.GetLink(f.ctx, "sf/"+id)
	require.NoError(t, err)
	readAt := func() activities.JiraState {
		v, err := f.env.ExecuteActivity(f.acts.FetchJira, activities.FetchJiraInput{Pair: pair, OriginKey: "sf/" + id})
		require.NoError(t, err)
		var cur activities.JiraState
		require.NoError(t, v.Get(&cur))
		return cur
	}
	check := activities.VerifyCheck{Key: "j:status", Label: "Status", Side: "jira", Want: "Done", Before: "To Do"}
	verify := func(readUpdated string) (*activities.VerifyPairResult, error) {
		v, err := f.env.ExecuteActivity(f.acts.VerifyPair, activities.VerifyPairInput{Pair: pair, OriginKey: "sf/" + id, SfID: id, IssueID: link.JiraIssueID,
			Checks: []activities.VerifyCheck{check}, JiraReadUpdated: readUpdated})
		if err != nil {
			return nil, err
		}
		var res activities.VerifyPairResult
		require.NoError(t, v.Get(&res))
		return &res, nil
	}

	// The pass reads the issue, then writes Done (two hops) …
	before := readAt()
	time.Sleep(5 * time.Millisecond) // the emulator's clock has millisecond resolution, like Jira's
	_, err = f.env.ExecuteActivity(f.acts.WriteJira, activities.WriteJiraInput{Pair: pair, OriginKey: "sf/" + id, SfID: id, IssueID: link.JiraIssueID,
		Status: "Done", Resolution: "Done", Before: before.Projection})
	require.NoError(t, err)
	// … and a person reopens it before verification reads it.
	time.Sleep(5 * time.Millisecond)
	ts, err := f.acts.Jira.Transitions(f.ctx, link.JiraIssueID)
	require.NoError(t, err)
	reopened := false
	for _, tr := range ts {
		if tr.Name == "Reopen" {
			require.NoError(t, f.acts.Jira.DoTransition(f.ctx, link.JiraIssueID, tr.ID, nil))
			reopened = true
		}
	}
	require.True(t, reopened, "the emulator's workflow has a Reopen transition from Done")
	is, err := f.acts.Jira.GetIssue(f.ctx, link.JiraIssueID, []string{"status"}, nil)
	require.NoError(t, err)
	require.Equal(t, "To Do", is.StatusName())

	res, err := verify(before.Updated)
	require.NoError(t, err, "a reopen after the write is the person's change, not a failed write")
	require.Equal(t, []string{"Status"}, res.EditedAfterWrite)

	// A pass that read the issue after all of that and "wrote" Done without it landing: the
	// changelog from its read on has no such write, so it is a mismatch as before.
	after := readAt()
	_, err = verify(after.Updated)
	app := appErr(t, err)
	require.Equal(t, string(catalog.VerifyMismatch), app.Type())
	require.Contains(t, app.Error(), "Status")
}

// A person moves a brand-new Epic before the pass that created it has recorded anything (it had to
// plan again, e.g. because its back-link write found the record changed): with what the create
// wrote as the base (OwnJira), the move is a Jira change and is kept, not overwritten as on a
// first sync; without it, the origin side would win every difference.
func TestNewIssueEditedBeforeTheFirstCommitIsKept(t *testing.T) {
	f := newFixture(t)
	id := f.firstOpportunity(t, "StageName = 'Proposal/Price Quote'")
	origin := "sf/" + id
	_, _, p := f.plan(t, id)
	require.True(t, p.CreateJira)
	require.Equal(t, "In Review", p.ExpectJira["j:status"], "the create plan says what the new issue reads as")
	v, err := f.env.ExecuteActivity(f.acts.WriteJira, activities.WriteJiraInput{Pair: pair, OriginKey: origin, SfObject: "Opportunity", SfID: id, Create: true,
		Fields: p.JiraFields, Status: p.Status, Resolution: p.Resolution})
	require.NoError(t, err)
	var wr activities.WriteJiraResult
	require.NoError(t, v.Get(&wr))
	own := map[string]string{}
	for k := range p.JiraFields {
		own["j:"+k] = p.ExpectJira["j:"+k]
	}
	own["j:status"], own["j:resolution"] = p.ExpectJira["j:status"], p.ExpectJira["j:resolution"]

	// The person moves it out of In Review.
	ts, err := f.acts.Jira.Transitions(f.ctx, wr.IssueID)
	require.NoError(t, err)
	moved := ""
	for _, tr := range ts {
		if tr.To.Name != "In Review" && tr.To.Name != "" {
			require.NoError(t, f.acts.Jira.DoTransition(f.ctx, wr.IssueID, tr.ID, nil))
			moved = tr.To.Name
			break
		}
	}
	require.NotEmpty(t, moved, "a transition out of In Review")

	plan := func(own map[string]string) *activities.TransformResult {
		v, err := f.env.ExecuteActivity(f.acts.FetchSalesforce, activities.FetchSalesforceInput{Pair: pair, SfID: id})
		require.NoError(t, err)
		var src activities.FetchSalesforceResult
		require.NoError(t, v.Get(&src))
		v, err = f.env.ExecuteActivity(f.acts.FetchJira, activities.FetchJiraInput{Pair: pair, OriginKey: origin, LinkedIssueID: wr.IssueID})
		require.NoError(t, err)
		var cur activities.JiraState
		require.NoError(t, v.Get(&cur))
		v, err = f.env.ExecuteActivity(f.acts.Transform, activities.TransformInput{Pair: pair, OriginKey: origin, SF: src, Jira: cur, OwnJira: own})
		require.NoError(t, err)
		var res activities.TransformResult
		require.NoError(t, v.Get(&res))
		return &res
	}
	kept := plan(own)
	require.Empty(t, kept.Status, "the person's move of the new issue is kept")
	require.Equal(t, moved, kept.SFFields["Jira_Status__c"], "and reported back to Salesforce")
	// Without the create as the base (the old behaviour), the first-sync rule would move it back.
	require.Equal(t, "In Review", plan(nil).Status)
}
