package jira

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// IssueLinkType is a link type of the site (Relates, Blocks, …); mappings name it by Name.
type IssueLinkType struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Inward  string `json:"inward"`
	Outward string `json:"outward"`
}

// IssueLinkTypes lists the site's link types (GET /rest/api/3/issueLinkType), so preflight can
// reject a mapping's link_type that does not exist before any sync tries to create one.
func (c *Client) IssueLinkTypes(ctx context.Context) ([]IssueLinkType, error) {
	var out struct {
		IssueLinkTypes []IssueLinkType `json:"issueLinkTypes"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/rest/api/3/issueLinkType", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.IssueLinkTypes, nil
}

// LinkedIssue is the other issue of a link as an issue's fields.issuelinks shows it.
type LinkedIssue struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// IssueLink is one entry of fields.issuelinks: seen from the issue that was read, exactly one of
// InwardIssue and OutwardIssue is set and names the other issue.
type IssueLink struct {
	ID           string        `json:"id"`
	Type         IssueLinkType `json:"type"`
	InwardIssue  *LinkedIssue  `json:"inwardIssue,omitempty"`
	OutwardIssue *LinkedIssue  `json:"outwardIssue,omitempty"`
}

// Links decodes the issue's fields.issuelinks (empty when the field was not requested), which
// the connector reads before writing links so re-syncs never create duplicates.
func (i *Issue) Links() []IssueLink {
	var out []IssueLink
	if raw, ok := i.Fields["issuelinks"]; ok {
		_ = json.Unmarshal(raw, &out)
	}
	return out
}

// CreateIssueLink links two issues with a link type named typeName (POST
// /rest/api/3/issueLink). Jira answers 201 without a body, so the new link's id is only
// known by reading the issue again.
func (c *Client) CreateIssueLink(ctx context.Context, typeName, inwardIssueID, outwardIssueID string) error {
	body := map[string]any{
		"type":         map[string]string{"name": typeName},
		"inwardIssue":  map[string]string{"id": inwardIssueID},
		"outwardIssue": map[string]string{"id": outwardIssueID},
	}
	_, err := c.do(ctx, http.MethodPost, "/rest/api/3/issueLink", nil, body, nil)
	return err
}

// DeleteIssueLink removes a link by id (DELETE /rest/api/3/issueLink/{linkId}).
func (c *Client) DeleteIssueLink(ctx context.Context, linkID string) error {
	_, err := c.do(ctx, http.MethodDelete, "/rest/api/3/issueLink/"+url.PathEscape(linkID), nil, nil, nil)
	return err
}
