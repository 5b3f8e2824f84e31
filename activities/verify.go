package activities

import (
	"context"
	"fmt"
	"strings"

	"github.com/sfjira/sfjira/internal/catalog"
)

// VerifyPair reads both sides back after a write and checks every value the pass wrote. A value
// still at its old state means the write did not stick (a validation rule, a Jira automation):
// that fails retryably, a few times. A third value means someone edited the field meanwhile;
// that is fine, their change arrives as its own event. It returns both sides as read.
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
	if !sf.Found || !jr.Found {
		return nil, newError(catalog.VerifyMismatch, fmt.Sprintf("pair %s: after writing, Salesforce found=%v and Jira found=%v", in.OriginKey, sf.Found, jr.Found), nil)
	}
	sfSide, jiraSide, err := sidesOf(b, sf, jr)
	if err != nil {
		return nil, classify(err)
	}
	var bad []string
	for _, c := range in.Checks {
		got := jiraSide[c.Key]
		if c.Side == WinnerSF {
			got = sfSide[c.Key]
		}
		switch got {
		case c.Want:
		case c.Before:
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
	return &VerifyPairResult{SFSide: sfSide, JiraSide: jiraSide, SfModstamp: sf.Modstamp, JiraUpdated: jr.Updated, IssueKey: jr.IssueKey}, nil
}

func sideName(side string) string {
	if side == WinnerSF {
		return "Salesforce"
	}
	return "Jira"
}
