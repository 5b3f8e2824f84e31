package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/workflows"
)

// badRecordCase is one entry of testdata/bad-records/cases.json.
type badRecordCase struct {
	Name  string `json:"name"`
	Input string `json:"input"`
	// Record holds Opportunity fields over a valid default; Owner is the owner's e-mail.
	Record map[string]any `json:"record"`
	Owner  string         `json:"owner"`
	// FirstSync syncs the record once before the bad input (implied by JiraEdit).
	FirstSync bool `json:"first_sync"`
	// JiraEdit edits the Epic (summary, description as text, priority by name) after the first sync.
	JiraEdit map[string]string `json:"jira_edit"`
	// Fault is set on an emulator for the bad sync (and cleared after).
	Fault *struct {
		System string         `json:"system"`
		Rule   map[string]any `json:"rule"`
	} `json:"fault"`
	// During is done while the sync runs, once the Epic exists: delete_sf_record or delete_jira_issue.
	During string `json:"during"`
	// Code is the catalog code the sync fails with and its dead letter carries; "" = it succeeds.
	// With Outcome set, the sync ends with that outcome and Code is the code an activity of the
	// run failed with on the way (the workflow handled it).
	Code    string `json:"code"`
	Outcome string `json:"outcome"`
	// RetriedWith is the code an attempt failed with before the retries absorbed the bad answer.
	RetriedWith string `json:"retried_with"`
	// UnchangedSF are Salesforce fields the failed pass must leave as they were.
	UnchangedSF []string `json:"unchanged_sf"`
	Fix         *struct {
		SFUpdate    map[string]any    `json:"sf_update"`
		JiraEdit    map[string]string `json:"jira_edit"`
		JiraAddUser *jiraemu.User     `json:"jira_add_user"`
	} `json:"fix"`
	// After are the values both sides hold once the sync (or the replay after the fix) succeeded.
	After struct {
		SF   map[string]string `json:"sf"`
		Jira map[string]string `json:"jira"`
	} `json:"after"`
	// OneIssue checks that exactly one Epic carries the record's origin (no duplicate create);
	// NoIssue that none does (it was deleted and not created again).
	OneIssue bool `json:"one_issue"`
	NoIssue  bool `json:"no_issue"`
	// JiraLabel must be among the Epic's labels afterwards.
	JiraLabel string `json:"jira_label"`
	// SFExists says whether the Opportunity still exists afterwards (nil = not checked).
	SFExists *bool `json:"sf_exists"`
}

var padRE = regexp.MustCompile(`\{\{PAD:(\d+)\}\}`)

// pad expands {{PAD:n}} to n characters of a readable sentence.
func pad(s string) string {
	return padRE.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.Atoi(padRE.FindStringSubmatch(m)[1])
		return strings.Repeat("Lorem ipsum dolor sit amet ", n/27+1)[:n]
	})
}

// TestBadRecordCorpus runs every case of testdata/bad-records through real RecordSync workflows on
// a dev server, both emulators over HTTP and PostgreSQL: a bad record fails with its catalog code,
// sits in the dead letters with that code and a remediation, leaves the other side untouched,
// and — once the cause is fixed — `sfjira dlq replay --code` syncs it and closes the dead letter.
// Cases without a code are bad answers the retries absorb: they succeed, with no duplicate.
func TestBadRecordCorpus(t *testing.T) {
	raw, err := os.ReadFile("testdata/bad-records/cases.json")
	require.NoError(t, err)
	var cases []badRecordCase
	require.NoError(t, json.Unmarshal([]byte(pad(string(raw))), &cases))
	require.GreaterOrEqual(t, len(cases), 10)

	s := newStackWith(t, stackOptions{Opportunities: 0, MappingDir: "testdata/bad-records/mappings"})
	ctx := s.ctx
	accounts, err := s.sf.Query(ctx, "SELECT Id FROM Account LIMIT 1")
	require.NoError(t, err)
	account := accounts.Records[0].ID()
	owners := map[string]string{}
	owner := func(email string) string {
		if id, ok := owners[email]; ok {
			return id
		}
		local := strings.Split(email, "@")[0]
		id, err := s.sf.Create(ctx, "User", map[string]any{"Username": email + ".test", "LastName": local, "Email": email, "Alias": local[:min(8, len(local))]})
		require.NoError(t, err)
		owners[email] = id
		return id
	}

	for i, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			require.NotEmpty(t, tc.Input, "say what the bad input is")
			fields := map[string]any{"Name": fmt.Sprintf("Corpus %02d %s", i, tc.Name), "StageName": "Qualification", "CloseDate": "2027-03-31",
				"AccountId": account, "LeadSource": "Other", "Description": "Corpus record."}
			email := "mia.krystof@sfjira.demo"
			if tc.Owner != "" {
				email = tc.Owner
			}
			fields["OwnerId"] = owner(email)
			for k, v := range tc.Record {
				fields[k] = v
			}
			id, err := s.sf.Create(ctx, "Opportunity", fields)
			require.NoError(t, err)
			origin := "sf/" + id

			if tc.FirstSync || tc.JiraEdit != nil {
				_, out, err := s.sync(id)
				require.NoError(t, err, "first sync")
				require.Equal(t, workflows.OutcomeCreated, out.Outcome)
			}
			before := map[string]any{}
			if len(tc.UnchangedSF) > 0 {
				rec, err := s.sf.Get(ctx, "Opportunity", id, tc.UnchangedSF...)
				require.NoError(t, err)
				for _, f := range tc.UnchangedSF {
					before[f] = rec[f]
				}
			}
			if tc.JiraEdit != nil {
				l, err := s.store.GetLink(ctx, origin)
				require.NoError(t, err)
				require.NoError(t, s.jira.EditIssue(ctx, l.JiraIssueID, jiraEdit(tc.JiraEdit)))
			}
			if tc.Fault != nil {
				setFault(t, s, tc.Fault.System, tc.Fault.Rule)
			}
			if tc.During != "" {
				arm(t, s, origin, id, tc.During)
			}
			run, out, err := s.sync(id)
			s.sfEmu.SetRequestHook("", nil)
			if tc.Fault != nil {
				setFault(t, s, tc.Fault.System, nil)
			}

			if tc.Code == "" && tc.Outcome == "" {
				require.NoError(t, err, "%s: the retries absorb the bad answers", tc.Name)
				require.Contains(t, []string{workflows.OutcomeCreated, workflows.OutcomeUpdated}, out.Outcome)
				if tc.RetriedWith != "" {
					codes := activityFailureCodes(t, s, run.GetID(), run.GetRunID())
					t.Logf("%s → %s after activity failures %v", tc.Name, out.Outcome, codes)
					require.Contains(t, codes, tc.RetriedWith, "the bad answer failed an attempt with its code")
				}
				checkAfter(t, s, id, origin, tc)
				dead, err := s.store.OpenDeadLetters(ctx)
				require.NoError(t, err)
				for _, d := range dead {
					require.NotEqual(t, origin, d.OriginKey, "no dead letter for %s", tc.Name)
				}
				return
			}

			if tc.Outcome != "" {
				// Not a failure: the pass met the deletion, its activity raised the code, and the
				// workflow applied the pair's delete policy instead of dead-lettering the record.
				require.NoError(t, err)
				require.Equal(t, tc.Outcome, out.Outcome)
				codes := activityFailureCodes(t, s, run.GetID(), run.GetRunID())
				t.Logf("%s → outcome %s; activity failures %v", tc.Name, out.Outcome, codes)
				if tc.Code != "" {
					require.Contains(t, codes, tc.Code, "the step that met the deletion failed with %s", tc.Code)
				}
				require.Nil(t, openDeadLetter(t, s, origin), "a deletion is not a dead letter")
				checkAfter(t, s, id, origin, tc)
				return
			}

			// The failure carries its code, and so does the dead letter.
			var app *temporal.ApplicationError
			require.True(t, errors.As(err, &app), "want a failure with %s, got %v", tc.Code, err)
			require.Equal(t, tc.Code, app.Type(), "error: %v", err)
			entry, ok := catalog.Lookup(catalog.Code(tc.Code))
			require.True(t, ok)
			dl := openDeadLetter(t, s, origin)
			require.NotNil(t, dl, "%s is in the dead letters", origin)
			require.Equal(t, tc.Code, dl.Code)
			require.Equal(t, entry.Fix, dl.Remediation)
			require.NotEmpty(t, dl.ReplayInput)
			t.Logf("%s → %s: %s", tc.Name, dl.Code, dl.Message)
			if len(tc.UnchangedSF) > 0 {
				rec, err := s.sf.Get(ctx, "Opportunity", id, tc.UnchangedSF...)
				require.NoError(t, err)
				for _, f := range tc.UnchangedSF {
					require.Equal(t, before[f], rec[f], "the failed pass left %s as it was", f)
				}
			}

			// Fix the cause, replay through the CLI, and the dead letter closes.
			if tc.Fix != nil {
				if tc.Fix.SFUpdate != nil {
					require.NoError(t, s.sf.Update(ctx, "Opportunity", id, tc.Fix.SFUpdate))
				}
				if tc.Fix.JiraEdit != nil {
					l, err := s.store.GetLink(ctx, origin)
					require.NoError(t, err)
					require.NoError(t, s.jira.EditIssue(ctx, l.JiraIssueID, jiraEdit(tc.Fix.JiraEdit)))
				}
				if tc.Fix.JiraAddUser != nil {
					require.NoError(t, s.jiraEmu.AddUser(*tc.Fix.JiraAddUser))
				}
			}
			stdout, stderr, code := s.cli("dlq", "replay", strconv.FormatInt(dl.ID, 10), "--wait")
			require.Equal(t, 0, code, "replay: %s %s", stdout, stderr)
			require.Nil(t, openDeadLetter(t, s, origin), "the replayed dead letter is closed")
			t.Logf("%s: replayed: %s", tc.Name, strings.TrimSpace(stdout))
			checkAfter(t, s, id, origin, tc)
		})
	}
}

func jiraEdit(e map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range e {
		switch k {
		case "description":
			out[k] = mappings.TextToADF(v)
		case "priority":
			out[k] = map[string]string{"name": v}
		default:
			out[k] = v
		}
	}
	return out
}

func setFault(t *testing.T, s *stack, system string, rule map[string]any) {
	t.Helper()
	raw, err := json.Marshal(rule)
	require.NoError(t, err)
	switch system {
	case "jira":
		var f jiraemu.Faults
		if rule != nil {
			var r jiraemu.FaultRule
			require.NoError(t, json.Unmarshal(raw, &r))
			f.Rules = []jiraemu.FaultRule{r}
		}
		s.jiraEmu.SetFaults(f)
	case "salesforce":
		var f sfemu.Faults
		if rule != nil {
			var r sfemu.FaultRule
			require.NoError(t, json.Unmarshal(raw, &r))
			f.Rules = []sfemu.FaultRule{r}
		}
		s.sfEmu.SetFaults(f)
	default:
		t.Fatalf("unknown system %q", system)
	}
}

// arm sets the emulator hook that deletes one side at an exact point of the pass: the Opportunity
// when the back-link write first reads it (after the pass fetched it, before it writes), or the
// Epic when the back-link is written (after the pass created the Epic, before it reads it back).
func arm(t *testing.T, s *stack, origin, sfID, what string) {
	t.Helper()
	switch what {
	case "delete_sf_record":
		s.sfEmu.SetRequestHook("GET /services/data/{version}/sobjects/{object}/{id}", func() {
			require.NoError(t, s.sf.Delete(s.ctx, "Opportunity", sfID))
		})
	case "delete_jira_issue":
		s.sfEmu.SetRequestHook("PATCH /services/data/{version}/sobjects/{object}/{id}", func() {
			l, err := s.store.GetLink(s.ctx, origin)
			require.NoError(t, err)
			require.NoError(t, s.jira.DeleteIssue(s.ctx, l.JiraIssueID))
		})
	default:
		t.Fatalf("unknown during %q", what)
	}
}

func openDeadLetter(t *testing.T, s *stack, origin string) *store.DeadLetter {
	t.Helper()
	dead, err := s.store.OpenDeadLetters(s.ctx)
	require.NoError(t, err)
	for i := range dead {
		if dead[i].OriginKey == origin {
			return &dead[i]
		}
	}
	return nil
}

func checkAfter(t *testing.T, s *stack, sfID, origin string, tc badRecordCase) {
	t.Helper()
	ctx := s.ctx
	if len(tc.After.SF) > 0 {
		var names []string
		for k := range tc.After.SF {
			names = append(names, k)
		}
		rec, err := s.sf.Get(ctx, "Opportunity", sfID, names...)
		require.NoError(t, err)
		for k, want := range tc.After.SF {
			require.Equal(t, want, fmt.Sprint(rec[k]), "Salesforce %s", k)
		}
	}
	if len(tc.After.Jira) > 0 {
		l, err := s.store.GetLink(ctx, origin)
		require.NoError(t, err)
		is, err := s.jira.GetIssue(ctx, l.JiraIssueID, []string{"summary", "description", "status", "priority", "assignee"}, nil)
		require.NoError(t, err)
		for k, want := range tc.After.Jira {
			got := is.FieldString(k)
			switch k {
			case "status":
				got = is.StatusName()
			case "assignee":
				var u struct {
					AccountID string `json:"accountId"`
				}
				_ = json.Unmarshal(is.Fields[k], &u)
				got = u.AccountID
			}
			require.Equal(t, want, got, "Jira %s", k)
		}
	}
	if tc.JiraLabel != "" {
		l, err := s.store.GetLink(ctx, origin)
		require.NoError(t, err)
		is, err := s.jira.GetIssue(ctx, l.JiraIssueID, []string{"labels"}, nil)
		require.NoError(t, err)
		var labels []string
		require.NoError(t, json.Unmarshal(is.Fields["labels"], &labels))
		require.Contains(t, labels, tc.JiraLabel)
	}
	if tc.SFExists != nil {
		_, err := s.sf.Get(ctx, "Opportunity", sfID, "Name")
		if *tc.SFExists {
			require.NoError(t, err, "the Opportunity is kept")
		} else {
			require.Error(t, err, "the Opportunity is gone")
		}
	}
	if tc.NoIssue {
		page, err := s.jira.Search(ctx, jira.SearchRequest{JQL: fmt.Sprintf(`project = SFJ AND issue.property[sfjira].origin = "%s"`, origin), Fields: []string{"key"}})
		require.NoError(t, err)
		require.Empty(t, page.Issues, "no Epic is created again for %s", origin)
	}
	if tc.OneIssue {
		page, err := s.jira.Search(ctx, jira.SearchRequest{JQL: fmt.Sprintf(`project = SFJ AND issue.property[sfjira].origin = "%s"`, origin), Fields: []string{"key"}})
		require.NoError(t, err)
		require.Len(t, page.Issues, 1, "exactly one Epic for %s", origin)
	}
}

// activityFailureCodes lists the catalog codes the activities of a run failed with, from its
// history: final failures, and the failure before the last attempt of a retried activity.
func activityFailureCodes(t *testing.T, s *stack, id, runID string) []string {
	t.Helper()
	iter := s.tc.GetWorkflowHistory(s.ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var codes []string
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		// A retried activity's earlier attempts are not events of their own: the started event
		// of the attempt that ran last carries the failure before it.
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && a.GetLastFailure() != nil {
			if info := a.GetLastFailure().GetApplicationFailureInfo(); info != nil {
				codes = append(codes, info.GetType())
			}
		}
		if a := ev.GetActivityTaskFailedEventAttributes(); a != nil {
			if info := a.GetFailure().GetApplicationFailureInfo(); info != nil {
				codes = append(codes, info.GetType())
			}
		}
	}
	return codes
}
