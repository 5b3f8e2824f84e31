package jira

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Admin webhooks (POST /rest/webhooks/1.0/webhook) and their deliveries.

// deliverable events: these are emitted; the others in knownEvents are accepted at
// registration (as Jira does) but never fire in the emulator.
var emittedEvents = []string{
	"jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
	"comment_created", "comment_updated", "comment_deleted",
	"worklog_created", "worklog_updated", "worklog_deleted",
}

var knownEvents = append(slices.Clone(emittedEvents),
	"issue_property_set", "issue_property_deleted", "issuelink_created", "issuelink_deleted",
	"attachment_created", "attachment_deleted", "project_created", "project_updated", "project_deleted",
	"jira:version_released", "jira:version_created", "jira:version_updated", "jira:version_deleted",
	"sprint_created", "sprint_started", "sprint_closed", "sprint_updated", "sprint_deleted",
	"board_created", "board_updated", "board_deleted", "user_created", "user_updated", "user_deleted",
)

const (
	jqlFilterKey       = "issue-related-events-section"
	maxDeliveryHistory = 2000
	maxRetries         = 5 // Jira Cloud retries a failed delivery up to five times
)

type webhook struct {
	id          int64
	name, url   string
	events      []string
	jql         string
	excludeBody bool
	secret      string
	enabled     bool
	updated     time.Time
}

type webhookInput struct {
	Name        *string           `json:"name"`
	URL         *string           `json:"url"`
	Events      []string          `json:"events"`
	Filters     map[string]string `json:"filters"`
	ExcludeBody *bool             `json:"excludeBody"`
	Secret      *string           `json:"secret"`
	Enabled     *bool             `json:"enabled"`
	Description string            `json:"description"`
}

func webhookSelf(base string, id int64) string {
	return base + "/rest/webhooks/1.0/webhook/" + strconv.FormatInt(id, 10)
}

func (s *Server) webhookJSON(base string, h *webhook) map[string]any {
	return map[string]any{
		"self":                   webhookSelf(base, h.id),
		"name":                   h.name,
		"url":                    h.url,
		"events":                 h.events,
		"filters":                map[string]string{jqlFilterKey: h.jql},
		"excludeBody":            h.excludeBody,
		"enabled":                h.enabled,
		"lastUpdatedUser":        accountID,
		"lastUpdatedDisplayName": userDisplayName,
		"lastUpdated":            h.updated.UnixMilli(),
	}
}

// validateWebhook applies in to h (a copy) and returns the Jira error collection, if any.
func (s *Server) validateWebhook(h *webhook, in *webhookInput, creating bool) *errorCollection {
	errs := newErrs()
	if in.Name != nil {
		h.name = strings.TrimSpace(*in.Name)
	}
	if in.URL != nil {
		h.url = strings.TrimSpace(*in.URL)
	}
	if creating || in.Name != nil {
		if h.name == "" {
			errs.Errors["name"] = "Webhook name must not be empty."
		} else if len([]rune(h.name)) > 255 {
			errs.Errors["name"] = "Webhook name must not exceed 255 characters."
		}
	}
	if creating || in.URL != nil {
		u, err := url.Parse(h.url)
		if h.url == "" {
			errs.Errors["url"] = "Webhook URL must not be empty."
		} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs.Errors["url"] = "Webhook URL must be a valid absolute http(s) URL."
		}
	}
	if in.Events != nil || creating {
		if len(in.Events) == 0 && creating {
			errs.Errors["events"] = "At least one event must be selected."
		}
		for _, e := range in.Events {
			if !slices.Contains(knownEvents, e) {
				errs.Errors["events"] = "Unknown webhook event '" + e + "'."
			}
		}
		if in.Events != nil {
			h.events = slices.Compact(slices.Clone(in.Events))
		}
	}
	if in.Filters != nil {
		for k := range in.Filters {
			if k != jqlFilterKey {
				errs.Errors["filters"] = "Unknown filter '" + k + "'. Only '" + jqlFilterKey + "' is supported."
			}
		}
		h.jql = strings.TrimSpace(in.Filters[jqlFilterKey])
	}
	if h.jql != "" {
		if msg := s.checkJQL(h.jql); msg != "" {
			errs.Errors["filters"] = "Invalid JQL: " + msg
		}
	}
	if in.ExcludeBody != nil {
		h.excludeBody = *in.ExcludeBody
	}
	if in.Secret != nil {
		h.secret = *in.Secret
	}
	if in.Enabled != nil {
		h.enabled = *in.Enabled
	}
	if errs.empty() {
		return nil
	}
	return errs
}

func (s *Server) checkJQL(jql string) string {
	where, order, err := parseJQL(jql)
	if err != nil {
		return err.Error()
	}
	if len(order) > 0 {
		return "ORDER BY is not allowed in webhook filters."
	}
	if where == nil {
		return ""
	}
	c := &compiler{s: s, now: s.now()}
	s.mu.RLock()
	_, err = c.compile(where)
	s.mu.RUnlock()
	if err != nil {
		var je *jqlError
		if errors.As(err, &je) {
			return je.msg
		}
		return err.Error()
	}
	return ""
}

func (s *Server) handleCreateWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhookInput
	if !decodeBody(w, r, &in) {
		return
	}
	h := &webhook{enabled: true}
	if errs := s.validateWebhook(h, &in, true); errs != nil {
		writeJSON(w, 400, errs)
		return
	}
	h.updated = s.now()
	s.whMu.Lock()
	s.nextHook++
	h.id = s.nextHook
	s.hooks = append(s.hooks, h)
	s.whMu.Unlock()
	w.Header().Set("Location", webhookSelf(baseURL(r), h.id))
	writeJSON(w, 201, s.webhookJSON(baseURL(r), h))
}

func (s *Server) findHook(r *http.Request) (int, *webhook) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return -1, nil
	}
	for i, h := range s.hooks {
		if h.id == id {
			return i, h
		}
	}
	return -1, nil
}

func (s *Server) handleListWebhooks(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r)
	s.whMu.Lock()
	out := make([]any, 0, len(s.hooks))
	for _, h := range s.hooks {
		out = append(out, s.webhookJSON(base, h))
	}
	s.whMu.Unlock()
	writeJSON(w, 200, out)
}

func (s *Server) handleGetWebhook(w http.ResponseWriter, r *http.Request) {
	s.whMu.Lock()
	_, h := s.findHook(r)
	var out map[string]any
	if h != nil {
		out = s.webhookJSON(baseURL(r), h)
	}
	s.whMu.Unlock()
	if out == nil {
		writeMsg(w, 404, "No webhook with id "+r.PathValue("id")+" exists.")
		return
	}
	writeJSON(w, 200, out)
}

func (s *Server) handleUpdateWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhookInput
	if !decodeBody(w, r, &in) {
		return
	}
	s.whMu.Lock()
	_, h := s.findHook(r)
	var cp webhook
	if h != nil {
		cp = *h
	}
	s.whMu.Unlock()
	if h == nil {
		writeMsg(w, 404, "No webhook with id "+r.PathValue("id")+" exists.")
		return
	}
	if errs := s.validateWebhook(&cp, &in, false); errs != nil {
		writeJSON(w, 400, errs)
		return
	}
	cp.updated = s.now()
	s.whMu.Lock()
	i, cur := s.findHook(r)
	if cur != nil {
		s.hooks = slices.Clone(s.hooks)
		s.hooks[i] = &cp
	}
	s.whMu.Unlock()
	if cur == nil {
		writeMsg(w, 404, "No webhook with id "+r.PathValue("id")+" exists.")
		return
	}
	writeJSON(w, 200, s.webhookJSON(baseURL(r), &cp))
}

func (s *Server) handleDeleteWebhook(w http.ResponseWriter, r *http.Request) {
	s.whMu.Lock()
	i, h := s.findHook(r)
	if h != nil {
		s.hooks = slices.Delete(slices.Clone(s.hooks), i, i+1)
	}
	s.whMu.Unlock()
	if h == nil {
		writeMsg(w, 404, "No webhook with id "+r.PathValue("id")+" exists.")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ---- event generation (caller holds s.mu) --------------------------------------------------

func (s *Server) anyHooks() bool {
	if s.muteEvents {
		return false
	}
	s.whMu.Lock()
	defer s.whMu.Unlock()
	return len(s.hooks) > 0
}

func (s *Server) activeHooks(event string) []*webhook {
	if s.muteEvents {
		return nil
	}
	s.whMu.Lock()
	defer s.whMu.Unlock()
	var out []*webhook
	for _, h := range s.hooks {
		if h.enabled && slices.Contains(h.events, event) {
			out = append(out, h)
		}
	}
	return out
}

func (s *Server) hookMatches(h *webhook, is *issue) bool {
	if h.jql == "" || is == nil {
		return true
	}
	where, _, err := parseJQL(h.jql)
	if err != nil {
		return false
	}
	if where == nil {
		return true
	}
	c := &compiler{s: s, now: s.now()}
	prog, err := c.compile(where)
	return err == nil && prog.eval(is)
}

// v2 rewrites a rendered v3 value to the v2 representation used by webhooks: self links
// under /rest/api/2/. Descriptions and comment bodies are converted by the callers.
func v2(v any) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.ReplaceAll(bytes.TrimSpace(buf.Bytes()), []byte("/rest/api/3/"), []byte("/rest/api/2/"))
}

func (s *Server) v2Issue(base string, is *issue, full bool) json.RawMessage {
	idStr := strconv.FormatInt(is.id, 10)
	fields := map[string]any{}
	if full {
		for id := range s.allFields() {
			if v, ok := s.fieldValue(base, is, id); ok {
				fields[id] = v
			}
		}
		fields["description"] = nil
		if is.d.Description != nil {
			fields["description"] = adfWiki(is.d.Description)
		}
		if c, ok := fields["comment"].(map[string]any); ok {
			list := []any{}
			for _, cm := range s.comments[is.id] {
				list = append(list, s.v2CommentMap(base, cm))
			}
			c["comments"] = list
		}
		if wl, ok := fields["worklog"].(map[string]any); ok {
			if arr, ok := wl["worklogs"].([]any); ok {
				for _, x := range arr {
					if m, ok := x.(map[string]any); ok && m["comment"] != nil {
						m["comment"] = adfWiki(m["comment"])
					}
				}
			}
		}
	} else {
		for _, id := range []string{"summary", "issuetype", "project", "assignee", "priority", "status"} {
			if v, ok := s.fieldValue(base, is, id); ok {
				fields[id] = v
			}
		}
	}
	return v2(map[string]any{"id": idStr, "self": base + "/rest/api/3/issue/" + idStr, "key": is.key, "fields": fields})
}

func (s *Server) v2CommentMap(base string, c *comment) map[string]any {
	m := s.commentJSON(base, c, false)
	m["body"] = adfWiki(c.body)
	delete(m, "jsdPublic")
	return m
}

func (s *Server) integrationUserV2(base string) json.RawMessage {
	return v2(s.userByID(base, accountID))
}

type pendingEvent struct {
	event   string
	payload map[string]any
}

func (s *Server) issueEventLocked(base string, kind evKind, is *issue, hid int64, items []changeItem) {
	var event, typ string
	switch kind {
	case evCreated:
		event, typ = "jira:issue_created", "issue_created"
	case evUpdated:
		event, typ = "jira:issue_updated", "issue_updated"
		if len(items) == 1 && items[0].Field == "assignee" {
			typ = "issue_assigned"
		}
	case evTransition:
		event, typ = "jira:issue_updated", "issue_generic"
	case evDeleted:
		event, typ = "jira:issue_deleted", "issue_deleted"
	}
	hooks := s.activeHooks(event)
	if len(hooks) == 0 {
		return
	}
	p := map[string]any{
		"timestamp":             s.now().UnixMilli(),
		"webhookEvent":          event,
		"issue_event_type_name": typ,
		"user":                  s.integrationUserV2(base),
		"issue":                 s.v2Issue(base, is, true),
	}
	if kind != evDeleted {
		if items == nil {
			items = []changeItem{}
		}
		p["changelog"] = map[string]any{"id": strconv.FormatInt(hid, 10), "items": items}
	}
	s.enqueueLocked(hooks, is, event, p)
}

func (s *Server) commentEventLocked(base string, is *issue, c *comment, kind evKind) {
	var event, typ string
	switch kind {
	case evCommentCreated:
		event, typ = "comment_created", "issue_commented"
	case evCommentUpdated:
		event, typ = "comment_updated", "issue_comment_edited"
	default:
		event, typ = "comment_deleted", "issue_comment_deleted"
	}
	now := s.now().UnixMilli()
	if hooks := s.activeHooks(event); len(hooks) > 0 {
		s.enqueueLocked(hooks, is, event, map[string]any{
			"timestamp": now, "webhookEvent": event,
			"comment": v2(s.v2CommentMap(base, c)), "issue": s.v2Issue(base, is, false),
		})
	}
	if hooks := s.activeHooks("jira:issue_updated"); len(hooks) > 0 {
		s.enqueueLocked(hooks, is, "jira:issue_updated", map[string]any{
			"timestamp": now, "webhookEvent": "jira:issue_updated", "issue_event_type_name": typ,
			"user": s.integrationUserV2(base), "issue": s.v2Issue(base, is, true),
			"comment": v2(s.v2CommentMap(base, c)),
		})
	}
}

func (s *Server) worklogEventLocked(base string, is *issue, wl *worklog, event string) {
	hooks := s.activeHooks(event)
	if len(hooks) == 0 {
		return
	}
	m := s.worklogJSON(base, wl)
	if wl.comment != nil {
		m["comment"] = adfWiki(wl.comment)
	}
	s.enqueueLocked(hooks, is, event, map[string]any{"timestamp": s.now().UnixMilli(), "webhookEvent": event, "worklog": v2(m)})
}

// ---- deliveries -----------------------------------------------------------------------------

// Delivery is one webhook delivery as shown by GET /__admin/webhooks/deliveries.
type Delivery struct {
	ID          string          `json:"id"` // X-Atlassian-Webhook-Identifier
	WebhookID   int64           `json:"webhookId"`
	URL         string          `json:"url"`
	Event       string          `json:"event"`
	IssueKey    string          `json:"issueKey,omitempty"`
	Status      string          `json:"status"` // pending, retrying, delivered, failed, dropped
	Attempts    int             `json:"attempts"`
	LastStatus  int             `json:"lastStatus,omitempty"`
	LastError   string          `json:"lastError,omitempty"`
	Duplicate   bool            `json:"duplicate,omitempty"`
	Created     time.Time       `json:"created"`
	NextAttempt *time.Time      `json:"nextAttempt,omitempty"`
	Delivered   *time.Time      `json:"delivered,omitempty"`
	Body        json.RawMessage `json:"body,omitempty"`

	secret string
	seq    int64
	body   []byte
	due    time.Time
}

func (s *Server) enqueueLocked(hooks []*webhook, is *issue, event string, payload map[string]any) {
	f := s.currentFaults()
	now := time.Now()
	for _, h := range hooks {
		if !s.hookMatches(h, is) {
			continue
		}
		payload["matchedWebhookIds"] = []int64{h.id}
		var body []byte
		if !h.excludeBody {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(payload)
			body = bytes.TrimSpace(buf.Bytes())
		}
		d := &Delivery{ID: uuid.NewString(), WebhookID: h.id, URL: h.url, Event: event, Status: "pending",
			Created: now, secret: h.secret, body: body, due: now}
		if is != nil {
			d.IssueKey = is.key
		}
		drop, dup := s.webhookDice(f)
		if drop {
			s.countFault("webhook_dropped", 1)
		} else if dup {
			s.countFault("webhook_duplicated", 1)
		}
		s.dmu.Lock()
		if f.WebhookReorder {
			if now.After(s.reorderUntil) {
				s.reorderUntil = now.Add(time.Duration(max(f.WebhookReorderWindowMS, 1)) * time.Millisecond)
				if f.WebhookReorderWindowMS == 0 {
					s.reorderUntil = now.Add(100 * time.Millisecond)
				}
			}
			d.due = s.reorderUntil
		}
		if drop {
			d.Status = "dropped"
			s.recordLocked(d)
			s.dmu.Unlock()
			continue
		}
		s.pushLocked(d)
		if dup {
			cp := *d
			cp.Duplicate = true
			s.pushLocked(&cp)
		}
		s.dmu.Unlock()
		s.wakeDispatcher()
	}
	delete(payload, "matchedWebhookIds")
}

func (s *Server) pushLocked(d *Delivery) {
	s.dseq++
	d.seq = s.dseq
	s.queue = append(s.queue, d)
	s.recordLocked(d)
}

func (s *Server) recordLocked(d *Delivery) {
	s.history = append(s.history, d)
	if len(s.history) > maxDeliveryHistory {
		// forget the oldest finished deliveries
		keep := s.history[:0]
		drop := len(s.history) - maxDeliveryHistory
		for _, x := range s.history {
			if drop > 0 && (x.Status == "delivered" || x.Status == "failed" || x.Status == "dropped") {
				drop--
				continue
			}
			keep = append(keep, x)
		}
		s.history = keep
	}
}

func (s *Server) wakeDispatcher() {
	s.dmu.Lock()
	if !s.dispatching {
		s.dispatching = true
		s.wake = make(chan struct{}, 1)
		s.stop = make(chan struct{})
		go s.dispatch(s.wake, s.stop)
	}
	wake := s.wake
	s.dmu.Unlock()
	select {
	case wake <- struct{}{}:
	default:
	}
}

// nextDueLocked picks the next delivery to send: the earliest due; with webhook_reorder,
// deliveries released together go newest first.
func (s *Server) nextDueLocked(now time.Time, reorder bool) (*Delivery, time.Duration) {
	best := -1
	for i, d := range s.queue {
		if best < 0 || d.due.Before(s.queue[best].due) ||
			(d.due.Equal(s.queue[best].due) && ((reorder && d.seq > s.queue[best].seq) || (!reorder && d.seq < s.queue[best].seq))) {
			best = i
		}
	}
	if best < 0 {
		return nil, time.Hour
	}
	d := s.queue[best]
	if wait := d.due.Sub(now); wait > 0 {
		return nil, wait
	}
	s.queue = slices.Delete(s.queue, best, best+1)
	return d, 0
}

func (s *Server) dispatch(wake, stop chan struct{}) {
	client := &http.Client{Timeout: s.opts.WebhookTimeout}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		f := s.currentFaults()
		s.dmu.Lock()
		d, wait := s.nextDueLocked(time.Now(), f.WebhookReorder)
		var cp Delivery
		if d != nil {
			d.Attempts++
			cp = *d
		}
		s.dmu.Unlock()
		if d == nil {
			timer.Reset(wait)
			select {
			case <-stop:
				return
			case <-wake:
			case <-timer.C:
			}
			continue
		}
		status, err := s.send(client, &cp, stop)
		now := time.Now()
		s.dmu.Lock()
		d.LastStatus = status
		d.LastError = ""
		d.NextAttempt = nil
		if err != nil {
			d.LastError = err.Error()
		}
		switch {
		case err == nil && status >= 200 && status < 300:
			d.Status = "delivered"
			d.Delivered = &now
		case retryableDelivery(status, err) && d.Attempts <= maxRetries:
			d.Status = "retrying"
			base := s.opts.WebhookRetryBase
			if f.WebhookRetryBaseMS > 0 {
				base = time.Duration(f.WebhookRetryBaseMS) * time.Millisecond
			}
			d.due = now.Add(base << (d.Attempts - 1))
			next := d.due
			d.NextAttempt = &next
			s.dseq++
			d.seq = s.dseq
			s.queue = append(s.queue, d)
		default:
			d.Status = "failed"
		}
		s.dmu.Unlock()
		select {
		case <-stop:
			return
		default:
		}
	}
}

// retryableDelivery follows Jira Cloud's retry policy: 408, 409, 425, 429, 5xx and
// connection failures or timeouts are retried; other answers are final.
func retryableDelivery(status int, err error) bool {
	if err != nil {
		return true
	}
	return status == 408 || status == 409 || status == 425 || status == 429 || status >= 500
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (s *Server) send(client *http.Client, d *Delivery, stop chan struct{}) (int, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Atlassian Webhook HTTP Client")
	req.Header.Set("X-Atlassian-Webhook-Identifier", d.ID)
	req.Header.Set("X-Atlassian-Webhook-Flow", "Primary")
	if d.Attempts > 1 {
		req.Header.Set("X-Atlassian-Webhook-Retry", strconv.Itoa(d.Attempts-1))
	}
	if d.secret != "" {
		req.Header.Set("X-Hub-Signature", sign(d.secret, d.body))
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// Deliveries returns a snapshot of the delivery queue and history, oldest first.
func (s *Server) Deliveries(withBody bool) []Delivery {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	out := make([]Delivery, 0, len(s.history))
	for _, d := range s.history {
		cp := *d
		if withBody && len(d.body) > 0 {
			cp.Body = json.RawMessage(d.body)
		}
		out = append(out, cp)
	}
	return out
}

func (s *Server) handleAdminDeliveries(w http.ResponseWriter, r *http.Request) {
	withBody := r.URL.Query().Get("body") == "true"
	list := s.Deliveries(withBody)
	counts := map[string]int{}
	for _, d := range list {
		counts[d.Status]++
	}
	writeJSON(w, 200, map[string]any{"total": len(list), "byStatus": counts, "deliveries": list})
}

// Close stops the webhook dispatcher; pending deliveries are abandoned. The server keeps
// answering requests (a later webhook event starts a new dispatcher).
func (s *Server) Close() {
	s.dmu.Lock()
	if s.dispatching {
		close(s.stop)
		s.dispatching = false
	}
	s.dmu.Unlock()
}

func (s *Server) resetWebhooks() {
	s.Close()
	s.whMu.Lock()
	s.hooks = nil
	s.whMu.Unlock()
	s.dmu.Lock()
	s.queue, s.history, s.reorderUntil = nil, nil, time.Time{}
	s.dmu.Unlock()
}
