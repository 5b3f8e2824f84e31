package mappings

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mapDirectory is an in-memory UserDirectory for transform tests (the worker's directory,
// over Jira's user API, is tested in activities against the emulator).
type mapDirectory map[string]string // e-mail → account id

func (d mapDirectory) AccountID(email string) (string, bool, error) {
	id, ok := d[strings.ToLower(email)]
	return id, ok, nil
}

func (d mapDirectory) Email(id string) (string, bool, error) {
	for e, i := range d {
		if i == id {
			return e, true, nil
		}
	}
	return "", false, nil
}

type failingDirectory struct{}

func (failingDirectory) AccountID(string) (string, bool, error) {
	return "", false, errors.New("jira down")
}
func (failingDirectory) Email(string) (string, bool, error) {
	return "", false, errors.New("jira down")
}

func TestUserFieldRoundTrip(t *testing.T) {
	m, err := Load("u.yaml", []byte(header+"  - sf: Owner_Email__c\n    jira: assignee\n    type: user\n    direction: both\n"))
	require.NoError(t, err)
	b, err := m.Bind(append(append([]JiraField{}, jiraFields...), JiraField{ID: "assignee", Name: "Assignee", SchemaType: "user"}))
	require.NoError(t, err)
	rec := map[string]any{"Name": "Acme", "Owner_Email__c": " Ana@Example.com "}

	_, err = b.ToJira("Opportunity 006u", RecordGetter(rec))
	assert.ErrorContains(t, err, "no Jira user directory", "without a directory user values cannot be resolved")

	b.Users = mapDirectory{"ana@example.com": "acc-1"}
	d, err := b.ToJira("Opportunity 006u", RecordGetter(rec))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"accountId": "acc-1"}, d.Fields["assignee"])
	raw, _ := json.Marshal(d.Fields)
	var issue map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &issue))
	assert.Empty(t, d.Projection.Diff(b.ProjectJira(issue)))
	back := b.ToSalesforce(issue)
	assert.Equal(t, "ana@example.com", back["Owner_Email__c"])
	assert.Equal(t, b.ProjectSalesforce(RecordGetter(rec)), b.ProjectSalesforceValues(back))

	// A Jira user the directory does not know still shows as a change.
	assert.Equal(t, "account:acc-9", b.ProjectJira(map[string]json.RawMessage{"assignee": json.RawMessage(`{"accountId":"acc-9"}`)})["assignee"])
	assert.NotContains(t, b.ToSalesforce(map[string]json.RawMessage{"assignee": json.RawMessage(`{"accountId":"acc-9"}`)}), "Owner_Email__c")

	rec["Owner_Email__c"] = "not an address"
	_, err = b.ToJira("Opportunity 006u", RecordGetter(rec))
	var re *RecordError
	require.True(t, errors.As(err, &re))
	assert.Equal(t, CodeTypeMismatch, re.Code)

	// A failing directory is a transient error, not a record error (the activity retries it).
	b.Users = failingDirectory{}
	rec["Owner_Email__c"] = "ana@example.com"
	_, err = b.ToJira("Opportunity 006u", RecordGetter(rec))
	require.Error(t, err)
	assert.False(t, errors.As(err, &re), "%v", err)
	assert.ErrorContains(t, err, "jira down")
}

// FuzzUserField sends arbitrary e-mails through a user field: either a catalogued record error,
// or the user reaches Jira and reads back to the same canonical e-mail on both sides.
func FuzzUserField(f *testing.F) {
	for _, s := range []string{"ana@example.com", " ANA@Example.COM\t", "bo@x", "@", "", "ana@example.com;bo@x", "ü@例え.jp", "\xff@x"} {
		f.Add(s)
	}
	m, err := Load("u.yaml", []byte(header+"  - sf: Owner_Email__c\n    jira: assignee\n    type: user\n    direction: both\n"))
	require.NoError(f, err)
	b, err := m.Bind(append(append([]JiraField{}, jiraFields...), JiraField{ID: "assignee", Name: "Assignee", SchemaType: "user"}))
	require.NoError(f, err)
	b.Users = mapDirectory{"ana@example.com": "acc-1", "bo@x": "acc-2", "ü@例え.jp": "acc-3"}
	f.Fuzz(func(t *testing.T, email string) {
		rec := map[string]any{"Name": "n", "Owner_Email__c": email}
		d, err := b.ToJira("Opportunity 006f", RecordGetter(rec))
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
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
		if got, want := b.ProjectSalesforceValues(b.ToSalesforce(issue)), b.ProjectSalesforce(RecordGetter(rec)); got["Owner_Email__c"] != want["Owner_Email__c"] {
			t.Fatalf("%q came back as %q", want["Owner_Email__c"], got["Owner_Email__c"])
		}
	})
}
