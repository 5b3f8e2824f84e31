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
		"| `Name` | `summary` | text | string, textarea, picklist, email, url, phone, id, reference, combobox, encryptedstring | string (single line) | both ways | sf | last_writer_wins | required | max 120 chars, on overflow truncate | 34 |",
		"| `Amount` | `Deal Amount` | currency | currency, double | number | SF → Jira | sf | owner_wins | optional | 2 decimals | 60 |",
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

	code, out = run(t, "mapping", "doc", "../mappings/testdata/broken/version-2.yaml")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "version-2.yaml:1:10: unsupported mapping version 2")
}
