package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/salesforce"
)

// preflightEnv starts both emulators with the demo seed and writes a config pointing at them.
type preflightEnv struct {
	cfg, dir string
	sf       *salesforce.Client
	jiraURL  string
}

func newPreflightEnv(t *testing.T) *preflightEnv {
	t.Helper()
	sfHTTP := httptest.NewServer(sfemu.New(sfemu.DemoOptions()))
	t.Cleanup(sfHTTP.Close)
	jHTTP := httptest.NewServer(jiraemu.New(jiraemu.DemoOptions()))
	t.Cleanup(jHTTP.Close)
	cfg, dir := emulatorConfig(t, sfHTTP.URL, jHTTP.URL)
	sf, err := salesforce.New(salesforce.Config{LoginURL: sfHTTP.URL, ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret"})
	require.NoError(t, err)
	return &preflightEnv{cfg: cfg, dir: dir, sf: sf, jiraURL: jHTTP.URL}
}

const dataQualityMapping = `version: 1
pair: opportunity-quality
salesforce:
  object: Opportunity
  where: "NextStep = 'data-quality'"
  external_id_field: Jira_Issue_Id__c
jira:
  project: SFJ
  issue_type: Epic
fields:
  - sf: Name
    jira: summary
    type: text
    required: true
  - sf: Account.Phone
    jira: Customer
    type: text
    transform: phone_e164
    required: true
  - sf: Description
    jira: Industry
    type: text
    max_length: 100
  - sf: Account.Type
    jira: Account Type
    type: picklist
    values:
      Customer - Direct: Direct
      Customer - Channel: Channel
`

// TestPreflightDataReport seeds bad records in the Salesforce emulator (a phone without a country
// code, a missing required parent value, a description over max_length, account types without a
// Jira value) and checks the per-field report, the JSON form and the exit code; once the records
// are cleaned up, the same command passes.
func TestPreflightDataReport(t *testing.T) {
	env := newPreflightEnv(t)
	ctx := context.Background()
	file := filepath.Join(env.dir, "opportunity-quality.yaml")
	require.NoError(t, os.WriteFile(file, []byte(dataQualityMapping), 0o644))

	account := func(name, phone, typ string) string {
		id, err := env.sf.Create(ctx, "Account", map[string]any{"Name": name, "Phone": phone, "Type": typ})
		require.NoError(t, err)
		return id
	}
	good := account("DQ Good", "+44 20 7946 0958", "Customer - Direct")
	badPhone := account("DQ Bad Phone", "020 7946 0958", "Customer - Channel")
	prospect := account("DQ Prospect", "+1 415 555 0100", "Prospect")
	other := account("DQ Other", "+49 30 1234567", "Other")
	opp := func(name, accountID, desc string) string {
		f := map[string]any{"Name": name, "StageName": "Prospecting", "CloseDate": "2026-12-31", "NextStep": "data-quality", "Description": desc}
		if accountID != "" {
			f["AccountId"] = accountID
		}
		id, err := env.sf.Create(ctx, "Opportunity", f)
		require.NoError(t, err)
		return id
	}
	okID := opp("DQ fine", good, "short")
	phoneID := opp("DQ phone", badPhone, "")
	orphanID := opp("DQ orphan", "", "")
	longID := opp("DQ long", good, strings.Repeat("x", 150))
	p1 := opp("DQ prospect 1", prospect, "")
	p2 := opp("DQ prospect 2", prospect, "")
	otherID := opp("DQ other", other, "")
	_ = okID

	code, out := run(t, "--config", env.cfg, "preflight", "--data", file)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "preflight ok: 1 mapping(s)", "the schema fits; only the data blocks")
	assert.Contains(t, out, "data opportunity-quality (Opportunity where NextStep = 'data-quality'): 7 record(s), 6 would fail to sync")
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 2 {
			lines[f[1]] = strings.Join(f, " ")
		}
	}
	// LINE SALESFORCE JIRA EMPTY INVALID TOO-LONG UNMAPPED FAILING EXAMPLES
	assert.Equal(t, "11 Name summary 0 0 0 (>255) 0 0", lines["Name"])
	assert.Equal(t, "15 Account.Phone Customer 1 (required) 1 0 (>255) 0 2 empty: "+orphanID+"; invalid: "+phoneID, lines["Account.Phone"])
	assert.Equal(t, "20 Description Industry 5 0 1 (>100) 0 1 too long: "+longID, lines["Description"])
	assert.Equal(t, "24 Account.Type Account Type 1 0 0 3 3 unmapped: "+p1+", "+p2+", "+otherID, lines["Account.Type"])
	assert.Contains(t, out, file+`:24: unmapped Account.Type values: "Prospect" ×2 (`+p1+", "+p2+`); "Other" ×1 (`+otherID+")")
	assert.Contains(t, out, "preflight --data failed: 6 record(s) would fail to sync")

	code, out = run(t, "--config", env.cfg, "preflight", "--data", "--json", file)
	assert.Equal(t, 1, code, out)
	var doc struct {
		OK   bool `json:"ok"`
		Data []struct {
			Records int `json:"records"`
			Failing struct {
				N int `json:"count"`
			} `json:"failing"`
			Fields []struct {
				SF      string `json:"sf"`
				Invalid struct {
					N        int      `json:"count"`
					Examples []string `json:"examples"`
				} `json:"invalid"`
				Values []struct {
					Value    string   `json:"value"`
					N        int      `json:"count"`
					Examples []string `json:"examples"`
				} `json:"unmapped_values"`
			} `json:"fields"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(strings.NewReader(out)).Decode(&doc), out) // stderr follows the JSON in out
	assert.False(t, doc.OK)
	require.Len(t, doc.Data, 1)
	assert.Equal(t, 7, doc.Data[0].Records)
	assert.Equal(t, 6, doc.Data[0].Failing.N)
	assert.Equal(t, []string{phoneID}, doc.Data[0].Fields[1].Invalid.Examples)
	require.Len(t, doc.Data[0].Fields[3].Values, 2)
	assert.Equal(t, "Prospect", doc.Data[0].Fields[3].Values[0].Value)
	assert.Equal(t, 2, doc.Data[0].Fields[3].Values[0].N)

	// Clean the data up in Salesforce: the report passes.
	require.NoError(t, env.sf.Update(ctx, "Account", badPhone, map[string]any{"Phone": "+44 20 7946 0959"}))
	require.NoError(t, env.sf.Update(ctx, "Opportunity", orphanID, map[string]any{"AccountId": good}))
	require.NoError(t, env.sf.Update(ctx, "Opportunity", longID, map[string]any{"Description": "short again"}))
	require.NoError(t, env.sf.Update(ctx, "Account", prospect, map[string]any{"Type": "Customer - Direct"}))
	require.NoError(t, env.sf.Update(ctx, "Account", other, map[string]any{"Type": "Customer - Channel"}))
	code, out = run(t, "--config", env.cfg, "preflight", "--data", file)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "7 record(s), 0 would fail to sync")
}
