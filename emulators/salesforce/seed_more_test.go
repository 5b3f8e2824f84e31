package salesforce

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The default pack's objects are queryable with their relationship paths, and seeding them
// leaves the Opportunities of a seed unchanged.
func TestSeedMoreObjects(t *testing.T) {
	plain := newEnv(t, DemoOptions())
	plain.srv.Seed(SeedOptions{Accounts: 4, Contacts: 8, Opportunities: 6})
	e := newEnv(t, DemoOptions())
	e.srv.Seed(SeedOptions{Accounts: 4, Contacts: 8, Opportunities: 6, Cases: 5, FeatureRequests: 3, Activities: 9})
	e.login()
	plain.login()

	_, want := plain.query("SELECT Name, Amount, StageName FROM Opportunity ORDER BY Name")
	_, got := e.query("SELECT Name, Amount, StageName FROM Opportunity ORDER BY Name")
	require.Equal(t, want["records"], got["records"])

	st, cases := e.query("SELECT Id, CaseNumber, Subject, Status, Account.Name, Account.Industry, Contact.Email FROM Case ORDER BY CaseNumber")
	require.Equal(t, 200, st, "%v", cases)
	require.EqualValues(t, 5, cases["totalSize"])
	recs := cases["records"].([]any)
	first := recs[0].(map[string]any)
	require.Equal(t, "00001001", first["CaseNumber"])
	require.NotEmpty(t, first["Account"].(map[string]any)["Industry"])
	require.Contains(t, first["Contact"].(map[string]any)["Email"], "@")
	require.Nil(t, recs[4].(map[string]any)["Contact"], "every 5th Case has no contact")

	st, frs := e.query("SELECT Id, Name, Opportunity__c, Opportunity__r.Name FROM Feature_Request__c")
	require.Equal(t, 200, st, "%v", frs)
	require.EqualValues(t, 3, frs["totalSize"])
	fr := frs["records"].([]any)[0].(map[string]any)
	require.NotEmpty(t, fr["Opportunity__r"].(map[string]any)["Name"])

	_, tasks := e.query("SELECT Id, Subject, TaskSubtype, WhatId FROM Task")
	_, events := e.query("SELECT Id, Subject, DurationInMinutes, StartDateTime, WhatId FROM Event")
	require.EqualValues(t, 6, tasks["totalSize"])
	require.EqualValues(t, 3, events["totalSize"])
	ev := events["records"].([]any)[0].(map[string]any)
	require.Greater(t, ev["DurationInMinutes"].(float64), 0.0)
}

// CaseNumber is an auto-number: a Case created through the API gets the next one.
func TestCaseNumberIsAssignedOnInsert(t *testing.T) {
	e := newEnv(t, DemoOptions())
	e.srv.Seed(SeedOptions{Accounts: 2, Contacts: 2, Cases: 2})
	e.login()
	id := e.create("Case", map[string]any{"Subject": "Login fails", "Status": "New", "Origin": "Web"})
	st, res := e.query("SELECT CaseNumber FROM Case WHERE Id = '" + id + "'")
	require.Equal(t, 200, st, "%v", res)
	recs := res["records"].([]any)
	require.Len(t, recs, 1)
	require.Regexp(t, `^\d{8}$`, recs[0].(map[string]any)["CaseNumber"])
	require.NotEqual(t, "00001001", recs[0].(map[string]any)["CaseNumber"], "not a seeded Case's number")
}
