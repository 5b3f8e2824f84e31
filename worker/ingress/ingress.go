// Package ingress receives change notifications from Salesforce (Outbound Messages) and Jira
// (admin webhooks) over HTTP and hands them to the pairs' workflows; the worker serves it, and the
// benchmarks reuse it.
package ingress

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
)

// maxDeliveryBytes bounds a webhook or outbound-message body.
const maxDeliveryBytes = 5 << 20

// Handler returns the routes of both receivers.
func (in *Ingress) Handler() http.Handler {
	mux := http.NewServeMux()
	in.Register(mux)
	return mux
}

// Register adds POST /webhooks/jira and POST /webhooks/salesforce to a mux.
func (in *Ingress) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /webhooks/jira", in.JiraWebhook)
	mux.HandleFunc("POST /webhooks/salesforce", in.SalesforceOutbound)
}

// Ingress receives change notifications from both systems and hands them to the pairs'
// workflows. It answers success only after every change is durably with Temporal, so the
// sender's retry covers any failure in between.
type Ingress struct {
	Acts          *activities.Activities
	JiraSecret    string
	SalesforceOrg string
	Log           *zap.Logger
}

// JiraWebhook handles POST /webhooks/jira: admin-webhook deliveries signed with
// X-Hub-Signature (HMAC-SHA256 of the raw body). A wrong or missing signature gets 401 and
// starts nothing.
func (in *Ingress) JiraWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxDeliveryBytes))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if in.JiraSecret == "" || !jira.VerifySignature(in.JiraSecret, body, r.Header.Get("X-Hub-Signature")) {
		in.Acts.Metrics.IngressRejected("jira", "signature")
		in.Log.Warn("jira webhook rejected: bad or missing signature", zap.String("remote", r.RemoteAddr),
			zap.String("delivery", r.Header.Get("X-Atlassian-Webhook-Identifier")))
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	ev, err := jira.ParseWebhook(body)
	if err != nil {
		in.Acts.Metrics.IngressRejected("jira", "malformed")
		http.Error(w, "malformed webhook payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	if ev.Issue == nil {
		w.WriteHeader(http.StatusNoContent) // not an issue event: nothing to sync
		return
	}
	var project, issueType struct {
		Key  string `json:"key"`
		Name string `json:"name"`
	}
	_ = json.Unmarshal(ev.Issue.Fields["project"], &project)
	_ = json.Unmarshal(ev.Issue.Fields["issuetype"], &issueType)
	pairs := in.Acts.Mappings.PairsForJira(project.Key, issueType.Name)
	events := make([]activities.ChangeEvent, 0, len(pairs))
	for _, p := range pairs {
		events = append(events, activities.ChangeEvent{Pair: p, Source: activities.SourceJira, JiraIssueID: ev.Issue.ID,
			Trigger: activities.TriggerJiraWebhook, Comment: strings.HasPrefix(ev.WebhookEvent, "comment_")})
	}
	if err := in.Acts.HandleChanges(r.Context(), events); err != nil {
		in.Log.Error("jira webhook: could not hand over; Jira will retry", zap.String("jira_key", ev.Issue.Key), zap.Error(err))
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// SalesforceOutbound handles POST /webhooks/salesforce: Outbound Message SOAP notifications.
// The acknowledgement is sent only after the changes are with Temporal; otherwise Salesforce
// keeps retrying the message.
func (in *Ingress) SalesforceOutbound(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxDeliveryBytes))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	msg, err := salesforce.ParseOutboundMessage(body)
	if err != nil {
		in.Acts.Metrics.IngressRejected("salesforce", "malformed")
		writeSOAP(w, http.StatusBadRequest, salesforce.OutboundAck(false))
		return
	}
	if in.SalesforceOrg != "" && !sameOrg(msg.OrganizationID, in.SalesforceOrg) {
		in.Acts.Metrics.IngressRejected("salesforce", "organization")
		in.Log.Warn("outbound message from an unexpected organization rejected", zap.String("org", msg.OrganizationID))
		writeSOAP(w, http.StatusUnauthorized, salesforce.OutboundAck(false))
		return
	}
	var events []activities.ChangeEvent
	for _, n := range msg.Notifications {
		id := n.Fields["Id"]
		if id == "" {
			continue
		}
		for _, p := range in.Acts.Mappings.PairsForObject(n.Object) {
			m, _ := in.Acts.Mappings.Mapping(p)
			events = append(events, activities.ChangeEvent{Pair: p, Source: activities.SourceSalesforce, SfID: id,
				JiraIssueID: n.Fields[m.Salesforce.ExternalIDField], Trigger: activities.TriggerSalesforceOutbound})
		}
		// A Task or Event logged on a synced record: sync that record (it writes its activities).
		evs, err := in.Acts.ActivityChangeEvents(r.Context(), n.Object, n.Fields)
		if err != nil {
			in.Log.Error("outbound message: could not resolve the activity's record; Salesforce will retry", zap.Error(err))
			writeSOAP(w, http.StatusServiceUnavailable, salesforce.OutboundAck(false))
			return
		}
		events = append(events, evs...)
	}
	if err := in.Acts.HandleChanges(r.Context(), events); err != nil {
		in.Log.Error("outbound message: could not hand over; Salesforce will retry", zap.Error(err))
		writeSOAP(w, http.StatusServiceUnavailable, salesforce.OutboundAck(false))
		return
	}
	writeSOAP(w, http.StatusOK, salesforce.OutboundAck(true))
}

func writeSOAP(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck
}

// sameOrg compares organization ids in their 15- or 18-character forms.
func sameOrg(a, b string) bool {
	if len(a) >= 15 && len(b) >= 15 {
		return a[:15] == b[:15]
	}
	return a == b
}
