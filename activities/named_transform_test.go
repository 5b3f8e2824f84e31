package activities_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
)

// TestNamedTransformsRunInTheSync maps two Account fields through the built-in named transforms
// (sales_region, phone_e164) and runs real passes against the emulators: the transformed values
// land in Jira, verify reads them back equal, a second pass has nothing to write, and a value the
// transform rejects stops the record with MAPPING_TRANSFORM_FAILED (not retried).
func TestNamedTransformsRunInTheSync(t *testing.T) {
	src, err := os.ReadFile("../mappings/default/opportunity-epic.yaml")
	require.NoError(t, err)
	old := "  - sf: Account.Industry\n    jira: Industry\n    type: text\n"
	require.Contains(t, string(src), old)
	mapping := strings.Replace(string(src), old, `  - sf: Account.BillingCountry
    jira: Industry
    type: text
    transform: sales_region
  - sf: Account.Phone
    jira: Account Type
    type: text
    transform: phone_e164
`, 1)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "opportunity-epic.yaml"), []byte(mapping), 0o644))
	f := newFixtureDir(t, dir)

	id := f.firstOpportunity(t, "StageName = 'Prospecting'")
	rec, err := f.acts.SF.Get(f.ctx, "Opportunity", id, "AccountId")
	require.NoError(t, err)
	accountID, _ := rec["AccountId"].(string)
	require.NotEmpty(t, accountID)
	require.NoError(t, f.acts.SF.Update(f.ctx, "Account", accountID, map[string]any{"BillingCountry": "Deutschland", "Phone": "+49 (0)89 2190-4410"}))

	_, _, p := f.plan(t, id)
	require.True(t, p.CreateJira)
	require.Equal(t, "EMEA", p.JiraFields["customfield_10054"])
	require.Equal(t, "+498921904410", p.JiraFields["customfield_10057"])
	vr := f.syncOnce(t, id)
	require.NotEmpty(t, vr.IssueKey)
	issue, err := f.acts.Jira.GetIssue(f.ctx, vr.IssueKey, []string{"customfield_10054", "customfield_10057"}, nil)
	require.NoError(t, err)
	require.Contains(t, string(issue.Fields["customfield_10054"]), "EMEA")
	require.Contains(t, string(issue.Fields["customfield_10057"]), "+498921904410")
	_, _, p = f.plan(t, id)
	require.True(t, p.NothingToWrite(), "transformed values read back equal: %+v", p)

	// A number without a country code: the transform rejects it and the record stops.
	require.NoError(t, f.acts.SF.Update(f.ctx, "Account", accountID, map[string]any{"Phone": "089 2190 4410"}))
	v, err := f.env.ExecuteActivity(f.acts.FetchSalesforce, activities.FetchSalesforceInput{Pair: pair, SfID: id})
	require.NoError(t, err)
	var sfState activities.FetchSalesforceResult
	require.NoError(t, v.Get(&sfState))
	v, err = f.env.ExecuteActivity(f.acts.FetchJira, activities.FetchJiraInput{Pair: pair, OriginKey: "sf/" + id, LinkedIssueID: sfState.LinkedIssueID})
	require.NoError(t, err)
	var cur activities.JiraState
	require.NoError(t, v.Get(&cur))
	_, err = f.env.ExecuteActivity(f.acts.Transform, activities.TransformInput{Pair: pair, OriginKey: "sf/" + id, SF: sfState, Jira: cur})
	require.Error(t, err)
	app := appErr(t, err)
	require.Equal(t, string(catalog.MappingTransformFailed), app.Type())
	require.True(t, app.NonRetryable())
	require.Contains(t, app.Error(), `Account.Phone (→ Account Type): transform phone_e164: phone number "089 2190 4410" has no country code (+ or 00)`)
}
