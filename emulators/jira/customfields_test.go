package jira

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCreateCustomFieldLifecycle walks what `sfjira preflight --fix` does against a real site:
// create a select field (it gets a global default context and is on no screen), add options to
// the context, put the field on the default screen, then write and read issues with it. Each
// step's refusal is the one Jira Cloud gives.
func TestCreateCustomFieldLifecycle(t *testing.T) {
	ts := httptest.NewServer(New(DemoOptions()))
	defer ts.Close()
	call := func(method, path string, in, out any) int {
		var body bytes.Buffer
		if in != nil {
			require.NoError(t, json.NewEncoder(&body).Encode(in))
		}
		req, _ := http.NewRequest(method, ts.URL+path, &body)
		req.SetBasicAuth("integration@sfjira.demo", "sfjira-demo-token")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		if out != nil {
			_ = json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	const sel = "com.atlassian.jira.plugin.system.customfieldtypes:select"

	var bad struct {
		Errors map[string]string `json:"errors"`
	}
	assert.Equal(t, 400, call("POST", "/rest/api/3/field", map[string]any{"name": "Deal Type", "type": "select"}, &bad))
	assert.Equal(t, "The custom field type 'select' is not valid.", bad.Errors["type"])
	assert.Equal(t, 400, call("POST", "/rest/api/3/field", map[string]any{"name": "Deal Type", "type": sel,
		"searcherKey": "com.atlassian.jira.plugin.system.customfieldtypes:textsearcher"}, &bad))
	assert.Contains(t, bad.Errors["searcherKey"], "is not valid for the custom field type")

	var created struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Custom bool   `json:"custom"`
		Schema struct {
			Type, Custom string
			CustomID     int64 `json:"customId"`
		} `json:"schema"`
		ClauseNames []string `json:"clauseNames"`
	}
	require.Equal(t, 201, call("POST", "/rest/api/3/field", map[string]any{"name": "Deal Type", "type": sel,
		"searcherKey": "com.atlassian.jira.plugin.system.customfieldtypes:multiselectsearcher", "description": "from Salesforce"}, &created))
	assert.Equal(t, "customfield_10100", created.ID)
	assert.Equal(t, "option", created.Schema.Type)
	assert.Equal(t, sel, created.Schema.Custom)
	assert.Equal(t, int64(10100), created.Schema.CustomID)
	assert.Equal(t, []string{"cf[10100]", "Deal Type"}, created.ClauseNames)

	var fields []struct{ ID, Name string }
	require.Equal(t, 200, call("GET", "/rest/api/3/field", nil, &fields))
	assert.Equal(t, "Deal Type", fields[len(fields)-1].Name, "the new field is listed")

	var ctxs struct {
		Total  int `json:"total"`
		Values []struct {
			ID              string `json:"id"`
			Name            string `json:"name"`
			IsGlobalContext bool   `json:"isGlobalContext"`
			IsAnyIssueType  bool   `json:"isAnyIssueType"`
		} `json:"values"`
	}
	require.Equal(t, 200, call("GET", "/rest/api/3/field/customfield_10100/context", nil, &ctxs))
	require.Equal(t, 1, ctxs.Total)
	assert.Equal(t, "Default Configuration Scheme for Deal Type", ctxs.Values[0].Name)
	assert.True(t, ctxs.Values[0].IsGlobalContext)
	assert.True(t, ctxs.Values[0].IsAnyIssueType)
	ctxID := ctxs.Values[0].ID
	assert.Equal(t, 404, call("GET", "/rest/api/3/field/customfield_99999/context", nil, nil))

	optPath := "/rest/api/3/field/customfield_10100/context/" + ctxID + "/option"
	var opts struct {
		Options []struct {
			ID, Value string
			Disabled  bool
		} `json:"options"`
	}
	require.Equal(t, 200, call("POST", optPath, map[string]any{"options": []map[string]any{{"value": "New business"}, {"value": "Upsell"}}}, &opts))
	require.Len(t, opts.Options, 2)
	assert.Equal(t, "New business", opts.Options[0].Value)
	assert.Equal(t, 400, call("POST", optPath, map[string]any{"options": []map[string]any{{"value": "upsell"}}}, nil), "duplicate option")
	assert.Equal(t, 404, call("POST", "/rest/api/3/field/customfield_10100/context/1/option", map[string]any{"options": []map[string]any{{"value": "X"}}}, nil))
	assert.Equal(t, 400, call("GET", "/rest/api/3/field/customfield_10052/context/1/option", nil, nil), "a text field has no options")
	var page struct {
		Values []struct{ ID, Value string } `json:"values"`
	}
	require.Equal(t, 200, call("GET", optPath, nil, &page))
	assert.Len(t, page.Values, 2)

	// Not on a screen yet: Jira refuses to set it.
	var errs struct {
		Errors map[string]string `json:"errors"`
	}
	issue := map[string]any{"fields": map[string]any{"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Epic"},
		"summary": "Deal", "customfield_10100": map[string]any{"value": "Upsell"}}}
	assert.Equal(t, 400, call("POST", "/rest/api/3/issue", issue, &errs))
	assert.Contains(t, errs.Errors["customfield_10100"], "It is not on the appropriate screen")
	var meta struct {
		Fields []struct {
			FieldID       string           `json:"fieldId"`
			AllowedValues []map[string]any `json:"allowedValues"`
		} `json:"fields"`
	}
	require.Equal(t, 200, call("GET", "/rest/api/3/issue/createmeta/SFJ/issuetypes/10000", nil, &meta))
	for _, f := range meta.Fields {
		assert.NotEqual(t, "customfield_10100", f.FieldID, "not on the create screen yet")
	}

	require.Equal(t, 200, call("POST", "/rest/api/3/screens/addToDefault/customfield_10100", nil, nil))
	assert.Equal(t, 404, call("POST", "/rest/api/3/screens/addToDefault/customfield_10100", nil, nil), "already on the screen")
	require.Equal(t, 200, call("GET", "/rest/api/3/issue/createmeta/SFJ/issuetypes/10000", nil, &meta))
	var allowed []map[string]any
	for _, f := range meta.Fields {
		if f.FieldID == "customfield_10100" {
			allowed = f.AllowedValues
		}
	}
	require.Len(t, allowed, 2)
	assert.Equal(t, "New business", allowed[0]["value"])

	bogus := map[string]any{"fields": map[string]any{"project": map[string]any{"key": "SFJ"}, "issuetype": map[string]any{"name": "Epic"},
		"summary": "Deal", "customfield_10100": map[string]any{"value": "Renewal"}}}
	assert.Equal(t, 400, call("POST", "/rest/api/3/issue", bogus, &errs))
	assert.Equal(t, "Option value 'Renewal' is not valid", errs.Errors["customfield_10100"])

	var ok struct{ Key string }
	require.Equal(t, 201, call("POST", "/rest/api/3/issue", issue, &ok))
	var got struct {
		Fields map[string]any `json:"fields"`
	}
	require.Equal(t, 200, call("GET", "/rest/api/3/issue/"+ok.Key+"?fields=customfield_10100", nil, &got))
	v, _ := got.Fields["customfield_10100"].(map[string]any)
	assert.Equal(t, "Upsell", v["value"])
	assert.Equal(t, opts.Options[1].ID, v["id"])

	// A multi-select takes a list of options.
	require.Equal(t, 201, call("POST", "/rest/api/3/field", map[string]any{"name": "Regions", "type": "com.atlassian.jira.plugin.system.customfieldtypes:multiselect"}, &created))
	require.Equal(t, 200, call("GET", "/rest/api/3/field/"+created.ID+"/context", nil, &ctxs))
	require.Equal(t, 200, call("POST", "/rest/api/3/field/"+created.ID+"/context/"+ctxs.Values[0].ID+"/option",
		map[string]any{"options": []map[string]any{{"value": "EMEA"}, {"value": "APAC"}}}, nil))
	require.Equal(t, 200, call("POST", "/rest/api/3/screens/addToDefault/"+created.ID, nil, nil))
	require.Equal(t, 204, call("PUT", "/rest/api/3/issue/"+ok.Key, map[string]any{"fields": map[string]any{created.ID: []any{map[string]any{"value": "EMEA"}, map[string]any{"value": "APAC"}}}}, nil))
	require.Equal(t, 200, call("GET", "/rest/api/3/issue/"+ok.Key+"?fields="+created.ID, nil, &got))
	list, _ := got.Fields[created.ID].([]any)
	require.Len(t, list, 2)
	assert.Equal(t, "APAC", list[0].(map[string]any)["value"])

	// Reset forgets created fields.
	resp, err := http.Post(ts.URL+"/__admin/reset", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 404, call("GET", "/rest/api/3/field/customfield_10100/context", nil, nil))
}
