package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/mappings"
)

// The least-privilege permission set preflight asks for is enough: with the Salesforce
// integration user reduced to sfemu.DefaultPackIntegrationUser (read-only parents and activity
// objects, no create or delete anywhere, edit only on the back-links and the Jira → Salesforce
// fields), the whole default pack backfills and a Jira edit flows back to Salesforce. Had
// preflight called a needed permission excess, a write here would fail with
// INSUFFICIENT_ACCESS_OR_READONLY or INVALID_FIELD_FOR_INSERT_UPDATE.
func TestDefaultPackSyncsWithTheLeastPrivilegePreflightAsksFor(t *testing.T) {
	s := newStackWith(t, stackOptions{Opportunities: 4, MappingDir: "../mappings/default",
		More: sfemu.SeedOptions{Cases: 3, FeatureRequests: 3, Activities: 6}})
	ctx := s.ctx
	s.sfEmu.SetPermissions(sfemu.DefaultPackIntegrationUser())

	for _, p := range []struct{ pair, object string }{{"opportunity-epic", "Opportunity"}, {"feature-request-story", "Feature_Request__c"}, {"case-bug", "Case"}} {
		res := s.backfillPair(p.pair, p.object)
		require.Zero(t, res.Failed, "%s: failures %+v", p.pair, res.Failures)
		require.Positive(t, res.Created, p.pair)
	}
	// A Jira edit of a both-ways field is written back to Salesforce.
	var oppID, issueID string
	require.NoError(t, s.sf.QueryEach(ctx, "SELECT Id, Jira_Issue_Id__c FROM Opportunity LIMIT 1", func(r salesforce.Record) error {
		oppID = r.ID()
		v, _ := r.Value("Jira_Issue_Id__c")
		issueID, _ = v.(string)
		return nil
	}))
	require.NotEmpty(t, issueID)
	text := fmt.Sprintf("Edited in Jira at %s", time.Now().Format(time.RFC3339Nano))
	require.NoError(t, s.jira.EditIssue(ctx, issueID, map[string]any{"description": mappings.TextToADF(text)}))
	_, _, err := s.sync(oppID)
	require.NoError(t, err)
	require.NoError(t, s.sf.QueryEach(ctx, fmt.Sprintf("SELECT Id, Description FROM Opportunity WHERE Id = '%s'", oppID), func(r salesforce.Record) error {
		v, _ := r.Value("Description")
		require.Equal(t, text, v)
		return nil
	}))
	// And the restriction is real: a field the pack only reads cannot be written by this user.
	err = s.sf.Update(ctx, "Opportunity", oppID, map[string]any{"Amount": 1})
	require.ErrorContains(t, err, "INVALID_FIELD_FOR_INSERT_UPDATE")
}
