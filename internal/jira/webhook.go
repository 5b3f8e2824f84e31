package jira

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ---- admin registration (POST /rest/webhooks/1.0/webhook) --------------------------------

// Webhook is an admin webhook. JQL goes to filters."issue-related-events-section";
// Secret makes Jira sign deliveries (X-Hub-Signature) and is write-only: Jira does not
// return it, so Webhooks() leaves it empty.
type Webhook struct {
	ID      int64
	Name    string
	URL     string
	Events  []string
	JQL     string
	Secret  string
	Enabled bool
}

type webhookJSON struct {
	Self        string            `json:"self,omitempty"`
	Name        string            `json:"name"`
	URL         string            `json:"url"`
	Events      []string          `json:"events"`
	Filters     map[string]string `json:"filters"`
	ExcludeBody bool              `json:"excludeBody"`
	Secret      string            `json:"secret,omitempty"`
	Enabled     *bool             `json:"enabled,omitempty"`
}

func (w webhookJSON) toWebhook() (Webhook, error) {
	out := Webhook{Name: w.Name, URL: w.URL, Events: w.Events, JQL: w.Filters["issue-related-events-section"]}
	if w.Enabled != nil {
		out.Enabled = *w.Enabled
	}
	i := strings.LastIndex(w.Self, "/")
	id, err := strconv.ParseInt(w.Self[i+1:], 10, 64)
	if err != nil {
		return out, fmt.Errorf("jira: webhook self %q has no numeric id", w.Self)
	}
	out.ID = id
	return out, nil
}

// RegisterWebhook creates an admin webhook (needs Jira admin). Enabled defaults to true
// when w.Enabled is false, since registering a disabled hook is rarely intended; use
// the Jira UI to disable one.
func (c *Client) RegisterWebhook(ctx context.Context, w Webhook) (*Webhook, error) {
	if w.Name == "" || w.URL == "" || len(w.Events) == 0 {
		return nil, errors.New("jira: webhook: Name, URL and at least one event are required")
	}
	enabled := true
	in := webhookJSON{Name: w.Name, URL: w.URL, Events: w.Events, Filters: map[string]string{"issue-related-events-section": w.JQL},
		Secret: w.Secret, Enabled: &enabled}
	var out webhookJSON
	if _, err := c.do(ctx, http.MethodPost, "/rest/webhooks/1.0/webhook", nil, in, &out); err != nil {
		return nil, err
	}
	res, err := out.toWebhook()
	if err != nil {
		return nil, err
	}
	res.Secret = w.Secret
	return &res, nil
}

// Webhooks lists the admin webhooks of the site.
func (c *Client) Webhooks(ctx context.Context) ([]Webhook, error) {
	var list []webhookJSON
	if _, err := c.do(ctx, http.MethodGet, "/rest/webhooks/1.0/webhook", nil, nil, &list); err != nil {
		return nil, err
	}
	out := make([]Webhook, 0, len(list))
	for _, w := range list {
		h, err := w.toWebhook()
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// DeleteWebhook removes an admin webhook.
func (c *Client) DeleteWebhook(ctx context.Context, id int64) error {
	_, err := c.do(ctx, http.MethodDelete, "/rest/webhooks/1.0/webhook/"+strconv.FormatInt(id, 10), nil, nil, nil)
	return err
}

// ---- receiver side -------------------------------------------------------------------------

// VerifySignature checks an X-Hub-Signature header ("sha256=<hex>") against the
// HMAC-SHA256 of the raw request body with the webhook secret, in constant time.
func VerifySignature(secret string, body []byte, header string) bool {
	if secret == "" {
		return false
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// WebhookIssue is the issue of a webhook payload, in Jira's v2 representation (fields
// kept raw; description is wiki text, not ADF).
type WebhookIssue struct {
	ID     string                     `json:"id"`
	Key    string                     `json:"key"`
	Self   string                     `json:"self"`
	Fields map[string]json.RawMessage `json:"fields"`
}

// ChangeItem is one changed field of a webhook changelog.
type ChangeItem struct {
	Field      string `json:"field"`
	FieldType  string `json:"fieldtype"`
	FieldID    string `json:"fieldId"`
	From       string `json:"from"`
	FromString string `json:"fromString"`
	To         string `json:"to"`
	ToString   string `json:"toString"`
}

// Changelog is the set of changes that triggered an issue event.
type Changelog struct {
	ID    string       `json:"id"`
	Items []ChangeItem `json:"items"`
}

// WebhookComment is the comment of a comment event; Body is v2 wiki text.
type WebhookComment struct {
	ID      string `json:"id"`
	Body    string `json:"body"`
	Author  User   `json:"author"`
	Created string `json:"created"`
	Updated string `json:"updated"`
}

// WebhookEvent is a decoded Jira webhook delivery. IssueEventTypeName distinguishes
// edits (issue_updated, issue_assigned), transitions (issue_generic) and comments
// (issue_commented …) within jira:issue_updated.
type WebhookEvent struct {
	Timestamp          int64           `json:"timestamp"`
	WebhookEvent       string          `json:"webhookEvent"`
	IssueEventTypeName string          `json:"issue_event_type_name"`
	User               *User           `json:"user"`
	Issue              *WebhookIssue   `json:"issue"`
	Changelog          *Changelog      `json:"changelog"`
	Comment            *WebhookComment `json:"comment"`
}

// ParseWebhook decodes a delivery body; it fails on invalid JSON or a body without
// webhookEvent. Null from/to values in changelog items decode as "".
func ParseWebhook(body []byte) (*WebhookEvent, error) {
	var ev WebhookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("jira: webhook: invalid JSON payload: %w", err)
	}
	if ev.WebhookEvent == "" {
		return nil, errors.New("jira: webhook: payload has no webhookEvent")
	}
	return &ev, nil
}
