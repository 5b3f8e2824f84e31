// Package workflows holds sfjira's deterministic workflow code: RecordSync (one record pair) and
// Backfill, the workflow-ID helpers, the typed search-attribute keys and the signal names. No I/O,
// clocks or randomness here: everything that touches the outside world is an activity.
package workflows

import (
	"fmt"
	"strings"
)

// TaskQueue is the default task queue the worker polls and starters use.
const TaskQueue = "sfjira"

// SyncSignal is the signal every change event sends (through Signal-With-Start) to the pair's
// RecordSync workflow; a run drains all pending signals before it completes.
const SyncSignal = "sync-request"

// SyncRequest is the payload of SyncSignal: why a sync was asked for.
type SyncRequest struct {
	Trigger string
	// Source is the system the change came from ("salesforce", "jira", "operator").
	Source string
}

// Triggers recorded in the SyncTrigger search attribute.
const (
	TriggerManual   = "manual"
	TriggerBackfill = "backfill"
	// TriggerRetry and TriggerJiraRetry mark a run started because changes arrived while the
	// previous run of the pair was failing (the Jira form when one came from Jira, so its
	// comments are mirrored).
	TriggerRetry     = "retry_after_failure"
	TriggerJiraRetry = "jira_retry_after_failure"
)

// SalesforceOriginKey is the origin key of a pair whose first record is a Salesforce record.
func SalesforceOriginKey(sfID string) string { return "sf/" + sfID }

// JiraOriginKey is the origin key of a pair whose first record is a Jira issue (numeric id, since
// keys change when an issue moves between projects).
func JiraOriginKey(issueID string) string { return "jira/" + issueID }

// SyncWorkflowID is the one workflow id of a record pair: every event on either side resolves to
// it, so there is at most one open sync per pair and bursts coalesce.
func SyncWorkflowID(originKey string) string { return "sync/" + originKey }

// ParseOriginKey splits an origin key into its system and id.
func ParseOriginKey(key string) (system, id string, err error) {
	system, id, ok := strings.Cut(key, "/")
	if !ok || id == "" || (system != "sf" && system != "jira") {
		return "", "", fmt.Errorf("origin key %q must look like sf/<Salesforce id> or jira/<issue id>", key)
	}
	return system, id, nil
}

// BackfillWorkflowID names a backfill run of one pair; the suffix is chosen by the starter.
func BackfillWorkflowID(pair, suffix string) string { return "backfill/" + pair + "/" + suffix }
