package jira

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MaxBulkTransition is Jira's limit of issues in one bulk transition submission
// (POST /rest/api/3/bulk/issues/transition); BulkTransition splits larger inputs.
const MaxBulkTransition = 1000

// BulkTransitionInput moves a set of issues (ids or keys) through one transition.
type BulkTransitionInput struct {
	SelectedIssueIdsOrKeys []string `json:"selectedIssueIdsOrKeys"`
	TransitionID           string   `json:"transitionId"`
}

// BulkProgress is the state of a bulk operation task (GET /rest/api/3/bulk/queue/{taskId}).
type BulkProgress struct {
	TaskID                          string              `json:"taskId"`
	Status                          string              `json:"status"`
	ProgressPercent                 int64               `json:"progressPercent"`
	ProcessedAccessibleIssues       []int64             `json:"processedAccessibleIssues"`
	FailedAccessibleIssues          map[string][]string `json:"failedAccessibleIssues"`
	InvalidOrInaccessibleIssueCount int                 `json:"invalidOrInaccessibleIssueCount"`
	TotalIssueCount                 int                 `json:"totalIssueCount"`
}

// Done reports whether the task reached a final state.
func (p *BulkProgress) Done() bool {
	switch p.Status {
	case "COMPLETE", "FAILED", "CANCELLED", "DEAD":
		return true
	}
	return false
}

// SubmitBulkTransition submits one bulk transition task (≤ MaxBulkTransition issues in all)
// without notification e-mails, since sync writes are not human activity, and returns its id.
func (c *Client) SubmitBulkTransition(ctx context.Context, in []BulkTransitionInput) (string, error) {
	body := map[string]any{"bulkTransitionInputs": in, "sendBulkNotification": false}
	var out struct {
		TaskID string `json:"taskId"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/rest/api/3/bulk/issues/transition", nil, body, &out); err != nil {
		return "", err
	}
	if out.TaskID == "" {
		return "", fmt.Errorf("jira: bulk transition: the answer carries no taskId")
	}
	return out.TaskID, nil
}

// BulkProgress reads the progress of a bulk operation task.
func (c *Client) BulkProgress(ctx context.Context, taskID string) (*BulkProgress, error) {
	var out BulkProgress
	if _, err := c.do(ctx, http.MethodGet, "/rest/api/3/bulk/queue/"+url.PathEscape(taskID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// BulkTransition moves issues through transitions with as few calls as Jira allows: inputs are
// packed into submissions of up to MaxBulkTransition issues, each polled (every poll, doubling up
// to 2 s) until done. The merged result lists the processed issues and the per-issue failures;
// a task that ends FAILED or CANCELLED is an error naming it.
func (c *Client) BulkTransition(ctx context.Context, in []BulkTransitionInput, poll time.Duration) (*BulkProgress, error) {
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	merged := &BulkProgress{Status: "COMPLETE", ProgressPercent: 100, FailedAccessibleIssues: map[string][]string{}}
	var batch []BulkTransitionInput
	n := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		id, err := c.SubmitBulkTransition(ctx, batch)
		if err != nil {
			return err
		}
		batch, n = nil, 0
		wait := poll
		for {
			p, err := c.BulkProgress(ctx, id)
			if err != nil {
				return err
			}
			if p.Done() {
				if p.Status != "COMPLETE" {
					return fmt.Errorf("jira: bulk transition task %s ended %s (see it with GET /rest/api/3/bulk/queue/%s)", id, p.Status, id)
				}
				merged.ProcessedAccessibleIssues = append(merged.ProcessedAccessibleIssues, p.ProcessedAccessibleIssues...)
				for k, v := range p.FailedAccessibleIssues {
					merged.FailedAccessibleIssues[k] = v
				}
				merged.InvalidOrInaccessibleIssueCount += p.InvalidOrInaccessibleIssueCount
				merged.TotalIssueCount += p.TotalIssueCount
				merged.TaskID = strings.TrimPrefix(merged.TaskID+","+id, ",")
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			wait = min(2*wait, 2*time.Second)
		}
	}
	for _, bi := range in {
		ids := bi.SelectedIssueIdsOrKeys
		for len(ids) > 0 {
			room := MaxBulkTransition - n
			take := min(room, len(ids))
			batch = append(batch, BulkTransitionInput{SelectedIssueIdsOrKeys: ids[:take], TransitionID: bi.TransitionID})
			n += take
			ids = ids[take:]
			if n == MaxBulkTransition {
				if err := flush(); err != nil {
					return merged, err
				}
			}
		}
	}
	return merged, flush()
}
