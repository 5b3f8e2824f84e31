package activities_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
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
func newFixture(t *testing.T) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	ctx := context.Background()
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/sfjira?sslmode=disable"
	}
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.Path = "/sfjira_act_test_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	_, err = store.EnsureDatabase(ctx, u.String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.DropDatabase(context.Background(), u.String()) })
	st, err := store.Open(ctx, u.String())
	require.NoError(t, err)
	t.Cleanup(st.Close)
	_, err = st.Migrate(ctx)
	require.NoError(t, err)

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
	ms, err := mappings.LoadDir("../mappings/default")
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

func (f *fixture) desired(t *testing.T, sfID string) (*activities.FetchSalesforceResult, *activities.TransformResult) {
	v, err := f.env.ExecuteActivity(f.acts.FetchSalesforce, activities.FetchSalesforceInput{Pair: pair, SfID: sfID})
	require.NoError(t, err)
	var src activities.FetchSalesforceResult
	require.NoError(t, v.Get(&src))
	v, err = f.env.ExecuteActivity(f.acts.Transform, activities.TransformInput{Pair: pair, SfID: src.SfID, Values: src.Values})
	require.NoError(t, err)
	var d activities.TransformResult
	require.NoError(t, v.Get(&d))
	return &src, &d
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
	src, d := f.desired(t, id[:15])
	require.Equal(t, id, src.SfID, "15-character ids are normalised to 18")
	require.NotEmpty(t, src.Values["Account.Name"])
	require.NotEmpty(t, src.Modstamp)
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
	_, d := f.desired(t, id)
	origin := "sf/" + id
	// An earlier attempt recorded its intent and created the issue, then the worker died before
	// it could record the issue id. The search index has not caught up yet.
	require.NoError(t, f.acts.Store.RecordCreateIntent(f.ctx, store.Link{OriginKey: origin, Pair: pair, SfObject: "Opportunity", SfID: id}))
	f.jiraEmu.SetFaults(jiraemu.Faults{SearchLagMS: 1500})
	fields := map[string]any{"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Epic"}}
	for k, v := range d.Fields {
		if v != nil {
			fields[k] = v
		}
	}
	earlier, err := f.acts.Jira.CreateIssue(f.ctx, jira.IssueInput{Fields: fields,
		Properties: []jira.EntityProperty{{Key: "sfjira", Value: map[string]any{"origin": origin}}}})
	require.NoError(t, err)
	creates := postCount(f.jiraEmu.Stats(), "POST /rest/api/3/issue")

	v, err := f.env.ExecuteActivity(f.acts.WriteJira, activities.WriteJiraInput{Pair: pair, OriginKey: origin, SfObject: "Opportunity", SfID: id, Desired: *d})
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
	v, err = f.env.ExecuteActivity(f.acts.WriteJira, activities.WriteJiraInput{Pair: pair, OriginKey: origin, SfObject: "Opportunity", SfID: id, Desired: *d})
	require.NoError(t, err)
	require.NoError(t, v.Get(&res))
	require.Equal(t, earlier.ID, res.IssueID)
	require.Equal(t, creates, postCount(f.jiraEmu.Stats(), "POST /rest/api/3/issue"))
}

func TestWriteWalksNonGlobalTransitionsAndVerifies(t *testing.T) {
	f := newFixture(t)
	id := f.firstOpportunity(t, "StageName = 'Prospecting'")
	_, d := f.desired(t, id)
	origin := "sf/" + id
	write := func(desired activities.TransformResult) activities.WriteJiraResult {
		var cur activities.JiraState
		v, err := f.env.ExecuteActivity(f.acts.FetchJira, activities.FetchJiraInput{Pair: pair, OriginKey: origin})
		require.NoError(t, err)
		require.NoError(t, v.Get(&cur))
		v, err = f.env.ExecuteActivity(f.acts.WriteJira, activities.WriteJiraInput{Pair: pair, OriginKey: origin, SfObject: "Opportunity", SfID: id, Desired: desired, Current: cur})
		require.NoError(t, err)
		var res activities.WriteJiraResult
		require.NoError(t, v.Get(&res))
		v, err = f.env.ExecuteActivity(f.acts.VerifyJira, activities.VerifyJiraInput{Pair: pair, IssueID: res.IssueID, Expected: desired.Projection})
		require.NoError(t, err, "verify after moving to %s/%s", desired.Status, desired.Resolution)
		return res
	}
	res := write(*d)
	require.True(t, res.Created)
	// To Do → In Review needs two hops (To Do → In Progress → In Review).
	steps := []struct{ status, resolution string }{{"In Review", ""}, {"Done", "Won't Do"}, {"Done", "Done"}, {"To Do", ""}, {"Done", "Done"}}
	for _, s := range steps {
		next := *d
		next.Projection = mappings.Projection{}
		for k, v := range d.Projection {
			next.Projection[k] = v
		}
		next.Status, next.Resolution = s.status, s.resolution
		next.Projection["status"], next.Projection["resolution"] = s.status, s.resolution
		r := write(next)
		require.False(t, r.Created)
		is, err := f.acts.Jira.GetIssue(f.ctx, r.IssueID, []string{"status", "resolution"}, nil)
		require.NoError(t, err)
		require.Equal(t, s.status, is.StatusName())
		require.Equal(t, s.resolution, is.ResolutionName())
	}

	// Verification catches a value changed behind our back (e.g. by a Jira automation).
	require.NoError(t, f.acts.Jira.EditIssue(f.ctx, res.IssueID, map[string]any{"summary": "changed by automation"}))
	_, err := f.env.ExecuteActivity(f.acts.VerifyJira, activities.VerifyJiraInput{Pair: pair, IssueID: res.IssueID, Expected: d.Projection})
	app := appErr(t, err)
	require.Equal(t, string(catalog.VerifyMismatch), app.Type())
	require.Contains(t, app.Error(), "changed by automation")
}

func TestJiraErrorsAreClassifiedWithRetryAfter(t *testing.T) {
	f := newFixture(t)
	f.jiraEmu.SetFaults(jiraemu.Faults{ErrorRate: 1, ErrorStatus: 429, RetryAfterS: 7})
	_, err := f.env.ExecuteActivity(f.acts.FetchJira, activities.FetchJiraInput{Pair: pair, OriginKey: "sf/x", LinkedIssueID: "10000"})
	app := appErr(t, err)
	require.Equal(t, string(catalog.JiraRateLimited), app.Type())
	require.False(t, app.NonRetryable())
	require.Equal(t, 7*time.Second, app.NextRetryDelay())

	f.jiraEmu.SetFaults(jiraemu.Faults{})
	_, err = f.env.ExecuteActivity(f.acts.FetchJira, activities.FetchJiraInput{Pair: pair, OriginKey: "sf/x", LinkedIssueID: "99999"})
	app = appErr(t, err)
	require.Equal(t, string(catalog.JiraNotFound), app.Type())
	require.True(t, app.NonRetryable())
}

func TestLinkSalesforceWritesOnlyWhatDiffers(t *testing.T) {
	f := newFixture(t)
	id := f.firstOpportunity(t, "StageName = 'Qualification'")
	v, err := f.env.ExecuteActivity(f.acts.LinkSalesforce, activities.LinkSalesforceInput{Pair: pair, SfID: id, IssueID: "10042", IssueKey: "SFJ-42"})
	require.NoError(t, err)
	var res activities.LinkSalesforceResult
	require.NoError(t, v.Get(&res))
	require.Len(t, res.Changes, 2)
	rec, err := f.acts.SF.Get(f.ctx, "Opportunity", id, "Jira_Issue_Id__c", "Jira_Issue_Key__c")
	require.NoError(t, err)
	require.Equal(t, "10042", rec["Jira_Issue_Id__c"])
	require.Equal(t, "SFJ-42", rec["Jira_Issue_Key__c"])

	before := f.sfEmu.Stats().Total
	v, err = f.env.ExecuteActivity(f.acts.LinkSalesforce, activities.LinkSalesforceInput{Pair: pair, SfID: id, IssueID: "10042", IssueKey: "SFJ-42", CurrentIssueID: "10042", CurrentIssueKey: "SFJ-42"})
	require.NoError(t, err)
	require.NoError(t, v.Get(&res))
	require.Empty(t, res.Changes)
	require.Equal(t, before, f.sfEmu.Stats().Total, "an unchanged back-link makes no call")
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
