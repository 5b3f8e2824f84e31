package mappings

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var packFields = append(append([]JiraField{}, jiraFields...),
	JiraField{ID: "parent", Name: "Parent", SchemaType: "issuelink"},
	JiraField{ID: "customfield_10055", Name: "Customer Contact", SchemaType: "user", SchemaCustom: "com.atlassian.jira.plugin.system.customfieldtypes:userpicker"},
	JiraField{ID: "customfield_10056", Name: "Contact Email", SchemaType: "string", SchemaCustom: "com.atlassian.jira.plugin.system.customfieldtypes:textfield"},
)

// jiraSide renders wire values as Jira returns them (JSON), for ProjectJira.
func jiraSide(t *testing.T, fields map[string]any) map[string]json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(fields)
	require.NoError(t, err)
	var out map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}

func TestLookupToParent(t *testing.T) {
	m, err := Load("l.yaml", []byte(header+"  - sf: Opportunity__r.Jira_Issue_Id__c\n    jira: parent\n    type: lookup\n"))
	require.NoError(t, err)
	b, err := m.Bind(packFields)
	require.NoError(t, err)
	assert.Contains(t, m.SOQL(""), "Opportunity__r.Jira_Issue_Id__c")

	rec := map[string]any{"Name": "SSO", "Opportunity__r": map[string]any{"Jira_Issue_Id__c": "10042"}}
	d, err := b.ToJira("Feature_Request__c a0F1", RecordGetter(rec))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"id": "10042"}, d.Fields["parent"])
	// Jira answers with id, key and fields of the parent; only the id is compared.
	p := b.ProjectJira(jiraSide(t, map[string]any{"summary": "SSO", "parent": map[string]any{"id": "10042", "key": "SFJ-7", "fields": map[string]any{"summary": "Epic"}}}))
	assert.Empty(t, d.Projection.Diff(p))

	// Opportunity without an Epic yet: no parent; a key instead of an id is a type mismatch.
	rec["Opportunity__r"] = nil
	d, err = b.ToJira("Feature_Request__c a0F1", RecordGetter(rec))
	require.NoError(t, err)
	assert.Nil(t, d.Fields["parent"])
	assert.Equal(t, "", b.ProjectJira(jiraSide(t, map[string]any{"parent": nil}))["parent"])
	rec["Opportunity__r"] = map[string]any{"Jira_Issue_Id__c": "SFJ-7"}
	_, err = b.ToJira("Feature_Request__c a0F1", RecordGetter(rec))
	require.ErrorContains(t, err, "must be a Jira issue id (digits)")
	var re *RecordError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, CodeTypeMismatch, re.Code)

	// A lookup needs a parent-type Jira field.
	m2, err := Load("l.yaml", []byte(header+"  - sf: Opportunity__r.Jira_Issue_Id__c\n    jira: Customer\n    type: lookup\n"))
	require.NoError(t, err)
	_, err = m2.Bind(packFields)
	require.ErrorContains(t, err, "cannot hold type lookup")
}

func TestUserFallbackToText(t *testing.T) {
	m, err := Load("f.yaml", []byte(header+"  - sf: Contact.Email\n    jira: Customer Contact\n    type: user\n    fallback: Contact Email\n"))
	require.NoError(t, err)
	b, err := m.Bind(packFields)
	require.NoError(t, err)
	b.Users = mapDirectory{"ana@example.com": "acc-1"}
	assert.Equal(t, []string{"customfield_10056"}, b.Companions("customfield_10055"))
	assert.Contains(t, b.JiraFieldIDs(), "customfield_10056")

	known := map[string]any{"Name": "x", "Contact": map[string]any{"Email": "Ana@Example.com"}}
	d, err := b.ToJira("Case 500", RecordGetter(known))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"accountId": "acc-1"}, d.Fields["customfield_10055"])
	assert.Nil(t, d.Fields["customfield_10056"])
	assert.Empty(t, d.Projection.Diff(b.ProjectJira(jiraSide(t, map[string]any{"summary": "x",
		"customfield_10055": map[string]any{"accountId": "acc-1", "emailAddress": "ana@example.com"}, "customfield_10056": nil}))))

	unknown := map[string]any{"Name": "x", "Contact": map[string]any{"Email": "Bo@Example.com"}}
	d, err = b.ToJira("Case 500", RecordGetter(unknown))
	require.NoError(t, err)
	assert.Nil(t, d.Fields["customfield_10055"])
	assert.Equal(t, "bo@example.com", d.Fields["customfield_10056"])
	assert.Len(t, d.Warnings, 1)
	asWritten := b.ProjectJira(jiraSide(t, map[string]any{"summary": "x", "customfield_10055": nil, "customfield_10056": "bo@example.com"}))
	assert.Empty(t, d.Projection.Diff(asWritten))

	// The person joins Jira: the desired value changes, so the next sync writes the user.
	b.Users = mapDirectory{"ana@example.com": "acc-1", "bo@example.com": "acc-2"}
	d2, err := b.ToJira("Case 500", RecordGetter(unknown))
	require.NoError(t, err)
	assert.NotEmpty(t, d2.Projection.Diff(asWritten))
	assert.Equal(t, map[string]any{"accountId": "acc-2"}, d2.Fields["customfield_10055"])

	// Fallback must be a text field.
	m3, err := Load("f.yaml", []byte(header+"  - sf: Contact.Email\n    jira: Customer Contact\n    type: user\n    fallback: Deal Amount\n"))
	require.NoError(t, err)
	_, err = m3.Bind(packFields)
	require.ErrorContains(t, err, `fallback field "Deal Amount" (customfield_10050) is a number field, not a single-line text field`)
}

// Activity rules need the comment and worklog permissions, and nothing more when absent.
func TestActivityPermissions(t *testing.T) {
	ms, err := LoadDefault()
	require.NoError(t, err)
	opp := defaultPair(t, ms, "opportunity-epic")
	assert.Subset(t, opp.JiraPermissions(), []string{"ADD_COMMENTS", "EDIT_OWN_COMMENTS", "WORK_ON_ISSUES", "EDIT_OWN_WORKLOGS"})
	fr := defaultPair(t, ms, "feature-request-story")
	assert.NotContains(t, fr.JiraPermissions(), "ADD_COMMENTS")
	assert.Len(t, opp.Activities, 3)
	assert.Equal(t, "SELECT Id, TaskSubtype, Subject, Description FROM Task WHERE WhatId = '006x' AND (TaskSubtype IN ('Call', 'Email')) ORDER BY Id", opp.Activities[0].SOQL("006x"))
	assert.Equal(t, []string{"Id", "Subject", "Location", "Description", "StartDateTime", "DurationInMinutes"}, opp.Activities[1].Fields())

	it, why, ok := opp.Activities[1].Item(RecordGetter(map[string]any{"Id": "00U1", "Subject": "Kickoff", "Location": "Oslo",
		"Description": "Agenda", "StartDateTime": "2025-03-30T00:30:00.000+0100", "DurationInMinutes": 90.0}))
	require.True(t, ok, why)
	assert.Equal(t, "Meeting: Kickoff (Oslo)\n\nAgenda\n\n(from Salesforce Event 00U1)", it.Text)
	assert.Equal(t, "2025-03-29T23:30:00.000+0000", it.Started, "worklog start in UTC")
	assert.Equal(t, 5400, it.Seconds)
	_, why, ok = opp.Activities[1].Item(RecordGetter(map[string]any{"Id": "00U2", "Subject": "x", "StartDateTime": "2025-03-30T00:30:00Z", "DurationInMinutes": 0.0}))
	assert.False(t, ok)
	assert.Contains(t, why, "no positive DurationInMinutes")
}

// A lookup that flows back reads the issue Jira now points at, keyed by its relationship
// path; the sync turns that into the lookup field (LookupField) it writes.
func TestLookupFlowsBackFromJira(t *testing.T) {
	m, err := Load("l.yaml", []byte(header+"  - sf: Opportunity__r.Jira_Issue_Id__c\n    jira: parent\n    type: lookup\n    direction: both\n"))
	require.NoError(t, err)
	assert.Equal(t, "Opportunity__c", m.Fields[1].LookupField())
	assert.Contains(t, m.SOQL(""), "Opportunity__c", "the lookup's current value is read for the before-image")
	b, err := m.Bind(packFields)
	require.NoError(t, err)

	moved := jiraSide(t, map[string]any{"parent": map[string]any{"id": "10050", "key": "SFJ-40", "fields": map[string]any{"summary": "Epic B"}}})
	assert.Equal(t, "10050", b.ToSalesforce(moved)["Opportunity__r.Jira_Issue_Id__c"])
	assert.Equal(t, map[string]string{"10050": "SFJ-40"}, b.LinkedIssueKeys(moved))
	cleared := b.ToSalesforce(jiraSide(t, map[string]any{"parent": nil}))
	v, present := cleared["Opportunity__r.Jira_Issue_Id__c"]
	assert.True(t, present, "a removed parent clears the lookup")
	assert.Nil(t, v)

	for path, want := range map[string]string{"Account.Jira_Issue_Id__c": "AccountId", "Parent_Request__r.Jira_Issue_Id__c": "Parent_Request__c", "Jira_Issue_Id__c": ""} {
		assert.Equal(t, want, FieldMap{SF: path, Type: TypeLookup}.LookupField(), path)
	}
	assert.Equal(t, "", FieldMap{SF: "Account.Name", Type: TypeText}.LookupField())

	// Issue links: every link of the type, so several can be told from one.
	lm, err := Load("l.yaml", []byte(header+"  - sf: Related__r.Jira_Issue_Id__c\n    jira: issuelinks\n    type: lookup\n    link_type: Relates\n    direction: both\n"))
	require.NoError(t, err)
	lb, err := lm.Bind(linkFields)
	require.NoError(t, err)
	two := jiraSide(t, map[string]any{"issuelinks": []any{
		map[string]any{"id": "1", "type": map[string]any{"name": "Relates"}, "outwardIssue": map[string]any{"id": "10051", "key": "SFJ-41"}},
		map[string]any{"id": "2", "type": map[string]any{"name": "Relates"}, "outwardIssue": map[string]any{"id": "10050", "key": "SFJ-40"}},
		map[string]any{"id": "3", "type": map[string]any{"name": "Blocks"}, "outwardIssue": map[string]any{"id": "10060", "key": "SFJ-50"}}}})
	assert.Equal(t, "10050,10051", lb.ToSalesforce(two)["Related__r.Jira_Issue_Id__c"])
	assert.Equal(t, "SFJ-41", lb.LinkedIssueKeys(two)["10051"])

	// Jira → Salesforce only binds to the same Jira fields: the parent or issue links.
	jm, err := Load("l.yaml", []byte(header+"  - sf: Opportunity__r.Jira_Issue_Id__c\n    jira: parent\n    type: lookup\n    direction: jira_to_sf\n"))
	require.NoError(t, err)
	jb, err := jm.Bind(packFields)
	require.NoError(t, err)
	assert.Equal(t, "10050", jb.ToSalesforce(moved)["Opportunity__r.Jira_Issue_Id__c"])
	bad, err := Load("l.yaml", []byte(header+"  - sf: Opportunity__r.Jira_Issue_Id__c\n    jira: Customer\n    type: lookup\n    direction: jira_to_sf\n"))
	require.NoError(t, err)
	_, err = bad.Bind(packFields)
	require.ErrorContains(t, err, "cannot hold type lookup")
}
