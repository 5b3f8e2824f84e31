package activities

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/jira"
)

// VerifyPair reads both sides back after a write and checks every value the pass wrote. A value
// still at its old state means the write did not stick (a validation rule, a Jira automation):
// that fails retryably, a few times — unless, on the Jira side, the issue's changelog shows the
// write landed and a later change set the field back (a person reopening the issue while the
// pass verifies). A third value, or such a later change, means someone edited the field after
// the write; that is fine, their change arrives as its own event and the next pass merges it
// against the snapshot this pass records. It returns both sides as read.
func (a *Activities) VerifyPair(ctx context.Context, in VerifyPairInput) (*VerifyPairResult, error) {
	b, err := a.Mappings.Bound(ctx, in.Pair)
	if err != nil {
		return nil, err
	}
	sf, err := a.FetchSalesforce(ctx, FetchSalesforceInput{Pair: in.Pair, SfID: in.SfID, JiraIssueID: in.IssueID})
	if err != nil {
		return nil, err
	}
	jr, err := a.FetchJira(ctx, FetchJiraInput{Pair: in.Pair, OriginKey: in.OriginKey, LinkedIssueID: in.IssueID})
	if err != nil {
		return nil, err
	}
	// A side deleted between the write and the read-back is a deletion, not a write that did
	// not stick: its own code, not retried, so the workflow plans again and applies the pair's
	// delete policy.
	if !sf.Found {
		return nil, newError(catalog.SalesforceRecordNotFound, fmt.Sprintf("pair %s: the Salesforce record %s was deleted after this pass wrote it", in.OriginKey, in.SfID), nil)
	}
	if !jr.Found {
		return nil, newError(catalog.JiraNotFound, fmt.Sprintf("pair %s: the Jira issue %s was deleted after this pass wrote it", in.OriginKey, in.IssueID), nil)
	}
	sfSide, jiraSide, err := sidesOf(b, sf, jr)
	if err != nil {
		return nil, classify(err)
	}
	var bad, editedAfter []string
	var changelog []jira.ChangeHistory
	changelogRead := false
	for _, c := range in.Checks {
		got := jiraSide[c.Key]
		if c.Side == WinnerSF {
			got = sfSide[c.Key]
		}
		switch got {
		case c.Want:
		case c.Before:
			if c.Side == WinnerJira && in.JiraReadUpdated != "" {
				// One changelog read, only on this rare path, settles whether the write landed.
				if !changelogRead {
					changelog, err = a.Jira.IssueChangelog(ctx, jr.IssueID)
					if err != nil {
						return nil, classify(err)
					}
					changelogRead = true
				}
				if changedBackAfterWrite(changelog, strings.TrimPrefix(c.Key, "j:"), c.Want, in.JiraReadUpdated) {
					editedAfter = append(editedAfter, c.Label)
					continue
				}
			}
			// Still the old value: the write did not stick (a validation rule, an automation).
			bad = append(bad, fmt.Sprintf("%s on %s: wrote %q, reads %q", c.Label, sideName(c.Side), c.Want, got))
		default:
			// A third value: someone changed the field after our write. Their change brings its
			// own event; the next pass merges it against the snapshot this pass records.
		}
	}
	if sf.LinkedIssueID != jr.IssueID {
		bad = append(bad, fmt.Sprintf("back-link: %s holds %q, the issue is %s", b.Mapping.Salesforce.ExternalIDField, sf.LinkedIssueID, jr.IssueID))
	}
	if len(bad) > 0 {
		return nil, newError(catalog.VerifyMismatch, fmt.Sprintf("pair %s (%s): %s", in.OriginKey, jr.IssueKey, strings.Join(bad, "; ")), nil)
	}
	return &VerifyPairResult{SFSide: sfSide, JiraSide: jiraSide, SfModstamp: sf.Modstamp, JiraUpdated: jr.Updated, IssueKey: jr.IssueKey,
		EditedAfterWrite: editedAfter}, nil
}

// changedBackAfterWrite reports whether the changelog shows, from the pass's read on (since),
// an entry setting fieldID to want (the pass's write) followed by a later entry changing that
// field again. Without the first the write did not stick; without the second the value reading
// as before is unexplained — both stay mismatches.
func changedBackAfterWrite(histories []jira.ChangeHistory, fieldID, want, since string) bool {
	from := parseTime(since)
	if from == nil {
		return false
	}
	wrote := false
	for _, h := range histories {
		at := parseTime(h.Created)
		if at == nil || at.Before(*from) {
			continue
		}
		for _, it := range h.Items {
			if it.FieldID != fieldID && !strings.EqualFold(it.Field, fieldID) {
				continue
			}
			switch {
			case wrote:
				return true
			case sameChangeValue(it.ToString, want) || sameChangeValue(it.To, want):
				wrote = true
			}
		}
	}
	return false
}

// sameChangeValue compares a changelog value with a projected one: the same text (case aside),
// the same number (777 and 777.00), or the same date (changelogs render "2027-03-31 00:00:00.0").
func sameChangeValue(v, want string) bool {
	got := strings.TrimSpace(v)
	if strings.EqualFold(got, strings.TrimSpace(want)) {
		return true
	}
	if g, err := strconv.ParseFloat(got, 64); err == nil {
		if w, err := strconv.ParseFloat(strings.TrimSpace(want), 64); err == nil {
			return g == w
		}
	}
	return len(want) == len("2006-01-02") && strings.HasPrefix(got, want+" 00:00:00")
}

func sideName(side string) string {
	if side == WinnerSF {
		return "Salesforce"
	}
	return "Jira"
}
