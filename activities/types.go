package activities

import (
	"encoding/json"

	"github.com/sfjira/sfjira/mappings"
)

// Directions written to audit rows and the SyncDirection search attribute.
const (
	DirectionSFToJira      = "sf_to_jira"
	DirectionJiraToSF      = "jira_to_sf"
	DirectionBidirectional = "both"
)

// FetchSalesforceInput names the Salesforce record of a pair. For a pair that started in Jira the
// record id may not be known yet: JiraIssueID then finds it through the external-id back-link.
type FetchSalesforceInput struct {
	Pair        string
	SfID        string
	JiraIssueID string
}

// FetchSalesforceResult carries only the mapped fields of the record (not the whole record), so
// workflow payloads stay small.
type FetchSalesforceResult struct {
	Found   bool
	Deleted bool
	SfID    string
	Values  map[string]any
	// Modstamp is the record's SystemModstamp: its last change time.
	Modstamp string
	// The back-link fields as they are on the record now.
	LinkedIssueID  string
	LinkedIssueKey string
}

// FetchJiraInput says where to look for the Jira side of a pair.
type FetchJiraInput struct {
	Pair          string
	OriginKey     string
	LinkedIssueID string
}

// JiraState is the Jira side of a pair as it is now, already mapped: Projection is the
// canonical value of every field that flows to Jira (plus status and resolution), SFValues the
// Salesforce values of every field that flows to Salesforce.
type JiraState struct {
	Found        bool
	Deleted      bool
	IssueID      string
	IssueKey     string
	Projection   mappings.Projection
	SFValues     map[string]any
	SFProjection mappings.Projection
	Updated      string
	// LookupKeys maps the ids of the issues the mapping's lookups point at (parent, issue links)
	// to their keys, so a lookup that cannot follow names the issue as people see it.
	LookupKeys map[string]string `json:",omitempty"`
	// SFProblems are the fields whose Jira value cannot be written to Salesforce as the mapping
	// says (unmapped picklist value, text over max_length with on_overflow: fail); a pass that
	// must write one of them fails with the problem's code instead of clearing or cutting it.
	SFProblems map[string]mappings.RecordError `json:",omitempty"`
}

// TransformInput is both sides of a pair as fetched; Transform maps them and merges them against
// the last-synced snapshot.
type TransformInput struct {
	Pair      string
	OriginKey string
	SF        FetchSalesforceResult
	Jira      JiraState
	// OwnJira are the Jira values this pass already wrote (projection keys) before it had to plan
	// again: a Jira field still holding our own write is not a person's edit, so the merge must
	// not let it win over a newer Salesforce change.
	OwnJira map[string]string `json:",omitempty"`
	// RealtimeOnly is set when change capture triggered the pass (hybrid mode): fields marked
	// `sync: batch` are then neither written nor moved into the snapshot, so backfill and the
	// reconcile schedule carry them instead.
	RealtimeOnly bool
}

// Decision records which side won one field and why, for the audit trail.
type Decision struct {
	Key       string
	Label     string
	Winner    string
	Reason    string
	SFValue   string
	JiraValue string
}

// ConflictNote is a field changed on both sides whose policy is manual: queued, not written.
type ConflictNote struct {
	Key       string
	Label     string
	SFValue   string
	JiraValue string
	BaseSF    string
	BaseJira  string
}

// TransformResult is the plan of one sync pass: what to write on each side and why.
type TransformResult struct {
	MappingVersion string
	JiraProject    string
	JiraIssueType  string

	// FiredTriggers are the mapping triggers whose condition became true in this pass (false at
	// the last sync), rendered over the record; RecordSync runs each with RunTrigger after the
	// commit. TriggerStates are the conditions to record with the commit (a fired trigger stays
	// false until RunTrigger has done its actions, so a failed action fires again).
	FiredTriggers []mappings.TriggerAction `json:",omitempty"`
	TriggerStates map[string]bool          `json:",omitempty"`

	// CreateJira creates the issue with JiraFields (all mapped fields); otherwise JiraFields holds
	// only the fields to change. Status/Resolution are set when the status must move.
	CreateJira bool
	JiraFields map[string]any
	Status     string
	Resolution string

	// CreateSalesforce creates the record (upsert on the Jira id external id) with SFFields;
	// otherwise SFFields holds only the fields to change.
	CreateSalesforce bool
	SFFields         map[string]any

	Decisions []Decision
	Conflicts []ConflictNote
	// AppliedConflicts are resolved manual conflicts this plan writes.
	AppliedConflicts []int64
	// Held are keys whose snapshot keeps its old base (manual conflicts still open).
	Held []string
	// Diverged are status keys where Jira's value is kept although Salesforce maps to another.
	Diverged []string

	// Skip, when set, says why nothing can be done (e.g. "jira_create_disabled").
	Skip string
	// DeleteAction is set when one side was deleted: "mark_jira", "delete_jira", "ignore",
	// "unlink_salesforce".
	DeleteAction string

	// SourceTime is the modification time of the side whose change is being reflected.
	SourceTime string
	// SnapshotHash is the hash of the last-synced snapshot ("" if none); SidesHash the hash of
	// the sides as fetched. Equal hashes and nothing to write mean nothing to do at all.
	SnapshotHash string
	SidesHash    string
	// SFSide and JiraSide are both sides as compared, keyed like the snapshot.
	SFSide   mappings.Projection
	JiraSide mappings.Projection
	// ExpectSF and ExpectJira are both sides once this plan is written: the next snapshot.
	// Keys not written keep their value as fetched, so a change made by someone while this pass
	// runs is still seen as a change by the next pass (never swallowed into the snapshot).
	ExpectSF   mappings.Projection
	ExpectJira mappings.Projection
	// Checks are what VerifyPair reads back: every key this plan writes.
	Checks []VerifyCheck
	// SFBefore is the record's canonical value of every Salesforce field written (keyed by field),
	// for the audit's before-image; Reasons says why each written value won, keyed
	// "jira:<field id>" or "salesforce:<field>".
	SFBefore map[string]string
	Reasons  map[string]string
	Warnings []string
	// HasActivities says the mapping turns the record's Tasks and Events into comments and
	// worklogs (SyncActivities runs after the pass).
	HasActivities bool
}

// NothingToWrite reports whether the plan writes nothing to either system.
func (t *TransformResult) NothingToWrite() bool {
	return !t.CreateJira && !t.CreateSalesforce && len(t.JiraFields) == 0 && t.Status == "" &&
		len(t.SFFields) == 0 && t.DeleteAction == ""
}

// WriteJiraInput is what to write to the Jira issue of a pair.
type WriteJiraInput struct {
	Pair       string
	OriginKey  string
	SfObject   string
	SfID       string
	IssueID    string
	IssueKey   string
	Create     bool
	Fields     map[string]any
	Status     string
	Resolution string
	// Before is the issue's projection before the write, for the audit's before-image.
	Before       mappings.Projection
	DeleteAction string
	// ExpectUpdated is the issue's `updated` when the plan was made. If the issue changed since,
	// nothing is written and the result says Stale, so the pass is planned again (optimistic
	// concurrency: a user's edit made during the pass is never overwritten).
	ExpectUpdated string
	// MarkOrigin writes the pair's origin property on an issue that was created in Jira, once
	// its Salesforce record exists, so both sides carry the origin key.
	MarkOrigin bool
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
	// BeforeRaw is the field's value as the target's API returned it before the write (JSON), when
	// it was read: compensation and rollback write it back as is, which is exact for every type.
	BeforeRaw json.RawMessage `json:",omitempty"`
}

// WriteJiraResult says which issue was written and what changed.
type WriteJiraResult struct {
	IssueID  string
	IssueKey string
	Created  bool
	Changes  []FieldChange
	// Stale says the issue changed after the plan was made; nothing was written.
	Stale bool
}

// WriteSalesforceInput is what to write to the Salesforce record of a pair, including the
// back-link to the Jira issue.
type WriteSalesforceInput struct {
	Pair            string
	OriginKey       string
	SfID            string
	Create          bool
	Fields          map[string]any
	IssueID         string
	IssueKey        string
	CurrentIssueID  string
	CurrentIssueKey string
	// Before is the record's canonical values before the write, for the audit.
	Before       mappings.Projection
	DeleteAction string
	// ExpectModstamp is the record's SystemModstamp when the plan was made; if the record changed
	// since, nothing is written and the result says Stale (see WriteJiraInput.ExpectUpdated).
	ExpectModstamp string
}

// WriteSalesforceResult lists the Salesforce fields that changed.
type WriteSalesforceResult struct {
	SfID    string
	Created bool
	Changes []FieldChange
	// Stale says the record changed after the plan was made; nothing was written.
	Stale bool
}

// VerifyCheck is one written value to read back: Side is "sf" or "jira", Want the value
// written and Before the value it replaced.
type VerifyCheck struct {
	Key    string
	Label  string
	Side   string
	Want   string
	Before string
}

// VerifyPairInput names the pair to read back after writing and what to check.
type VerifyPairInput struct {
	Pair      string
	OriginKey string
	SfID      string
	IssueID   string
	Checks    []VerifyCheck
	// JiraReadUpdated is the issue's `updated` when the pass read it: changelog entries from then
	// on are this pass's writes and whatever people did after them.
	JiraReadUpdated string
}

// VerifyPairResult is the verified state of both sides: the new last-synced snapshot.
type VerifyPairResult struct {
	SFSide      mappings.Projection
	JiraSide    mappings.Projection
	SfModstamp  string
	JiraUpdated string
	IssueKey    string
	// EditedAfterWrite names the checked fields that read as before because someone changed
	// them back after this pass's write stuck (the changelog shows both): their change is the
	// next pass's input, not a failed write.
	EditedAfterWrite []string
}

// CommitSyncInput is everything one sync pass writes to the store.
type CommitSyncInput struct {
	Pair             string
	OriginKey        string
	SfObject         string
	SfID             string
	IssueID          string
	IssueKey         string
	MappingVersion   string
	SFSide           mappings.Projection
	JiraSide         mappings.Projection
	Held             []string
	SfModstamp       string
	JiraUpdated      string
	Pass             int
	Direction        string
	JiraChanges      []FieldChange
	SfChanges        []FieldChange
	Decisions        []Decision
	Reasons          map[string]string
	Conflicts        []ConflictNote
	AppliedConflicts []int64
	SourceTime       string
	Deleted          bool
	// TriggerStates are the mapping triggers' conditions as the pass saw them (TransformResult).
	TriggerStates map[string]bool `json:",omitempty"`
}

// CommitSyncResult reports the change→reflection latency recorded for the pass.
type CommitSyncResult struct {
	LatencyMS int64
}

// MirrorCommentsInput names the pair whose Jira comments are mirrored to Salesforce Chatter.
type MirrorCommentsInput struct {
	Pair      string
	OriginKey string
	SfID      string
	IssueID   string
}

// MirrorCommentsResult counts the comments posted.
type MirrorCommentsResult struct {
	Posted int
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
