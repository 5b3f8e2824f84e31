package mappings

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A PII-marked field's value never appears in the errors and warnings of a transform (they end
// up in logs, dead letters and Temporal failures); the same field without pii: true shows it, so
// the test also proves the messages would otherwise carry the value.
func TestPIIValuesNeverAppearInMessages(t *testing.T) {
	for _, pii := range []bool{true, false} {
		extra := ""
		if pii {
			extra = "    pii: true\n"
		}
		m, err := Load("u.yaml", []byte(header+"  - sf: Owner_Email__c\n    jira: assignee\n    type: user\n"+extra+
			"  - sf: Phone__c\n    jira: Phone\n    type: picklist\n    values: {A: B}\n"+extra))
		require.NoError(t, err)
		require.Equal(t, pii, m.Fields[len(m.Fields)-1].PII)
		if pii {
			assert.ElementsMatch(t, []string{"Owner_Email__c", "assignee", "Phone__c", "Phone"}, m.PIIFields())
		} else {
			assert.Empty(t, m.PIIFields())
		}
		b, err := m.Bind(append(append([]JiraField{}, jiraFields...), JiraField{ID: "assignee", Name: "Assignee", SchemaType: "user"},
			JiraField{ID: "customfield_20001", Name: "Phone", SchemaType: "string"}))
		require.NoError(t, err)
		b.Users = mapDirectory{}
		cases := []struct{ field, value string }{
			{"Owner_Email__c", "not-an-address-zq81"},       // not an e-mail
			{"Owner_Email__c", "hidden.person.zq81@ex.com"}, // no Jira user
		}
		for _, c := range cases {
			rec := map[string]any{"Name": "Acme", "Owner_Email__c": c.value, "Phone__c": "A"}
			_, err := b.ToJira("Opportunity 006u", RecordGetter(rec))
			require.Error(t, err)
			if pii {
				assert.NotContains(t, strings.ToLower(err.Error()), strings.ToLower(c.value))
				assert.Contains(t, err.Error(), HiddenPII)
				assert.Contains(t, err.Error(), "Owner_Email__c", "the message still names the field")
			} else {
				assert.Contains(t, strings.ToLower(err.Error()), strings.ToLower(c.value))
			}
		}
		rec := map[string]any{"Name": "Acme", "Phone__c": "+49 555 0100 zq81"}
		_, err = b.ToJira("Opportunity 006u", RecordGetter(rec))
		require.Error(t, err)
		assert.Equal(t, !pii, strings.Contains(err.Error(), "+49 555 0100 zq81"), "unmapped picklist value: %v", err)
	}
}

func TestDictionaryShowsPII(t *testing.T) {
	m, err := Load("u.yaml", []byte(header+"  - sf: Email__c\n    jira: Contact Email\n    type: text\n    pii: true\n"))
	require.NoError(t, err)
	doc := Dictionary([]*Mapping{m})
	assert.Contains(t, doc, "| PII | line |")
	assert.Contains(t, doc, "**PII**")
	_, err = Load("u.yaml", []byte(header+"  - sf: Email__c\n    jira: Contact Email\n    type: text\n    pii: yes please\n"))
	assert.ErrorContains(t, err, "pii must be true or false")
}
