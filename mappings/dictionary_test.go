package mappings

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultDataDictionaryIsCurrent keeps the checked-in data dictionary of the default pack
// equal to what `sfjira mapping doc` prints for it; regenerate with
// `go run ./starter mapping doc -o mappings/default/DATA-DICTIONARY.md`.
func TestDefaultDataDictionaryIsCurrent(t *testing.T) {
	ms, err := LoadDefault()
	require.NoError(t, err)
	want, err := os.ReadFile("default/DATA-DICTIONARY.md")
	require.NoError(t, err)
	assert.Equal(t, string(want), Dictionary(ms), "regenerate: go run ./starter mapping doc -o mappings/default/DATA-DICTIONARY.md")
}

// The dictionary shows how each field is carried: its sync mode (realtime or batch, also
// summed up per pair), the link type of an issue-link lookup, and the lookup field a lookup
// writes when it follows Jira.
func TestDictionaryShowsSyncModesAndLinkTypes(t *testing.T) {
	m, err := Load("p.yaml", []byte(header+
		"  - sf: Amount\n    jira: Deal Amount\n    type: currency\n    sync: batch\n"+
		"  - sf: Related_Opportunity__r.Jira_Issue_Id__c\n    jira: issuelinks\n    type: lookup\n    link_type: Relates\n    direction: both\n"+
		"  - sf: Account.Jira_Issue_Id__c\n    jira: parent\n    type: lookup\n"))
	require.NoError(t, err)
	doc := Dictionary([]*Mapping{m})
	assert.Contains(t, doc, "| sync | link type |", "the field table has sync and link type columns")
	assert.Contains(t, doc, "- Sync modes: 3 field(s) realtime (change capture), 1 batch (backfill and reconcile only): `Amount`\n")
	rows := map[string]string{}
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "| `") {
			rows[strings.SplitN(line, "`", 3)[1]] = line
		}
	}
	assert.Contains(t, rows["Name"], "| owner_wins | realtime | — |")
	assert.Contains(t, rows["Amount"], "| owner_wins | batch | — |")
	links := rows["Related_Opportunity__r.Jira_Issue_Id__c"]
	assert.Contains(t, links, "| both ways | sf | owner_wins | realtime | `Relates` |")
	assert.Contains(t, links, "issue links (one link of the link type to the related record's issue)")
	assert.Contains(t, links, "Jira → SF: writes `Related_Opportunity__c` with the record linked to the new \"Relates\" issue link")
	parent := rows["Account.Jira_Issue_Id__c"]
	assert.Contains(t, parent, "| SF → Jira | sf | owner_wins | realtime | — |")
	assert.NotContains(t, parent, "Jira → SF: writes", "a one-way lookup writes nothing to Salesforce")
}

// A field with a named Go transform says so in the dictionary, so a reviewer sees that code runs
// on the value before the type conversion.
func TestDictionaryShowsNamedTransforms(t *testing.T) {
	src := transformMapping[:strings.Index(transformMapping, "  - sf: Description")] // without the test-only transform
	m, err := Load("t.yaml", []byte(src))
	require.NoError(t, err)
	doc := Dictionary([]*Mapping{m})
	assert.Contains(t, doc, "Go transform `phone_e164` before the type conversion")
	assert.Contains(t, doc, "Go transform `sales_region` before the type conversion")
}
