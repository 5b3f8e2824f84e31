package mappings

import (
	"encoding/json"
	"fmt"
	"strings"
)

// User fields carry a person across: Salesforce holds an e-mail (a field or a path such as
// Owner.Email), Jira an account id. The projection on both sides is the lower-case e-mail, so
// "Ana@x.com" in Salesforce and the Jira account of ana@x.com compare equal.

func canonicalEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func (b *Bound) userToJira(bf BoundField, rec string, val any) (any, string, error) {
	email, ok := val.(string)
	if !ok || !strings.Contains(email, "@") {
		return nil, "", &RecordError{Code: CodeTypeMismatch, Field: bf.SF, Record: rec,
			Msg: fmt.Sprintf("%s must be an e-mail address, got %s", b.label(bf), bf.shown(val)),
			Fix: fmt.Sprintf("map a Salesforce e-mail field (e.g. Owner.Email) in %s", b.at(bf.Line))}
	}
	email = canonicalEmail(email)
	if b.Users == nil {
		return nil, "", &RecordError{Code: CodeValueUnmapped, Field: bf.SF, Record: rec,
			Msg: fmt.Sprintf("%s: no Jira user directory to look up %s", b.label(bf), bf.quoted(email)),
			Fix: "user fields need the worker's Jira user directory; run the sync through the worker"}
	}
	id, found, err := b.Users.AccountID(email)
	if err != nil {
		return nil, "", fmt.Errorf("look up the Jira user with e-mail %s for %s: %w", bf.plain(email, HiddenPII), b.label(bf), err)
	}
	if !found {
		return nil, "", &RecordError{Code: CodeUserUnknown, Field: bf.SF, Record: rec,
			Msg: fmt.Sprintf("%s: no active Jira user has the e-mail %s", b.label(bf), bf.quoted(email)),
			Fix: fmt.Sprintf("invite %s to Jira (or make the address visible to the integration user), correct %s in Salesforce, or give the field a default: e-mail in %s", bf.plain(email, "the person"), bf.SF, b.at(bf.Line))}
	}
	return map[string]any{"accountId": id}, email, nil
}

// jiraUserEmail reads the e-mail of a Jira user value ({"accountId", "emailAddress"}), asking
// the directory when Jira hides the address; ok is false when it cannot be known.
func (b *Bound) jiraUserEmail(raw json.RawMessage) (string, bool) {
	var u struct {
		AccountID    string `json:"accountId"`
		EmailAddress string `json:"emailAddress"`
	}
	if json.Unmarshal(raw, &u) != nil || u.AccountID == "" {
		return "", false
	}
	if u.EmailAddress != "" {
		return canonicalEmail(u.EmailAddress), true
	}
	if b.Users == nil {
		return "", false
	}
	email, ok, err := b.Users.Email(u.AccountID)
	if err != nil || !ok {
		return "", false
	}
	return canonicalEmail(email), true
}

// projectJiraUser is the Jira-side projection of a user field: the e-mail, or "account:<id>"
// when the address cannot be known (so a change of user is still seen).
func (b *Bound) projectJiraUser(raw json.RawMessage) string {
	if email, ok := b.jiraUserEmail(raw); ok {
		return email
	}
	var u struct {
		AccountID string `json:"accountId"`
	}
	_ = json.Unmarshal(raw, &u)
	if u.AccountID == "" {
		return ""
	}
	return "account:" + u.AccountID
}

// userWithFallback maps a user field that has a fallback text field: a known e-mail sets the
// user and clears the fallback; an unknown one clears the user and writes the e-mail to the
// fallback. The projection tells the two apart ("text:" prefix), so a person who joins Jira
// later is picked up by the next sync instead of staying in the text field.
func (b *Bound) userWithFallback(d *Desired, bf BoundField, rec string, val any) error {
	email, ok := val.(string)
	if !ok || !strings.Contains(email, "@") {
		return &RecordError{Code: CodeTypeMismatch, Field: bf.SF, Record: rec,
			Msg: fmt.Sprintf("%s must be an e-mail address, got %s", b.label(bf), bf.shown(val)),
			Fix: fmt.Sprintf("map a Salesforce e-mail field (e.g. Contact.Email) in %s", b.at(bf.Line))}
	}
	email = canonicalEmail(email)
	id, found := "", false
	if b.Users != nil {
		var err error
		id, found, err = b.Users.AccountID(email)
		if err != nil {
			return fmt.Errorf("look up the Jira user with e-mail %s for %s: %w", bf.plain(email, HiddenPII), b.label(bf), err)
		}
	}
	if found {
		d.Fields[bf.JiraID] = map[string]any{"accountId": id}
		d.Fields[bf.FallbackID] = nil
		d.Projection[bf.JiraID] = email
		d.Projection[bf.FallbackID] = ""
		return nil
	}
	d.Fields[bf.JiraID] = nil
	d.Fields[bf.FallbackID] = email
	d.Projection[bf.JiraID] = "text:" + email
	d.Projection[bf.FallbackID] = email
	d.Warnings = append(d.Warnings, fmt.Sprintf("%s: no Jira user has the e-mail %s; written to %s instead", b.label(bf), bf.plain(email, HiddenPII), bf.FallbackName))
	return nil
}

// projectUserWithFallback is the Jira side of userWithFallback's projection.
func (b *Bound) projectUserWithFallback(bf BoundField, fields map[string]json.RawMessage) string {
	if raw := fields[bf.JiraID]; !isJSONNull(raw) {
		return b.projectJiraUser(raw)
	}
	if t := strings.TrimSpace(jiraText(fields[bf.FallbackID])); t != "" {
		return "text:" + canonicalEmail(t)
	}
	return ""
}

// Companions lists the Jira fields written together with a field: the fallback text field of a
// user field. A plan that writes the field writes its companions from the same Desired.
func (b *Bound) Companions(jiraID string) []string {
	for _, f := range b.Fields {
		if f.JiraID == jiraID && f.FallbackID != "" {
			return []string{f.FallbackID}
		}
	}
	return nil
}

func isIssueID(s string) bool {
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
