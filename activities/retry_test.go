package activities

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/sfjira/sfjira/internal/catalog"
)

var writePolicy = &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 8}

func TestJitterDelayFollowsThePolicyWithinBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for attempt := int32(1); attempt <= 8; attempt++ {
		base := 2 * time.Second << (attempt - 1)
		if base > time.Minute {
			base = time.Minute
		}
		lo, hi := base, time.Duration(0)
		for i := 0; i < 500; i++ {
			d := JitterDelay(attempt, writePolicy, 0, r.Float64)
			require.GreaterOrEqual(t, d, base/2, "attempt %d", attempt)
			require.LessOrEqual(t, d, base, "attempt %d", attempt)
			lo, hi = min(lo, d), max(hi, d)
		}
		// The draws really spread (no two retries of a burst at the same instant).
		require.Greater(t, hi-lo, base/4, "attempt %d: spread %s..%s", attempt, lo, hi)
	}
}

func TestJitterDelayNeverUndercutsRetryAfterAndIsCapped(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		d := JitterDelay(1, writePolicy, 30*time.Second, r.Float64)
		require.GreaterOrEqual(t, d, 30*time.Second)
		require.LessOrEqual(t, d, 36*time.Second)
	}
	require.Equal(t, MaxRetryDelay, JitterDelay(1, writePolicy, 24*time.Hour, r.Float64))
	// No policy: the server defaults (1s, ×2, cap 100×).
	d := JitterDelay(3, nil, 0, r.Float64)
	require.True(t, d >= 2*time.Second && d <= 4*time.Second, "%s", d)
}

func TestJitterKeepsCodeAndLeavesNonRetryableAlone(t *testing.T) {
	half := func() float64 { return 0.5 }
	// A 429 classified at the edge: code kept, Retry-After becomes the floor.
	rl := temporal.NewApplicationErrorWithOptions("JIRA_RATE_LIMITED: jira: GET /x: 429", string(catalog.JiraRateLimited),
		temporal.ApplicationErrorOptions{NextRetryDelay: 3 * time.Second})
	got := Jitter(rl, 1, writePolicy, half)
	var app *temporal.ApplicationError
	require.True(t, errors.As(got, &app))
	require.Equal(t, string(catalog.JiraRateLimited), app.Type())
	require.False(t, app.NonRetryable())
	require.Equal(t, 3*time.Second+300*time.Millisecond, app.NextRetryDelay())
	require.Equal(t, "JIRA_RATE_LIMITED: jira: GET /x: 429", app.Message())

	// A transport failure without Retry-After: drawn from the policy (attempt 3 → 8s, half → 6s).
	tr := newError(catalog.NetworkTransient, "connection reset", nil)
	require.True(t, errors.As(Jitter(tr, 3, writePolicy, half), &app))
	require.Equal(t, 6*time.Second, app.NextRetryDelay())
	require.Equal(t, string(catalog.NetworkTransient), app.Type())

	// Validation errors are not retried: untouched.
	v := newError(catalog.JiraValidation, "summary: required", nil)
	require.Same(t, v, Jitter(v, 1, writePolicy, half))
	// Plain errors are left to the SDK.
	plain := errors.New("boom")
	require.Same(t, plain, Jitter(plain, 1, writePolicy, half))
}
