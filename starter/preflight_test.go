package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
)

func TestPreflightExitCodes(t *testing.T) {
	sfE := sfemu.New(sfemu.DemoOptions())
	// An integration user holding exactly what the default pack needs (least privilege).
	sfE.SetPermissions(sfemu.DefaultPackIntegrationUser())
	sfHTTP := httptest.NewServer(sfE)
	t.Cleanup(sfHTTP.Close)
	jHTTP := httptest.NewServer(jiraemu.New(jiraemu.DemoOptions()))
	t.Cleanup(jHTTP.Close)
	cfg, dir := emulatorConfig(t, sfHTTP.URL, jHTTP.URL)

	code, out := run(t, "--config", cfg, "preflight")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, `StageName "Closed Won" → Done: from "To Do" via Start progress → Done (2 transition(s))`)
	assert.Contains(t, out, "lacks ADMINISTER_PROJECTS in project SFJ, which Jira Cloud requires to create the version of trigger won-deal-delivery")
	assert.Contains(t, out, "preflight ok: 3 mapping(s), 1 warning(s)")

	// Offline-valid, but Amount is not a field Jira can hold as text and Jira_Status__c is wrong.
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(`version: 1
pair: bad
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
    required: true
  - sf: Amont
    jira: Deal Amount
    type: currency
`), 0o644))
	code, out = run(t, "--config", cfg, "preflight", bad)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, bad+`:14:5: Salesforce field "Amont" does not exist`)
	assert.Contains(t, out, "preflight failed: 1 problem(s) block a sync")

	code, out = run(t, "--config", cfg, "preflight", "--json", bad)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, `"ok":false`)

	code, _ = run(t, "--config", cfg, "preflight", "../mappings/testdata/broken/version-2.yaml")
	assert.Equal(t, 1, code, "an invalid file blocks before contacting anything")
}

// emulatorConfig writes a config reaching the emulators at sfURL and jiraURL with the demo
// credentials (through environment variables) and the default mapping pack; it returns the
// file and its directory.
func emulatorConfig(t *testing.T, sfURL, jiraURL string) (cfg, dir string) {
	t.Helper()
	dir = t.TempDir()
	cfg = filepath.Join(dir, "sfjira.yaml")
	mdir, _ := filepath.Abs("../mappings/default")
	require.NoError(t, os.WriteFile(cfg, []byte(`salesforce:
  login_url: `+sfURL+`
  client_id: sfjira-demo
  client_secret_env: SFJIRA_TEST_SF_SECRET
jira:
  base_url: `+jiraURL+`
  email: integration@sfjira.demo
  api_token_env: SFJIRA_TEST_JIRA_TOKEN
mappings:
  dir: `+mdir+"\n"), 0o644))
	t.Setenv("SFJIRA_TEST_SF_SECRET", "sfjira-demo-secret")
	t.Setenv("SFJIRA_TEST_JIRA_TOKEN", "sfjira-demo-token")
	return cfg, dir
}
