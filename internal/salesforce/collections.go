package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CollectionBatchSize is the most records one sObject Collections call takes.
const CollectionBatchSize = 200

// SaveError is one error of a per-record collection result (Salesforce calls the code "statusCode" here).
type SaveError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// SaveResult is the outcome for one record of a collection call, in input order. Created is only
// meaningful for upserts.
type SaveResult struct {
	ID      string      `json:"id"`
	Success bool        `json:"success"`
	Created bool        `json:"created"`
	Errors  []SaveError `json:"errors"`
}

// NotSentCode marks records CompositeCreate/Update/Upsert did not send because an earlier chunk
// failed with allOrNone (chunks before it stay committed: allOrNone holds per 200-record call).
const NotSentCode = "NOT_SENT"

// CompositeCreate inserts records (each with "attributes":{"type":…}, mixed types allowed) in
// calls of up to 200.
func (c *Client) CompositeCreate(ctx context.Context, records []Record, allOrNone bool) ([]SaveResult, error) {
	return c.collection(ctx, http.MethodPost, "/composite/sobjects", records, allOrNone)
}

// CompositeUpdate updates records by their "Id" in calls of up to 200.
func (c *Client) CompositeUpdate(ctx context.Context, records []Record, allOrNone bool) ([]SaveResult, error) {
	return c.collection(ctx, http.MethodPatch, "/composite/sobjects", records, allOrNone)
}

// CompositeUpsert creates or updates records of one object by an external-id field, in calls of up
// to 200; records without "attributes" get {"type": object}.
func (c *Client) CompositeUpsert(ctx context.Context, object, extIDField string, records []Record, allOrNone bool) ([]SaveResult, error) {
	typed := make([]Record, len(records))
	for i, r := range records {
		if _, ok := r["attributes"]; ok {
			typed[i] = r
			continue
		}
		cp := make(Record, len(r)+1)
		for k, v := range r {
			cp[k] = v
		}
		cp["attributes"] = map[string]any{"type": object}
		typed[i] = cp
	}
	return c.collection(ctx, http.MethodPatch, "/composite/sobjects/"+url.PathEscape(object)+"/"+url.PathEscape(extIDField), typed, allOrNone)
}

func (c *Client) collection(ctx context.Context, method, path string, records []Record, allOrNone bool) ([]SaveResult, error) {
	out := make([]SaveResult, 0, len(records))
	for start := 0; start < len(records); start += CollectionBatchSize {
		chunk := records[start:min(start+CollectionBatchSize, len(records))]
		var res []SaveResult
		body := map[string]any{"allOrNone": allOrNone, "records": chunk}
		if err := c.call(ctx, method, path, nil, body, decode(&res)); err != nil {
			return out, err
		}
		if len(res) != len(chunk) {
			return out, fmt.Errorf("salesforce: %s %s: got %d results for %d records", method, path, len(res), len(chunk))
		}
		out = append(out, res...)
		if allOrNone && anyFailed(res) && start+CollectionBatchSize < len(records) {
			for range records[start+CollectionBatchSize:] {
				out = append(out, SaveResult{Errors: []SaveError{{StatusCode: NotSentCode,
					Message: "not sent: an earlier chunk failed with allOrNone"}}})
			}
			break
		}
	}
	return out, nil
}

func anyFailed(res []SaveResult) bool {
	for _, r := range res {
		if !r.Success {
			return true
		}
	}
	return false
}

// UpdatedResult is the answer of getUpdated; a sync cursor should advance to LatestDateCovered.
type UpdatedResult struct {
	IDs               []string
	LatestDateCovered time.Time
}

// DeletedRecord is one record deleted in the requested window.
type DeletedRecord struct {
	ID          string
	DeletedDate time.Time
}

// DeletedResult is the answer of getDeleted.
type DeletedResult struct {
	Records                                  []DeletedRecord
	EarliestDateAvailable, LatestDateCovered time.Time
}

func replicationQuery(start, end time.Time) url.Values {
	const layout = "2006-01-02T15:04:05+00:00"
	return url.Values{"start": {start.UTC().Format(layout)}, "end": {end.UTC().Format(layout)}}
}

// parseSFTime reads a Salesforce datetime ("2013-05-08T21:20:00.000+0000" and ISO variants).
func parseSFTime(s string) (time.Time, error) {
	for _, l := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unparseable datetime %q", s)
}

// GetUpdated lists ids of object records created or changed between start and end (UTC, seconds
// are truncated by Salesforce; the window may reach back at most 30 days).
func (c *Client) GetUpdated(ctx context.Context, object string, start, end time.Time) (*UpdatedResult, error) {
	var raw struct {
		IDs               []string `json:"ids"`
		LatestDateCovered string   `json:"latestDateCovered"`
	}
	if err := c.call(ctx, http.MethodGet, sobjectPath(object, "updated")+"/", replicationQuery(start, end), nil, decode(&raw)); err != nil {
		return nil, err
	}
	t, err := parseSFTime(raw.LatestDateCovered)
	if err != nil {
		return nil, fmt.Errorf("salesforce: getUpdated %s: latestDateCovered: %w", object, err)
	}
	return &UpdatedResult{IDs: raw.IDs, LatestDateCovered: t}, nil
}

// GetDeleted lists object records deleted between start and end (the recycle bin keeps 15 days).
func (c *Client) GetDeleted(ctx context.Context, object string, start, end time.Time) (*DeletedResult, error) {
	var raw struct {
		DeletedRecords []struct {
			ID          string `json:"id"`
			DeletedDate string `json:"deletedDate"`
		} `json:"deletedRecords"`
		EarliestDateAvailable string `json:"earliestDateAvailable"`
		LatestDateCovered     string `json:"latestDateCovered"`
	}
	if err := c.call(ctx, http.MethodGet, sobjectPath(object, "deleted")+"/", replicationQuery(start, end), nil, decode(&raw)); err != nil {
		return nil, err
	}
	out := &DeletedResult{Records: make([]DeletedRecord, 0, len(raw.DeletedRecords))}
	var err error
	if out.EarliestDateAvailable, err = parseSFTime(raw.EarliestDateAvailable); err != nil {
		return nil, fmt.Errorf("salesforce: getDeleted %s: earliestDateAvailable: %w", object, err)
	}
	if out.LatestDateCovered, err = parseSFTime(raw.LatestDateCovered); err != nil {
		return nil, fmt.Errorf("salesforce: getDeleted %s: latestDateCovered: %w", object, err)
	}
	for _, d := range raw.DeletedRecords {
		t, err := parseSFTime(d.DeletedDate)
		if err != nil {
			return nil, fmt.Errorf("salesforce: getDeleted %s: deletedDate: %w", object, err)
		}
		out.Records = append(out.Records, DeletedRecord{ID: d.ID, DeletedDate: t})
	}
	return out, nil
}

// PostFeedItem posts a Chatter text post on a record (e.g. a Jira comment on the Opportunity) and
// returns the FeedItem id. Body is plain text of at most 10,000 characters.
func (c *Client) PostFeedItem(ctx context.Context, parentID, body string) (string, error) {
	if strings.TrimSpace(body) == "" {
		return "", fmt.Errorf("salesforce: PostFeedItem: body is empty")
	}
	return c.Create(ctx, "FeedItem", map[string]any{"ParentId": parentID, "Body": body, "Type": "TextPost"})
}
