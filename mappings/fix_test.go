package mappings

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fixPlanMapping = `version: 1
pair: fix
salesforce:
  object: Opportunity
  external_id_field: Jira_Link__c
jira:
  project: SFJ
  issue_type: Epic
fields:
  - sf: Name
    jira: summary
    type: text
  - sf: Type
    jira: Deal Type
    type: picklist
    values:
      New Customer: New business
      Renewal: Upsell
      Upgrade: upsell
  - sf: Regions__c
    jira: Regions
    type: multipicklist
    values:
      EMEA: emea
  - sf: Amount
    jira: customfield_19999
    type: currency
  - sf: Parent__r.Jira_Issue_Id__c
    jira: Epic Link
    type: lookup
  - sf: Stage__c
    jira: Lead Channel
    type: picklist
    values:
      Web: Online
      Partner: Partner
  - sf: Owner.Email
    jira: assignee
    type: user
    fallback: Owner Email
status:
  sf: Phase__c
  values:
    Open: { status: To Do }
`

func TestPlanJiraFixes(t *testing.T) {
	m, err := Load("fix.yaml", []byte(fixPlanMapping))
	require.NoError(t, err)
	fields := append(append([]JiraField{}, jiraFields...),
		JiraField{ID: "customfield_10100", Name: "Lead Channel", SchemaType: "option"},
		JiraField{ID: "assignee", Name: "Assignee", SchemaType: "user"})
	plan := PlanJiraFixes([]*Mapping{m}, fields, func(*Mapping) map[string]bool {
		return map[string]bool{"summary": true, "assignee": true} // Lead Channel is not on the screen
	}, func(_ *Mapping, id string) ([]string, bool) {
		if id == "customfield_10100" {
			return []string{"online"}, true // options match ignoring case
		}
		return nil, false
	})
	assert.Equal(t, []JiraFieldFix{
		{Name: "Deal Type", Type: "select", Searcher: "multiselectsearcher", Options: []string{"New business", "Upsell"}, At: "fix.yaml:13"},
		{Name: "Regions", Type: "multiselect", Searcher: "multiselectsearcher", Options: []string{"emea"}, At: "fix.yaml:20"},
		{Name: "Owner Email", Type: "textfield", Searcher: "textsearcher", At: "fix.yaml:37"},
	}, plan.JiraFields)
	assert.Equal(t, []JiraOptionFix{{FieldID: "customfield_10100", FieldName: "Lead Channel", Options: []string{"Partner"}, At: "fix.yaml:31"}}, plan.JiraOptions)
	assert.Equal(t, []JiraScreenFix{{FieldID: "customfield_10100", FieldName: "Lead Channel", At: "fix.yaml:31"}}, plan.JiraScreens)
	require.Len(t, plan.Manual, 2)
	assert.Contains(t, plan.Manual[0], "fix.yaml:25: Jira field id customfield_19999 does not exist; a created field gets a new id")
	assert.Contains(t, plan.Manual[1], `fix.yaml:28: Jira field "Epic Link" does not exist and a lookup field cannot be created`)
	assert.False(t, plan.Empty())
}

func TestPlanSalesforceFields(t *testing.T) {
	m, err := Load("fix.yaml", []byte(fixPlanMapping))
	require.NoError(t, err)
	describe := func(object string) (*SFObject, error) {
		if object != "Opportunity" {
			return nil, errors.New("no such object")
		}
		return &SFObject{Name: "Opportunity", Fields: []SFField{{Name: "Name"}, {Name: "Type"}, {Name: "Amount"}}}, nil
	}
	plan := &FixPlan{}
	m.PlanSalesforceFields(describe, plan)
	var names []string
	for _, f := range plan.SFFields {
		names = append(names, f.Field)
	}
	assert.Equal(t, []string{"Jira_Link__c", "Regions__c", "Stage__c", "Phase__c"}, names, "in file order; parent paths and standard fields are not planned")
	byName := map[string]SFFieldFix{}
	for _, f := range plan.SFFields {
		byName[f.Field] = f
	}
	assert.Contains(t, byName["Jira_Link__c"].Metadata, "<length>20</length>\n    <externalId>true</externalId>\n    <unique>true</unique>")
	assert.Contains(t, byName["Regions__c"].Metadata, "<type>MultiselectPicklist</type>\n    <visibleLines>4</visibleLines>")
	assert.Contains(t, byName["Regions__c"].Metadata, "<fullName>EMEA</fullName>")
	assert.Contains(t, byName["Phase__c"].Metadata, "<type>Picklist</type>")
	assert.Contains(t, byName["Phase__c"].Metadata, "<fullName>Open</fullName>")
	assert.Equal(t, "Stage", byName["Stage__c"].Label)
	assert.True(t, strings.HasPrefix(byName["Stage__c"].Metadata, `<?xml version="1.0" encoding="UTF-8"?>`))
	assert.Empty(t, plan.Manual)
}

func TestCheckJiraOptions(t *testing.T) {
	m, err := Load("fix.yaml", []byte(fixPlanMapping))
	require.NoError(t, err)
	fields := append(append([]JiraField{}, jiraFields...), JiraField{ID: "customfield_10100", Name: "Lead Channel", SchemaType: "option"})
	r := m.CheckJiraOptions(fields, map[string][]string{"customfield_10100": {"Other"}})
	require.Len(t, r.Problems, 1)
	assert.Equal(t, `fix.yaml:31: Jira field "Lead Channel" (customfield_10100) has no option "Online", "Partner", which the value map writes (fix: add the option(s) to the field's context in Jira (Settings → Issues → Custom fields → Lead Channel → Contexts and default value), or run `+"`sfjira preflight --fix`"+`)`, r.Problems[0].Error())
	assert.Empty(t, m.CheckJiraOptions(fields, map[string][]string{"customfield_10100": {"online", "PARTNER"}}).Problems)
}
