package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Issue is an IssueBean with fields and properties kept raw, so callers decode only the
// fields their mapping needs.
type Issue struct {
	ID         string                     `json:"id"`
	Key        string                     `json:"key"`
	Self       string                     `json:"self"`
	Fields     map[string]json.RawMessage `json:"fields"`
	Properties map[string]json.RawMessage `json:"properties"`
}

type statusJSON struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	StatusCategory struct {
		Key string `json:"key"`
	} `json:"statusCategory"`
}

func (i *Issue) status() (statusJSON, bool) {
	var st statusJSON
	raw, ok := i.Fields["status"]
	if !ok || json.Unmarshal(raw, &st) != nil {
		return st, false
	}
	return st, true
}

// StatusName returns the workflow status name ("In Progress"), or "" when the status
// field was not requested.
func (i *Issue) StatusName() string {
	st, _ := i.status()
	return st.Name
}

// StatusCategory returns the status category key (new, indeterminate, done), which is
// stable across workflows and so safer to map than status names.
func (i *Issue) StatusCategory() string {
	st, _ := i.status()
	return st.StatusCategory.Key
}

// ResolutionName returns the resolution name ("Won't Do"), or "" when unresolved.
func (i *Issue) ResolutionName() string {
	var r struct {
		Name string `json:"name"`
	}
	if raw, ok := i.Fields["resolution"]; ok {
		_ = json.Unmarshal(raw, &r)
	}
	return r.Name
}

// FieldString renders a field as text for mappings and logs: strings as-is, numbers in
// plain notation, named objects by name/value/key, ADF documents as plain text, arrays
// joined by ", ", null or missing as "".
func (i *Issue) FieldString(id string) string {
	raw, ok := i.Fields[id]
	if !ok {
		return ""
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return string(raw)
	}
	return valueString(v)
}

func valueString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if s := valueString(e); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		if x["type"] == "doc" {
			return strings.TrimSpace(adfPlainText(x))
		}
		for _, k := range []string{"name", "value", "displayName", "key", "id"} {
			if s, ok := x[k].(string); ok {
				return s
			}
		}
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

func adfPlainText(n map[string]any) string {
	var b strings.Builder
	var walk func(map[string]any)
	walk = func(m map[string]any) {
		if t, ok := m["text"].(string); ok {
			b.WriteString(t)
		}
		if m["type"] == "hardBreak" {
			b.WriteByte('\n')
		}
		if arr, ok := m["content"].([]any); ok {
			for _, c := range arr {
				if cm, ok := c.(map[string]any); ok {
					walk(cm)
				}
			}
		}
		switch m["type"] {
		case "paragraph", "heading", "codeBlock", "listItem":
			b.WriteByte('\n')
		}
	}
	walk(n)
	return b.String()
}

// EntityProperty is an issue entity property set together with an issue; the connector
// stores the pair's origin key in one (key "sfjira").
type EntityProperty struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// IssueInput is the body of a create: field values by field id plus entity properties
// that Jira stores atomically with the new issue.
type IssueInput struct {
	Fields     map[string]any   `json:"fields"`
	Properties []EntityProperty `json:"properties,omitempty"`
	// Transition, on create, moves the new issue out of the workflow's initial status
	// through a transition available there ("a workflow step other than the default start
	// step"); like bulk transitions it cannot fill a transition screen.
	Transition *TransitionRef `json:"transition,omitempty"`
}

// TransitionRef names a transition in a create or transition request.
type TransitionRef struct {
	ID string `json:"id"`
}

// CreatedIssue identifies a newly created issue; Transition is the outcome of the transition
// asked for in the create request (absent when none was).
type CreatedIssue struct {
	ID         string          `json:"id"`
	Key        string          `json:"key"`
	Self       string          `json:"self"`
	Transition *NestedResponse `json:"transition,omitempty"`
}

// NestedResponse is the outcome of a step nested in a request (Jira's NestedResponse).
type NestedResponse struct {
	Status          int `json:"status"`
	ErrorCollection struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	} `json:"errorCollection"`
}

// Applied reports whether the nested step succeeded.
func (n *NestedResponse) Applied() bool { return n != nil && n.Status >= 200 && n.Status < 300 }

// CreateIssue creates one issue (POST /rest/api/3/issue).
func (c *Client) CreateIssue(ctx context.Context, in IssueInput) (*CreatedIssue, error) {
	var out CreatedIssue
	if _, err := c.do(ctx, http.MethodPost, "/rest/api/3/issue", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// BulkError is one failed element of a bulk create, indexed into the caller's input.
type BulkError struct {
	FailedElementNumber int
	Status              int
	Messages            []string
	Errors              map[string]string
}

// BulkCreateResult holds the created issues (in input order of the successful elements)
// and the per-element failures of a bulk create.
type BulkCreateResult struct {
	Issues []CreatedIssue
	Errors []BulkError
}

type bulkResponse struct {
	Issues []CreatedIssue `json:"issues"`
	Errors []struct {
		ElementErrors struct {
			ErrorMessages []string          `json:"errorMessages"`
			Errors        map[string]string `json:"errors"`
		} `json:"elementErrors"`
		FailedElementNumber int `json:"failedElementNumber"`
		Status              int `json:"status"`
	} `json:"errors"`
}

// BulkCreate creates issues with POST /rest/api/3/issue/bulk, MaxBulkCreate per request.
// Element failures (including a 400 where every element failed) are reported in
// Errors with FailedElementNumber relative to in; only request-level failures return an
// error, and then Issues holds what earlier chunks already created.
func (c *Client) BulkCreate(ctx context.Context, in []IssueInput) (*BulkCreateResult, error) {
	res := &BulkCreateResult{}
	for start := 0; start < len(in); start += MaxBulkCreate {
		chunk := in[start:min(start+MaxBulkCreate, len(in))]
		var out bulkResponse
		body := map[string]any{"issueUpdates": chunk}
		_, err := c.do(ctx, http.MethodPost, "/rest/api/3/issue/bulk", nil, body, &out)
		if err != nil {
			// Jira answers 400 when every element failed; the body then still lists
			// the per-element errors, which are results rather than a request failure.
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest ||
				json.NewDecoder(bytes.NewReader(ae.body)).Decode(&out) != nil || len(out.Errors) == 0 {
				return res, err
			}
		}
		res.Issues = append(res.Issues, out.Issues...)
		for _, e := range out.Errors {
			res.Errors = append(res.Errors, BulkError{
				FailedElementNumber: start + e.FailedElementNumber,
				Status:              e.Status,
				Messages:            e.ElementErrors.ErrorMessages,
				Errors:              e.ElementErrors.Errors,
			})
		}
	}
	return res, nil
}

// GetIssue reads one issue; fields and properties select what is returned (nil fields
// means all fields, nil properties means none).
func (c *Client) GetIssue(ctx context.Context, idOrKey string, fields, properties []string) (*Issue, error) {
	q := url.Values{}
	if len(fields) > 0 {
		q.Set("fields", strings.Join(fields, ","))
	}
	if len(properties) > 0 {
		q.Set("properties", strings.Join(properties, ","))
	}
	var out Issue
	if _, err := c.do(ctx, http.MethodGet, issuePath(idOrKey), q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// EditIssue sets field values (PUT /rest/api/3/issue/{idOrKey}) without notifying
// watchers, since sync writes are not human activity.
func (c *Client) EditIssue(ctx context.Context, idOrKey string, fields map[string]any) error {
	q := url.Values{"notifyUsers": {"false"}}
	_, err := c.do(ctx, http.MethodPut, issuePath(idOrKey), q, map[string]any{"fields": fields}, nil)
	return err
}

// DeleteIssue deletes an issue and its subtasks; used by compensation and rollback.
func (c *Client) DeleteIssue(ctx context.Context, idOrKey string) error {
	q := url.Values{"deleteSubtasks": {"true"}}
	_, err := c.do(ctx, http.MethodDelete, issuePath(idOrKey), q, nil, nil)
	return err
}

// Status is a workflow status with its category key (new, indeterminate, done).
type Status struct {
	ID, Name, CategoryKey string
}

// TransitionField is a field on a transition screen (e.g. resolution on Done).
type TransitionField struct {
	Required bool   `json:"required"`
	Name     string `json:"name"`
}

// Transition is a workflow transition available from the issue's current status; status
// changes must go through these because Jira ignores status in edits.
type Transition struct {
	ID        string
	Name      string
	To        Status
	HasScreen bool
	Fields    map[string]TransitionField
}

// Transitions lists the transitions available now, including screen fields.
func (c *Client) Transitions(ctx context.Context, idOrKey string) ([]Transition, error) {
	var out struct {
		Transitions []struct {
			ID        string                     `json:"id"`
			Name      string                     `json:"name"`
			HasScreen bool                       `json:"hasScreen"`
			To        statusJSON                 `json:"to"`
			Fields    map[string]TransitionField `json:"fields"`
		} `json:"transitions"`
	}
	q := url.Values{"expand": {"transitions.fields"}}
	if _, err := c.do(ctx, http.MethodGet, issuePath(idOrKey)+"/transitions", q, nil, &out); err != nil {
		return nil, err
	}
	list := make([]Transition, 0, len(out.Transitions))
	for _, t := range out.Transitions {
		list = append(list, Transition{
			ID: t.ID, Name: t.Name, HasScreen: t.HasScreen, Fields: t.Fields,
			To: Status{ID: t.To.ID, Name: t.To.Name, CategoryKey: t.To.StatusCategory.Key},
		})
	}
	return list, nil
}

// DoTransition performs a transition, optionally setting screen fields such as
// {"resolution": {"name": "Won't Do"}}.
func (c *Client) DoTransition(ctx context.Context, idOrKey, transitionID string, fields map[string]any) error {
	body := map[string]any{"transition": map[string]string{"id": transitionID}}
	if len(fields) > 0 {
		body["fields"] = fields
	}
	_, err := c.do(ctx, http.MethodPost, issuePath(idOrKey)+"/transitions", nil, body, nil)
	return err
}

// SetProperty creates or replaces an issue entity property.
func (c *Client) SetProperty(ctx context.Context, idOrKey, key string, value any) error {
	_, err := c.do(ctx, http.MethodPut, issuePath(idOrKey)+"/properties/"+url.PathEscape(key), nil, value, nil)
	return err
}

// GetProperty returns an entity property's value; a missing issue or property yields an
// error for which IsNotFound is true.
func (c *Client) GetProperty(ctx context.Context, idOrKey, key string) (json.RawMessage, error) {
	var out struct {
		Value json.RawMessage `json:"value"`
	}
	if _, err := c.do(ctx, http.MethodGet, issuePath(idOrKey)+"/properties/"+url.PathEscape(key), nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// ---- search ---------------------------------------------------------------------------

// SearchRequest is an enhanced JQL search (POST /rest/api/3/search/jql). Fields defaults
// to id only on Jira's side; ReconcileIssues (≤50 ids) asks for read-after-write
// consistency for issues just written.
type SearchRequest struct {
	JQL             string
	Fields          []string
	Properties      []string
	MaxResults      int
	NextPageToken   string
	ReconcileIssues []int64
}

// SearchPage is one page of results; NextPageToken is empty on the last page.
type SearchPage struct {
	Issues        []Issue
	NextPageToken string
	IsLast        bool
}

// Search fetches one page of an enhanced JQL search.
func (c *Client) Search(ctx context.Context, req SearchRequest) (*SearchPage, error) {
	body := struct {
		JQL             string   `json:"jql"`
		Fields          []string `json:"fields,omitempty"`
		Properties      []string `json:"properties,omitempty"`
		MaxResults      int      `json:"maxResults,omitempty"`
		NextPageToken   string   `json:"nextPageToken,omitempty"`
		ReconcileIssues []int64  `json:"reconcileIssues,omitempty"`
	}{req.JQL, req.Fields, req.Properties, req.MaxResults, req.NextPageToken, req.ReconcileIssues}
	var out struct {
		Issues        []Issue `json:"issues"`
		NextPageToken string  `json:"nextPageToken"`
		IsLast        bool    `json:"isLast"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/rest/api/3/search/jql", nil, body, &out); err != nil {
		return nil, err
	}
	return &SearchPage{Issues: out.Issues, NextPageToken: out.NextPageToken, IsLast: out.IsLast || out.NextPageToken == ""}, nil
}

// SearchEach walks all pages of a search, calling fn per issue; it stops at the first
// error from fn or from Jira and returns it.
func (c *Client) SearchEach(ctx context.Context, req SearchRequest, fn func(*Issue) error) error {
	for {
		page, err := c.Search(ctx, req)
		if err != nil {
			return err
		}
		for i := range page.Issues {
			if err := fn(&page.Issues[i]); err != nil {
				return err
			}
		}
		if page.IsLast || page.NextPageToken == "" {
			return nil
		}
		req.NextPageToken = page.NextPageToken
	}
}
