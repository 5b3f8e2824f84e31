package mappings

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func recordGetter(rec map[string]any) Getter {
	return func(p string) (any, bool) { v, ok := rec[p]; return v, ok }
}

// The default pack's won-deal trigger: the condition, what it reads, and what it renders.
func TestDefaultTriggerWonDeal(t *testing.T) {
	ms, err := LoadDefault()
	require.NoError(t, err)
	var m *Mapping
	for _, x := range ms {
		if x.Pair == "opportunity-epic" {
			m = x
		}
	}
	require.NotNil(t, m)
	require.Len(t, m.Triggers, 1)
	tr := m.Triggers[0]
	assert.Equal(t, "won-deal-delivery", tr.Name)
	assert.Equal(t, "Story", tr.StoryType)
	soql := m.SOQL("")
	for _, f := range []string{"StageName", "Amount", "Name", "Account.Name"} {
		assert.Contains(t, soql, f, "trigger paths are read by the sync")
	}

	rec := map[string]any{"StageName": "Closed Won", "Amount": 150000.0, "Name": "Renewal 2027", "Account.Name": "Acme Corp"}
	assert.True(t, tr.Holds(recordGetter(rec)))
	for _, c := range []map[string]any{
		{"StageName": "Closed Won", "Amount": 50000.0},
		{"StageName": "Closed Won", "Amount": 100000.0}, // > is strict
		{"StageName": "Negotiation/Review", "Amount": 250000.0},
		{"StageName": "Closed Won", "Amount": nil},
		{},
	} {
		assert.False(t, tr.Holds(recordGetter(c)), "%v", c)
	}

	a := tr.Render(recordGetter(rec))
	assert.Equal(t, "won-deal-delivery", a.Trigger)
	assert.Equal(t, "Delivery: Renewal 2027", a.VersionName)
	assert.Equal(t, "Delivery of the won Opportunity Renewal 2027 (Acme Corp)", a.VersionDescription)
	assert.True(t, a.FixVersion)
	require.Len(t, a.Stories, 3)
	assert.Equal(t, StoryAction{Item: "story-1", Summary: "Kick-off with Acme Corp", Description: "Plan the kick-off meeting for Renewal 2027 with Acme Corp."}, a.Stories[0])
	assert.Equal(t, StoryAction{Item: "story-2", Summary: "Provision environments for Acme Corp"}, a.Stories[1])
	assert.Equal(t, "story-3", a.Stories[2].Item)
	assert.Empty(t, a.Warnings)
}

func TestTriggerRenderLimitsAndBlanks(t *testing.T) {
	src := `version: 1
pair: opportunity-epic
salesforce: { object: Opportunity, external_id_field: Jira_Issue_Id__c }
jira: { project: SFJ, issue_type: Epic }
fields:
  - { sf: Name, jira: summary, type: text }
triggers:
  - name: big
    becomes: 'Amount >= 1'
    story_type: Task
    version: { name: Name, fix_version: false }
    stories:
      - summary: Name
      - summary: Description
`
	m, err := Load("t.yaml", []byte(src))
	require.NoError(t, err)
	tr := m.Triggers[0]
	assert.Equal(t, "Task", tr.StoryType)
	long := strings.Repeat("é", 300)
	a := tr.Render(recordGetter(map[string]any{"Amount": 2.0, "Name": long + "\nsecond line"}))
	assert.False(t, a.FixVersion)
	assert.Equal(t, 255, len([]rune(a.VersionName)))
	assert.True(t, strings.HasSuffix(a.VersionName, "…"))
	require.Len(t, a.Stories, 1, "a blank summary creates no Story")
	assert.Equal(t, "story-1", a.Stories[0].Item)
	assert.Len(t, a.Warnings, 3, "version name cut, summary cut, blank summary: %v", a.Warnings)
	assert.Contains(t, a.Warnings[2], "story-2")

	a = tr.Render(recordGetter(map[string]any{"Amount": 2.0}))
	assert.Empty(t, a.VersionName)
	assert.Contains(t, a.Warnings[0], "no version was created")
}

func TestDictionaryListsTriggers(t *testing.T) {
	ms, err := LoadDefault()
	require.NoError(t, err)
	doc := Dictionary(ms)
	assert.Contains(t, doc, "### Triggers")
	assert.Contains(t, doc, "| `won-deal-delivery` | `StageName = \"Closed Won\" and Amount > 100000` |")
	assert.Contains(t, doc, "Story 3 under the issue (`parent`)")
}
