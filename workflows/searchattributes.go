package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// Typed search attributes that make every run findable in the Temporal UI. All are Keyword,
// within the SQL-visibility budget of 10 Keyword attributes per namespace.
var (
	SfObjectTypeKey  = temporal.NewSearchAttributeKeyKeyword("SfObjectType")
	SfRecordIDKey    = temporal.NewSearchAttributeKeyKeyword("SfRecordId")
	JiraIssueKeyKey  = temporal.NewSearchAttributeKeyKeyword("JiraIssueKey")
	JiraProjectKey   = temporal.NewSearchAttributeKeyKeyword("JiraProject")
	SyncDirectionKey = temporal.NewSearchAttributeKeyKeyword("SyncDirection")
	SyncOutcomeKey   = temporal.NewSearchAttributeKeyKeyword("SyncOutcome")
	SyncTriggerKey   = temporal.NewSearchAttributeKeyKeyword("SyncTrigger")
	ErrorCodeKey     = temporal.NewSearchAttributeKeyKeyword("ErrorCode")
)

// SearchAttributes lists every custom attribute with its type, for registration on a dev server
// (`--search-attribute Name=Keyword`) or a real cluster (`sfjira setup`).
func SearchAttributes() map[string]enumspb.IndexedValueType {
	out := map[string]enumspb.IndexedValueType{}
	for _, k := range []temporal.SearchAttributeKeyKeyword{SfObjectTypeKey, SfRecordIDKey, JiraIssueKeyKey, JiraProjectKey,
		SyncDirectionKey, SyncOutcomeKey, SyncTriggerKey, ErrorCodeKey} {
		out[k.GetName()] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	return out
}

// Outcomes recorded in SyncOutcome.
const (
	OutcomeCreated   = "created"
	OutcomeUpdated   = "updated"
	OutcomeUnchanged = "unchanged"
	OutcomeFailed    = "failed"
)
