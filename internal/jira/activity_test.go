package jira

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	emu "github.com/sfjira/sfjira/emulators/jira"
)

func adfDoc(text string) map[string]any {
	return map[string]any{"type": "doc", "version": 1, "content": []any{
		map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": text}}}}}
}

func TestCommentsWorklogsLinksUsers(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()
	is, err := c.CreateIssue(ctx, epic("Comments", ""))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 105; i++ { // more than one page of 100
		if _, err := c.AddComment(ctx, is.Key, adfDoc("note ✅ "+string(rune('a'+i%26)))); err != nil {
			t.Fatal(err)
		}
	}
	cm, err := c.AddComment(ctx, is.Key, adfDoc("last"))
	if err != nil || cm.ID == "" || cm.Author.AccountID == "" || cm.Created == "" || !strings.Contains(string(cm.Body), `"last"`) {
		t.Fatalf("add comment: %+v %v", cm, err)
	}
	all, err := c.Comments(ctx, is.Key)
	if err != nil || len(all) != 106 || all[105].ID != cm.ID {
		t.Fatalf("comments: %d %v", len(all), err)
	}
	if _, err := c.AddComment(ctx, is.Key, "plain text"); err == nil || !strings.Contains(err.Error(), "Atlassian Document") {
		t.Fatalf("non-ADF comment: %v", err)
	}
	if _, err := c.Comments(ctx, "SFJ-999"); !IsNotFound(err) {
		t.Fatalf("missing issue: %v", err)
	}

	wl, err := c.AddWorklog(ctx, is.Key, WorklogInput{Started: "2024-03-01T09:00:00.000+0000", TimeSpentSeconds: 5400, Comment: adfDoc("call")})
	if err != nil || wl.TimeSpentSeconds != 5400 || wl.IssueID != is.ID || wl.Started != "2024-03-01T09:00:00.000+0000" {
		t.Fatalf("worklog: %+v %v", wl, err)
	}
	if _, err := c.AddWorklog(ctx, is.Key, WorklogInput{Started: "2024-03-01", TimeSpentSeconds: 60}); err == nil {
		t.Fatal("bad started accepted")
	}
	wls, err := c.Worklogs(ctx, is.Key)
	if err != nil || len(wls) != 1 || wls[0].ID != wl.ID || !strings.Contains(string(wls[0].Comment), "call") {
		t.Fatalf("worklogs: %+v %v", wls, err)
	}

	l := RemoteLink{GlobalID: "salesforce:006000000000001", URL: "https://acme.my.salesforce.com/006000000000001", Title: "Opportunity 006…", Relationship: "synced with"}
	id, created, err := c.PutRemoteLink(ctx, is.Key, l)
	if err != nil || !created || id == 0 {
		t.Fatalf("link: %d %v %v", id, created, err)
	}
	l.Title = "Renamed"
	id2, created, err := c.PutRemoteLink(ctx, is.Key, l)
	if err != nil || created || id2 != id {
		t.Fatalf("link upsert: %d %v %v", id2, created, err)
	}
	if _, _, err := c.PutRemoteLink(ctx, is.Key, RemoteLink{URL: "https://x"}); err == nil || !strings.Contains(err.Error(), "title") {
		t.Fatalf("link without title: %v", err)
	}

	users, err := c.FindUsers(ctx, "josé")
	if err != nil || len(users) != 1 || users[0].EmailAddress != "jose.alvarez@sfjira.demo" || users[0].AccountID == "" {
		t.Fatalf("find users: %+v %v", users, err)
	}
	if users, err := c.FindUsers(ctx, "nobody-here"); err != nil || len(users) != 0 {
		t.Fatalf("no match: %+v %v", users, err)
	}
	if _, err := c.FindUsers(ctx, ""); err == nil {
		t.Fatal("empty query accepted")
	}
}

func TestVerifySignatureAndParse(t *testing.T) {
	body := []byte(`{"webhookEvent":"jira:issue_updated","timestamp":1}`)
	// HMAC-SHA256("secret", body) computed independently of the emulator
	good := "sha256=" + hmacHex("secret", body)
	if !VerifySignature("secret", body, good) {
		t.Fatal("good signature rejected")
	}
	for _, h := range []string{"", "sha256=", "sha1=" + hmacHex("secret", body), "sha256=zz", good + "00"} {
		if VerifySignature("secret", body, h) {
			t.Fatalf("accepted %q", h)
		}
	}
	if VerifySignature("other", body, good) || VerifySignature("", body, good) || VerifySignature("secret", append(body, ' '), good) {
		t.Fatal("wrong secret/body accepted")
	}
	if _, err := ParseWebhook([]byte(`{"timestamp":1}`)); err == nil {
		t.Fatal("payload without event accepted")
	}
	if _, err := ParseWebhook([]byte(`{`)); err == nil {
		t.Fatal("bad JSON accepted")
	}
}

func TestWebhookEndToEnd(t *testing.T) {
	srv := emu.New(emu.Options{Email: emu.DemoEmail, APIToken: emu.DemoAPIToken, WebhookRetryBase: 5 * time.Millisecond})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); ts.Close() })
	c, err := New(Config{BaseURL: ts.URL, Email: emu.DemoEmail, APIToken: emu.DemoAPIToken})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	type got struct {
		ok, wrongOK bool
		ev          *WebhookEvent
	}
	ch := make(chan got, 20)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sig := r.Header.Get("X-Hub-Signature")
		ev, err := ParseWebhook(body)
		if err != nil {
			w.WriteHeader(400)
			return
		}
		ch <- got{VerifySignature("hook-secret", body, sig), VerifySignature("wrong-secret", body, sig), ev}
	}))
	t.Cleanup(recv.Close)

	hook, err := c.RegisterWebhook(ctx, Webhook{Name: "sfjira", URL: recv.URL, JQL: "project = SFJ", Secret: "hook-secret",
		Events: []string{"jira:issue_created", "jira:issue_updated", "comment_created"}})
	if err != nil || hook.ID == 0 || hook.Secret != "hook-secret" || hook.JQL != "project = SFJ" {
		t.Fatalf("register: %+v %v", hook, err)
	}
	if _, err := c.RegisterWebhook(ctx, Webhook{Name: "bad", URL: recv.URL, JQL: "project = = SFJ", Events: []string{"jira:issue_created"}}); err == nil {
		t.Fatal("bad JQL accepted")
	}
	hooks, err := c.Webhooks(ctx)
	if err != nil || len(hooks) != 1 || hooks[0].ID != hook.ID || !hooks[0].Enabled || hooks[0].Secret != "" {
		t.Fatalf("list: %+v %v", hooks, err)
	}

	is, err := c.CreateIssue(ctx, epic("Webhook me", ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EditIssue(ctx, is.Key, map[string]any{"summary": "Webhook me too"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddComment(ctx, is.Key, adfDoc("Ping from Salesforce")); err != nil {
		t.Fatal(err)
	}
	var events []*WebhookEvent
	for len(events) < 4 {
		select {
		case g := <-ch:
			if !g.ok || g.wrongOK {
				t.Fatalf("signature check: good=%v wrong=%v", g.ok, g.wrongOK)
			}
			events = append(events, g.ev)
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d deliveries", len(events))
		}
	}
	created, updated, comment := events[0], events[1], events[2]
	if created.WebhookEvent != "jira:issue_created" || created.Issue.Key != is.Key || created.User == nil || created.User.AccountID == "" {
		t.Fatalf("created: %+v", created)
	}
	var desc string
	if err := json.Unmarshal(created.Issue.Fields["description"], &desc); err != nil || desc != "Hello Webhook me" {
		t.Fatalf("v2 description %s: %v", created.Issue.Fields["description"], err)
	}
	if updated.IssueEventTypeName != "issue_updated" || updated.Changelog == nil || len(updated.Changelog.Items) != 1 ||
		updated.Changelog.Items[0].FieldID != "summary" || updated.Changelog.Items[0].ToString != "Webhook me too" {
		t.Fatalf("updated: %+v", updated.Changelog)
	}
	if comment.WebhookEvent != "comment_created" || comment.Comment == nil || comment.Comment.Body != "Ping from Salesforce" || comment.Comment.Author.AccountID == "" {
		t.Fatalf("comment: %+v", comment.Comment)
	}
	if ic := events[3]; ic.IssueEventTypeName != "issue_commented" || ic.Comment == nil {
		t.Fatalf("issue_commented: %+v", ic)
	}
	if err := c.DeleteWebhook(ctx, hook.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteWebhook(ctx, hook.ID); !IsNotFound(err) {
		t.Fatalf("second delete: %v", err)
	}
}

func hmacHex(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
