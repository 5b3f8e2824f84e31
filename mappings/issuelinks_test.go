package mappings

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var linkFields = append(append([]JiraField{}, packFields...),
	JiraField{ID: "issuelinks", Name: "Linked Issues", SchemaType: "array", SchemaItems: "issuelinks"})

func TestLookupToIssueLink(t *testing.T) {
	m, err := Load("l.yaml", []byte(header+"  - sf: Related_Opportunity__r.Jira_Issue_Id__c\n    jira: issuelinks\n    type: lookup\n    link_type: Relates\n"))
	require.NoError(t, err)
	assert.Equal(t, "Relates", m.Fields[1].LinkType)
	b, err := m.Bind(linkFields)
	require.NoError(t, err)
	bf, ok := b.IssueLinkField()
	require.True(t, ok)
	assert.Equal(t, "issuelinks", bf.JiraID)
	assert.Contains(t, b.JiraFieldIDs(), "issuelinks")

	rec := map[string]any{"Name": "SSO", "Related_Opportunity__r": map[string]any{"Jira_Issue_Id__c": "10042"}}
	d, err := b.ToJira("Opportunity 006A", RecordGetter(rec))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"id": "10042"}, d.Fields["issuelinks"])

	link := func(id, typ, in, out string) map[string]any {
		l := map[string]any{"id": id, "type": map[string]any{"id": "1", "name": typ, "inward": "x", "outward": "y"}}
		if in != "" {
			l["inwardIssue"] = map[string]any{"id": in, "key": "SFJ-" + in}
		}
		if out != "" {
			l["outwardIssue"] = map[string]any{"id": out, "key": "SFJ-" + out}
		}
		return l
	}
	// Only outward links of the mapped type count; other types and links pointing here are ignored.
	p := b.ProjectJira(jiraSide(t, map[string]any{"summary": "SSO", "issuelinks": []any{
		link("1", "Relates", "", "10042"), link("2", "Blocks", "", "10050"), link("3", "Relates", "10060", "")}}))
	assert.Equal(t, "10042", p["issuelinks"])
	assert.Empty(t, d.Projection.Diff(p))
	// A duplicate or a wrong target differs from the desired single link, so the sync repairs it.
	p = b.ProjectJira(jiraSide(t, map[string]any{"summary": "SSO", "issuelinks": []any{link("1", "relates", "", "10042"), link("4", "Relates", "", "10041")}}))
	assert.Equal(t, "10041,10042", p["issuelinks"])
	assert.NotEmpty(t, d.Projection.Diff(p))

	// Lookup cleared: the desired value is empty, as is an issue without links.
	rec["Related_Opportunity__r"] = nil
	d, err = b.ToJira("Opportunity 006A", RecordGetter(rec))
	require.NoError(t, err)
	assert.Nil(t, d.Fields["issuelinks"])
	assert.Empty(t, d.Projection.Diff(b.ProjectJira(jiraSide(t, map[string]any{"summary": "SSO", "issuelinks": []any{}}))))

	// Preflight: the link type must exist on the site.
	assert.Empty(t, m.CheckLinkTypes([]string{"Blocks", "Relates"}).Problems)
	m2, err := Load("l.yaml", []byte(header+"  - sf: Related_Opportunity__r.Jira_Issue_Id__c\n    jira: issuelinks\n    type: lookup\n    link_type: Relate\n"))
	require.NoError(t, err)
	rep := m2.CheckLinkTypes([]string{"Blocks", "Relates"})
	require.Len(t, rep.Problems, 1)
	assert.Contains(t, rep.Problems[0].Error(), `l.yaml:16: Jira has no issue link type "Relate"`)
	assert.Contains(t, rep.Problems[0].Error(), `did you mean "Relates"?`)

	// Without link_type, a lookup on issuelinks does not bind as a parent either.
	m3 := &Mapping{File: "l.yaml", Fields: []FieldMap{{SF: "X__r.Jira_Issue_Id__c", Jira: "issuelinks", Type: TypeLookup, Direction: DirSFToJira}}}
	_, err = m3.Bind(linkFields)
	require.ErrorContains(t, err, "cannot hold type lookup")
}
