package jira

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMyPermissionsAndWorkflowSearch(t *testing.T) {
	s := New(DemoOptions())
	ts := httptest.NewServer(s)
	defer ts.Close()
	get := func(path string, out any) int {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		req.SetBasicAuth("integration@sfjira.demo", "sfjira-demo-token")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		if out != nil {
			_ = json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	assert.Equal(t, 400, get("/rest/api/3/mypermissions?projectKey=SFJ", nil), "permissions is required")
	assert.Equal(t, 400, get("/rest/api/3/mypermissions?projectKey=SFJ&permissions=FLY", nil))
	assert.Equal(t, 404, get("/rest/api/3/mypermissions?projectKey=NOPE&permissions=EDIT_ISSUES", nil))
	var perms struct {
		Permissions map[string]struct {
			Key            string `json:"key"`
			HavePermission bool   `json:"havePermission"`
		} `json:"permissions"`
	}
	require.Equal(t, 200, get("/rest/api/3/mypermissions?projectKey=SFJ&permissions=EDIT_ISSUES,DELETE_ISSUES", &perms))
	assert.True(t, perms.Permissions["DELETE_ISSUES"].HavePermission)

	resp, err := http.Post(ts.URL+"/__admin/permissions", "application/json", strings.NewReader(`{"deny":["DELETE_ISSUES"]}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, get("/rest/api/3/mypermissions?projectKey=SFJ&permissions=EDIT_ISSUES,DELETE_ISSUES", &perms))
	assert.False(t, perms.Permissions["DELETE_ISSUES"].HavePermission)
	assert.True(t, perms.Permissions["EDIT_ISSUES"].HavePermission)

	var scheme struct {
		Values []struct {
			WorkflowScheme struct {
				DefaultWorkflow string `json:"defaultWorkflow"`
			} `json:"workflowScheme"`
		} `json:"values"`
	}
	require.Equal(t, 200, get("/rest/api/3/workflowscheme/project?projectId=10000", &scheme))
	require.Len(t, scheme.Values, 1)
	name := scheme.Values[0].WorkflowScheme.DefaultWorkflow
	var wfs struct {
		Values []struct {
			ID          struct{ Name string } `json:"id"`
			Transitions []struct {
				Name, To, Type string
				From           []string
			} `json:"transitions"`
		} `json:"values"`
	}
	require.Equal(t, 200, get("/rest/api/3/workflow/search?expand=transitions&workflowName="+strings.ReplaceAll(name, " ", "%20"), &wfs))
	require.Len(t, wfs.Values, 1)
	tr := wfs.Values[0].Transitions
	require.Len(t, tr, 8, "the initial transition plus the seven of the default workflow")
	assert.Equal(t, "initial", tr[0].Type)
	assert.Equal(t, "directed", tr[1].Type)
	assert.Equal(t, []string{tr[0].To}, tr[1].From, "Start progress leaves the initial status")
}
