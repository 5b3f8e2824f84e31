package activities_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/activities"
	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

// commitTriggers records a plan's trigger states the way RecordSync's commit does.
func (f *fixture) commitTriggers(t *testing.T, sfID string, cur *activities.JiraState, p *activities.TransformResult, pass int) {
	t.Helper()
	_, err := f.env.ExecuteActivity(f.acts.CommitSync, activities.CommitSyncInput{Pair: pair, OriginKey: "sf/" + sfID, SfObject: "Opportunity", SfID: sfID,
		IssueID: cur.IssueID, IssueKey: cur.IssueKey, MappingVersion: p.MappingVersion, SFSide: p.SFSide, JiraSide: p.JiraSide, Pass: pass,
		TriggerStates: p.TriggerStates})
	require.NoError(t, err)
}

func (f *fixture) runTrigger(t *testing.T, sfID string, cur *activities.JiraState, p *activities.TransformResult, action mappings.TriggerAction, pass int) activities.RunTriggerResult {
	t.Helper()
	v, err := f.env.ExecuteActivity(f.acts.RunTrigger, activities.RunTriggerInput{Pair: pair, OriginKey: "sf/" + sfID, SfID: sfID,
		IssueID: cur.IssueID, IssueKey: cur.IssueKey, MappingVersion: p.MappingVersion, Pass: pass, Action: action})
	require.NoError(t, err)
	var res activities.RunTriggerResult
	require.NoError(t, v.Get(&res))
	return res
}

func (f *fixture) children(t *testing.T, issueKey string) []jira.Issue {
	t.Helper()
	page, err := f.acts.Jira.Search(f.ctx, jira.SearchRequest{JQL: `parent = "` + issueKey + `" ORDER BY key ASC`, Fields: []string{"summary", "issuetype", "fixVersions", "description"}, Properties: []string{mappings.TriggerProperty}, MaxResults: 50})
	require.NoError(t, err)
	return page.Issues
}

// The default pack's won-deal trigger against both emulators over HTTP: it fires once when the
// Opportunity becomes Closed Won above 100,000, creates the version and three Stories once, and a
// retried or replayed action, a later pass or a small deal create nothing more.
func TestTriggerWonDealCreatesVersionAndStoriesOnce(t *testing.T) {
	f := newFixture(t)
	id := f.firstOpportunity(t, "StageName = 'Prospecting'")
	f.syncOnce(t, id)

	// The sync recorded the trigger's baseline (false) without firing it.
	_, cur, p := f.plan(t, id)
	require.Empty(t, p.FiredTriggers)
	require.Equal(t, map[string]bool{"won-deal-delivery": false}, p.TriggerStates)
	require.Equal(t, p.SidesHash, p.SnapshotHash, "nothing left to record")

	require.NoError(t, f.acts.SF.Update(f.ctx, "Opportunity", id, map[string]any{"StageName": "Closed Won", "Amount": 150000}))
	// A dry run names what the trigger would do.
	dry, err := f.acts.PlanSync(f.ctx, pair, id)
	require.NoError(t, err)
	require.Len(t, dry.Triggers, 4, "%v", dry.Triggers)
	require.Contains(t, dry.Triggers[0], "won-deal-delivery fires: version ")
	require.Contains(t, dry.Triggers[1], "won-deal-delivery fires: Story story-1 \"Kick-off with ")

	_, cur, p = f.plan(t, id)
	require.Len(t, p.FiredTriggers, 1)
	act := p.FiredTriggers[0]
	require.Equal(t, "won-deal-delivery", act.Trigger)
	require.Len(t, act.Stories, 3)
	require.True(t, strings.HasPrefix(act.VersionName, "Delivery: "), act.VersionName)
	require.False(t, p.TriggerStates["won-deal-delivery"], "a fired trigger stays false until its actions are done")
	f.commitTriggers(t, id, cur, p, 11)

	before := f.jiraEmu.Stats()
	res := f.runTrigger(t, id, cur, p, act, 11)
	require.Equal(t, []string{"version " + act.VersionName, "fix version " + act.VersionName + " on " + cur.IssueKey}, res.Created[:2])
	require.Len(t, res.Created, 5)
	require.Empty(t, res.Existing)
	after := f.jiraEmu.Stats()
	require.Equal(t, 1, postCount(after, "POST /rest/api/3/version")-postCount(before, "POST /rest/api/3/version"))
	require.Equal(t, 3, postCount(after, "POST /rest/api/3/issue")-postCount(before, "POST /rest/api/3/issue"))

	versions, err := f.acts.Jira.ProjectVersions(f.ctx, "SFJ")
	require.NoError(t, err)
	require.Len(t, versions, 1)
	require.Equal(t, act.VersionName, versions[0].Name)
	epic, err := f.acts.Jira.GetIssue(f.ctx, cur.IssueID, []string{"fixVersions"}, nil)
	require.NoError(t, err)
	require.Contains(t, string(epic.Fields["fixVersions"]), `"id":"`+versions[0].ID+`"`)
	kids := f.children(t, cur.IssueKey)
	require.Len(t, kids, 3)
	for i, k := range kids {
		var sum string
		require.NoError(t, json.Unmarshal(k.Fields["summary"], &sum))
		require.Equal(t, act.Stories[i].Summary, sum)
		require.Contains(t, string(k.Fields["issuetype"]), `"name":"Story"`)
		require.Contains(t, string(k.Fields["fixVersions"]), versions[0].ID, "Stories are in the release too")
		require.Contains(t, string(k.Properties[mappings.TriggerProperty]), `"id":"sf/`+id+`|won-deal-delivery|story-`)
	}
	require.Contains(t, string(kids[0].Fields["description"]), "Plan the kick-off meeting for")

	// The same action again (an activity retry, a replayed dead letter): nothing new.
	before = f.jiraEmu.Stats()
	res = f.runTrigger(t, id, cur, p, act, 12)
	require.Empty(t, res.Created)
	require.Len(t, res.Existing, 5)
	after = f.jiraEmu.Stats()
	require.Zero(t, postCount(after, "POST /rest/api/3/version")-postCount(before, "POST /rest/api/3/version"))
	require.Zero(t, postCount(after, "POST /rest/api/3/issue")-postCount(before, "POST /rest/api/3/issue"))
	require.Zero(t, postCount(after, "PUT /rest/api/3/issue/{issueIdOrKey}")-postCount(before, "PUT /rest/api/3/issue/{issueIdOrKey}"))
	require.Len(t, f.children(t, cur.IssueKey), 3)

	// The next pass: the condition still holds, but it did at the last sync too.
	_, _, p = f.plan(t, id)
	require.Empty(t, p.FiredTriggers)
	require.True(t, p.TriggerStates["won-deal-delivery"])

	// Audited with action trigger, naming the trigger, the version and each Story.
	rows, err := f.acts.Store.AuditFor(f.ctx, "sf/"+id)
	require.NoError(t, err)
	var fields []string
	for _, r := range rows {
		if r.Action == "trigger" && r.Pass == 11 {
			require.Nil(t, r.Before, "created in pass 11: %s", r.Field)
			fields = append(fields, r.Field+" = "+*r.After)
		}
	}
	require.Len(t, fields, 5, "%v", fields)
	require.Equal(t, "won-deal-delivery: version = "+act.VersionName+" (id "+versions[0].ID+")", fields[0])
	require.Equal(t, "won-deal-delivery: fixVersions = "+act.VersionName, fields[1])
	require.True(t, strings.HasPrefix(fields[2], "won-deal-delivery: story-1 = "+kids[0].Key+" Kick-off with "), fields[2])
}

// A small deal does not fire; a deal whose Stories were created by an attempt that crashed before
// recording them is completed without duplicates, and an existing version of the same name is
// reused.
func TestTriggerSmallDealAndCrashedAttempt(t *testing.T) {
	f := newFixture(t)
	id := f.firstOpportunity(t, "StageName = 'Prospecting'")
	f.syncOnce(t, id)

	require.NoError(t, f.acts.SF.Update(f.ctx, "Opportunity", id, map[string]any{"StageName": "Closed Won", "Amount": 50000}))
	_, cur, p := f.plan(t, id)
	require.Empty(t, p.FiredTriggers, "50,000 is not above 100,000")
	require.False(t, p.TriggerStates["won-deal-delivery"])
	f.commitTriggers(t, id, cur, p, 11)

	require.NoError(t, f.acts.SF.Update(f.ctx, "Opportunity", id, map[string]any{"Amount": 250000}))
	_, cur, p = f.plan(t, id)
	require.Len(t, p.FiredTriggers, 1, "raising the amount makes the condition true")
	act := p.FiredTriggers[0]

	// Someone already made the release by hand; an earlier attempt created story-1 and crashed
	// before recording it, and the search index lags behind.
	pid, err := f.acts.Jira.ProjectID(f.ctx, "SFJ")
	require.NoError(t, err)
	_, err = f.acts.Jira.CreateVersion(f.ctx, pid, strings.ToUpper(act.VersionName), "")
	require.NoError(t, err)
	origin := "sf/" + id
	f.jiraEmu.SetFaults(jiraemu.Faults{SearchLagMS: 1500})
	require.NoError(t, f.acts.Store.SaveTriggerItem(f.ctx, storeItem(origin, "story-1")))
	earlier, err := f.acts.Jira.CreateIssue(f.ctx, jira.IssueInput{Fields: map[string]any{"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Story"},
		"summary": act.Stories[0].Summary, "parent": map[string]any{"id": cur.IssueID}},
		Properties: []jira.EntityProperty{{Key: mappings.TriggerProperty, Value: map[string]any{
			"id": origin + "|won-deal-delivery|story-1", "origin": origin, "pair": pair, "trigger": "won-deal-delivery", "item": "story-1"}}}})
	require.NoError(t, err)

	res := f.runTrigger(t, id, cur, p, act, 12)
	require.Contains(t, res.Existing, "version "+strings.ToUpper(act.VersionName), "found by name, ignoring case")
	require.Contains(t, res.Existing, "story "+earlier.Key, "the crashed attempt's Story is adopted")
	require.Len(t, res.Created, 3, "fix version, story-2, story-3: %v", res.Created)
	versions, err := f.acts.Jira.ProjectVersions(f.ctx, "SFJ")
	require.NoError(t, err)
	require.Len(t, versions, 1)
	// Search shows the new Stories once its index catches up: three, not four.
	require.Eventually(t, func() bool { return len(f.children(t, cur.IssueKey)) == 3 }, 5*time.Second, 100*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	require.Len(t, f.children(t, cur.IssueKey), 3)
}

func storeItem(origin, item string) store.TriggerItem {
	return store.TriggerItem{OriginKey: origin, Trigger: "won-deal-delivery", Item: item}
}

// A trigger added to the mapping after a pair was synced records its baseline on the next pass
// instead of firing for every deal already won, and that pass commits even with nothing to write.
func TestTriggerNewTriggerRecordsBaseline(t *testing.T) {
	f := newFixture(t)
	id := f.firstOpportunity(t, "StageName = 'Prospecting'")
	f.syncOnce(t, id)
	require.NoError(t, f.acts.SF.Update(f.ctx, "Opportunity", id, map[string]any{"StageName": "Closed Won", "Amount": 300000}))
	f.syncOnce(t, id)
	_, err := f.acts.Store.Pool().Exec(f.ctx, `DELETE FROM trigger_state`)
	require.NoError(t, err)
	_, cur, p := f.plan(t, id)
	require.Empty(t, p.FiredTriggers, "no recorded state: baseline, not a transition")
	require.Equal(t, map[string]bool{"won-deal-delivery": true}, p.TriggerStates)
	require.NotEqual(t, p.SidesHash, p.SnapshotHash, "the baseline makes the pass commit")
	f.commitTriggers(t, id, cur, p, 20)
	_, _, p = f.plan(t, id)
	require.Empty(t, p.FiredTriggers)
	require.Equal(t, p.SidesHash, p.SnapshotHash)
}

// Preflight checks the Salesforce fields a trigger reads against the live org, naming the file,
// the trigger's line and the fix; the default pack's trigger passes.
func TestPreflightChecksTriggerFields(t *testing.T) {
	e := newPreflightEnv(t)
	src := `version: 1
pair: opportunity-epic
salesforce: { object: Opportunity, external_id_field: Jira_Issue_Id__c }
jira: { project: SFJ, issue_type: Epic }
fields:
  - { sf: Name, jira: summary, type: text, required: true }
triggers:
  - name: won
    becomes: 'StageNam = "Closed Won" and Amount > 100000'
    story_type: Deliverable
    stories:
      - summary: 'concat("Kick-off with ", Account.Nme)'
`
	path := t.TempDir() + "/trigger.yaml"
	require.NoError(t, os.WriteFile(path, []byte(src), 0o644))
	m, err := mappings.LoadFile(path)
	require.NoError(t, err, "offline the file is valid")
	rep, err := activities.Preflight(e.ctx, e.sf, e.jc, []*mappings.Mapping{m})
	require.NoError(t, err)
	var got []string
	for _, p := range rep.Problems {
		if strings.Contains(p.Error(), "trigger") {
			got = append(got, strings.TrimPrefix(p.Error(), path+":"))
		}
	}
	require.Equal(t, []string{
		`8:5: Salesforce field "StageNam" (in trigger won) does not exist: no field "StageNam" on Opportunity (fix: use the field's API name in the trigger's expressions (custom fields end in __c; parent fields go through the relationship, e.g. Account.Name))`,
		`8:5: Salesforce field "Account.Nme" (in trigger won) does not exist: no field "Nme" on Account (fix: use the field's API name in the trigger's expressions (custom fields end in __c; parent fields go through the relationship, e.g. Account.Name))`,
		`8: trigger won creates "Deliverable" issues, which Jira project SFJ does not have (fix: set story_type to one of: Epic, Story, Task, Bug, Subtask)`,
	}, got)
}
