package activities_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/mappings"
)

const userMapping = `version: 1
pair: opportunity-owner
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
  - sf: Owner.Email
    jira: assignee
    type: user
`

// The worker's mapping set resolves user fields through the Jira site's users: a Salesforce
// e-mail becomes the accountId (ignoring case), and an assignee reads back as the same e-mail.
func TestUserFieldsMapEmailToAccountIDThroughJira(t *testing.T) {
	e := newPreflightEnv(t)
	m, err := mappings.Load("owner.yaml", []byte(userMapping))
	require.NoError(t, err)
	set, err := activities.NewMappingSet([]*mappings.Mapping{m}, e.jc)
	require.NoError(t, err)
	b, err := set.Bound(e.ctx, "opportunity-owner")
	require.NoError(t, err)
	require.NotNil(t, b.Users)

	rec := map[string]any{"Name": "Acme", "Owner": map[string]any{"Email": "Mia.Krystof@SFJIRA.demo"}}
	d, err := b.ToJira("Opportunity 006u", mappings.RecordGetter(rec))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"accountId": "5b10a2844c20165700ede21g"}, d.Fields["assignee"])
	assert.Equal(t, "mia.krystof@sfjira.demo", d.Projection["assignee"])

	// Jira returns the assignee without its e-mail (privacy): the directory finds it by id.
	issue := map[string]json.RawMessage{"summary": json.RawMessage(`"Acme"`), "assignee": json.RawMessage(`{"accountId":"712020:0b7a6c2e-8f14-4c9a-b1f0-2d9e51a7c301","displayName":"José"}`)}
	p := b.ProjectJira(issue)
	assert.Equal(t, "jose.alvarez@sfjira.demo", p["assignee"])

	// An inactive or unknown user stops the record with a catalog code and a fix.
	for _, email := range []string{"former.employee@sfjira.demo", "nobody@example.com"} {
		rec["Owner"] = map[string]any{"Email": email}
		_, err = b.ToJira("Opportunity 006u", mappings.RecordGetter(rec))
		var re *mappings.RecordError
		require.True(t, errors.As(err, &re), "%v", err)
		assert.Equal(t, mappings.CodeUserUnknown, re.Code)
		assert.Contains(t, err.Error(), `no active Jira user has the e-mail "`+email+`"`)
	}
}
