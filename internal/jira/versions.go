package jira

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Version is a project version (release), as GET /rest/api/3/project/{key}/versions returns it.
type Version struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	ProjectID   int64  `json:"projectId,omitempty"`
	ReleaseDate string `json:"releaseDate,omitempty"`
	Released    bool   `json:"released"`
	Archived    bool   `json:"archived"`
}

// ProjectVersions lists every version of a project (the call is not paginated in Jira Cloud).
// Triggers look a version up by name here before creating it, so a retried action never
// creates a second release.
func (c *Client) ProjectVersions(ctx context.Context, projectIDOrKey string) ([]Version, error) {
	var out []Version
	if _, err := c.do(ctx, http.MethodGet, "/rest/api/3/project/"+url.PathEscape(projectIDOrKey)+"/versions", nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateVersion creates a version (POST /rest/api/3/version); Jira refuses a name already used
// in the project with a 400 on errors.name (see IsDuplicateVersion).
func (c *Client) CreateVersion(ctx context.Context, projectID int64, name, description string) (*Version, error) {
	body := map[string]any{"name": name, "projectId": projectID}
	if description != "" {
		body["description"] = description
	}
	var out Version
	if _, err := c.do(ctx, http.MethodPost, "/rest/api/3/version", nil, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// IsDuplicateVersion reports whether err is Jira refusing a version name already in use, which a
// caller racing another creator treats as "look it up again".
func IsDuplicateVersion(err error) bool {
	ae, ok := err.(*APIError)
	return ok && ae.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(ae.Errors["name"]), "already exists")
}

// UpdateIssue applies `update` operations (PUT /rest/api/3/issue/{idOrKey}), e.g.
// {"fixVersions": [{"add": {"id": "10001"}}]}, which change a list without replacing what
// people put there; watchers are not notified.
func (c *Client) UpdateIssue(ctx context.Context, idOrKey string, update map[string][]map[string]any) error {
	q := url.Values{"notifyUsers": {"false"}}
	_, err := c.do(ctx, http.MethodPut, issuePath(idOrKey), q, map[string]any{"update": update}, nil)
	return err
}

// ProjectID returns the numeric id of a project, which POST /rest/api/3/version needs.
func (c *Client) ProjectID(ctx context.Context, key string) (int64, error) {
	p, err := c.Project(ctx, key)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(p.ID, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("jira: project %s has a non-numeric id %q", key, p.ID)
	}
	return n, nil
}
