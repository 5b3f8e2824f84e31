package jira

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	emu "github.com/sfjira/sfjira/emulators/jira"
)

// TestReauthenticatesOnceOn401 uses the emulator's token-expiry fault: the next N correctly
// authenticated calls answer 401. One expired call is absorbed by the single re-authentication
// (the credential is read again and the call retried); two in a row surface as a 401 APIError,
// so a bad token fails fast instead of looping.
func TestReauthenticatesOnceOn401(t *testing.T) {
	ctx := context.Background()
	_, srv, ts := setup(t)
	var reloads atomic.Int32
	c, err := New(Config{BaseURL: ts.URL, Email: emu.DemoEmail, APIToken: "unused", Reload: func() (string, string, error) {
		if reloads.Add(1) == 1 {
			return emu.DemoEmail, "stale-token", nil // the token file before rotation
		}
		return emu.DemoEmail, emu.DemoAPIToken, nil // the rotated token
	}})
	if err != nil {
		t.Fatal(err)
	}
	// The stale token fails, the reloaded one works: one call, one re-authentication.
	if _, err := c.Myself(ctx); err != nil {
		t.Fatalf("Myself after reload: %v", err)
	}
	if got := c.Reauthentications(); got != 1 || reloads.Load() != 2 {
		t.Fatalf("re-authentications %d, reads of the credential %d; want 1 and 2", got, reloads.Load())
	}

	srv.SetFaults(emu.Faults{ExpireTokens: 1})
	if _, err := c.Myself(ctx); err != nil {
		t.Fatalf("one expired call must be absorbed by the re-authentication: %v", err)
	}
	if got := c.Reauthentications(); got != 2 {
		t.Fatalf("re-authentications %d, want 2", got)
	}

	srv.SetFaults(emu.Faults{ExpireTokens: 2})
	_, err = c.Myself(ctx)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("two expired calls in a row: want a 401 APIError, got %v", err)
	}
	if got := c.Reauthentications(); got != 3 {
		t.Fatalf("re-authentications %d, want 3 (only one retry per call)", got)
	}
	// The fault is used up: the next call works without re-authenticating.
	if _, err := c.Myself(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.Reauthentications(); got != 3 {
		t.Fatalf("re-authentications %d after the fault, want still 3", got)
	}
}
