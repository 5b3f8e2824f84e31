package salesforce

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The integration user's permissions show where Salesforce shows them — the token response's
// scope, the object flags and field flags of describe — and writes beyond them are refused with
// Salesforce's error codes.
func TestPermissionsShowInScopeAndDescribeAndGuardWrites(t *testing.T) {
	e := newEnv(t, Options{})
	describe := func(object string) map[string]any {
		st, _, body := e.do("GET", "/services/data/v62.0/sobjects/"+object+"/describe", nil)
		require.Equal(t, 200, st, string(body))
		var d map[string]any
		require.NoError(t, json.Unmarshal(body, &d))
		return d
	}
	field := func(d map[string]any, name string) map[string]any {
		for _, f := range d["fields"].([]any) {
			if m := f.(map[string]any); m["name"] == name {
				return m
			}
		}
		t.Fatalf("no field %s", name)
		return nil
	}
	// The default user is an administrator.
	d := describe("Account")
	assert.Equal(t, true, d["createable"])
	assert.Equal(t, true, d["deletable"])
	assert.Equal(t, true, field(d, "Name")["updateable"])

	no, yes := false, true
	e.do("POST", "/__admin/permissions", Permissions{Scope: "api full",
		Objects: map[string]ObjectPermissions{"Account": {Createable: &no, Deletable: &no}},
		Fields:  map[string]FieldPermissions{"Account.*": {Editable: &no}, "Account.Description": {Editable: &yes}}})
	resp, err := http.PostForm(e.hs.URL+"/services/oauth2/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {"sfjira-demo"}, "client_secret": {"sfjira-demo-secret"}})
	require.NoError(t, err)
	var tok map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	resp.Body.Close()
	assert.Equal(t, "api full", tok["scope"], "the token response grants the connected app's scopes")

	d = describe("Account")
	assert.Equal(t, false, d["createable"])
	assert.Equal(t, true, d["updateable"], "a flag not overridden keeps its default")
	assert.Equal(t, false, d["deletable"])
	assert.Equal(t, false, field(d, "Name")["updateable"], "Account.* makes fields read-only")
	assert.Equal(t, true, field(d, "Description")["updateable"], "a field's own entry wins over Account.*")

	st, _, body := e.do("POST", "/services/data/v62.0/sobjects/Account", map[string]any{"Name": "Nope"})
	assert.Equal(t, 400, st)
	assert.Contains(t, string(body), "INSUFFICIENT_ACCESS_OR_READONLY")
	var id string
	for rid := range e.srv.st.tables["Account"].byID {
		id = rid
		break
	}
	if id == "" {
		e.srv.Seed(SeedOptions{Accounts: 1})
		for rid := range e.srv.st.tables["Account"].byID {
			id = rid
		}
	}
	st, _, body = e.do("PATCH", "/services/data/v62.0/sobjects/Account/"+id, map[string]any{"Name": "Renamed"})
	assert.Equal(t, 400, st)
	assert.True(t, strings.Contains(string(body), "INVALID_FIELD_FOR_INSERT_UPDATE") && strings.Contains(string(body), "Name"), string(body))
	st, _, body = e.do("PATCH", "/services/data/v62.0/sobjects/Account/"+id, map[string]any{"Description": "allowed"})
	assert.Equal(t, 204, st, string(body))
	st, _, body = e.do("DELETE", "/services/data/v62.0/sobjects/Account/"+id, nil)
	assert.Equal(t, 400, st)
	assert.Contains(t, string(body), "INSUFFICIENT_ACCESS_OR_READONLY")

	// {} restores the administrator.
	e.do("POST", "/__admin/permissions", Permissions{})
	assert.Equal(t, true, describe("Account")["createable"])
}
