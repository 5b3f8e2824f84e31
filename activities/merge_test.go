package activities

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/mappings"
)

var (
	fSummary = mergeField{Key: "j:summary", Label: "Summary", ToJira: true, ToSF: true, Owner: mappings.OwnerBoth, Conflict: mappings.ConflictLastWriterWins, JiraID: "summary", SFField: "Name"}
	fAmount  = mergeField{Key: "j:amount", Label: "Deal Amount", ToJira: true, Owner: mappings.OwnerSF, Conflict: mappings.ConflictOwnerWins, JiraID: "amount", SFField: "Amount"}
	fDate    = mergeField{Key: "j:duedate", Label: "Due", ToJira: true, ToSF: true, Owner: mappings.OwnerSF, Conflict: mappings.ConflictOwnerWins, JiraID: "duedate", SFField: "CloseDate"}
	fNotes   = mergeField{Key: "j:notes", Label: "Notes", ToJira: true, ToSF: true, Owner: mappings.OwnerBoth, Conflict: mappings.ConflictManual, JiraID: "notes", SFField: "Notes__c"}
	fStatusS = mergeField{Key: "s:Jira_Status__c", Label: "Jira_Status__c", ToSF: true, Owner: mappings.OwnerJira, Conflict: mappings.ConflictOwnerWins, SFField: "Jira_Status__c"}
	fStatus  = mergeField{Key: "j:status", Label: "Status", ToJira: true, IsStatus: true, Owner: mappings.OwnerSF, JiraID: "status"}
	all      = []mergeField{fSummary, fAmount, fDate, fNotes, fStatusS, fStatus}
)

func base() mappings.Projection {
	return mappings.Projection{"j:summary": "Deal", "j:amount": "10.00", "j:duedate": "2027-01-01", "j:notes": "n", "s:Jira_Status__c": "To Do", "j:status": "To Do"}
}

func with(p mappings.Projection, kv ...string) mappings.Projection {
	out := mappings.Projection{}
	for k, v := range p {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func keys(fs []mergeField) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Key)
	}
	return out
}

func reason(out mergeOutcome, key string) string {
	for _, d := range out.Decisions {
		if d.Key == key {
			return d.Winner + "/" + d.Reason
		}
	}
	return ""
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func TestMergeEchoAndInStepWriteNothing(t *testing.T) {
	out := merge(mergeInput{Fields: all, SF: base(), Jira: base(), BaseSF: base(), BaseJira: base(), HasBase: true})
	require.Empty(t, out.WriteJira)
	require.Empty(t, out.WriteSF)
	require.Empty(t, out.Decisions)
}

func TestMergeOneSidedChangesFlowToTheOtherSide(t *testing.T) {
	out := merge(mergeInput{Fields: all, SF: with(base(), "j:amount", "20.00", "j:summary", "Deal 2"), Jira: with(base(), "j:duedate", "2027-02-01", "s:Jira_Status__c", "Done"),
		BaseSF: base(), BaseJira: base(), HasBase: true})
	require.ElementsMatch(t, []string{"j:amount", "j:summary"}, keys(out.WriteJira))
	require.ElementsMatch(t, []string{"j:duedate", "s:Jira_Status__c"}, keys(out.WriteSF))
	require.Equal(t, "sf/sf_changed", reason(out, "j:amount"))
	require.Equal(t, "jira/jira_changed", reason(out, "j:duedate"))
}

func TestMergeOwnershipPutsBackOneWayFieldsChangedOnTheWrongSide(t *testing.T) {
	// Someone edits the Deal Amount in Jira (Salesforce owns it) and Jira_Status__c in Salesforce (Jira owns it).
	out := merge(mergeInput{Fields: all, SF: with(base(), "s:Jira_Status__c", "hand edit"), Jira: with(base(), "j:amount", "99.00"),
		BaseSF: base(), BaseJira: base(), HasBase: true})
	require.Equal(t, []string{"j:amount"}, keys(out.WriteJira))
	require.Equal(t, []string{"s:Jira_Status__c"}, keys(out.WriteSF))
	require.Equal(t, "sf/owner_wins", reason(out, "j:amount"))
	require.Equal(t, "jira/owner_wins", reason(out, "s:Jira_Status__c"))
}

func TestMergeConflictPolicies(t *testing.T) {
	sf := with(base(), "j:summary", "SF name", "j:duedate", "2027-03-01", "j:notes", "sf notes")
	jr := with(base(), "j:summary", "Jira name", "j:duedate", "2027-04-01", "j:notes", "jira notes")
	// Jira wrote last: last_writer_wins takes Jira; owner_wins takes the owner (sf); manual queues.
	out := merge(mergeInput{Fields: all, SF: sf, Jira: jr, BaseSF: base(), BaseJira: base(), HasBase: true, SFTime: t0, JiraTime: t0.Add(time.Second)})
	require.Equal(t, "jira/last_writer_wins", reason(out, "j:summary"))
	require.Equal(t, "sf/owner_wins", reason(out, "j:duedate"))
	require.Equal(t, "none/manual", reason(out, "j:notes"))
	require.Equal(t, []string{"j:notes"}, out.Held)
	require.Len(t, out.Conflicts, 1)
	require.Equal(t, "sf notes", out.Conflicts[0].SFValue)
	require.Equal(t, "n", out.Conflicts[0].BaseSF)
	require.NotContains(t, keys(out.WriteJira), "j:notes")
	require.NotContains(t, keys(out.WriteSF), "j:notes")
	// Salesforce wrote last.
	out = merge(mergeInput{Fields: all, SF: sf, Jira: jr, BaseSF: base(), BaseJira: base(), HasBase: true, SFTime: t0.Add(time.Second), JiraTime: t0})
	require.Equal(t, "sf/last_writer_wins", reason(out, "j:summary"))
	// An operator's decision settles the manual conflict.
	out = merge(mergeInput{Fields: all, SF: sf, Jira: jr, BaseSF: base(), BaseJira: base(), HasBase: true, Resolved: map[string]string{"j:notes": "jira"}})
	require.Equal(t, "jira/resolved_by_operator", reason(out, "j:notes"))
	require.Contains(t, keys(out.WriteSF), "j:notes")
	require.Empty(t, out.Held)
}

func TestMergeStatusMovedInJiraIsKeptUntilTheStageChanges(t *testing.T) {
	out := merge(mergeInput{Fields: all, SF: base(), Jira: with(base(), "j:status", "In Progress"), BaseSF: base(), BaseJira: base(), HasBase: true})
	require.Empty(t, out.WriteJira)
	require.Equal(t, []string{"j:status"}, out.Diverged)
	// Next pass: the snapshot recorded the divergence; still nothing to write.
	out = merge(mergeInput{Fields: all, SF: base(), Jira: with(base(), "j:status", "In Progress"), BaseSF: base(), BaseJira: with(base(), "j:status", "In Progress"), HasBase: true})
	require.Empty(t, out.WriteJira)
	// The stage changes: the status follows it.
	out = merge(mergeInput{Fields: all, SF: with(base(), "j:status", "Done"), Jira: with(base(), "j:status", "In Progress"), BaseSF: base(), BaseJira: with(base(), "j:status", "In Progress"), HasBase: true})
	require.Equal(t, []string{"j:status"}, keys(out.WriteJira))
}

func TestMergeFirstSyncOriginWins(t *testing.T) {
	sf := with(base(), "j:summary", "SF")
	jr := with(base(), "j:summary", "Jira", "s:Jira_Status__c", "Done")
	out := merge(mergeInput{Fields: all, SF: sf, Jira: jr})
	require.Equal(t, "sf/first_sync", reason(out, "j:summary"))
	require.Equal(t, "jira/owner_wins", reason(out, "s:Jira_Status__c"))
	out = merge(mergeInput{Fields: all, SF: sf, Jira: jr, OriginIsJira: true})
	require.Equal(t, "jira/first_sync", reason(out, "j:summary"))
}

// Property: whatever the edits, after applying the merge's writes both sides agree on every
// field that is not held or deliberately diverged, and a second merge writes nothing.
func TestMergeConverges(t *testing.T) {
	values := []string{"a", "b", "c", ""}
	for i := 0; i < 4096; i++ {
		sf, jr := base(), base()
		x := i
		for _, f := range all {
			if x%3 == 1 {
				sf[f.Key] = values[(x/3)%len(values)]
			}
			x /= 3
			if x%3 == 1 {
				jr[f.Key] = values[(x/5)%len(values)]
			}
			x /= 3
		}
		in := mergeInput{Fields: all, SF: sf, Jira: jr, BaseSF: base(), BaseJira: base(), HasBase: true, SFTime: t0, JiraTime: t0.Add(time.Duration(i%2) * time.Second)}
		out := merge(in)
		for _, f := range out.WriteJira {
			jr[f.Key] = sf[f.Key]
		}
		for _, f := range out.WriteSF {
			sf[f.Key] = jr[f.Key]
		}
		for _, f := range all {
			held := false
			for _, k := range append(out.Held, out.Diverged...) {
				held = held || k == f.Key
			}
			if !held {
				require.Equal(t, sf[f.Key], jr[f.Key], "case %d field %s", i, f.Key)
			}
		}
		// The commit keeps the old base for held keys (see CommitSync), the sides for the rest.
		bs, bj := with(sf), with(jr)
		for _, k := range out.Held {
			bs[k], bj[k] = base()[k], base()[k]
		}
		again := merge(mergeInput{Fields: all, SF: sf, Jira: jr, BaseSF: bs, BaseJira: bj, HasBase: true})
		require.Empty(t, again.WriteJira, "case %d: second merge writes Jira", i)
		require.Empty(t, again.WriteSF, "case %d: second merge writes Salesforce", i)
	}
}
