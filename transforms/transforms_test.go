package transforms

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/mappings"
)

func TestSalesforceID18(t *testing.T) {
	fc := mappings.FieldContext{SF: "Related_Id__c"}
	// Known pairs: the 18-character form is what the Salesforce API returns for the 15-character id.
	for in, want := range map[string]string{
		"001A000000JDwfA":    "001A000000JDwfAIAT",
		"001a000000jdwfa":    "001a000000jdwfaAAA",
		"006Dn00000AbCdE":    "006Dn00000AbCdEIAV",
		"006Dn00000AbCdEIAV": "006Dn00000AbCdEIAV",
		"006Dn00000AbCdEiav": "006Dn00000AbCdEIAV",
	} {
		got, err := SalesforceID18(fc, in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"001A000000JDwf", "006Dn00000AbCdEIAX", "006Dn00000AbC-E"} {
		_, err := SalesforceID18(fc, in)
		require.Error(t, err, in)
	}
}

func TestRegisterMakesTheNameLoadable(t *testing.T) {
	require.NoError(t, Register())
	require.NoError(t, Register(), "a second call is harmless")
	require.ErrorContains(t, mappings.Register("salesforce_id18", SalesforceID18), "already registered", "a name cannot be taken twice")
	m, err := mappings.Load("t.yaml", []byte(`version: 1
pair: t
salesforce:
  object: Case
  external_id_field: Jira_Issue_Id__c
jira:
  project: SFJ
  issue_type: Bug
fields:
  - sf: Subject
    jira: summary
    type: text
  - sf: AccountId
    jira: Customer
    type: text
    transform: salesforce_id18
`))
	require.NoError(t, err)
	assert.Equal(t, "salesforce_id18", m.Fields[1].Transform.Name)
}

// FuzzSalesforceID18: never panics; what it accepts is 18 characters, starts with the input's
// first 15, and is a fixed point (a re-sync never changes it).
func FuzzSalesforceID18(f *testing.F) {
	for _, s := range []string{"001A000000JDwfA", "006Dn00000AbCdEIAV", "006Dn00000AbCdEiav", "", "aaaaaaaaaaaaaaa", "ÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄ", " 001A000000JDwfA "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fc := mappings.FieldContext{SF: "F"}
		out, err := SalesforceID18(fc, s)
		if err != nil {
			return
		}
		id := out.(string)
		if len(id) != 18 || !strings.HasPrefix(strings.TrimSpace(s), id[:15]) {
			t.Fatalf("%q → %q", s, id)
		}
		again, err := SalesforceID18(fc, id)
		if err != nil || again != id {
			t.Fatalf("%q → %q → %q, %v", s, id, again, err)
		}
	})
}
