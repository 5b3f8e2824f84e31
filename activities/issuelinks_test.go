package activities_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/mappings"
)

// syncPair runs one pass of a Salesforce-origin pair like RecordSync: write Jira, back-link,
// verify, commit; it returns the pair's issue key.
func (f *fixture) syncPair(t *testing.T, pairName, object, sfID string) string {
	t.Helper()
	origin := "sf/" + sfID
	for step := 0; step < 3; step++ {
		var src activities.FetchSalesforceResult
		v, err := f.env.ExecuteActivity(f.acts.FetchSalesforce, activities.FetchSalesforceInput{Pair: pairName, SfID: sfID})
		require.NoError(t, err)
		require.NoError(t, v.Get(&src))
		var cur activities.JiraState
		v, err = f.env.ExecuteActivity(f.acts.FetchJira, activities.FetchJiraInput{Pair: pairName, OriginKey: origin, LinkedIssueID: src.LinkedIssueID})
		require.NoError(t, err)
		require.NoError(t, v.Get(&cur))
		var p activities.TransformResult
		v, err = f.env.ExecuteActivity(f.acts.Transform, activities.TransformInput{Pair: pairName, OriginKey: origin, SF: src, Jira: cur})
		require.NoError(t, err)
		require.NoError(t, v.Get(&p))
		if p.CreateJira {
			_, err := f.env.ExecuteActivity(f.acts.WriteJira, activities.WriteJiraInput{Pair: pairName, OriginKey: origin, SfObject: object, SfID: sfID, Create: true, Fields: p.JiraFields, Status: p.Status, Resolution: p.Resolution})
			require.NoError(t, err)
			continue
		}
		if len(p.JiraFields) > 0 || p.Status != "" {
			_, err := f.env.ExecuteActivity(f.acts.WriteJira, activities.WriteJiraInput{Pair: pairName, OriginKey: origin, SfID: sfID, IssueID: cur.IssueID, IssueKey: cur.IssueKey, Fields: p.JiraFields, Status: p.Status, Resolution: p.Resolution, Before: cur.Projection})
			require.NoError(t, err)
		}
		_, err = f.env.ExecuteActivity(f.acts.WriteSalesforce, activities.WriteSalesforceInput{Pair: pairName, OriginKey: origin, SfID: sfID, Fields: p.SFFields, IssueID: cur.IssueID, IssueKey: cur.IssueKey, CurrentIssueID: src.LinkedIssueID, CurrentIssueKey: src.LinkedIssueKey})
		require.NoError(t, err)
		var vr activities.VerifyPairResult
		v, err = f.env.ExecuteActivity(f.acts.VerifyPair, activities.VerifyPairInput{Pair: pairName, OriginKey: origin, SfID: sfID, IssueID: cur.IssueID, Checks: p.Checks})
		require.NoError(t, err)
		require.NoError(t, v.Get(&vr))
		_, err = f.env.ExecuteActivity(f.acts.CommitSync, activities.CommitSyncInput{Pair: pairName, OriginKey: origin, SfObject: object, SfID: sfID, IssueID: cur.IssueID, IssueKey: vr.IssueKey,
			MappingVersion: p.MappingVersion, SFSide: p.ExpectSF, JiraSide: p.ExpectJira, Held: p.Held, Pass: step + 1})
		require.NoError(t, err)
		return vr.IssueKey
	}
	t.Fatal("no convergence in 3 steps")
	return ""
}

// A Feature Request's Opportunity lookup, mapped to a Relates link instead of the parent: the
// Story gets one link to the Opportunity's Epic, re-pointed when the lookup changes, removed
// when it is cleared, and never doubled by re-syncs.
func TestLookupWrittenAsIssueLink(t *testing.T) {
	f := newFixture(t)
	ms, err := mappings.LoadDir("../mappings/default")
	require.NoError(t, err)
	raw, err := os.ReadFile("../mappings/default/feature-request-story.yaml")
	require.NoError(t, err)
	// Salesforce → Jira only: the Salesforce lookup owns the link (see lookups_test.go for both ways).
	src := strings.Replace(string(raw), "    jira: parent\n    type: lookup\n    direction: both\n    conflict: last_writer_wins\n", "    jira: issuelinks\n    type: lookup\n    link_type: Relates\n", 1)
	require.NotEqual(t, string(raw), src)
	fr, err := mappings.Load("feature-request-story.yaml", []byte(src))
	require.NoError(t, err)
	for i, m := range ms {
		if m.Pair == fr.Pair {
			ms[i] = fr
		}
	}
	f.acts.Mappings, err = activities.NewMappingSet(ms, f.acts.Jira)
	require.NoError(t, err)

	// Two Opportunities whose Epics exist in Jira.
	var epics, opps []string
	res, err := f.acts.SF.Query(f.ctx, "SELECT Id FROM Opportunity ORDER BY Id LIMIT 2")
	require.NoError(t, err)
	require.Len(t, res.Records, 2)
	for i, r := range res.Records {
		c, err := f.acts.Jira.CreateIssue(f.ctx, jira.IssueInput{Fields: map[string]any{"project": map[string]any{"key": "SFJ"},
			"issuetype": map[string]any{"name": "Epic"}, "summary": "Epic " + string(rune('A'+i))}})
		require.NoError(t, err)
		require.NoError(t, f.acts.SF.Update(f.ctx, "Opportunity", r.ID(), map[string]any{"Jira_Issue_Id__c": c.ID}))
		epics, opps = append(epics, c.ID), append(opps, r.ID())
	}
	frID, err := f.acts.SF.Create(f.ctx, "Feature_Request__c", map[string]any{"Name": "SSO", "Status__c": "Submitted", "Opportunity__c": opps[0]})
	require.NoError(t, err)

	relates := func(key string) []string {
		t.Helper()
		is, err := f.acts.Jira.GetIssue(f.ctx, key, []string{"issuelinks", "parent"}, nil)
		require.NoError(t, err)
		require.NotContains(t, string(is.Fields["parent"]), "id", "the lookup goes to a link, not the parent")
		var out []string
		for _, l := range is.Links() {
			if l.Type.Name == "Relates" {
				require.NotNil(t, l.OutwardIssue, "link %s points the wrong way", l.ID)
				out = append(out, l.OutwardIssue.ID)
			}
		}
		return out
	}
	creates := func() int { return postCount(f.jiraEmu.Stats(), "POST /rest/api/3/issueLink") }

	key := f.syncPair(t, fr.Pair, "Feature_Request__c", frID)
	require.Equal(t, []string{epics[0]}, relates(key), "created with the issue")
	require.Equal(t, 1, creates())

	f.syncPair(t, fr.Pair, "Feature_Request__c", frID)
	f.syncPair(t, fr.Pair, "Feature_Request__c", frID)
	require.Equal(t, []string{epics[0]}, relates(key), "re-sync keeps one link")
	require.Equal(t, 1, creates(), "re-sync creates nothing")

	require.NoError(t, f.acts.SF.Update(f.ctx, "Feature_Request__c", frID, map[string]any{"Opportunity__c": opps[1]}))
	f.syncPair(t, fr.Pair, "Feature_Request__c", frID)
	require.Equal(t, []string{epics[1]}, relates(key), "replaced when the lookup changes")

	// Someone adds a second Relates link in Jira: the next sync brings it back to one.
	require.NoError(t, f.acts.Jira.CreateIssueLink(f.ctx, "Relates", key, epics[0]))
	require.Len(t, relates(key), 2)
	f.syncPair(t, fr.Pair, "Feature_Request__c", frID)
	require.Equal(t, []string{epics[1]}, relates(key), "duplicate removed")

	require.NoError(t, f.acts.SF.Update(f.ctx, "Feature_Request__c", frID, map[string]any{"Opportunity__c": nil}))
	f.syncPair(t, fr.Pair, "Feature_Request__c", frID)
	require.Empty(t, relates(key), "removed when the lookup is cleared")
	require.Equal(t, 3, creates())
}

// Preflight asks Jira for its link types and names the line of a link_type it lacks.
func TestPreflightChecksLinkTypeAgainstJira(t *testing.T) {
	e := newPreflightEnv(t)
	raw, err := os.ReadFile("../mappings/default/feature-request-story.yaml")
	require.NoError(t, err)
	load := func(linkType string) *mappings.Mapping {
		src := strings.Replace(string(raw), "    jira: parent\n    type: lookup\n", "    jira: issuelinks\n    type: lookup\n    link_type: "+linkType+"\n", 1)
		m, err := mappings.Load("fr.yaml", []byte(src))
		require.NoError(t, err)
		return m
	}
	rep, err := activities.Preflight(e.ctx, e.sf, e.jc, []*mappings.Mapping{load("Relates")})
	require.NoError(t, err)
	require.Empty(t, rep.Problems, "%v", rep.Problems)

	rep, err = activities.Preflight(e.ctx, e.sf, e.jc, []*mappings.Mapping{load("Relate")})
	require.NoError(t, err)
	require.Len(t, rep.Problems, 1)
	require.Equal(t, `fr.yaml:49: Jira has no issue link type "Relate" (link_type of field Opportunity__r.Jira_Issue_Id__c) (fix: did you mean "Relates"?)`, rep.Problems[0].Error())
}

// The bulk backfill writes issue-link lookups too: Jira refuses issuelinks in the bulk create
// request, so each created issue gets its link right after (one link per record, none twice).
func TestBulkBackfillWritesIssueLinkLookups(t *testing.T) {
	f := newFixture(t)
	ms, err := mappings.LoadDir("../mappings/default")
	require.NoError(t, err)
	raw, err := os.ReadFile("../mappings/default/feature-request-story.yaml")
	require.NoError(t, err)
	src := strings.Replace(string(raw), "    jira: parent\n    type: lookup\n    direction: both\n    conflict: last_writer_wins\n", "    jira: issuelinks\n    type: lookup\n    link_type: Relates\n", 1)
	require.NotEqual(t, string(raw), src)
	fr, err := mappings.Load("feature-request-story.yaml", []byte(src))
	require.NoError(t, err)
	for i, m := range ms {
		if m.Pair == fr.Pair {
			ms[i] = fr
		}
	}
	f.acts.Mappings, err = activities.NewMappingSet(ms, f.acts.Jira)
	require.NoError(t, err)

	// Three Feature Requests on two Opportunities; every Opportunity with requests gets an Epic.
	opps, err := f.acts.SF.Query(f.ctx, "SELECT Id FROM Opportunity ORDER BY Id LIMIT 2")
	require.NoError(t, err)
	require.Len(t, opps.Records, 2)
	for i, name := range []string{"SSO", "Audit export", "Bulk API"} {
		_, err := f.acts.SF.Create(f.ctx, "Feature_Request__c", map[string]any{"Name": name, "Status__c": "Submitted", "Opportunity__c": opps.Records[i%2].ID()})
		require.NoError(t, err)
	}
	epicOf := map[string]string{}
	res, err := f.acts.SF.Query(f.ctx, "SELECT Id, Opportunity__c FROM Feature_Request__c")
	require.NoError(t, err)
	require.NotEmpty(t, res.Records)
	for _, r := range res.Records {
		opp, _ := r.Value("Opportunity__c")
		o, _ := opp.(string)
		if o == "" || epicOf[o] != "" {
			continue
		}
		c, err := f.acts.Jira.CreateIssue(f.ctx, jira.IssueInput{Fields: map[string]any{"project": map[string]any{"key": "SFJ"},
			"issuetype": map[string]any{"name": "Epic"}, "summary": "Epic of " + o}})
		require.NoError(t, err)
		require.NoError(t, f.acts.SF.Update(f.ctx, "Opportunity", o, map[string]any{"Jira_Issue_Id__c": c.ID}))
		epicOf[o] = c.ID
	}

	v, err := f.env.ExecuteActivity(f.acts.BulkSyncPage, activities.BulkPageInput{Pair: fr.Pair, SfObject: "Feature_Request__c", JiraProject: "SFJ", PageSize: 2000, Concurrency: 2})
	require.NoError(t, err)
	var page activities.BulkPageResult
	require.NoError(t, v.Get(&page))
	require.Empty(t, page.Failures, "no record fails for its link")
	require.Equal(t, len(res.Records), page.Created)

	for _, r := range res.Records {
		opp, _ := r.Value("Opportunity__c")
		l, err := f.acts.Store.GetLink(f.ctx, fr.Pair+"/"+r.ID())
		if err != nil {
			l, err = f.acts.Store.GetLink(f.ctx, "sf/"+r.ID())
		}
		require.NoError(t, err)
		is, err := f.acts.Jira.GetIssue(f.ctx, l.JiraIssueID, []string{"issuelinks"}, nil)
		require.NoError(t, err)
		var to []string
		for _, lk := range is.Links() {
			if lk.Type.Name == "Relates" && lk.OutwardIssue != nil {
				to = append(to, lk.OutwardIssue.ID)
			}
		}
		if o, _ := opp.(string); o != "" {
			require.Equal(t, []string{epicOf[o]}, to, "%s links to its Opportunity's Epic, once", r.ID())
		} else {
			require.Empty(t, to)
		}
	}
}
