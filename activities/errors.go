package activities

import (
	"context"
	"errors"
	"net"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

// newError builds the Temporal application error for a catalog code. Retryability comes from the
// catalog, so the same code always behaves the same way.
func newError(code catalog.Code, msg string, cause error) error {
	entry, _ := catalog.Lookup(code)
	return temporal.NewApplicationErrorWithOptions(string(code)+": "+msg, string(code), temporal.ApplicationErrorOptions{
		NonRetryable: !entry.Retryable,
		Cause:        cause,
	})
}

// classify turns a client, store or mapping error into a Temporal application error with a
// catalog code. It must be the last thing an activity does with an error: wrapping its result
// with fmt.Errorf would hide NonRetryable from the SDK.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return err
	}
	var re *mappings.RecordError
	if errors.As(err, &re) {
		return temporal.NewApplicationErrorWithOptions(re.Error(), re.Code, temporal.ApplicationErrorOptions{NonRetryable: true})
	}
	var sfErr *salesforce.APIError
	if errors.As(err, &sfErr) {
		switch {
		case sfErr.Code == "REQUEST_LIMIT_EXCEEDED":
			// The daily limit rolls over slowly: wait minutes, unless Salesforce said how long.
			wait := 5 * time.Minute
			if sfErr.RetryAfter > 0 {
				wait = sfErr.RetryAfter
			}
			return temporal.NewApplicationErrorWithOptions(string(catalog.SalesforceLimit)+": "+sfErr.Error(), string(catalog.SalesforceLimit),
				temporal.ApplicationErrorOptions{NextRetryDelay: wait})
		case sfErr.Retryable():
			return temporal.NewApplicationErrorWithOptions(string(catalog.SalesforceUnavailable)+": "+sfErr.Error(), string(catalog.SalesforceUnavailable),
				temporal.ApplicationErrorOptions{NextRetryDelay: sfErr.RetryAfter})
		case sfErr.Status == 401:
			return newError(catalog.SalesforceAuth, sfErr.Error(), nil)
		case sfErr.Status == 404:
			return newError(catalog.SalesforceRecordNotFound, sfErr.Error(), nil)
		default:
			return newError(catalog.SalesforceValidation, sfErr.Error(), nil)
		}
	}
	var oauthErr *jira.OAuthError
	if errors.As(err, &oauthErr) && (oauthErr.Code == "invalid_grant" || oauthErr.Status == 401) {
		return newError(catalog.JiraAuth, oauthErr.Error(), nil) // a revoked grant does not heal by retrying
	}
	var jErr *jira.APIError
	if errors.As(err, &jErr) {
		switch {
		case jErr.Status == 429:
			return temporal.NewApplicationErrorWithOptions(string(catalog.JiraRateLimited)+": "+jErr.Error(), string(catalog.JiraRateLimited),
				temporal.ApplicationErrorOptions{NextRetryDelay: jErr.RetryAfter})
		case jErr.Retryable():
			return temporal.NewApplicationErrorWithOptions(string(catalog.JiraUnavailable)+": "+jErr.Error(), string(catalog.JiraUnavailable),
				temporal.ApplicationErrorOptions{NextRetryDelay: jErr.RetryAfter})
		case jErr.Status == 401 || jErr.Status == 403:
			return newError(catalog.JiraAuth, jErr.Error(), nil)
		case jErr.Status == 404:
			return newError(catalog.JiraNotFound, jErr.Error(), nil)
		default:
			return newError(catalog.JiraValidation, jErr.Error(), nil)
		}
	}
	// A success answer with a body that is not the JSON expected (truncated, empty, an HTML page,
	// wrong field types) is most often a proxy or a cut connection: retried, and a create looks
	// for its issue before creating again, so the retry cannot duplicate it.
	var jBad *jira.MalformedResponseError
	if errors.As(err, &jBad) {
		return newError(catalog.JiraMalformed, jBad.Error(), nil)
	}
	var sfBad *salesforce.MalformedResponseError
	if errors.As(err, &sfBad) {
		return newError(catalog.SalesforceMalformed, sfBad.Error(), nil)
	}
	var stErr *store.UnavailableError
	if errors.As(err, &stErr) {
		return newError(catalog.StoreUnavailable, stErr.Error(), nil)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		// Transport trouble (connection refused or reset, timeout): retried by the activity's policy.
		return newError(catalog.NetworkTransient, err.Error(), nil)
	}
	return err
}

// ErrorCode extracts the catalog code from an error chain (activity, child workflow or
// application errors), or "" when the error carries none.
func ErrorCode(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Type()
	}
	return ""
}
