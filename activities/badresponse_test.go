package activities_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/activities"
	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/catalog"
)

// Every kind of malformed answer the emulators can send reaches the workflow as its system's
// MALFORMED_RESPONSE code, retryable (the next attempt usually gets a good answer), with the start
// of the body in the message; none is taken for data.
func TestMalformedAnswersAreClassifiedRetryable(t *testing.T) {
	f := newFixture(t)
	id := f.firstOpportunity(t, "StageName = 'Prospecting'")
	f.syncOnce(t, id)
	link, err := f.acts.Store.GetLink(f.ctx, "sf/"+id)
	require.NoError(t, err)
	for _, body := range []string{"truncated", "html", "empty", "wrong_types"} {
		f.jiraEmu.SetFaults(jiraemu.Faults{Rules: []jiraemu.FaultRule{{Endpoint: "GET /rest/api/3/issue/{issueIdOrKey}", Kind: "malformed", Body: body}}})
		_, err := f.env.ExecuteActivity(f.acts.FetchJira, activities.FetchJiraInput{Pair: pair, OriginKey: "sf/" + id, LinkedIssueID: link.JiraIssueID})
		app := appErr(t, err)
		require.Equal(t, string(catalog.JiraMalformed), app.Type(), "%s: %v", body, err)
		require.False(t, app.NonRetryable(), body)
		require.Contains(t, err.Error(), "body starts:", body)

		f.sfEmu.SetFaults(sfemu.Faults{Rules: []sfemu.FaultRule{{Endpoint: "GET /services/data/{version}/query", Kind: "malformed", Body: body}}})
		_, err = f.env.ExecuteActivity(f.acts.FetchSalesforce, activities.FetchSalesforceInput{Pair: pair, SfID: id})
		app = appErr(t, err)
		require.Equal(t, string(catalog.SalesforceMalformed), app.Type(), "%s: %v", body, err)
		require.False(t, app.NonRetryable(), body)
		f.sfEmu.SetFaults(sfemu.Faults{})
	}
	f.jiraEmu.SetFaults(jiraemu.Faults{})
	_, err = f.env.ExecuteActivity(f.acts.FetchJira, activities.FetchJiraInput{Pair: pair, OriginKey: "sf/" + id, LinkedIssueID: link.JiraIssueID})
	require.NoError(t, err, "with the fault gone, the same call succeeds")
}
