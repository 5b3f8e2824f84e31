package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/internal/jira"
)

func runIn(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := executeIO(args, strings.NewReader(stdin), &out, &out)
	return code, out.String()
}

const fixMapping = `version: 1
pair: opportunity-fix
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
  - sf: Type
    jira: Deal Type
    type: picklist
    values:
      New Customer: New business
      Existing Customer - Upgrade: Upsell
      Existing Customer - Replacement: Renewal
      Existing Customer - Downgrade: Downsell
  - sf: LeadSource
    jira: Lead Channel
    type: picklist
    values:
      Web: Online
      Phone Inquiry: Phone
      Partner Referral: Partner
      Purchased List: Online
      Other: Other
  - sf: NextStep
    jira: Deal Source
    type: text
`

// TestPreflightFix: a mapping names a Jira select field that does not exist, writes an option
// another select field lacks, and writes a field that is on no screen. Preflight fails on all
// three; --fix answered "n" creates nothing; --fix --yes creates the field (with its options, on
// the default screen), the option, and puts the third field on the default screen, and preflight
// then passes. A missing Salesforce custom field is printed as metadata XML.
func TestPreflightFix(t *testing.T) {
	env := newPreflightEnv(t)
	ctx := context.Background()
	jc, err := jira.New(jira.Config{BaseURL: env.jiraURL, Email: "integration@sfjira.demo", APIToken: "sfjira-demo-token"})
	require.NoError(t, err)
	lead, err := jc.CreateCustomField(ctx, "Lead Channel", jira.CustomFieldTypePrefix+"select", jira.CustomFieldTypePrefix+"multiselectsearcher", "")
	require.NoError(t, err)
	ctxs, err := jc.FieldContexts(ctx, lead.ID)
	require.NoError(t, err)
	require.Len(t, ctxs, 1)
	_, err = jc.CreateFieldOptions(ctx, lead.ID, ctxs[0].ID, []string{"Online", "Phone", "Other"})
	require.NoError(t, err)
	require.NoError(t, jc.AddFieldToDefaultScreen(ctx, lead.ID))
	// Deal Source exists but is on no screen yet: preflight reports it, --fix puts it there.
	source, err := jc.CreateCustomField(ctx, "Deal Source", jira.CustomFieldTypePrefix+"textfield", jira.CustomFieldTypePrefix+"textsearcher", "")
	require.NoError(t, err)

	file := filepath.Join(env.dir, "opportunity-fix.yaml")
	require.NoError(t, os.WriteFile(file, []byte(fixMapping), 0o644))

	code, out := run(t, "--config", env.cfg, "preflight", file)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, file+`:15:11: jira field "Deal Type" not found in Jira`)
	assert.Contains(t, out, file+`:22: Jira field "Lead Channel" (`+lead.ID+`) has no option "Partner", which the value map writes (fix: add the option(s) to the field's context in Jira`)
	assert.Contains(t, out, file+`:31: Jira field "Deal Source" (`+source.ID+`) is not on the create screen of Epic in SFJ, so Jira rejects it on create (fix: add the field to the create and edit screens of Epic in project SFJ, or run `+"`sfjira preflight --fix`"+` to put it on the default screen)`)

	code, out = runIn(t, "n\n", "--config", env.cfg, "preflight", "--fix", file)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, `fix: create Jira custom field "Deal Type" (select) with option(s) "New business", "Upsell", "Renewal", "Downsell" and add it to the default screen, for `+file+":14")
	assert.Contains(t, out, `fix: add option(s) "Partner" to Jira field "Lead Channel" (`+lead.ID+`), for `+file+":22")
	assert.Contains(t, out, `fix: add Jira field "Deal Source" (`+source.ID+`) to the default screen, for `+file+":31")
	assert.Contains(t, out, "Create 1 Jira field(s), add option(s) to 1 field(s) and put 1 field(s) on the default screen? [y/N] fix: nothing was created")
	fields, err := jc.Fields(ctx)
	require.NoError(t, err)
	for _, f := range fields {
		assert.NotEqual(t, "Deal Type", f.Name, "answering n creates nothing")
	}

	code, out = runIn(t, "", "--config", env.cfg, "preflight", "--fix", "--yes", file)
	assert.Equal(t, 0, code, out)
	assert.NotContains(t, out, "[y/N]")
	assert.Contains(t, out, `done  created Jira field "Deal Type" (customfield_10102, select)`)
	assert.Contains(t, out, `done  added option(s) "New business", "Upsell", "Renewal", "Downsell" to "Deal Type" (customfield_10102, context Default Configuration Scheme for Deal Type)`)
	assert.Contains(t, out, `done  added "Deal Type" (customfield_10102) to the default screen`)
	assert.Contains(t, out, `done  added option(s) "Partner" to "Lead Channel" (`+lead.ID)
	assert.Contains(t, out, `done  added "Deal Source" (`+source.ID+`) to the default screen`)
	assert.Contains(t, out, "preflight ok: 1 mapping(s)")

	code, out = runIn(t, "", "--config", env.cfg, "preflight", "--fix", file)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "fix: nothing to create in Jira", "a second run finds nothing missing and does not ask")
	opts, err := jc.FieldOptions(ctx, "customfield_10102", "10202")
	require.NoError(t, err)
	require.Len(t, opts, 4)
	assert.Equal(t, "Downsell", opts[3].Value)

	// A Salesforce custom field that does not exist is printed, not created; preflight still fails on it.
	sfMissing := strings.Replace(fixMapping, "  - sf: LeadSource\n", "  - sf: Region__c\n    jira: Customer\n    type: text\n    max_length: 80\n  - sf: LeadSource\n", 1)
	require.NoError(t, os.WriteFile(file, []byte(sfMissing), 0o644))
	code, out = runIn(t, "", "--config", env.cfg, "preflight", "--fix", "--yes", file)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "<!-- force-app/main/default/objects/Opportunity/fields/Region__c.field-meta.xml (for "+file+":22) -->")
	assert.Contains(t, out, "    <fullName>Region__c</fullName>\n    <label>Region</label>\n    <type>Text</type>\n    <length>80</length>\n</CustomField>")
	assert.Contains(t, out, `Salesforce field "Region__c" does not exist`)
}
