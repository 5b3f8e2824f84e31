package ingress

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
)

// checkJiraDelivery checks what the receiver relies on in a decoded Jira delivery, so a signed
// but unusable payload is refused (400, WEBHOOK_MALFORMED) instead of failing later with a 503
// that Jira would retry for ever. The error names the field.
func checkJiraDelivery(ev *jira.WebhookEvent) error {
	if ev.Timestamp <= 0 {
		return errors.New("timestamp is missing (Jira sends the event time in epoch milliseconds; without it the replay window cannot be checked)")
	}
	is := ev.Issue
	if is == nil {
		return nil // not an issue event (worklog, project …): answered 204, nothing to sync
	}
	if !isDigits(is.ID) {
		return fmt.Errorf("issue.id %q is not a numeric Jira issue id", is.ID)
	}
	if is.Fields == nil {
		return fmt.Errorf("issue.fields is missing from the event of issue %s", is.ID)
	}
	project, issueType := issueScope(is)
	if project == "" {
		return fmt.Errorf("issue.fields.project of issue %s has no key (got %s)", is.ID, short(is.Fields["project"]))
	}
	if issueType == "" {
		return fmt.Errorf("issue.fields.issuetype of issue %s has no name (got %s)", is.ID, short(is.Fields["issuetype"]))
	}
	return nil
}

// issueScope reads the project key and issue type name of a webhook issue ("" when missing or of
// the wrong shape).
func issueScope(is *jira.WebhookIssue) (project, issueType string) {
	var p struct {
		Key string `json:"key"`
	}
	var t struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(is.Fields["project"], &p) == nil {
		project = strings.TrimSpace(p.Key)
	}
	if json.Unmarshal(is.Fields["issuetype"], &t) == nil {
		issueType = strings.TrimSpace(t.Name)
	}
	return project, issueType
}

// checkNotification says what is wrong with one Outbound Message notification ("" when usable):
// the receiver needs the notification id (for deduplication), the object type and a
// well-formed record id.
func checkNotification(n salesforce.OutboundNotification) string {
	id := n.Fields["Id"]
	switch {
	case n.Object == "":
		return "sObject has no xsi:type naming the object"
	case id == "":
		return "sObject has no Id field (add Id to the Outbound Message's fields)"
	case !salesforceID(id):
		return fmt.Sprintf("sObject Id %q is not a 15- or 18-character Salesforce id", id)
	case n.ID == "":
		return "notification has no Id (the notification id deduplicates redeliveries)"
	}
	return ""
}

func hasMalformed(ns []salesforce.OutboundNotification) bool {
	for _, n := range ns {
		if checkNotification(n) != "" {
			return true
		}
	}
	return false
}

func salesforceID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" || len(s) > 18 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func short(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "nothing"
	}
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}
