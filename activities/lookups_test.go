package activities_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/mappings"
)

const storyPair = "feature-request-story"

// planPair fetches both sides of a Salesforce-origin pair of any mapping and runs Transform; a
// Transform error is returned, not failed on.
func (f *fixture) planPair(t *testing.T, pairName, sfID string) (*activities.FetchSalesforceResult, *activities.JiraState, *activities.TransformResult, error) {
	t.Helper()
	origin := "sf/" + sfID
	v, err := f.env.ExecuteActivity(f.acts.FetchSalesforce, activities.FetchSalesforceInput{Pair: pairName, SfID: sfID})
	require.NoError(t, err)
	var src activities.FetchSalesforceResult
	require.NoError(t, v.Get(&src))
	v, err = f.env.ExecuteActivity(f.acts.FetchJira, activities.FetchJiraInput{Pair: pairName, OriginKey: origin, LinkedIssueID: src.LinkedIssueID})
	require.NoError(t, err)
	var cur activities.JiraState
	require.NoError(t, v.Get(&cur))
	v, err = f.env.ExecuteActivity(f.acts.Transform, activities.TransformInput{Pair: pairName, OriginKey: origin, SF: src, Jira: cur, RealtimeOnly: true})
	if err != nil {
		return &src, &cur, nil, err
	}
	var p activities.TransformResult
	require.NoError(t, v.Get(&p))
	return &src, &cur, &p, nil
}

// editPass runs one pass on an existing pair the way RecordSync does: plan, write Jira, write
// Salesforce with the before-image and the optimistic-concurrency stamp, verify, commit with
// the audit rows. It returns the plan it carried out.
func (f *fixture) editPass(t *testing.T, pairName, object, sfID string) *activities.TransformResult {
	t.Helper()
	src, cur, p, err := f.planPair(t, pairName, sfID)
	require.NoError(t, err)
	require.False(t, p.CreateJira || p.CreateSalesforce)
	if len(p.JiraFields) > 0 || p.Status != "" {
		_, err := f.env.ExecuteActivity(f.acts.WriteJira, activities.WriteJiraInput{Pair: pairName, OriginKey: "sf/" + sfID, SfID: sfID, IssueID: cur.IssueID, IssueKey: cur.IssueKey,
			Fields: p.JiraFields, Status: p.Status, Resolution: p.Resolution, Before: cur.Projection})
		require.NoError(t, err)
	}
	var sw activities.WriteSalesforceResult
	if len(p.SFFields) > 0 {
		v, err := f.env.ExecuteActivity(f.acts.WriteSalesforce, activities.WriteSalesforceInput{Pair: pairName, OriginKey: "sf/" + sfID, SfID: sfID, Fields: p.SFFields,
			IssueID: cur.IssueID, IssueKey: cur.IssueKey, CurrentIssueID: src.LinkedIssueID, CurrentIssueKey: src.LinkedIssueKey, Before: p.SFBefore, ExpectModstamp: src.Modstamp})
		require.NoError(t, err)
		require.NoError(t, v.Get(&sw))
		require.False(t, sw.Stale)
	}
	v, err := f.env.ExecuteActivity(f.acts.VerifyPair, activities.VerifyPairInput{Pair: pairName, OriginKey: "sf/" + sfID, SfID: sfID, IssueID: cur.IssueID, Checks: p.Checks})
	require.NoError(t, err)
	var vr activities.VerifyPairResult
	require.NoError(t, v.Get(&vr))
	_, err = f.env.ExecuteActivity(f.acts.CommitSync, activities.CommitSyncInput{Pair: pairName, OriginKey: "sf/" + sfID, SfObject: object, SfID: sfID, IssueID: cur.IssueID, IssueKey: vr.IssueKey,
		MappingVersion: p.MappingVersion, SFSide: p.ExpectSF, JiraSide: p.ExpectJira, Held: p.Held, Pass: 1, Direction: activities.DirectionBidirectional,
		SfChanges: sw.Changes, Decisions: p.Decisions, Reasons: p.Reasons, SourceTime: p.SourceTime})
	require.NoError(t, err)
	return p
}

// twoSyncedOpportunities syncs two Opportunities to Epics (links recorded) and returns their
// ids and Epic issue ids and keys.
func (f *fixture) twoSyncedOpportunities(t *testing.T) (opps, epicIDs, epicKeys []string) {
	t.Helper()
	res, err := f.acts.SF.Query(f.ctx, "SELECT Id FROM Opportunity WHERE StageName = 'Prospecting' ORDER BY Id LIMIT 2")
	require.NoError(t, err)
	if len(res.Records) < 2 {
		res, err = f.acts.SF.Query(f.ctx, "SELECT Id FROM Opportunity ORDER BY Id LIMIT 2")
		require.NoError(t, err)
	}
	require.Len(t, res.Records, 2)
	for _, r := range res.Records {
		vr := f.syncOnce(t, r.ID())
		link, err := f.acts.Store.GetLink(f.ctx, "sf/"+r.ID())
		require.NoError(t, err)
		opps, epicIDs, epicKeys = append(opps, r.ID()), append(epicIDs, link.JiraIssueID), append(epicKeys, vr.IssueKey)
	}
	return opps, epicIDs, epicKeys
}

func (f *fixture) featureRequestOpportunity(t *testing.T, frID string) any {
	t.Helper()
	rec, err := f.acts.SF.Get(f.ctx, "Feature_Request__c", frID, "Opportunity__c")
	require.NoError(t, err)
	return rec["Opportunity__c"]
}

// A Story moved under another Epic in Jira moves its Feature Request to that Epic's
// Opportunity (the default pack maps the parent both ways), audited with the lookup's exact
// before-image; moving it under an Epic no Opportunity is linked to stops the pass with
// MAPPING_LOOKUP_UNLINKED naming both issues and the fix, and writes nothing; taking it out of
// every Epic clears the lookup.
func TestStoryReparentedInJiraMovesFeatureRequest(t *testing.T) {
	f := newFixture(t)
	opps, epicIDs, epicKeys := f.twoSyncedOpportunities(t)
	frID, err := f.acts.SF.Create(f.ctx, "Feature_Request__c", map[string]any{"Name": "SSO", "Status__c": "Submitted", "Opportunity__c": opps[0]})
	require.NoError(t, err)
	storyKey := f.syncPair(t, storyPair, "Feature_Request__c", frID)
	story, err := f.acts.Jira.GetIssue(f.ctx, storyKey, []string{"parent"}, nil)
	require.NoError(t, err)
	require.Contains(t, string(story.Fields["parent"]), `"id":"`+epicIDs[0]+`"`, "the Story starts under Epic A")

	// A person moves the Story under Epic B.
	require.NoError(t, f.acts.Jira.EditIssue(f.ctx, storyKey, map[string]any{"parent": map[string]any{"key": epicKeys[1]}}))
	p := f.editPass(t, storyPair, "Feature_Request__c", frID)
	assert.Equal(t, map[string]any{"Opportunity__c": opps[1]}, p.SFFields, "the lookup field is written, with the Opportunity linked to Epic B")
	assert.Empty(t, p.JiraFields, "nothing goes back to Jira")
	assert.Equal(t, opps[0], p.SFBefore["Opportunity__c"], "the before-image is the old Opportunity, not an issue id")
	assert.Equal(t, activities.ReasonJiraChanged, p.Reasons["salesforce:Opportunity__c"])
	assert.Equal(t, opps[1], f.featureRequestOpportunity(t, frID))
	audit, err := f.acts.Store.AuditFor(f.ctx, "sf/"+frID)
	require.NoError(t, err)
	var moved bool
	for _, a := range audit {
		if a.TargetSystem == activities.SystemSalesforce && a.Field == "Opportunity__c" && a.Before != nil && *a.Before == opps[0] && a.After != nil && *a.After == opps[1] {
			moved = true
			assert.Equal(t, activities.ReasonJiraChanged, a.DecidedBy)
			assert.JSONEq(t, `"`+opps[0]+`"`, string(a.BeforeRaw), "exact before-image for rollback")
		}
	}
	assert.True(t, moved, "the audit holds Opportunity__c %s → %s: %+v", opps[0], opps[1], audit)

	// The Salesforce change comes back as an event: nothing goes back to the parent, but the
	// Story now shows the new Opportunity's customer (Opportunity__r.Account.Name).
	acct, err := f.acts.SF.Query(f.ctx, "SELECT Account.Name FROM Opportunity WHERE Id = '"+opps[1]+"'")
	require.NoError(t, err)
	customerB, _ := acct.Records[0].Value("Account.Name")
	p = f.editPass(t, storyPair, "Feature_Request__c", frID)
	assert.Empty(t, p.SFFields, "the echo writes nothing back to Salesforce")
	assert.Equal(t, map[string]any{"customfield_10052": customerB}, p.JiraFields)
	_, _, again, err := f.planPair(t, storyPair, frID)
	require.NoError(t, err)
	assert.True(t, again.NothingToWrite(), "in step: %+v / %+v", again.JiraFields, again.SFFields)

	// An Epic created in Jira only: no Opportunity is linked to it.
	lone, err := f.acts.Jira.CreateIssue(f.ctx, jira.IssueInput{Fields: map[string]any{"project": map[string]any{"key": "SFJ"},
		"issuetype": map[string]any{"name": "Epic"}, "summary": "Jira-only Epic"}})
	require.NoError(t, err)
	require.NoError(t, f.acts.Jira.EditIssue(f.ctx, storyKey, map[string]any{"parent": map[string]any{"key": lone.Key}}))
	_, _, _, err = f.planPair(t, storyPair, frID)
	require.Error(t, err)
	app := appErr(t, err)
	assert.Equal(t, "MAPPING_LOOKUP_UNLINKED", app.Type())
	assert.True(t, app.NonRetryable())
	for _, want := range []string{"Feature_Request__c " + frID, "Jira issue " + storyKey + " now has parent " + lone.Key + " (id " + lone.ID + ")",
		"not linked to a Salesforce record", "Opportunity__c cannot follow it", "fix: in Jira, point the parent of " + storyKey, "sfjira dlq replay"} {
		assert.Contains(t, app.Error(), want)
	}
	assert.Equal(t, opps[1], f.featureRequestOpportunity(t, frID), "nothing was written")

	// Back under Epic A, then out of every Epic: the lookup follows, then is cleared.
	require.NoError(t, f.acts.Jira.EditIssue(f.ctx, storyKey, map[string]any{"parent": map[string]any{"id": epicIDs[0]}}))
	f.editPass(t, storyPair, "Feature_Request__c", frID)
	assert.Equal(t, opps[0], f.featureRequestOpportunity(t, frID))
	f.editPass(t, storyPair, "Feature_Request__c", frID) // the customer follows
	require.NoError(t, f.acts.Jira.EditIssue(f.ctx, storyKey, map[string]any{"parent": nil}))
	p = f.editPass(t, storyPair, "Feature_Request__c", frID)
	assert.Equal(t, map[string]any{"Opportunity__c": nil}, p.SFFields)
	assert.Nil(t, f.featureRequestOpportunity(t, frID))
}

// The same lookup mapped both ways to a Relates link: re-pointing the link in Jira moves the
// Salesforce lookup, and a second link of the type (the lookup holds one record) stops the
// pass with MAPPING_LOOKUP_AMBIGUOUS naming both linked issues.
func TestIssueLinkChangedInJiraMovesLookup(t *testing.T) {
	f := newFixture(t)
	ms, err := mappings.LoadDir("../mappings/default")
	require.NoError(t, err)
	raw, err := os.ReadFile("../mappings/default/feature-request-story.yaml")
	require.NoError(t, err)
	src := strings.Replace(string(raw), "    jira: parent\n    type: lookup\n", "    jira: issuelinks\n    type: lookup\n    link_type: Relates\n", 1)
	require.NotEqual(t, string(raw), src)
	fr, err := mappings.Load("feature-request-story.yaml", []byte(src))
	require.NoError(t, err)
	require.Equal(t, mappings.DirBoth, fr.Fields[2].Direction)
	for i, m := range ms {
		if m.Pair == fr.Pair {
			ms[i] = fr
		}
	}
	f.acts.Mappings, err = activities.NewMappingSet(ms, f.acts.Jira)
	require.NoError(t, err)

	opps, epicIDs, epicKeys := f.twoSyncedOpportunities(t)
	frID, err := f.acts.SF.Create(f.ctx, "Feature_Request__c", map[string]any{"Name": "SSO", "Status__c": "Submitted", "Opportunity__c": opps[0]})
	require.NoError(t, err)
	storyKey := f.syncPair(t, storyPair, "Feature_Request__c", frID)
	relates := func() []jira.IssueLink {
		is, err := f.acts.Jira.GetIssue(f.ctx, storyKey, []string{"issuelinks"}, nil)
		require.NoError(t, err)
		var out []jira.IssueLink
		for _, l := range is.Links() {
			if l.Type.Name == "Relates" && l.OutwardIssue != nil {
				out = append(out, l)
			}
		}
		return out
	}
	links := relates()
	require.Len(t, links, 1)
	require.Equal(t, epicIDs[0], links[0].OutwardIssue.ID)

	// A person re-points the link to Epic B.
	require.NoError(t, f.acts.Jira.DeleteIssueLink(f.ctx, links[0].ID))
	require.NoError(t, f.acts.Jira.CreateIssueLink(f.ctx, "Relates", storyKey, epicKeys[1]))
	p := f.editPass(t, storyPair, "Feature_Request__c", frID)
	assert.Equal(t, map[string]any{"Opportunity__c": opps[1]}, p.SFFields)
	assert.Equal(t, opps[1], f.featureRequestOpportunity(t, frID))

	// A second Relates link: the lookup cannot hold both.
	require.NoError(t, f.acts.Jira.CreateIssueLink(f.ctx, "Relates", storyKey, epicKeys[0]))
	_, _, _, err = f.planPair(t, storyPair, frID)
	require.Error(t, err)
	app := appErr(t, err)
	assert.Equal(t, "MAPPING_LOOKUP_AMBIGUOUS", app.Type())
	for _, want := range []string{"Jira issue " + storyKey + " has 2 Relates links", epicKeys[0], epicKeys[1], "Opportunity__c holds one record", `remove all but one "Relates" link on ` + storyKey} {
		assert.Contains(t, app.Error(), want)
	}
	assert.Equal(t, opps[1], f.featureRequestOpportunity(t, frID), "nothing was written")

	// The link re-pointed to a Bug synced from a Case: linked, but not an Opportunity.
	for _, l := range relates() {
		require.NoError(t, f.acts.Jira.DeleteIssueLink(f.ctx, l.ID))
	}
	caseID, err := f.acts.SF.Create(f.ctx, "Case", map[string]any{"Subject": "Login fails", "Status": "New", "Priority": "High"})
	require.NoError(t, err)
	bugKey := f.syncPair(t, "case-bug", "Case", caseID)
	require.NoError(t, f.acts.Jira.CreateIssueLink(f.ctx, "Relates", storyKey, bugKey))
	_, _, _, err = f.planPair(t, storyPair, frID)
	require.Error(t, err)
	app = appErr(t, err)
	assert.Equal(t, "MAPPING_LOOKUP_UNLINKED", app.Type())
	for _, want := range []string{"Jira issue " + storyKey + ` now has "Relates" link ` + bugKey, "linked to Case " + caseID + " (pair case-bug)",
		"not to the kind of record Opportunity__c holds (now " + opps[1] + ")", "fix: in Jira, point the \"Relates\" link of " + storyKey} {
		assert.Contains(t, app.Error(), want)
	}
	assert.Equal(t, opps[1], f.featureRequestOpportunity(t, frID), "nothing was written")
}

// Preflight checks the field a lookup writes back, on the live schema: it must be an updateable
// lookup. CreatedBy is a relationship whose field (CreatedById) Salesforce never lets anyone write.
func TestPreflightChecksLookupFieldWrittenBack(t *testing.T) {
	e := newPreflightEnv(t)
	raw, err := os.ReadFile("../mappings/default/feature-request-story.yaml")
	require.NoError(t, err)
	src := strings.Replace(string(raw), "  - sf: Opportunity__r.Jira_Issue_Id__c\n", "  - sf: CreatedBy.Id\n", 1)
	require.NotEqual(t, string(raw), src)
	m, err := mappings.Load("fr.yaml", []byte(src))
	require.NoError(t, err)
	require.Equal(t, "CreatedById", m.Fields[2].LookupField())
	rep, err := activities.Preflight(e.ctx, e.sf, e.jc, []*mappings.Mapping{m})
	require.NoError(t, err)
	var msgs []string
	for _, p := range rep.Problems {
		msgs = append(msgs, p.Error())
	}
	assert.Equal(t, []string{"fr.yaml:46:5: lookup field Feature_Request__c.CreatedById is not updateable but the mapping writes it (direction both) (fix: give the integration user edit access to the lookup field, or use direction: sf_to_jira)"}, msgs)
}

// direction: jira_to_sf — Jira owns the hierarchy: the Story is created without a parent, so
// the first sync clears the Feature Request's lookup (the owner side is the truth), and putting
// the Story under an Epic later sets it to that Epic's Opportunity.
func TestLookupOwnedByJira(t *testing.T) {
	f := newFixture(t)
	ms, err := mappings.LoadDir("../mappings/default")
	require.NoError(t, err)
	raw, err := os.ReadFile("../mappings/default/feature-request-story.yaml")
	require.NoError(t, err)
	src := strings.Replace(string(raw), "    jira: parent\n    type: lookup\n    direction: both\n", "    jira: parent\n    type: lookup\n    direction: jira_to_sf\n", 1)
	require.NotEqual(t, string(raw), src)
	fr, err := mappings.Load("feature-request-story.yaml", []byte(src))
	require.NoError(t, err)
	require.Equal(t, mappings.DirJiraToSF, fr.Fields[2].Direction)
	for i, m := range ms {
		if m.Pair == fr.Pair {
			ms[i] = fr
		}
	}
	f.acts.Mappings, err = activities.NewMappingSet(ms, f.acts.Jira)
	require.NoError(t, err)

	opps, _, epicKeys := f.twoSyncedOpportunities(t)
	frID, err := f.acts.SF.Create(f.ctx, "Feature_Request__c", map[string]any{"Name": "SSO", "Status__c": "Submitted", "Opportunity__c": opps[0]})
	require.NoError(t, err)
	storyKey := f.syncPair(t, storyPair, "Feature_Request__c", frID)
	story, err := f.acts.Jira.GetIssue(f.ctx, storyKey, []string{"parent"}, nil)
	require.NoError(t, err)
	require.NotContains(t, string(story.Fields["parent"]), `"id"`, "Salesforce does not place the Story")
	assert.Nil(t, f.featureRequestOpportunity(t, frID), "the Story has no Epic, so the lookup is cleared")

	require.NoError(t, f.acts.Jira.EditIssue(f.ctx, storyKey, map[string]any{"parent": map[string]any{"key": epicKeys[1]}}))
	p := f.editPass(t, storyPair, "Feature_Request__c", frID)
	assert.Equal(t, opps[1], p.SFFields["Opportunity__c"])
	assert.Equal(t, opps[1], f.featureRequestOpportunity(t, frID))
}
