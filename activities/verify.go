package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sfjira/sfjira/internal/catalog"
)

// VerifyPair reads both sides back after a write and checks that every mapped field now agrees
// (except fields held by an open manual conflict and a Jira status deliberately kept). It fails
// retryably, a few times, when they do not — e.g. a Jira automation or a Salesforce workflow rule
// changed a value — and otherwise returns both sides as the new last-synced snapshot.
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
	for _, f := range mergeFields(b) {
		if slices.Contains(in.Held, f.Key) || slices.Contains(in.Diverged, f.Key) {
			continue
		}
		if sfSide[f.Key] != jiraSide[f.Key] {
			bad = append(bad, fmt.Sprintf("%s: Salesforce %q, Jira %q", f.Label, sfSide[f.Key], jiraSide[f.Key]))
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
