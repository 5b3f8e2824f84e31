package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/workflows"
)

// TestCompensationUndoesAPartialCreate: Salesforce refuses the back-link write (a validation rule,
// injected by the emulator) after the Epic was created and transitioned. The run undoes its steps
// newest first — the transition, then the issue — audits each, and keeps a dead letter; nothing
// is left half-linked. After the rule is lifted, the replay creates exactly one Epic.
func TestCompensationUndoesAPartialCreate(t *testing.T) {
	s := newStack(t, 0)
	ctx := s.ctx
	accounts, err := s.sf.Query(ctx, "SELECT Id FROM Account LIMIT 1")
	require.NoError(t, err)
	id, err := s.sf.Create(ctx, "Opportunity", map[string]any{"Name": "Saga test", "StageName": "Closed Won", "CloseDate": "2027-03-31",
		"Amount": 1000, "AccountId": accounts.Records[0].ID()})
	require.NoError(t, err)
	origin := workflows.SalesforceOriginKey(id)

	s.sfEmu.SetFaults(sfemu.Faults{Rules: []sfemu.FaultRule{{Endpoint: "PATCH /services/data/{version}/sobjects/{object}/{id}",
		Status: 400, ErrorCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION"}}})
	failedRun, _, err := s.sync(id)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "%v", err)
	require.Equal(t, string(catalog.SalesforceValidation), app.Type())

	// The issue is gone, the link forgotten, the dead letter kept.
	page, err := s.jira.Search(ctx, jira.SearchRequest{JQL: fmt.Sprintf(`project = SFJ AND issue.property[sfjira].origin = "%s"`, origin), Fields: []string{"key"}})
	require.NoError(t, err)
	require.Empty(t, page.Issues, "the created Epic was deleted by compensation")
	_, err = s.store.GetLink(ctx, origin)
	require.ErrorIs(t, err, store.ErrNotFound)
	dead, err := s.store.OpenDeadLetters(ctx)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Equal(t, string(catalog.SalesforceValidation), dead[0].Code)

	// Audited newest first: the transition (Closed Won → Done/Done) was undone before the issue.
	audit, err := s.store.AuditFor(ctx, origin)
	require.NoError(t, err)
	var steps []string
	for _, e := range audit {
		if e.Action == "compensate" {
			steps = append(steps, e.Field)
		}
	}
	require.Equal(t, "issue", steps[len(steps)-1], "steps: %v", steps)
	require.Contains(t, steps, "status")

	// The cause is fixed: the replay creates one Epic and links it.
	s.sfEmu.SetFaults(sfemu.Faults{})
	_, out, err := s.sync(id)
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeCreated, out.Outcome)
	page, err = s.jira.Search(ctx, jira.SearchRequest{JQL: fmt.Sprintf(`project = SFJ AND issue.property[sfjira].origin = "%s"`, origin), Fields: []string{"key"}})
	require.NoError(t, err)
	require.Len(t, page.Issues, 1)
	dead, err = s.store.OpenDeadLetters(ctx)
	require.NoError(t, err)
	require.Empty(t, dead)
	if dir := os.Getenv("SFJIRA_RECORD_HISTORY"); dir != "" {
		saveHistory(t, s, failedRun.GetID(), failedRun.GetRunID(), filepath.Join(dir, "record_sync_compensated.json"))
	}
}
