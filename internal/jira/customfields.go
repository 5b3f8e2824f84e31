package jira

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// ---- custom field administration (sfjira preflight --fix) ------------------------------
//
// These calls need the Administer Jira global permission; the sync itself never makes them.

// CustomFieldTypePrefix is the key prefix of Jira's built-in custom field types and searchers.
const CustomFieldTypePrefix = "com.atlassian.jira.plugin.system.customfieldtypes:"

// CreateCustomField creates a custom field (POST /rest/api/3/field); typeKey and searcherKey are
// full keys such as CustomFieldTypePrefix+"select". Jira gives it a global default context and
// puts it on no screen (see AddFieldToDefaultScreen).
func (c *Client) CreateCustomField(ctx context.Context, name, typeKey, searcherKey, description string) (*Field, error) {
	in := map[string]string{"name": name, "type": typeKey}
	if searcherKey != "" {
		in["searcherKey"] = searcherKey
	}
	if description != "" {
		in["description"] = description
	}
	var out Field
	if _, err := c.do(ctx, http.MethodPost, "/rest/api/3/field", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// FieldContext is one context of a custom field: the projects and issue types it applies to and
// the options it holds.
type FieldContext struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	IsGlobalContext bool   `json:"isGlobalContext"`
	IsAnyIssueType  bool   `json:"isAnyIssueType"`
}

// FieldContexts lists a custom field's contexts (GET /rest/api/3/field/{id}/context, all pages).
func (c *Client) FieldContexts(ctx context.Context, fieldID string) ([]FieldContext, error) {
	var out []FieldContext
	for start := 0; ; {
		var page struct {
			Values []FieldContext `json:"values"`
			IsLast bool           `json:"isLast"`
		}
		q := url.Values{"startAt": {fmt.Sprint(start)}, "maxResults": {"50"}}
		if _, err := c.do(ctx, http.MethodGet, "/rest/api/3/field/"+url.PathEscape(fieldID)+"/context", q, nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Values...)
		start += len(page.Values)
		if page.IsLast || len(page.Values) == 0 {
			return out, nil
		}
	}
}

// CreateGlobalFieldContext creates a context applying to every project and issue type.
func (c *Client) CreateGlobalFieldContext(ctx context.Context, fieldID, name string) (*FieldContext, error) {
	var out FieldContext
	in := map[string]any{"name": name, "projectIds": []string{}, "issueTypeIds": []string{}}
	if _, err := c.do(ctx, http.MethodPost, "/rest/api/3/field/"+url.PathEscape(fieldID)+"/context", nil, in, &out); err != nil {
		return nil, err
	}
	out.IsGlobalContext, out.IsAnyIssueType = true, true
	return &out, nil
}

// FieldOption is one option of a select field's context.
type FieldOption struct {
	ID       string `json:"id"`
	Value    string `json:"value"`
	Disabled bool   `json:"disabled"`
}

// FieldOptions lists the options of a field context (all pages).
func (c *Client) FieldOptions(ctx context.Context, fieldID, contextID string) ([]FieldOption, error) {
	var out []FieldOption
	for start := 0; ; {
		var page struct {
			Values []FieldOption `json:"values"`
			IsLast bool          `json:"isLast"`
		}
		q := url.Values{"startAt": {fmt.Sprint(start)}, "maxResults": {"100"}}
		path := "/rest/api/3/field/" + url.PathEscape(fieldID) + "/context/" + url.PathEscape(contextID) + "/option"
		if _, err := c.do(ctx, http.MethodGet, path, q, nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Values...)
		start += len(page.Values)
		if page.IsLast || len(page.Values) == 0 {
			return out, nil
		}
	}
}

// CreateFieldOptions adds enabled options to a field context (up to 1,000 per call, as Jira
// allows; longer lists are sent in several calls).
func (c *Client) CreateFieldOptions(ctx context.Context, fieldID, contextID string, values []string) ([]FieldOption, error) {
	var created []FieldOption
	for len(values) > 0 {
		n := min(len(values), 1000)
		opts := make([]map[string]any, 0, n)
		for _, v := range values[:n] {
			opts = append(opts, map[string]any{"value": v, "disabled": false})
		}
		var out struct {
			Options []FieldOption `json:"options"`
		}
		path := "/rest/api/3/field/" + url.PathEscape(fieldID) + "/context/" + url.PathEscape(contextID) + "/option"
		if _, err := c.do(ctx, http.MethodPost, path, nil, map[string]any{"options": opts}, &out); err != nil {
			return created, err
		}
		created = append(created, out.Options...)
		values = values[n:]
	}
	return created, nil
}

// AddFieldToDefaultScreen puts a field on the default tab of the default screen
// (POST /rest/api/3/screens/addToDefault/{fieldId}), so issues can be created and edited with it.
func (c *Client) AddFieldToDefaultScreen(ctx context.Context, fieldID string) error {
	_, err := c.do(ctx, http.MethodPost, "/rest/api/3/screens/addToDefault/"+url.PathEscape(fieldID), nil, nil, nil)
	return err
}
