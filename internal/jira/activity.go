package jira

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// maxPages bounds the page loops of Comments and Worklogs so a misbehaving server
// cannot make them spin forever.
const maxPages = 10000

// Comment is an issue comment; Body is the ADF document as returned by Jira.
type Comment struct {
	ID      string          `json:"id"`
	Body    json.RawMessage `json:"body"`
	Author  User            `json:"author"`
	Created string          `json:"created"`
	Updated string          `json:"updated"`
}

// AddComment posts an ADF comment (POST /rest/api/3/issue/{idOrKey}/comment); adfBody is
// any value that marshals to an ADF document.
func (c *Client) AddComment(ctx context.Context, idOrKey string, adfBody any) (*Comment, error) {
	var out Comment
	if _, err := c.do(ctx, http.MethodPost, issuePath(idOrKey)+"/comment", nil, map[string]any{"body": adfBody}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Comments returns all comments of an issue, oldest first, following startAt pages.
func (c *Client) Comments(ctx context.Context, idOrKey string) ([]Comment, error) {
	var all []Comment
	for start, n := 0, 0; n < maxPages; n++ {
		var page struct {
			Comments   []Comment `json:"comments"`
			StartAt    int       `json:"startAt"`
			MaxResults int       `json:"maxResults"`
			Total      int       `json:"total"`
		}
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {"100"}, "orderBy": {"created"}}
		if _, err := c.do(ctx, http.MethodGet, issuePath(idOrKey)+"/comment", q, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Comments...)
		start += len(page.Comments)
		if len(page.Comments) == 0 || start >= page.Total {
			break
		}
	}
	return all, nil
}

// WorklogInput is the body of AddWorklog: Started in Jira's datetime format
// ("2021-01-17T12:34:00.000+0000"), a positive TimeSpentSeconds and an optional ADF
// Comment.
type WorklogInput struct {
	Started          string
	TimeSpentSeconds int
	Comment          any
}

// Worklog is one work log entry of an issue.
type Worklog struct {
	ID               string          `json:"id"`
	IssueID          string          `json:"issueId"`
	Started          string          `json:"started"`
	TimeSpentSeconds int             `json:"timeSpentSeconds"`
	Comment          json.RawMessage `json:"comment"`
	Author           User            `json:"author"`
}

// AddWorklog logs work on an issue (POST /rest/api/3/issue/{idOrKey}/worklog) leaving
// the remaining estimate alone (adjustEstimate=leave) and without notifications.
func (c *Client) AddWorklog(ctx context.Context, idOrKey string, in WorklogInput) (*Worklog, error) {
	body := map[string]any{"started": in.Started, "timeSpentSeconds": in.TimeSpentSeconds}
	if in.Comment != nil {
		body["comment"] = in.Comment
	}
	q := url.Values{"adjustEstimate": {"leave"}, "notifyUsers": {"false"}}
	var out Worklog
	if _, err := c.do(ctx, http.MethodPost, issuePath(idOrKey)+"/worklog", q, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Worklogs returns all work logs of an issue, following startAt pages.
func (c *Client) Worklogs(ctx context.Context, idOrKey string) ([]Worklog, error) {
	var all []Worklog
	for start, n := 0, 0; n < maxPages; n++ {
		var page struct {
			Worklogs []Worklog `json:"worklogs"`
			Total    int       `json:"total"`
		}
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {"1000"}}
		if _, err := c.do(ctx, http.MethodGet, issuePath(idOrKey)+"/worklog", q, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Worklogs...)
		start += len(page.Worklogs)
		if len(page.Worklogs) == 0 || start >= page.Total {
			break
		}
	}
	return all, nil
}

// RemoteLink is a link from an issue to an external object (e.g. the Salesforce record).
// GlobalID makes PutRemoteLink idempotent: Jira updates the link with the same global id.
type RemoteLink struct {
	GlobalID, URL, Title, Summary, Relationship string
}

// PutRemoteLink creates or (same GlobalID) replaces a remote link
// (POST /rest/api/3/issue/{idOrKey}/remotelink); created reports 201 vs 200.
func (c *Client) PutRemoteLink(ctx context.Context, idOrKey string, l RemoteLink) (id int64, created bool, err error) {
	obj := map[string]any{"url": l.URL, "title": l.Title}
	if l.Summary != "" {
		obj["summary"] = l.Summary
	}
	body := map[string]any{"object": obj}
	if l.GlobalID != "" {
		body["globalId"] = l.GlobalID
	}
	if l.Relationship != "" {
		body["relationship"] = l.Relationship
	}
	var out struct {
		ID int64 `json:"id"`
	}
	status, err := c.do(ctx, http.MethodPost, issuePath(idOrKey)+"/remotelink", nil, body, &out)
	if err != nil {
		return 0, false, err
	}
	return out.ID, status == http.StatusCreated, nil
}

// FindUsers searches users by e-mail or display-name prefix
// (GET /rest/api/3/user/search?query=); emailAddress is empty when the user's privacy
// settings hide it.
func (c *Client) FindUsers(ctx context.Context, query string) ([]User, error) {
	var out []User
	q := url.Values{"query": {query}, "maxResults": {"100"}}
	if _, err := c.do(ctx, http.MethodGet, "/rest/api/3/user/search", q, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}
