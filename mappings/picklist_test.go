package mappings

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var picklistJiraFields = append(append([]JiraField{}, jiraFields...),
	JiraField{ID: "customfield_10070", Name: "Deal Type", SchemaType: "option", SchemaCustom: "com.atlassian.jira.plugin.system.customfieldtypes:select"},
	JiraField{ID: "priority", Name: "Priority", SchemaType: "priority"},
	JiraField{ID: "customfield_10071", Name: "Regions", SchemaType: "array", SchemaItems: "option", SchemaCustom: "com.atlassian.jira.plugin.system.customfieldtypes:multiselect"},
	JiraField{ID: "labels", Name: "Labels", SchemaType: "array", SchemaItems: "string"},
)

const picklistMapping = `version: 1
pair: picklists
salesforce:
  object: Opportunity
  external_id_field: Jira_Issue_Id__c
jira:
  project: SFJ
  issue_type: Epic
fields:
  - sf: Type
    jira: Deal Type
    type: picklist
    direction: both
    values:
      New Customer: New business
      Existing Customer - Upgrade: Upsell
  - sf: Priority__c
    jira: priority
    type: picklist
    direction: both
    unmapped: pass
    values:
      Urgent: Highest
  - sf: Regions__c
    jira: Regions
    type: multipicklist
    direction: both
    values:
      EMEA: Europe
      APAC: Asia
      AMER: Americas
  - sf: Segments__c
    jira: labels
    type: multipicklist
    unmapped: pass
    values:
      Public Sector: public-sector
`

func picklistBound(t testing.TB) *Bound {
	m, err := Load("p.yaml", []byte(picklistMapping))
	require.NoError(t, err)
	b, err := m.Bind(picklistJiraFields)
	require.NoError(t, err)
	return b
}

func TestPicklistValueMapsBothWays(t *testing.T) {
	b := picklistBound(t)
	rec := map[string]any{"Type": " new customer ", "Priority__c": "Urgent", "Regions__c": "EMEA;apac; EMEA", "Segments__c": "Public Sector;smb"}
	d, err := b.ToJira("Opportunity 006p", RecordGetter(rec))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"value": "New business"}, d.Fields["customfield_10070"], "matched ignoring case and spaces")
	assert.Equal(t, map[string]any{"name": "Highest"}, d.Fields["priority"])
	assert.Equal(t, []any{map[string]any{"value": "Asia"}, map[string]any{"value": "Europe"}}, d.Fields["customfield_10071"], "deduplicated and sorted")
	assert.Equal(t, []any{"public-sector", "smb"}, d.Fields["labels"], "unmapped: pass copies smb")
	assert.Equal(t, "Asia;Europe", d.Projection["customfield_10071"])

	// What Jira stores reads back to the same projection, and maps back to Salesforce values
	// spelled as in the value map.
	raw, err := json.Marshal(d.Fields)
	require.NoError(t, err)
	var issue map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &issue))
	assert.Empty(t, d.Projection.Diff(b.ProjectJira(issue)))
	back := b.ToSalesforce(issue)
	assert.Equal(t, map[string]any{"Type": "New Customer", "Priority__c": "Urgent", "Regions__c": "APAC;EMEA"}, back, "labels are sf_to_jira only")

	// A priority Jira has but the map does not list passes through unchanged.
	back = b.ToSalesforce(map[string]json.RawMessage{"priority": json.RawMessage(`{"name":"Low","id":"4"}`)})
	assert.Equal(t, "Low", back["Priority__c"])
	// A Jira option with no Salesforce counterpart is not written (unmapped: fail).
	back = b.ToSalesforce(map[string]json.RawMessage{"customfield_10070": json.RawMessage(`{"value":"Renewal"}`),
		"customfield_10071": json.RawMessage(`[{"value":"Europe"},{"value":"Antarctica"}]`)})
	assert.NotContains(t, back, "Type")
	assert.NotContains(t, back, "Regions__c", "never written half-mapped")
}

func TestPicklistUnmappedAndLabelErrors(t *testing.T) {
	b := picklistBound(t)
	_, err := b.ToJira("Opportunity 006p", RecordGetter(map[string]any{"Type": "Existing Customer - Downgrade"}))
	var re *RecordError
	require.True(t, errors.As(err, &re), "%v", err)
	assert.Equal(t, CodeValueUnmapped, re.Code)
	assert.Equal(t, `MAPPING_VALUE_UNMAPPED: Opportunity 006p: Type (→ Deal Type) value "Existing Customer - Downgrade" has no Jira value in the mapping (fix: add `+"`Existing Customer - Downgrade: <Jira value>`"+` under values of the field at p.yaml:10, or set unmapped: pass)`, err.Error())

	_, err = b.ToJira("Opportunity 006p", RecordGetter(map[string]any{"Segments__c": "Mid Market"}))
	require.True(t, errors.As(err, &re), "%v", err)
	assert.Equal(t, CodeTypeMismatch, re.Code)
	assert.Contains(t, err.Error(), `Segments__c (→ labels) value "Mid Market" becomes label "Mid Market", and Jira labels cannot contain spaces`)

	_, err = b.ToJira("Opportunity 006p", RecordGetter(map[string]any{"Type": 12.0}))
	require.True(t, errors.As(err, &re), "%v", err)
	assert.Equal(t, CodeTypeMismatch, re.Code)
}

func TestPicklistBindChecksJiraFieldShape(t *testing.T) {
	m, err := Load("p.yaml", []byte(strings.Replace(picklistMapping, "jira: Deal Type", "jira: Deal Amount", 1)))
	require.NoError(t, err)
	_, err = m.Bind(picklistJiraFields)
	require.Error(t, err)
	assert.Equal(t, `p.yaml:11:11: jira field "Deal Amount" (customfield_10050) is a number field, which cannot hold type picklist (fix: use type: number, or map a different Jira field)`, err.Error())
	m, err = Load("p.yaml", []byte(strings.Replace(picklistMapping, "jira: Regions", "jira: Customer", 1)))
	require.NoError(t, err)
	_, err = m.Bind(picklistJiraFields)
	assert.ErrorContains(t, err, `jira field "Customer" (customfield_10052) is a string field, which cannot hold type multipicklist`)
}

// FuzzPicklist sends arbitrary picklist and multi-picklist values through the value maps: a
// value either fails with a catalog code or reaches Jira and comes back to the same canonical
// Salesforce value.
func FuzzPicklist(f *testing.F) {
	for _, s := range [][2]string{{"New Customer", "EMEA;APAC"}, {"NEW CUSTOMER", ";;EMEA;;"}, {"Existing Customer - Upgrade", "amer;Amer"}, {"", ""}, {"é", "EMEA;x"}, {"\xff", "EMEA\n;APAC"}} {
		f.Add(s[0], s[1])
	}
	b := picklistBound(f)
	f.Fuzz(func(t *testing.T, typ, regions string) {
		rec := map[string]any{"Type": typ, "Regions__c": regions, "Priority__c": typ}
		d, err := b.ToJira("Opportunity 006f", RecordGetter(rec))
		if err != nil {
			if !strings.Contains(err.Error(), "MAPPING_") {
				t.Fatalf("uncatalogued error: %v", err)
			}
			return
		}
		raw, _ := json.Marshal(d.Fields)
		var issue map[string]json.RawMessage
		if err := json.Unmarshal(raw, &issue); err != nil {
			t.Fatal(err)
		}
		if diff := d.Projection.Diff(b.ProjectJira(issue)); len(diff) > 0 {
			t.Fatalf("Jira reads back differently: %v", diff)
		}
		want := b.ProjectSalesforce(RecordGetter(rec))
		got := b.ProjectSalesforceValues(b.ToSalesforce(issue))
		for _, k := range []string{"Regions__c", "Priority__c"} {
			// Mapped values come back in the map's spelling; compare ignoring case.
			if !strings.EqualFold(strings.ToValidUTF8(want[k], "\uFFFD"), got[k]) {
				t.Fatalf("%s: %q came back as %q (wire %s)", k, want[k], got[k], raw)
			}
		}
	})
}

func TestPicklistInDictionaryAndPreflight(t *testing.T) {
	b := picklistBound(t)
	doc := Dictionary([]*Mapping{b.Mapping})
	assert.Contains(t, doc, "### Values of Type ↔ Deal Type\n\nA value not listed stops the record's sync with MAPPING_VALUE_UNMAPPED. Values match ignoring case and surrounding spaces; the map applies in both directions.\n\n| Salesforce value | Jira value |\n|---|---|\n| New Customer | New business |\n| Existing Customer - Upgrade | Upsell |\n")
	assert.Contains(t, doc, "### Values of Priority__c ↔ priority\n\nValues not listed are copied unchanged.")

	describe := func(string) (*SFObject, error) {
		return &SFObject{Name: "Opportunity", Fields: []SFField{
			{Name: "Type", Type: "picklist", Length: 255, Updateable: true, PicklistValues: []string{"New Customer", "Existing Customer - Upgrade", "Existing Customer - Downgrade"}},
			{Name: "Priority__c", Type: "picklist", Length: 255, Updateable: true, PicklistValues: []string{"Urgent", "Low"}},
		}}, nil
	}
	rep := b.CheckSalesforceData(describe)
	require.Len(t, rep.Problems, 1, "%v", rep.Problems)
	assert.Equal(t, "p.yaml:10: Type value \"Existing Customer - Downgrade\" (active in Salesforce) has no Jira value in the mapping (fix: add `Existing Customer - Downgrade: <Jira value>` under values, or set unmapped: pass)", rep.Problems[0].Error())
}
