package workflows

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/sfjira/sfjira/activities"
)

// Starter hands sync requests to RecordSync workflows with Signal-With-Start. It is the one
// entry point used by the CLI, the webhook and outbound-message receivers and the pollers, so
// every event for a pair lands in the pair's one open run.
type Starter struct {
	Client    client.Client
	TaskQueue string
}

var _ activities.SyncStarter = (*Starter)(nil)

// StartSync signals the pair's workflow, starting it when no run is open.
func (s *Starter) StartSync(ctx context.Context, req activities.SyncStart) error {
	_, err := s.Start(ctx, req)
	return err
}

// Start is StartSync returning the run, for callers that wait on it.
func (s *Starter) Start(ctx context.Context, req activities.SyncStart) (client.WorkflowRun, error) {
	trigger := req.Trigger
	if trigger == "" {
		trigger = TriggerManual
	}
	attrs := []temporal.SearchAttributeUpdate{
		SfObjectTypeKey.ValueSet(req.SfObject), SyncTriggerKey.ValueSet(trigger),
		SyncDirectionKey.ValueSet(activities.DirectionBidirectional),
	}
	if req.SfID != "" {
		attrs = append(attrs, SfRecordIDKey.ValueSet(req.SfID))
	}
	if req.JiraProject != "" {
		attrs = append(attrs, JiraProjectKey.ValueSet(req.JiraProject))
	}
	summary := fmt.Sprintf("%s %s ⇄ Jira %s", req.SfObject, req.SfID, req.JiraProject)
	if req.SfID == "" {
		summary = fmt.Sprintf("Jira issue %s ⇄ %s", req.JiraIssueID, req.SfObject)
	}
	opts := client.StartWorkflowOptions{
		ID:                       SyncWorkflowID(req.OriginKey),
		TaskQueue:                s.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            summary,
		StaticDetails:            fmt.Sprintf("pair `%s`, origin `%s`, started by `%s` (%s)", req.Pair, req.OriginKey, trigger, req.Source),
		TypedSearchAttributes:    temporal.NewSearchAttributes(attrs...),
	}
	in := RecordSyncInput{OriginKey: req.OriginKey, Pair: req.Pair, SfObject: req.SfObject, SfID: req.SfID,
		JiraIssueID: req.JiraIssueID, Trigger: trigger, JiraProject: req.JiraProject}
	run, err := s.Client.SignalWithStartWorkflow(ctx, opts.ID, SyncSignal, SyncRequest{Trigger: trigger, Source: req.Source}, opts, RecordSync, in)
	if err != nil {
		return nil, fmt.Errorf("signal-with-start %s: %w", opts.ID, err)
	}
	return run, nil
}

// StartPoller starts a pair's change poller unless it is already running.
func StartPoller(ctx context.Context, c client.Client, taskQueue string, in PollerInput) (client.WorkflowRun, error) {
	return c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       PollerWorkflowID(in.Source, in.Pair),
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            fmt.Sprintf("Change capture: poll %s for pair %s", in.Source, in.Pair),
		TypedSearchAttributes:    temporal.NewSearchAttributes(SyncTriggerKey.ValueSet(in.Source + "_poll")),
	}, ChangePoller, in)
}
