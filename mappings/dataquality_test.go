package mappings

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const qualityMapping = `version: 1
pair: q
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
    max_length: 10
    on_overflow: truncate
  - sf: NextStep
    jira: Customer
    type: text
  - sf: Regions__c
    jira: labels
    type: multipicklist
    values:
      EMEA: emea
  - sf: Amount
    jira: Deal Amount
    type: currency
status:
  sf: StageName
  values:
    Prospecting: { status: To Do }
`

// TestDataReportCounts covers what the starter test does not: truncation (not failing), text over
// Jira's 255-character limit without max_length (failing: Jira would answer 400), every unmapped
// value of a multi-picklist, invalid numbers and the status map.
func TestDataReportCounts(t *testing.T) {
	m, err := Load("q.yaml", []byte(qualityMapping))
	require.NoError(t, err)
	b, err := m.Bind(append(append([]JiraField{}, jiraFields...), JiraField{ID: "labels", Name: "Labels", SchemaType: "array", SchemaItems: "string"}))
	require.NoError(t, err)
	r := b.NewDataReport()
	add := func(id string, rec map[string]any) {
		require.NoError(t, r.Add(id, RecordGetter(rec)))
	}
	add("006A", map[string]any{"Name": "A long opportunity name", "NextStep": "call", "Regions__c": "EMEA", "Amount": 10.0, "StageName": "Prospecting"})
	add("006B", map[string]any{"Name": "B", "NextStep": strings.Repeat("n", 256), "Regions__c": "EMEA;APAC;LATAM", "Amount": "lots", "StageName": "Closed Won"})
	add("006C", map[string]any{"Name": "C", "Regions__c": "apac", "StageName": nil})
	r.Finish()

	assert.Equal(t, 3, r.Records)
	assert.Equal(t, Count{N: 2, Examples: []string{"006B", "006C"}}, r.Failing)
	byName := map[string]*FieldQuality{}
	for _, f := range r.Fields {
		byName[f.SF] = f
	}
	name := byName["Name"]
	assert.Equal(t, 10, name.Limit)
	assert.Equal(t, 1, name.TooLong.N)
	assert.Equal(t, 1, name.Truncated)
	assert.Equal(t, 0, name.Failing, "truncation does not stop a record")

	next := byName["NextStep"]
	assert.Equal(t, Count{N: 1, Examples: []string{"006B"}}, next.TooLong)
	assert.Equal(t, 1, next.Failing)
	assert.Equal(t, 1, next.Empty.N)

	regions := byName["Regions__c"]
	assert.Equal(t, 2, regions.Unmapped.N)
	require.Len(t, regions.Values, 2)
	assert.Equal(t, "APAC", regions.Values[0].Value, "every unmapped value is listed, most frequent first (case kept as written)")
	assert.Equal(t, 2, regions.Values[0].N, `"apac" and "APAC" are one value, as in the value map`)
	assert.Equal(t, "LATAM", regions.Values[1].Value)

	assert.Equal(t, Count{N: 1, Examples: []string{"006B"}}, byName["Amount"].Invalid)

	st := byName["StageName"]
	assert.Equal(t, "status", st.Jira)
	assert.Equal(t, 1, st.Empty.N)
	assert.Equal(t, Count{N: 1, Examples: []string{"006B"}}, st.Unmapped)
	assert.Equal(t, "Closed Won", st.Values[0].Value)
	assert.Equal(t, 2, st.Failing)
	assert.True(t, r.Blocking())
}
