package mappings

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Jira value that cannot be written to Salesforce as the mapping says is reported by field with
// its code, so a pass that would write it stops instead of clearing or cutting the field.
func TestSalesforceProblemsNameUnmappedAndTooLongValues(t *testing.T) {
	b := picklistBound(t)
	issue := map[string]json.RawMessage{
		"customfield_10070": json.RawMessage(`{"value":"Renewal"}`),                         // not in Type's map, unmapped: fail
		"customfield_10071": json.RawMessage(`[{"value":"Europe"},{"value":"Antarctica"}]`), // one of two unmapped
		"priority":          json.RawMessage(`{"name":"Low"}`),                              // unmapped: pass
	}
	p := b.SalesforceProblems("Jira issue SFJ-7", issue)
	require.Len(t, p, 2, "%+v", p)
	assert.Equal(t, CodeValueUnmapped, p["Type"].Code)
	assert.Contains(t, errText(p["Type"]), `MAPPING_VALUE_UNMAPPED: Jira issue SFJ-7: Deal Type value "Renewal" has no Salesforce value for Type in the mapping`)
	assert.Contains(t, errText(p["Type"]), "p.yaml:")
	assert.Contains(t, p["Regions__c"].Msg, `"Antarctica"`)
	// Mapped values raise nothing.
	assert.Empty(t, b.SalesforceProblems("Jira issue SFJ-7", map[string]json.RawMessage{
		"customfield_10070": json.RawMessage(`{"value":"Upsell"}`), "customfield_10071": json.RawMessage(`[{"value":"Asia"}]`)}))

	// Text: over max_length with on_overflow fail is a problem; with truncate it is cut with the marker.
	const textMapping = `version: 1
pair: text
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
    direction: both
    max_length: 20
    on_overflow: fail
  - sf: Description
    jira: Customer
    type: text
    direction: both
    max_length: 10
    on_overflow: truncate
`
	m, err := Load("t.yaml", []byte(textMapping))
	require.NoError(t, err)
	tb, err := m.Bind(picklistJiraFields)
	require.NoError(t, err)
	long := strings.Repeat("é", 25)
	in := map[string]json.RawMessage{"summary": json.RawMessage(`"` + long + `"`), "customfield_10052": json.RawMessage(`"` + long + `"`)}
	p = tb.SalesforceProblems("Jira issue SFJ-8", in)
	require.Len(t, p, 1, "%+v", p)
	assert.Equal(t, CodeValueTooLong, p["Name"].Code)
	assert.Contains(t, errText(p["Name"]), "is 25 characters in Jira, more than max_length 20 for Name")
	assert.Contains(t, errText(p["Name"]), "on_overflow: truncate in t.yaml:")
	out := tb.ToSalesforce(in)
	assert.Equal(t, strings.Repeat("é", 9)+"…", out["Description"], "truncate: cut to max_length with the marker")
}

func errText(e RecordError) string { return e.Error() }
