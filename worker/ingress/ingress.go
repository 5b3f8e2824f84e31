// Package ingress receives change notifications from Salesforce (Outbound Messages) and Jira
// (admin webhooks) over HTTP and hands them to the pairs' workflows; the worker serves it, and the
// benchmarks reuse it.
package ingress

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
)

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
//
// Every delivery is checked before anything starts: a per-source rate limit (429), a body size
// limit (413), the Jira HMAC signature in constant time or the Salesforce organization id (401),
// the delivery's timestamp against the replay window (400), and its delivery id against the ids
// already processed (acknowledged, not processed again).
type Ingress struct {
	Acts       *activities.Activities
	JiraSecret string
	// SalesforceOrg is the only org whose Outbound Messages are accepted; empty means the org the
	// Salesforce client is authenticated to.
	SalesforceOrg string
	Log           *zap.Logger
	// Limits bound deliveries (zero fields take the defaults).
	Limits config.WebhookLimits
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time

	rl        limiterSet
	pruneMu   sync.Mutex
	lastPrune time.Time
}

// JiraWebhook handles POST /webhooks/jira: admin-webhook deliveries signed with
// X-Hub-Signature (HMAC-SHA256 of the raw body). A wrong or missing signature gets 401 and
// starts nothing.
func (in *Ingress) JiraWebhook(w http.ResponseWriter, r *http.Request) {
	if !in.allow("jira", r) {
		in.reject(w, "jira", "rate_limited", http.StatusTooManyRequests, catalog.WebhookRateLimited, "too many deliveries from this address")
		return
	}
	body, ok := in.readBody(w, r, "jira")
	if !ok {
		return
	}
	if in.JiraSecret == "" || !jira.VerifySignature(in.JiraSecret, body, r.Header.Get("X-Hub-Signature")) {
		in.Log.Warn("jira webhook rejected: bad or missing signature", zap.String("code", string(catalog.WebhookSignatureInvalid)),
			zap.String("remote", r.RemoteAddr), zap.String("delivery", r.Header.Get("X-Atlassian-Webhook-Identifier")))
		in.reject(w, "jira", "signature", http.StatusUnauthorized, catalog.WebhookSignatureInvalid, "invalid signature")
		return
	}
	in.Acts.Metrics.WebhookVerified("jira")
	ev, err := jira.ParseWebhook(body)
	if err == nil {
		err = checkJiraDelivery(ev)
	}
	if err != nil {
		// Signed by Jira but unusable: 400, so Jira does not send the same bytes again; the
		// change itself is picked up by the Jira poller.
		in.Log.Warn("jira webhook rejected: malformed payload; the poller picks the change up", zap.String("code", string(catalog.WebhookMalformed)),
			zap.String("delivery", r.Header.Get("X-Atlassian-Webhook-Identifier")), zap.Error(err))
		in.reject(w, "jira", "malformed", http.StatusBadRequest, catalog.WebhookMalformed, "malformed webhook payload: "+err.Error())
		return
	}
	at := time.UnixMilli(ev.Timestamp)
	if age := in.now().Sub(at); age > in.limits().ReplayWindow || age < -futureSkew {
		in.Log.Warn("jira webhook rejected: timestamp outside the replay window", zap.String("code", string(catalog.WebhookStale)), zap.Time("timestamp", at),
			zap.Duration("window", in.limits().ReplayWindow), zap.String("delivery", r.Header.Get("X-Atlassian-Webhook-Identifier")))
		in.reject(w, "jira", "stale", http.StatusBadRequest, catalog.WebhookStale, "delivery timestamp is outside the replay window")
		return
	}
	if ev.Issue == nil {
		w.WriteHeader(http.StatusNoContent) // not an issue event: nothing to sync
		return
	}
	delivery := r.Header.Get("X-Atlassian-Webhook-Identifier")
	fresh, err := in.claim(r.Context(), "jira", delivery)
	if err != nil {
		in.Log.Error("jira webhook: could not record the delivery id; Jira will retry", zap.String("code", string(catalog.WebhookUnavailable)), zap.Error(err))
		in.reject(w, "jira", "unavailable", http.StatusServiceUnavailable, catalog.WebhookUnavailable, "temporarily unavailable")
		return
	}
	if !fresh {
		in.Acts.Metrics.IngressRejected("jira", "duplicate")
		in.Log.Info("jira webhook: delivery already processed; acknowledged without processing", zap.String("code", string(catalog.WebhookReplayed)), zap.String("delivery", delivery))
		w.Header().Set(ErrorCodeHeader, string(catalog.WebhookReplayed))
		w.WriteHeader(http.StatusOK)
		return
	}
	project, issueType := issueScope(ev.Issue)
	pairs := in.Acts.Mappings.PairsForJira(project, issueType)
	events := make([]activities.ChangeEvent, 0, len(pairs))
	for _, p := range pairs {
		events = append(events, activities.ChangeEvent{Pair: p, Source: activities.SourceJira, JiraIssueID: ev.Issue.ID,
			Trigger: activities.TriggerJiraWebhook, Comment: strings.HasPrefix(ev.WebhookEvent, "comment_")})
	}
	if err := in.Acts.HandleChanges(r.Context(), events); err != nil {
		in.release("jira", delivery)
		in.Log.Error("jira webhook: could not hand over; Jira will retry", zap.String("code", string(catalog.WebhookUnavailable)), zap.String("jira_key", ev.Issue.Key), zap.Error(err))
		in.reject(w, "jira", "unavailable", http.StatusServiceUnavailable, catalog.WebhookUnavailable, "temporarily unavailable")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// SalesforceOutbound handles POST /webhooks/salesforce: Outbound Message SOAP notifications.
// The acknowledgement is sent only after the changes are with Temporal; otherwise Salesforce
// keeps retrying the message.
func (in *Ingress) SalesforceOutbound(w http.ResponseWriter, r *http.Request) {
	if !in.allow("salesforce", r) {
		in.reject(w, "salesforce", "rate_limited", http.StatusTooManyRequests, catalog.WebhookRateLimited, "too many deliveries from this address")
		return
	}
	body, ok := in.readBody(w, r, "salesforce")
	if !ok {
		return
	}
	msg, err := salesforce.ParseOutboundMessage(body)
	if err != nil {
		in.Acts.Metrics.IngressRejected("salesforce", "malformed")
		in.Log.Warn("outbound message rejected: not a readable SOAP notification", zap.String("code", string(catalog.WebhookMalformed)), zap.Error(err))
		writeSOAP(w, http.StatusBadRequest, catalog.WebhookMalformed, salesforce.OutboundAck(false))
		return
	}
	expected := in.SalesforceOrg
	if expected == "" && in.Acts.SF != nil {
		if expected, err = in.Acts.SF.OrganizationID(r.Context()); err != nil {
			in.Log.Error("outbound message: cannot learn our own org id to check the sender; Salesforce will retry", zap.String("code", string(catalog.WebhookUnavailable)), zap.Error(err))
			writeSOAP(w, http.StatusServiceUnavailable, catalog.WebhookUnavailable, salesforce.OutboundAck(false))
			return
		}
	}
	if expected == "" || !sameOrg(msg.OrganizationID, expected) {
		in.Acts.Metrics.IngressRejected("salesforce", "organization")
		in.Log.Warn("outbound message from an unexpected organization rejected", zap.String("code", string(catalog.WebhookSignatureInvalid)), zap.String("org", msg.OrganizationID))
		writeSOAP(w, http.StatusUnauthorized, catalog.WebhookSignatureInvalid, salesforce.OutboundAck(false))
		return
	}
	in.Acts.Metrics.WebhookVerified("salesforce")
	var events []activities.ChangeEvent
	var claimed []string
	skipped := 0
	for _, n := range msg.Notifications {
		id := n.Fields["Id"]
		if problem := checkNotification(n); problem != "" {
			// One unusable notification must not hold back the others, and Salesforce would
			// resend the same bytes forever: it is skipped (the message is acknowledged), logged
			// with its code, and the record's change is picked up by the Salesforce poller.
			skipped++
			in.Acts.Metrics.IngressRejected("salesforce", "malformed")
			in.Log.Warn("outbound message: notification skipped; the poller picks the change up", zap.String("code", string(catalog.WebhookMalformed)),
				zap.String("notification", n.ID), zap.String("object", n.Object), zap.String("problem", problem))
			continue
		}
		fresh, err := in.claim(r.Context(), "salesforce", n.ID)
		if err != nil {
			for _, c := range claimed {
				in.release("salesforce", c)
			}
			in.Log.Error("outbound message: could not record the notification id; Salesforce will retry", zap.String("code", string(catalog.WebhookUnavailable)), zap.Error(err))
			writeSOAP(w, http.StatusServiceUnavailable, catalog.WebhookUnavailable, salesforce.OutboundAck(false))
			return
		}
		if !fresh {
			in.Acts.Metrics.IngressRejected("salesforce", "duplicate")
			in.Log.Info("outbound message: notification already processed; acknowledged without processing", zap.String("code", string(catalog.WebhookReplayed)), zap.String("notification", n.ID))
			skipped++
			continue
		}
		if n.ID != "" {
			claimed = append(claimed, n.ID)
		}
		for _, p := range in.Acts.Mappings.PairsForObject(n.Object) {
			m, _ := in.Acts.Mappings.Mapping(p)
			events = append(events, activities.ChangeEvent{Pair: p, Source: activities.SourceSalesforce, SfID: id,
				JiraIssueID: n.Fields[m.Salesforce.ExternalIDField], Trigger: activities.TriggerSalesforceOutbound})
		}
		// A Task or Event logged on a synced record: sync that record (it writes its activities).
		evs, err := in.Acts.ActivityChangeEvents(r.Context(), n.Object, n.Fields)
		if err != nil {
			for _, c := range claimed {
				in.release("salesforce", c)
			}
			in.Log.Error("outbound message: could not resolve the activity's record; Salesforce will retry", zap.String("code", string(catalog.WebhookUnavailable)), zap.Error(err))
			writeSOAP(w, http.StatusServiceUnavailable, catalog.WebhookUnavailable, salesforce.OutboundAck(false))
			return
		}
		events = append(events, evs...)
	}
	if err := in.Acts.HandleChanges(r.Context(), events); err != nil {
		for _, c := range claimed {
			in.release("salesforce", c)
		}
		in.Log.Error("outbound message: could not hand over; Salesforce will retry", zap.String("code", string(catalog.WebhookUnavailable)), zap.Error(err))
		writeSOAP(w, http.StatusServiceUnavailable, catalog.WebhookUnavailable, salesforce.OutboundAck(false))
		return
	}
	code := catalog.Code("")
	if skipped > 0 && len(claimed) == 0 && len(events) == 0 {
		// Nothing in the message was processed: say why (replayed or malformed notifications).
		code = catalog.WebhookReplayed
		if hasMalformed(msg.Notifications) {
			code = catalog.WebhookMalformed
		}
	}
	writeSOAP(w, http.StatusOK, code, salesforce.OutboundAck(true))
}

// ErrorCodeHeader carries the catalog code of a refused (or acknowledged but unprocessed)
// delivery, so the sender's delivery log and a person testing with curl see it without reading
// the worker's logs.
const ErrorCodeHeader = "X-Sfjira-Error-Code"

func writeSOAP(w http.ResponseWriter, status int, code catalog.Code, body []byte) {
	if code != "" {
		w.Header().Set(ErrorCodeHeader, string(code))
	}
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

func readAll(r io.Reader) ([]byte, error) { return io.ReadAll(r) }
