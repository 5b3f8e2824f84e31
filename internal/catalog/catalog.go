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

	SalesforceRecordNotFound Code = "SF_RECORD_NOT_FOUND"
	SalesforceValidation     Code = "SF_VALIDATION"
	SalesforceAuth           Code = "SF_AUTH"
	SalesforceLimit          Code = "SF_REQUEST_LIMIT"
	SalesforceUnavailable    Code = "SF_UNAVAILABLE"

	JiraValidation        Code = "JIRA_VALIDATION"
	JiraAuth              Code = "JIRA_AUTH"
	JiraNotFound          Code = "JIRA_NOT_FOUND"
	JiraRateLimited       Code = "JIRA_RATE_LIMITED"
	JiraUnavailable       Code = "JIRA_UNAVAILABLE"
	JiraStatusUnreachable Code = "JIRA_STATUS_UNREACHABLE"
	JiraDuplicateIssues   Code = "JIRA_DUPLICATE_ISSUES"
	VerifyMismatch        Code = "VERIFY_MISMATCH"
	StoreUnavailable      Code = "STORE_UNAVAILABLE"
	NetworkTransient      Code = "NETWORK_TRANSIENT"
	InvalidInput          Code = "INVALID_INPUT"
)

var entries = map[Code]Entry{
	MappingRequiredValueMissing: {Cause: "A field the mapping marks required is empty on the source record.", Fix: "Fill the field on the record, or give the mapping entry a `default:`; then replay the sync."},
	MappingValueUnmapped:        {Cause: "A picklist or stage value has no target in the mapping's value map.", Fix: "Add the value under `values:` in the mapping file (the error names the line), or set `unmapped: keep`."},
	MappingTypeMismatch:         {Cause: "A source value cannot be converted to the mapped type (e.g. text in a number field).", Fix: "Correct the record or change the mapping entry's `type:`."},
	MappingValueTooLong:         {Cause: "A text value is longer than the mapping's max_length and on_overflow is fail.", Fix: "Shorten the value, or set `on_overflow: truncate` on the mapping entry."},
	MappingTransformFailed:      {Cause: "A named Go transform (`transform:` in the mapping) rejected the source value, e.g. a phone number without a country code.", Fix: "Correct the value on the record as the message says, or change the field's `transform:`; then replay the sync."},
	MappingUnknownPair:          {Cause: "The sync names an object pair that no loaded mapping file defines.", Fix: "Check `mappings.dir` in the config and the `pair:` names in the mapping files."},
	MappingBindFailed:           {Cause: "A mapped Jira field does not exist on the Jira site or has an incompatible type.", Fix: "Create the field in Jira or correct the `jira:` name in the mapping (run `sfjira mapping validate`)."},
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
