package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

// The error redaction finds PII values in an activity's input (flattened paths, nested records,
// field maps keyed by Jira id, field-change lists) and removes them from the message in every
// form an error quotes them, keeping the catalog code and retryability.
func TestRedactPIIFindsValuesInInputsAndScrubsEveryForm(t *testing.T) {
	keys := map[string]bool{"Contact.Email": true, "customfield_10070": true}
	email := "Mia.Secret+x@example.org"
	in := struct {
		Values  map[string]any
		Nested  map[string]any
		Fields  map[string]any
		Changes []FieldChange
		Other   string
	}{
		Values:  map[string]any{"Contact.Email": email, "Subject": "Login fails"},
		Nested:  map[string]any{"Contact": map[string]any{"Email": "nested.person@example.org"}},
		Fields:  map[string]any{"customfield_10070": "field.person@example.org", "summary": "Case 1"},
		Changes: []FieldChange{{Action: "update", Field: "customfield_10070", Before: strPtr("before.person@example.org"), After: strPtr("after.person@example.org")}},
		Other:   "not pii",
	}
	vals := PIIValuesIn(keys, in)
	assert.ElementsMatch(t, []string{email, "field.person@example.org", "before.person@example.org", "after.person@example.org"},
		without(vals, "nested.person@example.org"))
	assert.Contains(t, vals, "nested.person@example.org", "a nested record matches its dotted path")
	assert.NotContains(t, vals, "Login fails")
	assert.NotContains(t, vals, "Case 1")

	msg := fmt.Sprintf("JIRA_VALIDATION: field says %s is bad; Get \"http://x/user/search?query=%s\": connection reset; lower %s",
		email, url.QueryEscape(email), strings.ToLower(email))
	app := temporal.NewApplicationErrorWithOptions(msg, "JIRA_VALIDATION", temporal.ApplicationErrorOptions{NonRetryable: true, NextRetryDelay: 3 * time.Second})
	got := RedactPII(app, vals)
	require.Error(t, got)
	assert.NotContains(t, strings.ToLower(got.Error()), strings.ToLower(email))
	assert.NotContains(t, got.Error(), url.QueryEscape(email))
	assert.Contains(t, got.Error(), mappings.HiddenPII)
	var out *temporal.ApplicationError
	require.True(t, errors.As(got, &out))
	assert.Equal(t, "JIRA_VALIDATION", out.Type())
	assert.True(t, out.NonRetryable())
	assert.Equal(t, 3*time.Second, out.NextRetryDelay())

	// The value in the cause only (a wrapped client error) is caught too.
	wrapped := temporal.NewApplicationErrorWithOptions("NETWORK_TRANSIENT: lookup failed", "NETWORK_TRANSIENT",
		temporal.ApplicationErrorOptions{Cause: errors.New("user " + email)})
	assert.NotContains(t, RedactPII(wrapped, vals).Error(), email)
	// An error without PII comes back unchanged (same value).
	clean := errors.New("SF_AUTH: session expired")
	assert.Same(t, clean, RedactPII(clean, vals))
}

func without(list []string, drop string) []string {
	var out []string
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

// Audit rows of PII fields keep keyed hashes: equal values give equal hashes, different values
// different ones, other fields and other pairs stay as they are, audit.pii: clear keeps the
// value, and without a keyring nothing of the value is kept.
func TestProtectAuditHashesPIIFields(t *testing.T) {
	jE := jiraemu.New(jiraemu.DemoOptions())
	jHTTP := httptest.NewServer(jE)
	t.Cleanup(jHTTP.Close)
	jc, err := jira.New(jira.Config{BaseURL: jHTTP.URL, Email: "integration@sfjira.demo", APIToken: "sfjira-demo-token"})
	require.NoError(t, err)
	ms, err := mappings.LoadDir("../mappings/default")
	require.NoError(t, err)
	set, err := NewMappingSet(ms, jc)
	require.NoError(t, err)
	kr, err := codec.ParseKeyring("t1:c2ZqaXJhLXRlc3Qta2V5LW5vdC1hLXNlY3JldC0wMDA=")
	require.NoError(t, err)
	ctx := context.Background()
	b, err := set.Bound(ctx, "case-bug")
	require.NoError(t, err)
	var contactEmail string
	for _, f := range b.Fields {
		if f.SF == "Contact.Email" {
			require.True(t, f.PII, "the default pack marks Contact.Email as PII")
			contactEmail = f.FallbackID
		}
	}
	require.NotEmpty(t, contactEmail)
	rows := func() []store.AuditEntry {
		return []store.AuditEntry{
			{Pair: "case-bug", Field: contactEmail, Before: strPtr(""), After: strPtr("ana.pii@example.org"), BeforeRaw: []byte(`"old.pii@example.org"`)},
			{Pair: "case-bug", Field: contactEmail, After: strPtr("ana.pii@example.org")},
			{Pair: "case-bug", Field: contactEmail, After: strPtr("bo.pii@example.org")},
			{Pair: "case-bug", Field: "summary", After: strPtr("Case 1: login fails")},
			{Pair: "opportunity-epic", Field: contactEmail, After: strPtr("not-pii-in-this-pair")},
		}
	}
	a := &Activities{Mappings: set, Keyring: kr}
	got, err := a.protectAudit(ctx, rows())
	require.NoError(t, err)
	assert.Nil(t, got[0].Before, "an empty value stays empty")
	assert.True(t, strings.HasPrefix(*got[0].After, PIIHashPrefix+"t1:"), *got[0].After)
	assert.Equal(t, *got[0].After, *got[1].After, "equal values compare equal")
	assert.NotEqual(t, *got[0].After, *got[2].After)
	assert.NotContains(t, string(got[0].BeforeRaw), "old.pii")
	assert.True(t, strings.HasPrefix(string(got[0].BeforeRaw), `"`+PIIHashPrefix), string(got[0].BeforeRaw))
	assert.Equal(t, "Case 1: login fails", *got[3].After)
	assert.Equal(t, "not-pii-in-this-pair", *got[4].After)
	assert.True(t, IsPIIProtected(got[0].After))

	a.AuditPII = config.AuditPIIClear
	got, err = a.protectAudit(ctx, rows())
	require.NoError(t, err)
	assert.Equal(t, "ana.pii@example.org", *got[0].After)

	a.AuditPII, a.Keyring = config.AuditPIIHash, nil
	got, err = a.protectAudit(ctx, rows())
	require.NoError(t, err)
	assert.Equal(t, PIIRedactedValue, *got[0].After)
}
