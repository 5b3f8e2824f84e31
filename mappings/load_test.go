package mappings

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// header is a valid mapping prefix of 12 lines; tests append lines from line 13.
const header = `version: 1
pair: p
salesforce:
  object: Opportunity
  external_id_field: Jira_Issue_Id__c
jira:
  project: SFJ
  issue_type: Epic
fields:
  - sf: Name
    jira: summary
    type: text
`

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		line, col int
		msg       string // exact
		fix       string // substring
	}{
		{"unknown field key", header + "    sourc: Name\n", 13, 5,
			`unknown key "sourc" in field mapping; allowed keys: sf, jira, type, direction, owner, conflict, required, default, precision, max_length, on_overflow, values, unmapped, fallback, expr, sync, link_type, pii, transform`,
			`remove "sourc"`},
		{"typo suggests closest key", header + "    requried: true\n", 13, 5,
			`unknown key "requried" in field mapping; allowed keys: sf, jira, type, direction, owner, conflict, required, default, precision, max_length, on_overflow, values, unmapped, fallback, expr, sync, link_type, pii, transform`,
			`did you mean "required"?`},
		{"unknown top-level key", header + "stauts:\n  sf: StageName\n", 13, 1,
			`unknown key "stauts" in the mapping file; allowed keys: version, pair, salesforce, jira, fields, status, activities, triggers`, `did you mean "status"?`},
		{"max_length not an integer", header + "    max_length: abc\n", 13, 17,
			`max_length must be an integer, got "abc"`, "whole number"},
		{"required not a bool", header + "    required: \"yes\"\n", 13, 15,
			`required must be true or false, got "yes"`, "required: true"},
		{"missing type", header + "  - sf: Amount\n    jira: Deal Amount\n", 13, 5,
			`missing required key "type" in field mapping`, "add `type: …`"},
		{"unknown type", header + "  - sf: Amount\n    jira: Deal Amount\n    type: nmber\n", 15, 11,
			`unknown type "nmber"; allowed: text, rich_text, date, datetime, number, currency, percent, checkbox, picklist, multipicklist, user, lookup, html`, `did you mean "number"?`},
		{"lookup written back", header + "  - sf: AccountId\n    jira: parent\n    type: lookup\n    direction: both\n", 13, 9,
			`a lookup written back to Salesforce (direction both) needs a path through one relationship, got "AccountId"`, "e.g. Opportunity__r.Jira_Issue_Id__c, or use direction: sf_to_jira"},
		{"lookup written back two relationships deep", header + "  - sf: Opportunity__r.Account.Jira_Issue_Id__c\n    jira: parent\n    type: lookup\n    direction: jira_to_sf\n", 13, 9,
			`a lookup written back to Salesforce (direction jira_to_sf) needs a path through one relationship, got "Opportunity__r.Account.Jira_Issue_Id__c"`, "use direction: sf_to_jira"},
		{"two lookups writing one lookup field", header + "  - sf: Opportunity__r.Jira_Issue_Id__c\n    jira: parent\n    type: lookup\n    direction: both\n" +
			"  - sf: Opportunity__r.Jira_Issue_Id__c\n    jira: issuelinks\n    type: lookup\n    link_type: Relates\n    direction: both\n", 17, 9,
			`duplicate Salesforce target "Opportunity__r.Jira_Issue_Id__c" (already mapped at line 13)`, "remove one of the entries"},
		{"later type", header + "  - sf: AccountId\n    jira: parent\n    type: multi_picklist\n", 15, 11,
			`unknown type "multi_picklist"; allowed: text, rich_text, date, datetime, number, currency, percent, checkbox, picklist, multipicklist, user, lookup, html`, `did you mean "multipicklist"?`},
		{"unsupported version", strings.Replace(header, "version: 1", "version: 2", 1), 1, 10,
			`unsupported mapping version 2`, "set version: 1"},
		{"version as string", strings.Replace(header, "version: 1", `version: "1"`, 1), 1, 10,
			`version must be the integer 1, got "1"`, "version: 1"},
		{"invalid pair", strings.Replace(header, "pair: p", "pair: Opp_Epic", 1), 2, 7,
			`invalid pair name "Opp_Epic"`, "lowercase"},
		{"duplicate jira target", header + "  - sf: Description\n    jira: Summary\n    type: text\n", 14, 11,
			`duplicate jira target "Summary" (already mapped at line 10)`, "remove one"},
		{"status written as field", header + "  - sf: StageName\n    jira: status\n    type: text\n", 14, 11,
			`jira field "status" cannot be written from Salesforce as a field`, "status: section"},
		{"status value key not a string", header + "status:\n  sf: StageName\n  values:\n    10: { status: To Do }\n", 16, 5,
			`status.values keys must be strings (Salesforce picklist values), got integer "10"`, `"10": { status: … }`},
		{"status value missing status", header + "status:\n  sf: StageName\n  values:\n    Prospecting: { resolution: Done }\n", 16, 18,
			`missing required key "status" in status value "Prospecting"`, "add `status: …`"},
		{"on_overflow value", header + "    max_length: 10\n    on_overflow: cut\n", 14, 18,
			`on_overflow "cut" is not valid; allowed: truncate, fail`, "truncate, fail"},
		{"on_overflow without max_length", header + "    on_overflow: truncate\n", 13, 5,
			`on_overflow has no effect without max_length`, "add max_length"},
		{"where with semicolon", strings.Replace(header, "  object: Opportunity\n", "  object: Opportunity\n  where: \"IsDeleted = false; DELETE\"\n", 1), 5, 10,
			`where must be one SOQL condition and must not contain ';'`, "remove the ';'"},
		{"where not a condition", strings.Replace(header, "  object: Opportunity\n", "  object: Opportunity\n  where: Name\n", 1), 5, 10,
			`where "Name" does not look like a SOQL condition`, "IsDeleted = false"},
		{"where with WHERE", strings.Replace(header, "  object: Opportunity\n", "  object: Opportunity\n  where: WHERE Amount > 0\n", 1), 5, 10,
			`where must be only the condition, not start with WHERE`, "just the condition"},
		{"where with LIMIT", strings.Replace(header, "  object: Opportunity\n", "  object: Opportunity\n  where: Amount > 0 LIMIT 10\n", 1), 5, 10,
			`where must be a condition; LIMIT is not allowed here`, "remove the LIMIT"},
		{"precision range", header + "  - sf: Amount\n    jira: Deal Amount\n    type: currency\n    precision: 20\n", 16, 16,
			`precision 20 is outside 0..18`, "0 to 18"},
		{"precision on text", header + "    precision: 2\n", 13, 5,
			`precision applies only to number, currency and percent fields`, "remove precision"},
		{"required with default", header + "    required: true\n    default: Untitled\n", 14, 5,
			`required and default cannot be combined`, "remove required: true"},
		{"default of wrong type", header + "  - sf: Amount\n    jira: Deal Amount\n    type: number\n    default: lots\n", 16, 14,
			`default for a number field must be a number, got "lots"`, "number constant"},
		{"missing section", "version: 1\npair: p\njira:\n  project: SFJ\n  issue_type: Epic\nfields:\n  - {sf: Name, jira: summary, type: text}\n", 1, 1,
			`missing required key "salesforce" in the mapping file`, "add `salesforce: …`"},
		{"fields not a list", strings.Replace(header, "fields:\n  - sf: Name\n    jira: summary\n    type: text\n", "fields: Name\n", 1), 9, 9,
			`fields must be a list`, "list"},
		{"direction value", header + "    direction: both_ways\n", 13, 16,
			`direction "both_ways" is not valid; allowed: sf_to_jira, jira_to_sf, both`, "use one of"},
		{"owner both with owner_wins", header + "    direction: both\n    owner: both\n    conflict: owner_wins\n", 15, 15,
			`conflict: owner_wins needs a single owner, but owner is both`, "last_writer_wins"},
		{"jira_to_sf into parent field", header + "  - sf: Account.Jira_Status__c\n    jira: status\n    direction: jira_to_sf\n    type: text\n", 13, 9,
			`cannot write Jira values into parent record field "Account.Jira_Status__c"`, "direction: sf_to_jira"},
		{"invalid project key", strings.Replace(header, "project: SFJ", "project: sfj", 1), 7, 12,
			`invalid Jira project key "sfj"`, "SFJ-12"},
		{"tab indentation", header + "  \ttype: x\n", 13, 3, "tab character in indentation", "spaces"},
		{"yaml syntax error", header + "  - sf: [a\n", 0, 0, "", "indentation"},
		{"duplicate key", header + "    type: date\n", 13, 5,
			`key "type" appears twice in field mapping (first at line 12)`, "keep one"},
		{"unmapped policy", header + "status:\n  sf: StageName\n  unmapped: ignore\n  values:\n    A: { status: To Do }\n", 15, 13,
			`unmapped "ignore" is not valid; allowed: fail, keep`, "use one of"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Load("m.yaml", []byte(tc.yaml))
			require.Error(t, err)
			assert.Nil(t, m)
			var list ErrorList
			require.True(t, errors.As(err, &list), "want ErrorList, got %T", err)
			var found *Error
			for _, e := range list {
				if (tc.line == 0 || e.Line == tc.line) && (tc.col == 0 || e.Column == tc.col) && (tc.msg == "" || e.Msg == tc.msg) {
					found = e
				}
			}
			require.NotNil(t, found, "no error at %d:%d %q in:\n%s", tc.line, tc.col, tc.msg, err)
			assert.Equal(t, "m.yaml", found.File)
			assert.Contains(t, found.Fix, tc.fix)
			assert.Contains(t, found.Error(), "m.yaml:")
			assert.Contains(t, found.Error(), "(fix: ")
		})
	}
}

func TestLoadReportsAllErrorsSortedByLine(t *testing.T) {
	src := `version: 3
pair: Bad Pair
salesforce:
  object: Opportunity
  external_id_field: Jira_Issue_Id__c
jira:
  project: SFJ
  issue_type: Epic
fields:
  - sf: Name
    jira: summary
    type: txt
    max_length: abc
status:
  sf: StageName
  values:
    true: { status: Done }
`
	_, err := Load("x.yaml", []byte(src))
	var list ErrorList
	require.True(t, errors.As(err, &list))
	var got []string
	for _, e := range list {
		got = append(got, e.Error())
	}
	assert.Equal(t, []string{
		`x.yaml:1:10: unsupported mapping version 3 (fix: this sfjira reads mapping version 1; set version: 1 or upgrade sfjira)`,
		`x.yaml:2:7: invalid pair name "Bad Pair" (fix: use lowercase letters, digits and '-', e.g. opportunity-epic)`,
		`x.yaml:12:11: unknown type "txt"; allowed: text, rich_text, date, datetime, number, currency, percent, checkbox, picklist, multipicklist, user, lookup, html (fix: did you mean "text"?)`,
		`x.yaml:13:17: max_length must be an integer, got "abc" (fix: write a whole number, e.g. max_length: 2)`,
		`x.yaml:17:5: status.values keys must be strings (Salesforce picklist values), got boolean "true" (fix: quote the value: "true": { status: … })`,
	}, got)
	assert.Equal(t, strings.Join(got, "\n"), err.Error())
	var one *Error
	assert.True(t, errors.As(err, &one), "errors.As reaches individual *Error")
}

func TestLoadDefaultsAndVersionHash(t *testing.T) {
	src := header + "  - sf: Amount\n    jira: Deal Amount\n    type: currency\n  - sf: Jira_Status__c\n    jira: status\n    direction: jira_to_sf\n    type: text\n  - sf: Notes__c\n    jira: Notes\n    type: text\n    direction: both\n    owner: both\n"
	m, err := Load("m.yaml", []byte(src))
	require.NoError(t, err)
	assert.Len(t, m.Version, 12)
	assert.Equal(t, "sfjira", m.Jira.Property)
	f := m.Fields
	assert.Equal(t, FieldMap{SF: "Name", Jira: "summary", Type: "text", Direction: "sf_to_jira", Owner: "sf", Conflict: "owner_wins", Sync: "realtime", OnOverflow: "fail", Precision: NoPrecision, Line: 10}, stripPos(f[0]))
	assert.Equal(t, 2, f[1].Precision)
	assert.Equal(t, "jira", f[2].Owner)
	assert.Equal(t, "last_writer_wins", f[3].Conflict)
	m2, err := Load("m.yaml", []byte(src+"\n"))
	require.NoError(t, err)
	assert.NotEqual(t, m.Version, m2.Version)
}

func stripPos(f FieldMap) FieldMap { f.jiraLine, f.jiraCol, f.col = 0, 0, 0; return f }

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	write("b.yml", strings.Replace(header, "pair: p", "pair: b", 1))
	write("a.yaml", header)
	write("notes.txt", "ignored")
	ms, err := LoadDir(dir)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, "p", ms[0].Pair)
	assert.Equal(t, filepath.Join(dir, "a.yaml"), ms[0].File)

	write("c.yaml", header)
	write("d.yaml", header+"    bogus: 1\n")
	_, err = LoadDir(dir)
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, filepath.Join(dir, "c.yaml")+`:2:7: pair "p" is already defined in `+filepath.Join(dir, "a.yaml")+` (fix: give each mapping file its own pair name, or delete the duplicate file)`, lines[0])
	assert.True(t, strings.HasPrefix(lines[1], filepath.Join(dir, "d.yaml")+":13:5: unknown key \"bogus\""), lines[1])

	_, err = LoadDir(t.TempDir())
	assert.ErrorContains(t, err, "no *.yaml or *.yml mapping files found")
}

func TestLoadEmptyAndMissingFile(t *testing.T) {
	_, err := Load("e.yaml", nil)
	assert.EqualError(t, err, "e.yaml:1:1: mapping file is empty (fix: start from mappings/default/opportunity-epic.yaml)")
	_, err = LoadFile(filepath.Join(t.TempDir(), "missing.yaml"))
	assert.ErrorContains(t, err, "cannot read mapping file")
}

func TestSOQL(t *testing.T) {
	m, err := Load("m.yaml", []byte(strings.Replace(header, "  object: Opportunity\n", "  object: Opportunity\n  where: \"StageName != 'Closed Lost'\"\n  key_field: Jira_Issue_Key__c\n", 1)+
		"  - sf: Account.Name\n    jira: Customer\n    type: text\n  - sf: name\n    jira: Other\n    type: text\n  - sf: Jira_Status__c\n    jira: status\n    direction: jira_to_sf\n    type: text\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"Id", "SystemModstamp", "LastModifiedDate", "Name", "Account.Name", "Jira_Status__c", "Jira_Issue_Id__c", "Jira_Issue_Key__c"}, m.SOQLFields())
	assert.Equal(t, "SELECT Id, SystemModstamp, LastModifiedDate, Name, Account.Name, Jira_Status__c, Jira_Issue_Id__c, Jira_Issue_Key__c FROM Opportunity WHERE (StageName != 'Closed Lost')", m.SOQL(""))
	assert.Equal(t, "SELECT Id, SystemModstamp, LastModifiedDate, Name, Account.Name, Jira_Status__c, Jira_Issue_Id__c, Jira_Issue_Key__c FROM Opportunity WHERE (StageName != 'Closed Lost') AND (Id = '006x')", m.SOQL("Id = '006x'"))
	m.Salesforce.Where = ""
	assert.Equal(t, "SELECT Id, SystemModstamp, LastModifiedDate, Name, Account.Name, Jira_Status__c, Jira_Issue_Id__c, Jira_Issue_Key__c FROM Opportunity WHERE (Id = '006x')", m.SOQL("Id = '006x'"))
}

func TestStatusTransitionNeedsResolution(t *testing.T) {
	_, err := Load("bad.yaml", []byte(`pair: p
salesforce: { object: Opportunity, external_id_field: Jira_Issue_Id__c }
jira: { project: SFJ, issue_type: Epic }
fields:
  - { sf: Name, jira: summary, type: text }
status:
  sf: StageName
  values:
    Closed Lost: { status: Done, transition: "Won't Do" }
`))
	require.Error(t, err)
	require.Contains(t, err.Error(), `transition "Won't Do" names the transition that sets a resolution, but no resolution is given`)
}
