package activities

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
)

// MaxRetryDelay caps any retry delay the activities ask for, including a Retry-After: past this,
// a quota problem is better seen as an exhausted retry policy (a dead letter with its code) than
// as an activity that looks stuck.
const MaxRetryDelay = 15 * time.Minute

// RetryJitter is the worker interceptor that adds jitter to activity retries. Temporal's retry
// policies are exponential but deterministic: every activity that failed on the same 429 or 503
// comes back at the same instant. The interceptor answers every retryable application error with
// a NextRetryDelay drawn by Jitter from the activity's own retry policy and attempt, so the
// policy still sets the shape and caps while the retries of many records spread out.
type RetryJitter struct {
	interceptor.WorkerInterceptorBase
}

// InterceptActivity wraps one activity execution.
func (*RetryJitter) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &jitterInbound{}
	i.Next = next
	return i
}

type jitterInbound struct {
	interceptor.ActivityInboundInterceptorBase
}

func (i *jitterInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := i.Next.ExecuteActivity(ctx, in)
	if err == nil {
		return res, nil
	}
	info := activity.GetInfo(ctx)
	return res, Jitter(err, info.Attempt, info.RetryPolicy, rand.Float64)
}

// Jitter returns err with a jittered NextRetryDelay when it is a retryable application error, and
// err unchanged otherwise (non-retryable, cancellation, plain errors). The delay for attempt n is
// drawn uniformly from [½·b, b] where b = initial·coefficientⁿ⁻¹ capped at the policy's maximum
// interval ("equal jitter": never a thundering herd, never much faster than the policy). A
// NextRetryDelay the error already carries is a server's Retry-After: it is a floor, and the draw
// adds up to 20 % on top so the callers that were told the same Retry-After do not return
// together. rnd returns a float in [0, 1).
func Jitter(err error, attempt int32, policy *temporal.RetryPolicy, rnd func() float64) error {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app != err || app.NonRetryable() || app.HasDetails() {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	d := JitterDelay(attempt, policy, app.NextRetryDelay(), rnd)
	return temporal.NewApplicationErrorWithOptions(app.Message(), app.Type(), temporal.ApplicationErrorOptions{
		Cause: errors.Unwrap(app), NextRetryDelay: d, Category: app.Category(),
	})
}

// JitterDelay computes the delay before the next attempt; see Jitter.
func JitterDelay(attempt int32, policy *temporal.RetryPolicy, retryAfter time.Duration, rnd func() float64) time.Duration {
	initial, coeff, maxInterval := time.Second, 2.0, 100*time.Second
	if policy != nil {
		if policy.InitialInterval > 0 {
			initial = policy.InitialInterval
		}
		if policy.BackoffCoefficient >= 1 {
			coeff = policy.BackoffCoefficient
		}
		if policy.MaximumInterval > 0 {
			maxInterval = policy.MaximumInterval
		} else {
			maxInterval = 100 * initial
		}
	}
	if attempt < 1 {
		attempt = 1
	}
	b := float64(initial) * math.Pow(coeff, float64(attempt-1))
	if b > float64(maxInterval) {
		b = float64(maxInterval)
	}
	d := time.Duration(b/2 + rnd()*b/2)
	if retryAfter > 0 {
		d = retryAfter + time.Duration(rnd()*float64(retryAfter)/5)
	}
	if d > MaxRetryDelay {
		d = MaxRetryDelay
	}
	if d < 10*time.Millisecond {
		d = 10 * time.Millisecond // zero would mean "use the policy", which has no jitter
	}
	return d
}
