package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// run executes the CLI with args and returns the exit code and stdout.
func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := executeTo(args, &out, &out)
	return code, out.String()
}

func TestMappingValidate(t *testing.T) {
	code, out := run(t, "mapping", "validate", "../mappings/default/opportunity-epic.yaml")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "opportunity-epic.yaml: ok (pair opportunity-epic, 10 fields, version ")

	code, out = run(t, "mapping", "validate", "../mappings/default")
	assert.Equal(t, 0, code, out)

	bad := "../mappings/testdata/broken/type-typo.yaml"
	code, out = run(t, "mapping", "validate", "../mappings/default/opportunity-epic.yaml", bad)
	assert.Equal(t, 1, code, "a broken file blocks: exit 1")
	assert.Contains(t, out, bad+`:22:11: unknown type "curency"`)
	assert.Contains(t, out, `(fix: did you mean "currency"?)`)

	code, _ = run(t, "mapping", "validate")
	assert.Equal(t, 2, code, "no file is a usage error")
	code, out = run(t, "mapping", "validate", filepath.Join(t.TempDir(), "missing.yaml"))
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "cannot read mapping file")
}

func TestMappingDoc(t *testing.T) {
	code, out := run(t, "mapping", "doc", "../mappings/default")
	require.Equal(t, 0, code, out)
	for _, want := range []string{
		"# sfjira data dictionary",
		"## opportunity-epic",
		"- Salesforce: `Opportunity`, scope `IsDeleted = false`",
		"| Salesforce field | Jira field | type | Salesforce types | Jira schema | direction | owner | conflict | sync | link type | required / default | limits and notes | PII | line |",
		"| `Name` | `summary` | text | string, textarea, picklist, email, url, phone, id, reference, combobox, encryptedstring | string (single line) | both ways | sf | last_writer_wins | realtime | — | required | max 120 chars, on overflow truncate | — | 34 |",
		"| `Amount` | `Deal Amount` | currency | currency, double | number | SF → Jira | sf | owner_wins | realtime | — | optional | 2 decimals | — | 60 |",
		"- Sync modes: 10 field(s) realtime (change capture), none batch",
		// The Story's parent follows Jira: the dictionary says which lookup field it writes.
		"| `Opportunity__r.Jira_Issue_Id__c` | `parent` | lookup | string, id, reference | issuelink (parent: the related record's issue) | both ways | sf | last_writer_wins | realtime | — | optional | Jira → SF: writes `Opportunity__c` with the record linked to the new parent; an unlinked issue stops the sync (MAPPING_LOOKUP_UNLINKED) | — | 46 |",
		"| `Contact.Email` | `Customer Contact` | user | email, string | user (accountId, looked up by e-mail) | SF → Jira | sf | owner_wins | realtime | — | optional | no Jira user: value to `Contact Email` | **PII**: never logged; audited as a keyed hash (audit.pii: hash) | 63 |",
		"| `Jira_Status__c` | `status` | text |",
		"| Closed Lost | Done | Won't Do (set by the transition \"Won't Do\") |",
	} {
		assert.Contains(t, out, want)
	}
	// Status values are listed in file order.
	assert.Less(t, strings.Index(out, "| Prospecting |"), strings.Index(out, "| Closed Won |"))

	// The built-in pack is the default, and -o writes a file.
	dst := filepath.Join(t.TempDir(), "dict.md")
	code, _ = run(t, "mapping", "doc", "-o", dst)
	require.Equal(t, 0, code)
	data, err := os.ReadFile(dst)
	require.NoError(t, err)
	assert.Contains(t, string(data), "| `Amount` | `Deal Amount` | currency |")

	// A mapping with a batch field and an issue-link lookup shows both keys.
	src := filepath.Join(t.TempDir(), "links.yaml")
	require.NoError(t, os.WriteFile(src, []byte(`version: 1
pair: opp-links
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
  - sf: Amount
    jira: Deal Amount
    type: currency
    sync: batch
  - sf: Related_Opportunity__r.Jira_Issue_Id__c
    jira: issuelinks
    type: lookup
    link_type: Blocks
`), 0o644))
	code, out = run(t, "mapping", "doc", src)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "- Sync modes: 2 field(s) realtime (change capture), 1 batch (backfill and reconcile only): `Amount`")
	assert.Contains(t, out, "| `Amount` | `Deal Amount` | currency | currency, double | number | SF → Jira | sf | owner_wins | batch | — | optional | 2 decimals | — | 13 |")
	assert.Contains(t, out, "| SF → Jira | sf | owner_wins | realtime | `Blocks` | optional | — | — | 17 |")

	code, out = run(t, "mapping", "doc", "../mappings/testdata/broken/version-2.yaml")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "version-2.yaml:1:10: unsupported mapping version 2")
}

// The CLI registers the same named transforms as the worker: the site transform of package
// transforms is accepted, and an unknown name is rejected with every registered name.
func TestMappingValidateNamedTransforms(t *testing.T) {
	bad := "../mappings/testdata/broken/transform-unknown.yaml"
	code, out := run(t, "mapping", "validate", bad)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, bad+`:17:16: unknown transform "phone_e16"; registered transforms: country_code, phone_e164, sales_region, salesforce_id18 (fix: did you mean "phone_e164"?`)

	good := filepath.Join(t.TempDir(), "account-task.yaml")
	src, err := os.ReadFile(bad)
	require.NoError(t, err)
	fixed := strings.Replace(string(src), "transform: phone_e16\n", "transform: salesforce_id18\n", 1)
	require.NoError(t, os.WriteFile(good, []byte(fixed), 0o644))
	code, out = run(t, "mapping", "validate", good)
	assert.Equal(t, 0, code, out)
}
