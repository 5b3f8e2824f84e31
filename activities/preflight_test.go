package activities_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/activities"
	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/mappings"
)

type preflightEnv struct {
	sfEmu   *sfemu.Server
	sf      *salesforce.Client
	jc      *jira.Client
	jiraURL string
	sfURL   string
	ctx     context.Context
}

// newPreflightEnv starts both emulators (demo options) over HTTP; preflight needs no database.
func newPreflightEnv(t *testing.T) *preflightEnv {
	t.Helper()
	sfE := sfemu.New(sfemu.DemoOptions())
	sfHTTP := httptest.NewServer(sfE)
	t.Cleanup(sfHTTP.Close)
	jHTTP := httptest.NewServer(jiraemu.New(jiraemu.DemoOptions()))
	t.Cleanup(jHTTP.Close)
	sfc, err := salesforce.New(salesforce.Config{LoginURL: sfHTTP.URL, ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret"})
	require.NoError(t, err)
	jc, err := jira.New(jira.Config{BaseURL: jHTTP.URL, Email: "integration@sfjira.demo", APIToken: "sfjira-demo-token"})
	require.NoError(t, err)
	return &preflightEnv{sfEmu: sfE, sf: sfc, jc: jc, jiraURL: jHTTP.URL, sfURL: sfHTTP.URL, ctx: context.Background()}
}

func (e *preflightEnv) admin(t *testing.T, path, body string) {
	t.Helper()
	resp, err := http.Post(e.jiraURL+path, "application/json", bytes.NewBufferString(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, "POST %s", path)
}

func TestPreflightDefaultPackPasses(t *testing.T) {
	e := newPreflightEnv(t)
	ms, err := mappings.LoadDefault()
	require.NoError(t, err)
	rep, err := activities.Preflight(e.ctx, e.sf, e.jc, ms)
	require.NoError(t, err)
	assert.Empty(t, rep.Problems, "%v", rep.Problems)
	t.Logf("warnings: %q", rep.Warnings)
	t.Logf("notes: %q", rep.Notes)
}

func TestPreflightDefaultPackNotesShortestPaths(t *testing.T) {
	e := newPreflightEnv(t)
	e.sfEmu.SetPermissions(sfemu.DefaultPackIntegrationUser())
	ms, err := mappings.LoadDefault()
	require.NoError(t, err)
	rep, err := activities.Preflight(e.ctx, e.sf, e.jc, ms)
	require.NoError(t, err)
	// The built-in Epic workflow has no global transitions: Done is two transitions away.
	assert.Contains(t, rep.Notes, `opportunity-epic: StageName "Closed Won" → Done: from "To Do" via Start progress → Done (2 transition(s))`)
	assert.Contains(t, rep.Notes, `opportunity-epic: StageName "Proposal/Price Quote" → In Review: from "To Do" via Start progress → Request review (2 transition(s))`)
	// Every target reaches every other in the default workflow; the one warning is the trigger's
	// version, which Jira Cloud lets only project administrators create (the emulator's
	// integration user holds no broad permission unless granted).
	assert.Equal(t, []string{`default/opportunity-epic.yaml:146: the Jira integration user lacks ADMINISTER_PROJECTS in project SFJ, which Jira Cloud requires to create the version of trigger won-deal-delivery: that action will fail and the sync run with it (dead letter) until it is granted`}, rep.Warnings)
	e.admin(t, "/__admin/permissions", `{"grant":["ADMINISTER_PROJECTS"]}`)
	rep, err = activities.Preflight(e.ctx, e.sf, e.jc, ms)
	require.NoError(t, err)
	for _, w := range rep.Warnings {
		assert.NotContains(t, w, "opportunity-epic.yaml", "granted: the trigger's mapping has no warning, least privilege included (it needs the permission)")
	}
}

// brokenLive is well-formed offline but wrong for the live systems in every way preflight checks.
const brokenLive = `version: 1
pair: broken-live
salesforce:
  object: Opportunity
  external_id_field: Jira_Issue_Id__c
  on_delete: delete
jira:
  project: SFJ
  issue_type: Epic
fields:
  - sf: Description
    jira: description
    type: rich_text
    direction: both
  - sf: Account.Name
    jira: Customer
    type: text
status:
  sf: StageName
  values:
    Prospecting: { status: Open }
    Qualification: { status: In Progress }
    Needs Analysis: { status: In Review }
    Value Proposition: { status: Doing }
    Id. Decision Makers: { status: In Progress }
    Perception Analysis: { status: In Progress }
    Proposal/Price Quote: { status: In Progress }
    Negotiation/Review: { status: In Progress }
    Closed Won: { status: Done, resolution: Done }
    closed lost: { status: Done, resolution: "Won't Do" }
`

func TestPreflightReportsEveryLiveProblemWithLineAndFix(t *testing.T) {
	e := newPreflightEnv(t)
	// An Epic workflow where In Review has no way in and Done has no way out.
	e.admin(t, "/__admin/workflows", `{"project":"SFJ","issue_types":["Epic"],"name":"Deal flow","initial":"Open",
	  "statuses":[{"name":"Open","category":"new"},{"name":"In Progress","category":"indeterminate"},
	              {"name":"In Review","category":"indeterminate"},{"name":"Done","category":"done"}],
	  "transitions":[{"id":"101","name":"Start","from":["Open"],"to":"In Progress"},
	                 {"id":"102","name":"Back","from":["In Progress"],"to":"Open"},
	                 {"id":"103","name":"Finish","from":["In Progress"],"to":"Done","resolution_screen":true}]}`)
	e.admin(t, "/__admin/permissions", `{"deny":["TRANSITION_ISSUES","DELETE_ISSUES"]}`)

	path := filepath.Join(t.TempDir(), "broken-live.yaml")
	require.NoError(t, os.WriteFile(path, []byte(brokenLive), 0o644))
	m, err := mappings.LoadFile(path)
	require.NoError(t, err, "offline the file is valid")
	rep, err := activities.Preflight(e.ctx, e.sf, e.jc, []*mappings.Mapping{m})
	require.NoError(t, err)
	var got []string
	for _, p := range rep.Problems {
		got = append(got, strings.TrimPrefix(p.Error(), path+":"))
	}
	assert.Equal(t, []string{
		`2: Jira requires "Summary" (summary) to create a Epic in SFJ, but no sf_to_jira field writes it (fix: add a field entry writing it, e.g. ` + "`- { sf: <Salesforce field>, jira: summary, type: … , required: true }`" + `, or give the field a default value in Jira)`,
		`6: the Jira integration user lacks DELETE_ISSUES in project SFJ, needed to delete issues (on_delete: delete) (fix: grant DELETE_ISSUES to the integration user in the permission scheme of project SFJ)`,
		`11: Salesforce field Description holds 32000 characters but Jira values written to it are not limited to that (fix: add max_length: 32000 with on_overflow: truncate (cut with …) or on_overflow: fail)`,
		`19: the Jira integration user lacks TRANSITION_ISSUES in project SFJ, needed to move issues to the mapped status (fix: grant TRANSITION_ISSUES to the integration user in the permission scheme of project SFJ)`,
		`20: StageName value "Closed Lost" (active in Salesforce) has no Jira status in the mapping (fix: the map has "closed lost", but values match exactly: add ` + "`Closed Lost: { status: <Jira status> }`" + ` under status.values, or set unmapped: keep)`,
		`23: Jira status "In Review" (for StageName value "Needs Analysis") cannot be reached from the initial status "Open" in workflow "Deal flow" (fix: add a transition into "In Review" (or a global one) to workflow "Deal flow")`,
		`24: StageName value "Value Proposition" targets Jira status "Doing", which workflow "Deal flow" of Epic does not have (fix: did you mean "Done"? use one of the workflow's statuses (Open, In Progress, In Review, Done), or add "Doing" to the workflow)`,
	}, got)
	assert.Contains(t, rep.Warnings, path+`:30: status value "closed lost" is not an active StageName value in Salesforce (did you mean "Closed Lost"?)`)
	assert.Contains(t, rep.Warnings, path+`:21: Jira status "Open" cannot be reached from "Done" in workflow "Deal flow": a record moving from "Closed Won" to "Prospecting" will keep its Jira status and report it`)
	// Reachable through a path of two transitions, not a direct one.
	assert.Contains(t, rep.Notes, `broken-live: StageName "Closed Won" → Done: from "Open" via Start → Finish (2 transition(s))`)
}

func TestPreflightUnknownProjectAndIssueType(t *testing.T) {
	e := newPreflightEnv(t)
	body := strings.Replace(strings.Replace(brokenLive, "project: SFJ", "project: NOPE", 1), "pair: broken-live", "pair: other", 1)
	m1, err := mappings.Load("nope.yaml", []byte(body))
	require.NoError(t, err)
	m2, err := mappings.Load("type.yaml", []byte(strings.Replace(brokenLive, "issue_type: Epic", "issue_type: Initiative", 1)))
	require.NoError(t, err)
	rep, err := activities.Preflight(e.ctx, e.sf, e.jc, []*mappings.Mapping{m1, m2})
	require.NoError(t, err)
	text := rep.Problems.Error()
	assert.Contains(t, text, "nope.yaml:2: Jira project NOPE does not exist or is not visible to the integration user")
	assert.Contains(t, text, `type.yaml:2: Jira project SFJ has no issue type "Initiative" (fix: use one of: Epic, Story, Task, Bug, Subtask)`)
}

func TestPreflightWarnsAboutPermissionsBeyondTheMapping(t *testing.T) {
	e := newPreflightEnv(t)
	ms, err := mappings.LoadDefault()
	require.NoError(t, err)
	// The integration user was made a project admin, as happens when a site admin sets it up.
	e.admin(t, "/__admin/permissions", `{"grant":["ADMINISTER_PROJECTS","DELETE_ALL_COMMENTS","MODIFY_REPORTER"]}`)
	rep, err := activities.Preflight(e.ctx, e.sf, e.jc, ms)
	require.NoError(t, err)
	assert.Empty(t, rep.Problems, "broad permissions are warnings, not blockers")
	all := strings.Join(rep.Warnings, "\n")
	for _, p := range []string{"DELETE_ALL_COMMENTS", "MODIFY_REPORTER"} {
		assert.Contains(t, all, p+" in project SFJ, which no mapping of that project needs")
	}
	// The won-deal trigger of opportunity-epic creates releases in SFJ: needed by the project.
	assert.NotContains(t, all, "ADMINISTER_PROJECTS in project SFJ, which no mapping")
	// Take them away: no least-privilege warning is left.
	e.admin(t, "/__admin/permissions", `{"grant":[]}`)
	rep, err = activities.Preflight(e.ctx, e.sf, e.jc, ms)
	require.NoError(t, err)
	assert.Empty(t, rep.Problems)
	assert.NotContains(t, strings.Join(rep.Warnings, "\n"), "which no mapping of that project needs")
}

// Least privilege on the Salesforce side and for OAuth scopes: with the permission set the
// default pack needs, preflight reports nothing; an org where the integration user is an admin
// with a "full" connected app, and a Jira grant with configuration scopes, is reported object by
// object, field by field and scope by scope, as warnings with the fix. A grant that lacks a
// needed scope is a problem.
func TestPreflightReportsSalesforceAndOAuthScopesBeyondTheMapping(t *testing.T) {
	e := newPreflightEnv(t)
	ms, err := mappings.LoadDefault()
	require.NoError(t, err)
	fit := []string{"read:jira-work", "write:jira-work", "read:jira-user", "manage:jira-project", "offline_access"}
	e.sfEmu.SetPermissions(sfemu.DefaultPackIntegrationUser())
	// The default pack's won-deal trigger creates releases: Jira Cloud wants ADMINISTER_PROJECTS.
	e.admin(t, "/__admin/permissions", `{"grant":["ADMINISTER_PROJECTS"]}`)
	rep, err := activities.PreflightWith(e.ctx, e.sf, e.jc, ms, activities.PreflightOptions{JiraScopes: fit})
	require.NoError(t, err)
	assert.Empty(t, rep.Problems)
	assert.Empty(t, rep.Warnings, "permissions that fit the mappings leave nothing to report")

	// The emulator's default user is a System Administrator; the connected app grants "full".
	p := sfemu.Permissions{Scope: "full refresh_token"}
	e.sfEmu.SetPermissions(p)
	sf2, err := salesforce.New(salesforce.Config{LoginURL: e.sfURL, ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret"})
	require.NoError(t, err)
	rep, err = activities.PreflightWith(e.ctx, sf2, e.jc, ms, activities.PreflightOptions{
		JiraScopes: append(append([]string{}, fit...), "manage:jira-configuration")})
	require.NoError(t, err)
	assert.Empty(t, rep.Problems, "excess is a warning, not a blocker: %v", rep.Problems)
	all := strings.Join(rep.Warnings, "\n")
	t.Logf("warnings:\n%s", all)
	assert.Contains(t, all, `default/case-bug.yaml: the Salesforce token grants OAuth scope "full": full grants every scope`)
	assert.NotContains(t, all, `"refresh_token"`, "refresh_token is what the refresh_token flow needs")
	assert.Contains(t, all, "default/case-bug.yaml: the Salesforce integration user may create, edit, delete Account records, which sfjira only reads")
	assert.Contains(t, all, "may create, edit, delete Contact records")
	assert.Contains(t, all, "default/opportunity-epic.yaml: the Salesforce integration user may create, delete Opportunity records, which sfjira updates but never creates or deletes")
	assert.Contains(t, all, "Opportunity field(s) no mapping writes: AccountId, Amount, ForecastCategoryName, LeadSource, NextStep, OwnerId, Probability, StageName")
	assert.NotContains(t, all, "Jira_Status__c", "fields the mappings write are needed")
	assert.Contains(t, all, `the Jira OAuth grant holds scope "manage:jira-configuration", which these mappings never need`)
	assert.NotContains(t, all, `scope "manage:jira-project"`, "the trigger's releases need it")

	// A grant without write access and a token without api are problems.
	e.sfEmu.SetPermissions(sfemu.Permissions{Scope: "id web"})
	sf3, err := salesforce.New(salesforce.Config{LoginURL: e.sfURL, ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret"})
	require.NoError(t, err)
	rep, err = activities.PreflightWith(e.ctx, sf3, e.jc, ms, activities.PreflightOptions{JiraScopes: []string{"read:jira-work", "offline_access"}})
	require.NoError(t, err)
	text := rep.Problems.Error()
	assert.Contains(t, text, "the Jira OAuth grant lacks scope write:jira-work")
	assert.Contains(t, text, "the Jira OAuth grant lacks scope read:jira-user, needed to look users up by e-mail")
	assert.Contains(t, text, `the Salesforce token grants scopes "id web" but not api`)
}
