package jira

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// ChangeHistory is one entry of an issue's changelog: one edit or transition, by one author.
type ChangeHistory struct {
	ID      string `json:"id"`
	Created string `json:"created"`
	Author  struct {
		AccountID string `json:"accountId"`
	} `json:"author"`
	Items []ChangeItem `json:"items"` // null values read as ""
}

// IssueChangelog reads an issue's change history, oldest first, following the pages of
// GET /rest/api/3/issue/{idOrKey}/changelog. Verification uses it to tell a write that did not
// stick from one that stuck and was then changed by someone else.
func (c *Client) IssueChangelog(ctx context.Context, idOrKey string) ([]ChangeHistory, error) {
	var out []ChangeHistory
	for start := 0; ; {
		var page struct {
			Total  int             `json:"total"`
			IsLast bool            `json:"isLast"`
			Values []ChangeHistory `json:"values"`
		}
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {"100"}}
		if _, err := c.do(ctx, http.MethodGet, issuePath(idOrKey)+"/changelog", q, nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Values...)
		start += len(page.Values)
		if page.IsLast || len(page.Values) == 0 || start >= page.Total {
			return out, nil
		}
	}
}
