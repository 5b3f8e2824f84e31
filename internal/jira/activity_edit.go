package jira

import (
	"context"
	"net/http"
	"net/url"
)

// EditComment replaces a comment's ADF body (PUT /rest/api/3/issue/{idOrKey}/comment/{id})
// without notifying watchers: the connector updates comments it wrote when their source changes.
func (c *Client) EditComment(ctx context.Context, idOrKey, commentID string, adfBody any) error {
	q := url.Values{"notifyUsers": {"false"}}
	_, err := c.do(ctx, http.MethodPut, issuePath(idOrKey)+"/comment/"+url.PathEscape(commentID), q, map[string]any{"body": adfBody}, nil)
	return err
}

// EditWorklog replaces a worklog's start, time spent and comment
// (PUT /rest/api/3/issue/{idOrKey}/worklog/{id}), leaving the remaining estimate alone.
func (c *Client) EditWorklog(ctx context.Context, idOrKey, worklogID string, in WorklogInput) error {
	body := map[string]any{"started": in.Started, "timeSpentSeconds": in.TimeSpentSeconds}
	if in.Comment != nil {
		body["comment"] = in.Comment
	}
	q := url.Values{"adjustEstimate": {"leave"}, "notifyUsers": {"false"}}
	_, err := c.do(ctx, http.MethodPut, issuePath(idOrKey)+"/worklog/"+url.PathEscape(worklogID), q, body, nil)
	return err
}
