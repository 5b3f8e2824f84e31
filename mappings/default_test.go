package mappings

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jiraFields mirrors GET /rest/api/3/field on the demo site.
var jiraFields = []JiraField{
	{ID: "summary", Name: "Summary", SchemaType: "string"},
	{ID: "description", Name: "Description", SchemaType: "string"},
	{ID: "duedate", Name: "Due date", SchemaType: "date"},
	{ID: "status", Name: "Status", SchemaType: "status"},
	{ID: "resolution", Name: "Resolution", SchemaType: "resolution"},
	{ID: "customfield_10050", Name: "Deal Amount", SchemaType: "number", SchemaCustom: "com.atlassian.jira.plugin.system.customfieldtypes:float"},
	{ID: "customfield_10051", Name: "Probability", SchemaType: "number", SchemaCustom: "com.atlassian.jira.plugin.system.customfieldtypes:float"},
	{ID: "customfield_10052", Name: "Customer", SchemaType: "string", SchemaCustom: "com.atlassian.jira.plugin.system.customfieldtypes:textfield"},
	{ID: "customfield_10020", Name: "Sprint", SchemaType: "array", SchemaItems: "json", SchemaCustom: "com.pyxis.greenhopper.jira:gh-sprint"},
	{ID: "customfield_10054", Name: "Industry", SchemaType: "string", SchemaCustom: "com.atlassian.jira.plugin.system.customfieldtypes:textfield"},
}

// defaultPair returns one mapping of the default pack by pair name.
func defaultPair(t *testing.T, ms []*Mapping, pair string) *Mapping {
	t.Helper()
	for _, m := range ms {
		if m.Pair == pair {
			return m
		}
	}
	t.Fatalf("default pack has no pair %q", pair)
	return nil
}

func loadDefaultBound(t *testing.T) *Bound {
	t.Helper()
	ms, err := LoadDefault()
	require.NoError(t, err)
	require.Len(t, ms, 3)
	b, err := defaultPair(t, ms, "opportunity-epic").Bind(jiraFields)
	require.NoError(t, err)
	return b
}

func TestDefaultPackGolden(t *testing.T) {
	ms, err := LoadDir("default")
	require.NoError(t, err)
	require.Len(t, ms, 3)
	assert.Equal(t, []string{"case-bug", "feature-request-story", "opportunity-epic"}, []string{ms[0].Pair, ms[1].Pair, ms[2].Pair})
	m := defaultPair(t, ms, "opportunity-epic")
	assert.Equal(t, "opportunity-epic", m.Pair)
	sfSide := m.Salesforce
	sfSide.lines = nil
	assert.Equal(t, SalesforceSide{Object: "Opportunity", Where: "IsDeleted = false", ExternalIDField: "Jira_Issue_Id__c", KeyField: "Jira_Issue_Key__c", OnDelete: OnDeleteMark}, sfSide)
	assert.Equal(t, JiraSide{Project: "SFJ", IssueType: "Epic", Property: "sfjira"}, m.Jira)
	require.NotNil(t, m.Status)
	assert.Equal(t, "StageName", m.Status.SF)
	assert.Equal(t, UnmappedFail, m.Status.Unmapped)
	assert.Equal(t, map[string]StatusTarget{
		"Prospecting": {Status: "To Do"}, "Qualification": {Status: "To Do"},
		"Needs Analysis": {Status: "In Progress"}, "Value Proposition": {Status: "In Progress"},
		"Id. Decision Makers": {Status: "In Progress"}, "Perception Analysis": {Status: "In Progress"},
		"Proposal/Price Quote": {Status: "In Review"}, "Negotiation/Review": {Status: "In Review"},
		"Closed Won": {Status: "Done", Resolution: "Done"}, "Closed Lost": {Status: "Done", Resolution: "Won't Do", Transition: "Won't Do"},
	}, m.Status.Values)
	assert.Equal(t, "SELECT Id, SystemModstamp, LastModifiedDate, Name, Description, CloseDate, Amount, Probability, Account.Name, Account.Industry, Jira_Status__c, Jira_Resolution__c, Jira_Sprint__c, StageName, Jira_Issue_Id__c, Jira_Issue_Key__c FROM Opportunity WHERE (IsDeleted = false)", m.SOQL(""))

	b := loadDefaultBound(t)
	ids := map[string]string{}
	for _, f := range b.Fields {
		ids[f.SF] = f.JiraID
	}
	assert.Equal(t, map[string]string{
		"Name": "summary", "Description": "description", "CloseDate": "duedate", "Amount": "customfield_10050",
		"Probability": "customfield_10051", "Account.Name": "customfield_10052", "Account.Industry": "customfield_10054",
		"Jira_Status__c": "status", "Jira_Resolution__c": "resolution", "Jira_Sprint__c": "customfield_10020",
	}, ids)
	assert.Equal(t, []string{"summary", "description", "duedate", "customfield_10050", "customfield_10051", "customfield_10052", "customfield_10054", "status", "resolution", "customfield_10020"}, b.JiraFieldIDs())
}

func opportunity() map[string]any {
	return map[string]any{
		"attributes":     map[string]any{"type": "Opportunity"},
		"Id":             "006Dn00000AbCdEIAV",
		"Name":           "Überraschung GmbH — 東京 expansion 🚀",
		"Description":    "Customer wants SSO.\r\nAlso SCIM.\r\n\r\nBudget approved by Zoë.",
		"CloseDate":      "2024-01-31",
		"Amount":         125000.0,
		"Probability":    62.5,
		"StageName":      "Closed Lost",
		"Account":        map[string]any{"attributes": map[string]any{"type": "Account"}, "Name": "Société Générale", "Industry": "Banking"},
		"Jira_Status__c": nil,
	}
}

func TestToJiraRealisticRecord(t *testing.T) {
	b := loadDefaultBound(t)
	d, err := b.ToJira("Opportunity 006Dn00000AbCdEIAV", RecordGetter(opportunity()))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"summary": "Überraschung GmbH — 東京 expansion 🚀",
		"description": map[string]any{"type": "doc", "version": 1, "content": []any{
			para(txt("Customer wants SSO."), br, txt("Also SCIM.")), para(txt("Budget approved by Zoë."))}},
		"duedate":           "2024-01-31",
		"customfield_10050": 125000.0,
		"customfield_10051": 63.0,
		"customfield_10052": "Société Générale", "customfield_10054": "Banking",
	}, d.Fields)
	assert.Equal(t, Projection{
		"summary":           "Überraschung GmbH — 東京 expansion 🚀",
		"description":       "Customer wants SSO.\nAlso SCIM.\n\nBudget approved by Zoë.",
		"duedate":           "2024-01-31",
		"customfield_10050": "125000.00",
		"customfield_10051": "63",
		"customfield_10052": "Société Générale", "customfield_10054": "Banking",
		"status":     "Done",
		"resolution": "Won't Do",
	}, d.Projection)
	assert.Equal(t, "Done", d.Status)
	assert.Equal(t, "Won't Do", d.Resolution)
	assert.Equal(t, "Won't Do", d.Transition, "the transition whose post-function sets the resolution")
	assert.Empty(t, d.Warnings)
	assert.Len(t, d.Projection.Hash(), 64)
}

func TestToJiraTruncatesUnicodeName(t *testing.T) {
	b := loadDefaultBound(t)
	rec := opportunity()
	rec["Name"] = strings.Repeat("é", 300)
	d, err := b.ToJira("Opportunity 006x", RecordGetter(rec))
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("é", 119)+"…", d.Fields["summary"])
	assert.Equal(t, []string{"truncated Name (→ summary) to 120 characters"}, d.Warnings)
}

func TestToJiraRecordErrors(t *testing.T) {
	b := loadDefaultBound(t)
	t.Run("required missing", func(t *testing.T) {
		rec := opportunity()
		rec["Account"] = nil
		_, err := b.ToJira("Opportunity 006x", RecordGetter(rec))
		var re *RecordError
		require.True(t, errors.As(err, &re))
		assert.Equal(t, CodeRequiredValueMissing, re.Code)
		assert.Equal(t, "Account.Name", re.Field)
		assert.Equal(t, "MAPPING_REQUIRED_VALUE_MISSING: Opportunity 006x: Account.Name (→ Customer) is required but empty (fix: fill in Account.Name on the record, or replace required: true with a default: in default/opportunity-epic.yaml:70)", err.Error())
	})
	t.Run("unmapped stage with near match", func(t *testing.T) {
		rec := opportunity()
		rec["StageName"] = "closed won"
		_, err := b.ToJira("Opportunity 006x", RecordGetter(rec))
		var re *RecordError
		require.True(t, errors.As(err, &re))
		assert.Equal(t, CodeValueUnmapped, re.Code)
		assert.Equal(t, `StageName value "closed won" has no Jira status in the mapping`, re.Msg)
		assert.Contains(t, re.Fix, `did you mean "Closed Won"?`)
		assert.Contains(t, re.Fix, "add `closed won: { status: <Jira status> }` under status.values in default/opportunity-epic.yaml:")
	})
	t.Run("type mismatch and too long, all reported", func(t *testing.T) {
		m, err := Load("m.yaml", []byte(header+"    max_length: 5\n  - sf: Amount\n    jira: Deal Amount\n    type: currency\n"))
		require.NoError(t, err)
		bb, err := m.Bind(jiraFields)
		require.NoError(t, err)
		_, err = bb.ToJira("Opportunity 006x", RecordGetter(map[string]any{"Name": "toolong", "Amount": "lots"}))
		require.Error(t, err)
		assert.Equal(t, "MAPPING_VALUE_TOO_LONG: Opportunity 006x: Name (→ summary) is 7 characters, more than max_length 5 (fix: shorten Name in Salesforce, or set on_overflow: truncate in m.yaml:10)\n"+
			`MAPPING_TYPE_MISMATCH: Opportunity 006x: Amount (→ Deal Amount) must be a number, got "lots" (fix: correct Amount in Salesforce, or change type: currency in m.yaml:14)`, err.Error())
	})
	t.Run("unmapped keep and defaults", func(t *testing.T) {
		m, err := Load("m.yaml", []byte(header+"  - sf: Amount\n    jira: Deal Amount\n    type: number\n    default: 0\n  - sf: Description\n    jira: description\n    type: rich_text\nstatus:\n  sf: StageName\n  unmapped: keep\n  values:\n    A: { status: To Do }\n"))
		require.NoError(t, err)
		bb, err := m.Bind(jiraFields)
		require.NoError(t, err)
		d, err := bb.ToJira("Opportunity 006x", RecordGetter(map[string]any{"Name": "n", "Amount": nil, "Description": "  ", "StageName": "B"}))
		require.NoError(t, err)
		assert.Equal(t, 0.0, d.Fields["customfield_10050"])
		assert.Nil(t, d.Fields["description"])
		assert.Contains(t, d.Fields, "description")
		assert.Equal(t, "", d.Status)
		assert.NotContains(t, d.Projection, "status")
	})
}

// issueJSON renders what Jira would return on GET issue after applying Desired.
func issueJSON(t *testing.T, d *Desired, extra map[string]any) map[string]json.RawMessage {
	t.Helper()
	all := map[string]any{}
	for k, v := range d.Fields {
		all[k] = v
	}
	all["status"] = map[string]any{"id": "10001", "name": d.Status, "statusCategory": map[string]any{"key": "done"}}
	if d.Resolution == "" {
		all["resolution"] = nil
	} else {
		all["resolution"] = map[string]any{"id": "10000", "name": d.Resolution}
	}
	for k, v := range extra {
		all[k] = v
	}
	body, err := json.Marshal(all)
	require.NoError(t, err)
	var out map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &out))
	return out
}

func TestRoundTripProjection(t *testing.T) {
	b := loadDefaultBound(t)
	recs := []map[string]any{opportunity()}
	r2 := opportunity()
	r2["Description"], r2["Amount"], r2["Probability"], r2["StageName"], r2["CloseDate"] = nil, 1.005, 10.0, "Negotiation/Review", nil
	r3 := opportunity()
	r3["Name"] = strings.Repeat("x ", 200)
	r3["Description"] = "\n\n  lead\n\n\n\ttabbed line  \r\n- bullet\n"
	recs = append(recs, r2, r3)
	for i, rec := range recs {
		d, err := b.ToJira("Opportunity", RecordGetter(rec))
		require.NoError(t, err, "record %d", i)
		got := b.ProjectJira(issueJSON(t, d, nil))
		assert.Equal(t, d.Projection, got, "record %d", i)
		assert.Empty(t, d.Projection.Diff(got))
		assert.Equal(t, d.Projection.Hash(), got.Hash())
	}
}

func TestProjectJiraAndToSalesforce(t *testing.T) {
	b := loadDefaultBound(t)
	fields := map[string]json.RawMessage{
		"summary":           json.RawMessage(`"  Deal  "`),
		"duedate":           json.RawMessage(`"2024-02-01"`),
		"customfield_10050": json.RawMessage(`125000`),
		"customfield_10051": json.RawMessage(`62.5`),
		"customfield_10052": json.RawMessage(`null`),
		"status":            json.RawMessage(`{"name":"In Progress","id":"3"}`),
		"resolution":        json.RawMessage(`null`),
		"customfield_10020": json.RawMessage(`[{"id":1,"name":"Sprint 7","state":"closed"},{"id":2,"name":"Sprint 8","state":"active"}]`),
	}
	p := b.ProjectJira(fields)
	assert.Equal(t, Projection{"summary": "Deal", "description": "", "duedate": "2024-02-01", "customfield_10050": "125000.00",
		"customfield_10051": "63", "customfield_10052": "", "customfield_10054": "", "status": "In Progress", "resolution": ""}, p)
	assert.Equal(t, map[string]any{"Jira_Status__c": "In Progress", "Jira_Resolution__c": nil, "Jira_Sprint__c": "Sprint 7, Sprint 8",
		"Name": "  Deal  ", "CloseDate": "2024-02-01"}, b.ToSalesforce(fields))

	before := Projection{"summary": "Deal", "status": "To Do", "x": "1"}
	assert.Equal(t, []FieldDiff{
		{Field: "customfield_10050", Before: "", After: "125000.00"},
		{Field: "customfield_10051", Before: "", After: "63"},
		{Field: "duedate", Before: "", After: "2024-02-01"},
		{Field: "status", Before: "To Do", After: "In Progress"},
		{Field: "x", Before: "1", After: ""},
	}, before.Diff(p))
	assert.NotEqual(t, Projection{"a": "bc"}.Hash(), Projection{"ab": "c"}.Hash())
}

func TestBindErrors(t *testing.T) {
	src := header + `  - sf: Amount
    jira: Deal Amont
    type: currency
  - sf: Account.Name
    jira: Customer
    type: number
  - sf: Description
    jira: description
    type: text
  - sf: Region__c
    jira: Region
    type: text
  - sf: Jira_Status__c
    jira: Status
    direction: jira_to_sf
    type: text
`
	m, err := Load("m.yaml", []byte(src))
	require.NoError(t, err)
	fields := append([]JiraField{}, jiraFields...)
	fields = append(fields, JiraField{ID: "customfield_1", Name: "Region", SchemaType: "string"}, JiraField{ID: "customfield_2", Name: "region", SchemaType: "string"})
	_, err = m.Bind(fields)
	require.Error(t, err)
	assert.Equal(t, strings.Join([]string{
		`m.yaml:14:11: jira field "Deal Amont" not found in Jira; did you mean "Deal Amount"? (fix: use a field name or id listed by GET /rest/api/3/field, or create the field with ` + "`sfjira preflight --fix`" + `)`,
		`m.yaml:17:11: jira field "Customer" (customfield_10052) is a string field, which cannot hold type number (fix: use type: text, or map a different Jira field)`,
		`m.yaml:20:11: jira field "description" (description) is a rich text (ADF) field, which cannot hold type text (fix: use type: rich_text, or map a different Jira field)`,
		`m.yaml:23:11: jira field name "Region" matches 2 fields: customfield_1, customfield_2 (fix: use the field id instead of the name, e.g. jira: customfield_1)`,
	}, "\n"), err.Error())

	m2, err := Load("m.yaml", []byte(header+"  - sf: Other\n    jira: Summary\n    type: text\n    direction: both\n"))
	require.Error(t, err, "duplicate by case is caught at load")
	_ = m2
	m3, err := Load("m.yaml", []byte(header+"  - sf: Other__c\n    jira: summary\n    type: text\n    direction: jira_to_sf\n  - sf: Checked__c\n    jira: customfield_10051\n    type: checkbox\n"))
	require.NoError(t, err)
	b3, err := m3.Bind(jiraFields)
	require.NoError(t, err)
	d, err := b3.ToJira("r", RecordGetter(map[string]any{"Name": "n", "Checked__c": true}))
	require.NoError(t, err)
	assert.Equal(t, 1.0, d.Fields["customfield_10051"])
	assert.Equal(t, "true", b3.ProjectJira(issueJSON(t, d, nil))["customfield_10051"])
}

func TestRecordGetter(t *testing.T) {
	get := RecordGetter(map[string]any{"Name": "n", "Account": nil, "Owner": map[string]any{"Name": "o"}})
	v, ok := get("Name")
	assert.Equal(t, "n", v)
	assert.True(t, ok)
	v, ok = get("name")
	assert.Equal(t, "n", v)
	assert.True(t, ok)
	v, ok = get("Account.Name")
	assert.Nil(t, v)
	assert.True(t, ok)
	v, _ = get("Owner.Name")
	assert.Equal(t, "o", v)
	_, ok = get("Missing")
	assert.False(t, ok)
}

// TestWithRichTextRenderedReadsTheSame: projecting and converting an issue whose rich text was
// rendered once gives exactly what the ADF documents give.
func TestWithRichTextRenderedReadsTheSame(t *testing.T) {
	b := loadDefaultBound(t)
	for _, desc := range []string{
		`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"Line one  "},{"type":"hardBreak"},{"type":"text","text":"Zoë's line two"}]},{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"item"}]}]}]},{"type":"paragraph","content":[]}]}`,
		`{"type":"doc","version":1,"content":[]}`,
		`null`,
		`"a v2 string\r\n\r\nsecond"`,
	} {
		fields := map[string]json.RawMessage{"summary": json.RawMessage(`"Deal"`), "description": json.RawMessage(desc),
			"status": json.RawMessage(`{"name":"Done"}`), "resolution": json.RawMessage(`{"name":"Won't Do"}`)}
		r := b.WithRichTextRendered(fields)
		assert.Equal(t, b.ProjectJira(fields), b.ProjectJira(r), desc)
		assert.Equal(t, b.ToSalesforce(fields), b.ToSalesforce(r), desc)
		assert.Equal(t, desc, string(fields["description"]), "the input is not changed")
	}
}
