package activities

import "github.com/sfjira/sfjira/mappings"

// Directions written to audit rows and the SyncDirection search attribute.
const (
	DirectionSFToJira = "sf_to_jira"
	DirectionJiraToSF = "jira_to_sf"
)

// FetchSalesforceInput names the Salesforce record to read for a pair.
type FetchSalesforceInput struct {
	Pair string
	SfID string
}

// FetchSalesforceResult carries only the mapped fields of the record (not the whole record), so
// workflow payloads stay small.
type FetchSalesforceResult struct {
	SfID     string
	Values   map[string]any
	Modstamp string
	// The back-link fields as they are on the record now.
	LinkedIssueID  string
	LinkedIssueKey string
}

// TransformInput is the mapped source values to turn into Jira values.
type TransformInput struct {
	Pair   string
	SfID   string
	Values map[string]any
}

// TransformResult is what the Jira issue should look like, as wire values and as a canonical
// projection for comparison.
type TransformResult struct {
	Fields         map[string]any
	Projection     mappings.Projection
	Status         string
	Resolution     string
	MappingVersion string
	JiraProject    string
	JiraIssueType  string
	Warnings       []string
}

// FetchJiraInput says where to look for the Jira side of a pair.
type FetchJiraInput struct {
	Pair          string
	OriginKey     string
	LinkedIssueID string
}

// JiraState is the Jira side of a pair as it is now.
type JiraState struct {
	Found      bool
	IssueID    string
	IssueKey   string
	Projection mappings.Projection
	Updated    string
	// SnapshotHash is the hash of the last-synced Salesforce projection, "" when never synced.
	SnapshotHash string
}

// WriteJiraInput is the desired state of the issue and what is there now.
type WriteJiraInput struct {
	Pair      string
	OriginKey string
	SfObject  string
	SfID      string
	Desired   TransformResult
	Current   JiraState
}

// FieldChange is one field written, with its before-image, for the audit trail.
type FieldChange struct {
	Action string
	// Field is the target's field id (Jira field id or Salesforce API name).
	Field string
	// Label is the field's display name, for people reading results.
	Label  string
	Before *string
	After  *string
}

// WriteJiraResult says which issue was written and what changed.
type WriteJiraResult struct {
	IssueID  string
	IssueKey string
	Created  bool
	Changes  []FieldChange
}

// LinkSalesforceInput is the back-link to write on the Salesforce record.
type LinkSalesforceInput struct {
	Pair            string
	SfID            string
	IssueID         string
	IssueKey        string
	CurrentIssueID  string
	CurrentIssueKey string
}

// LinkSalesforceResult lists the back-link fields that changed.
type LinkSalesforceResult struct {
	Changes []FieldChange
}

// VerifyJiraInput is the projection the issue must read back with.
type VerifyJiraInput struct {
	Pair     string
	IssueID  string
	Expected mappings.Projection
}

// VerifyJiraResult is the issue's projection as read back.
type VerifyJiraResult struct {
	Projection mappings.Projection
	Updated    string
}

// CommitSyncInput is everything one sync pass writes to the store.
type CommitSyncInput struct {
	Pair           string
	OriginKey      string
	SfObject       string
	SfID           string
	IssueID        string
	IssueKey       string
	MappingVersion string
	SfProjection   mappings.Projection
	JiraProjection mappings.Projection
	SfModstamp     string
	JiraUpdated    string
	Pass           int
	Direction      string
	JiraChanges    []FieldChange
	SfChanges      []FieldChange
}

// RecordFailureInput is a sync that failed for good, to be kept as a dead letter.
type RecordFailureInput struct {
	Pair        string
	OriginKey   string
	SfObject    string
	SfID        string
	Code        string
	Message     string
	ReplayInput any
}

// ListInScopeInput pages through the Salesforce records a pair syncs.
type ListInScopeInput struct {
	Pair           string
	NextRecordsURL string
}

// ListInScopeResult is one page of record ids.
type ListInScopeResult struct {
	IDs            []string
	NextRecordsURL string
	Total          int
}
