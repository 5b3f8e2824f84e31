package jira

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ---- schema reads used by preflight ----------------------------------------------------

// ProjectInfo is the part of GET /rest/api/3/project/{key} preflight needs: the numeric id (for
// the workflow scheme) and the issue types with their ids (for createmeta).
type ProjectInfo struct {
	ID         string      `json:"id"`
	Key        string      `json:"key"`
	Name       string      `json:"name"`
	IssueTypes []IssueType `json:"issueTypes"`
}

// IssueType is one issue type of a project.
type IssueType struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Project reads a project and its issue types.
func (c *Client) Project(ctx context.Context, key string) (*ProjectInfo, error) {
	var p ProjectInfo
	if _, err := c.do(ctx, http.MethodGet, "/rest/api/3/project/"+url.PathEscape(key), nil, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// CreateField is one field of the create screen of a project and issue type (createmeta).
type CreateField struct {
	FieldID         string      `json:"fieldId"`
	Name            string      `json:"name"`
	Required        bool        `json:"required"`
	HasDefaultValue bool        `json:"hasDefaultValue"`
	Schema          FieldSchema `json:"schema"`
	// AllowedValues are the values the field takes on this screen: options of select fields
	// ({"id","value"}), priorities and issue types ({"id","name"}).
	AllowedValues []AllowedValue `json:"allowedValues,omitempty"`
}

// AllowedValue is one allowed value of a createmeta field.
type AllowedValue struct {
	ID    string `json:"id"`
	Value string `json:"value,omitempty"`
	Name  string `json:"name,omitempty"`
}

// CreateMeta lists the create-screen fields of an issue type
// (GET /rest/api/3/issue/createmeta/{project}/issuetypes/{issueTypeId}, all pages).
func (c *Client) CreateMeta(ctx context.Context, projectKey, issueTypeID string) ([]CreateField, error) {
	var out []CreateField
	for start := 0; ; {
		var page struct {
			Fields []CreateField `json:"fields"`
			Total  int           `json:"total"`
		}
		q := url.Values{"startAt": {fmt.Sprint(start)}, "maxResults": {"200"}}
		path := "/rest/api/3/issue/createmeta/" + url.PathEscape(projectKey) + "/issuetypes/" + url.PathEscape(issueTypeID)
		if _, err := c.do(ctx, http.MethodGet, path, q, nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Fields...)
		start += len(page.Fields)
		if len(page.Fields) == 0 || start >= page.Total {
			return out, nil
		}
	}
}

// MyPermissions reports which of the given project permissions the integration user holds
// (GET /rest/api/3/mypermissions).
func (c *Client) MyPermissions(ctx context.Context, projectKey string, keys []string) (map[string]bool, error) {
	var resp struct {
		Permissions map[string]struct {
			HavePermission bool `json:"havePermission"`
		} `json:"permissions"`
	}
	q := url.Values{"projectKey": {projectKey}, "permissions": {strings.Join(keys, ",")}}
	if _, err := c.do(ctx, http.MethodGet, "/rest/api/3/mypermissions", q, nil, &resp); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, k := range keys {
		out[k] = resp.Permissions[k].HavePermission
	}
	return out, nil
}

// Workflow is a Jira workflow with its statuses and transitions (status ids in From/To).
type Workflow struct {
	Name        string
	Statuses    []WorkflowStatus
	Transitions []WorkflowTransition
}

// WorkflowStatus is one status of a workflow.
type WorkflowStatus struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// WorkflowTransition is one transition; Type is initial, global (from any status) or directed.
type WorkflowTransition struct {
	ID   string   `json:"id"`
	Name string   `json:"name"`
	From []string `json:"from"`
	To   string   `json:"to"`
	Type string   `json:"type"`
}

// IssueTypeWorkflow finds the workflow an issue type uses in a project: the project's workflow
// scheme (GET /rest/api/3/workflowscheme/project) names it, and
// GET /rest/api/3/workflow/search?expand=transitions,statuses returns its graph.
func (c *Client) IssueTypeWorkflow(ctx context.Context, projectID, issueTypeID string) (*Workflow, error) {
	var schemes struct {
		Values []struct {
			WorkflowScheme struct {
				DefaultWorkflow   string            `json:"defaultWorkflow"`
				IssueTypeMappings map[string]string `json:"issueTypeMappings"`
			} `json:"workflowScheme"`
		} `json:"values"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/rest/api/3/workflowscheme/project", url.Values{"projectId": {projectID}}, nil, &schemes); err != nil {
		return nil, err
	}
	if len(schemes.Values) == 0 {
		return nil, fmt.Errorf("jira: project %s has no workflow scheme", projectID)
	}
	ws := schemes.Values[0].WorkflowScheme
	name := ws.IssueTypeMappings[issueTypeID]
	if name == "" {
		name = ws.DefaultWorkflow
	}
	var found struct {
		Values []struct {
			ID struct {
				Name string `json:"name"`
			} `json:"id"`
			Statuses    []WorkflowStatus     `json:"statuses"`
			Transitions []WorkflowTransition `json:"transitions"`
		} `json:"values"`
	}
	q := url.Values{"workflowName": {name}, "expand": {"transitions,statuses"}}
	if _, err := c.do(ctx, http.MethodGet, "/rest/api/3/workflow/search", q, nil, &found); err != nil {
		return nil, err
	}
	for _, v := range found.Values {
		if v.ID.Name == name {
			return &Workflow{Name: name, Statuses: v.Statuses, Transitions: v.Transitions}, nil
		}
	}
	return nil, fmt.Errorf("jira: workflow %q of issue type %s not found by workflow search", name, issueTypeID)
}

// GetUser reads one user by account id (GET /rest/api/3/user?accountId=); emailAddress is
// empty when the user's privacy settings hide it.
func (c *Client) GetUser(ctx context.Context, accountID string) (*User, error) {
	var u User
	if _, err := c.do(ctx, http.MethodGet, "/rest/api/3/user", url.Values{"accountId": {accountID}}, nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}
