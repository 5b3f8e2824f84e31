// Package catalog is the single list of error codes sfjira raises. Every error that reaches an
// operator (workflow failure, dead letter, CLI message) carries one of these codes, so the fix can
// be looked up instead of guessed.
package catalog

import "sort"

// Code identifies one kind of failure. It is also the Temporal ApplicationError type and the value
// of the ErrorCode search attribute.
type Code string

// Entry describes a code for operators: what caused it, whether a retry can help and what to do.
type Entry struct {
	Code      Code
	Cause     string
	Retryable bool
	Fix       string
}

// The codes raised in this version. Keep the list sorted by area; docs are generated from it.
const (
	MappingRequiredValueMissing Code = "MAPPING_REQUIRED_VALUE_MISSING"
	MappingValueUnmapped        Code = "MAPPING_VALUE_UNMAPPED"
	MappingTypeMismatch         Code = "MAPPING_TYPE_MISMATCH"
	MappingValueTooLong         Code = "MAPPING_VALUE_TOO_LONG"
	MappingTransformFailed      Code = "MAPPING_TRANSFORM_FAILED"
	MappingUnknownPair          Code = "MAPPING_UNKNOWN_PAIR"
	MappingBindFailed           Code = "MAPPING_BIND_FAILED"
	MappingLookupUnlinked       Code = "MAPPING_LOOKUP_UNLINKED"
	MappingLookupAmbiguous      Code = "MAPPING_LOOKUP_AMBIGUOUS"
	MappingUserUnknown          Code = "MAPPING_USER_UNKNOWN"

	SalesforceRecordNotFound Code = "SF_RECORD_NOT_FOUND"
	SalesforceValidation     Code = "SF_VALIDATION"
	SalesforceAuth           Code = "SF_AUTH"
	SalesforceLimit          Code = "SF_REQUEST_LIMIT"
	SalesforceUnavailable    Code = "SF_UNAVAILABLE"
	SalesforceMalformed      Code = "SF_MALFORMED_RESPONSE"

	JiraValidation        Code = "JIRA_VALIDATION"
	JiraAuth              Code = "JIRA_AUTH"
	JiraNotFound          Code = "JIRA_NOT_FOUND"
	JiraRateLimited       Code = "JIRA_RATE_LIMITED"
	JiraUnavailable       Code = "JIRA_UNAVAILABLE"
	JiraStatusUnreachable Code = "JIRA_STATUS_UNREACHABLE"
	JiraDuplicateIssues   Code = "JIRA_DUPLICATE_ISSUES"
	JiraMalformed         Code = "JIRA_MALFORMED_RESPONSE"
	VerifyMismatch        Code = "VERIFY_MISMATCH"
	StoreUnavailable      Code = "STORE_UNAVAILABLE"
	NetworkTransient      Code = "NETWORK_TRANSIENT"
	InvalidInput          Code = "INVALID_INPUT"

	// Webhook codes are answered to the sender (X-Sfjira-Error-Code header and the body) and
	// logged; they never reach a workflow, because nothing is started for a rejected delivery.
	WebhookSignatureInvalid Code = "WEBHOOK_SIGNATURE_INVALID"
	WebhookMalformed        Code = "WEBHOOK_MALFORMED"
	WebhookStale            Code = "WEBHOOK_STALE"
	WebhookReplayed         Code = "WEBHOOK_REPLAYED"
	WebhookTooLarge         Code = "WEBHOOK_TOO_LARGE"
	WebhookRateLimited      Code = "WEBHOOK_RATE_LIMITED"
	WebhookUnavailable      Code = "WEBHOOK_UNAVAILABLE"
)

var entries = map[Code]Entry{
	MappingRequiredValueMissing: {Cause: "A field the mapping marks required is empty on the source record.", Fix: "Fill the field on the record, or give the mapping entry a `default:`; then replay the sync."},
	MappingValueUnmapped:        {Cause: "A picklist or stage value has no target in the mapping's value map.", Fix: "Add the value under `values:` in the mapping file (the error names the line), or set `unmapped: keep`."},
	MappingTypeMismatch:         {Cause: "A source value cannot be converted to the mapped type (e.g. text in a number field).", Fix: "Correct the record or change the mapping entry's `type:`."},
	MappingValueTooLong:         {Cause: "A text value is longer than the mapping's max_length and on_overflow is fail.", Fix: "Shorten the value, or set `on_overflow: truncate` on the mapping entry."},
	MappingTransformFailed:      {Cause: "A named Go transform (`transform:` in the mapping) rejected the source value, e.g. a phone number without a country code.", Fix: "Correct the value on the record as the message says, or change the field's `transform:`; then replay the sync."},
	MappingUnknownPair:          {Cause: "The sync names an object pair that no loaded mapping file defines.", Fix: "Check `mappings.dir` in the config and the `pair:` names in the mapping files."},
	MappingBindFailed:           {Cause: "A mapped Jira field does not exist on the Jira site or has an incompatible type.", Fix: "Create the field in Jira or correct the `jira:` name in the mapping (run `sfjira mapping validate`)."},
	MappingLookupUnlinked:       {Cause: "A synced Jira issue was moved under a parent, or linked to an issue, that is not linked to a Salesforce record (or is linked to a record of another object than the lookup holds), so the Salesforce lookup mapped to it cannot follow.", Fix: "Move the issue under (or link it to) an issue that is synced with a record of the lookup's object, or sync that issue's Salesforce record first; then `sfjira dlq replay`."},
	MappingLookupAmbiguous:      {Cause: "A synced Jira issue carries several links of the link type a Salesforce lookup is mapped to; the lookup holds one record.", Fix: "Remove all but one link of that type in Jira (the error names them); then `sfjira dlq replay`."},
	SalesforceRecordNotFound:    {Cause: "The Salesforce record does not exist, was deleted, or is outside the mapping's scope.", Fix: "Check the id; if the record was deleted, nothing needs to be done."},
	SalesforceValidation:        {Cause: "Salesforce rejected a write (validation rule, field length, picklist, permissions).", Fix: "Read the Salesforce message in the error; fix the data or the mapping and replay."},
	SalesforceAuth:              {Cause: "Salesforce refused the connected app's credentials.", Fix: "Check salesforce.client_id and, per salesforce.auth_flow, the client secret (client_credentials), the username and certificate key (jwt_bearer: the user must be pre-authorized for the app), or run `sfjira auth salesforce` again (refresh_token)."},
	SalesforceLimit:             {Cause: "The org's daily API request limit is spent (REQUEST_LIMIT_EXCEEDED).", Retryable: true, Fix: "Wait for the 24-hour window to roll, or raise the org's limit; syncs resume by themselves."},
	SalesforceUnavailable:       {Cause: "Salesforce answered 5xx or did not answer in time.", Retryable: true, Fix: "Nothing: the activity retries with backoff. If it persists, check trust.salesforce.com."},
	JiraValidation:              {Cause: "Jira rejected a create or edit (field not on screen, wrong type, required field missing).", Fix: "Read the Jira field errors in the message; fix the mapping or the Jira screen configuration, then replay."},
	JiraAuth:                    {Cause: "Jira refused the credentials (bad API token or e-mail, or a revoked or expired OAuth grant).", Fix: "With jira.auth api_token: create a new API token for the integration user and update jira.api_token_env / _file. With jira.auth oauth: run `sfjira auth jira` to consent again."},
	JiraNotFound:                {Cause: "The linked Jira issue no longer exists or the integration user cannot see it.", Fix: "Check the issue and the user's project permissions; remove the stale link to recreate it."},
	JiraRateLimited:             {Cause: "Jira answered 429 Too Many Requests.", Retryable: true, Fix: "Nothing: retries honour Retry-After. Lower worker concurrency if it happens often."},
	JiraUnavailable:             {Cause: "Jira answered 5xx or did not answer in time.", Retryable: true, Fix: "Nothing: the activity retries with backoff."},
	JiraStatusUnreachable:       {Cause: "The target Jira status cannot be reached from the issue's current status through the workflow's transitions.", Fix: "Add a transition in the Jira workflow or change the status map in the mapping file."},
	JiraDuplicateIssues:         {Cause: "More than one Jira issue carries the same sfjira origin property.", Fix: "Delete or unlink the extra issues (see `sfjira` audit), keep the one linked in Salesforce."},
	VerifyMismatch:              {Cause: "After writing, the Jira issue did not read back with the values written (a Jira automation or validator changed them).", Retryable: true, Fix: "Check Jira automation rules on the project; adjust the mapping owner for that field."},
	StoreUnavailable:            {Cause: "PostgreSQL could not be reached or a statement failed.", Retryable: true, Fix: "Check database.url and that PostgreSQL is up; activities retry on their own."},
	NetworkTransient:            {Cause: "A call to Salesforce or Jira failed in transport: connection refused or reset, or no answer in time.", Retryable: true, Fix: "Nothing: the activity retries with jittered backoff. If it persists, check the network path and the system's status page."},
	MappingUserUnknown:          {Cause: "A user field's e-mail (e.g. the Owner's) belongs to no active user on the other system, and the mapping entry has no fallback field.", Fix: "Invite the person to Jira (or make their e-mail visible to the integration user), correct the e-mail in Salesforce, or give the entry a `fallback:` text field; then replay."},
	SalesforceMalformed:         {Cause: "Salesforce (or a proxy in front of it) answered success with a body that is not the JSON expected: truncated, empty, an HTML page, or fields of the wrong type.", Retryable: true, Fix: "Nothing at first: the activity retries. If it persists, look at the body excerpt in the message: a login or maintenance page means a proxy or the org's My Domain setting is in the way."},
	JiraMalformed:               {Cause: "Jira (or a proxy in front of it) answered success with a body that is not the JSON expected: truncated, empty, an HTML page, or fields of the wrong type.", Retryable: true, Fix: "Nothing at first: the activity retries (creates look for the issue before creating again). If it persists, look at the body excerpt in the message: an HTML login page means jira.base_url points at the wrong host or a proxy intercepts the call."},
	WebhookSignatureInvalid:     {Cause: "A Jira webhook delivery had no or a wrong X-Hub-Signature, or an Outbound Message came from another Salesforce organization. Nothing was started.", Fix: "If the sender is genuine, set the same secret on the Jira webhook and in jira.webhook_secret_env / _file, or the sending org's id in salesforce.org_id; otherwise nothing: a forged delivery was refused (answered 401)."},
	WebhookMalformed:            {Cause: "A webhook or Outbound Message could not be read: not JSON/SOAP, or a required field (issue id, project, record id) missing or of the wrong type. Answered 400; nothing was started for it.", Fix: "Nothing for the change itself: the poller picks it up at its next interval. If it repeats, check what sends to /webhooks/* (the log line names the field)."},
	WebhookStale:                {Cause: "A signed Jira delivery's timestamp is outside the replay window (security.webhooks.replay_window), in the past or too far in the future: a captured delivery replayed, or a clock off.", Fix: "Check the clocks of the worker (NTP). A genuine late change is picked up by the poller."},
	WebhookReplayed:             {Cause: "A delivery id (X-Atlassian-Webhook-Identifier, or an Outbound Message notification id) that was already processed arrived again: the sender's retry, or a replay.", Fix: "Nothing: it is acknowledged without being processed again."},
	WebhookTooLarge:             {Cause: "A delivery body is larger than security.webhooks.max_body_bytes. Answered 413 before it was read whole.", Fix: "Nothing for the change: the poller picks it up. Raise max_body_bytes only if genuine deliveries are that large (Jira payloads with huge descriptions)."},
	WebhookRateLimited:          {Cause: "One source address sent more deliveries than security.webhooks.rate_per_second allows. Answered 429 with Retry-After; the sender retries.", Retryable: true, Fix: "Nothing for a burst; if a genuine sender is limited for long, raise rate_per_second / burst."},
	WebhookUnavailable:          {Cause: "A valid delivery could not be handed to Temporal or recorded in PostgreSQL. Answered 503 so the sender retries it.", Retryable: true, Fix: "Check that the Temporal frontend and PostgreSQL are reachable from the worker; deliveries are retried by Jira and Salesforce, and the pollers catch up."},
	InvalidInput:                {Cause: "A workflow or command was started with missing or malformed input.", Fix: "Check the command line or the starter; the message names the field."},
}

// Lookup returns the catalog entry for a code, and false for codes not in the catalog.
func Lookup(c Code) (Entry, bool) {
	e, ok := entries[c]
	e.Code = c
	return e, ok
}

// All returns every entry sorted by code, for `sfjira errors` and generated docs.
func All() []Entry {
	out := make([]Entry, 0, len(entries))
	for c, e := range entries {
		e.Code = c
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}
