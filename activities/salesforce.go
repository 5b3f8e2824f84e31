package activities

import (
	"context"
	"fmt"

	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/salesforce"
)

// FetchSalesforce reads the mapped fields of one Salesforce record with a single SOQL query (a
// query, not a GET, so parent fields such as Account.Name come in the same call).
func (a *Activities) FetchSalesforce(ctx context.Context, in FetchSalesforceInput) (*FetchSalesforceResult, error) {
	id, err := salesforce.NormalizeID(in.SfID)
	if err != nil {
		return nil, newError(catalog.InvalidInput, fmt.Sprintf("Salesforce id %q: %v", in.SfID, err), nil)
	}
	m, err := a.Mappings.Mapping(in.Pair)
	if err != nil {
		return nil, err
	}
	res, err := a.SF.Query(ctx, m.SOQL(fmt.Sprintf("Id = '%s'", id)))
	if err != nil {
		return nil, classify(err)
	}
	if len(res.Records) == 0 {
		return nil, newError(catalog.SalesforceRecordNotFound,
			fmt.Sprintf("%s %s does not exist or is outside the scope of mapping %s", m.Salesforce.Object, id, m.File), nil)
	}
	rec := res.Records[0]
	out := &FetchSalesforceResult{SfID: id, Values: map[string]any{}}
	for _, f := range m.SOQLFields() {
		v, _ := rec.Value(f)
		out.Values[f] = v
	}
	out.Modstamp = str(out.Values["SystemModstamp"])
	if m.Salesforce.ExternalIDField != "" {
		out.LinkedIssueID = str(out.Values[m.Salesforce.ExternalIDField])
	}
	if m.Salesforce.KeyField != "" {
		out.LinkedIssueKey = str(out.Values[m.Salesforce.KeyField])
	}
	return out, nil
}

// LinkSalesforce writes the Jira issue id (external id) and key onto the Salesforce record, and
// only when they differ from what the record already holds.
func (a *Activities) LinkSalesforce(ctx context.Context, in LinkSalesforceInput) (*LinkSalesforceResult, error) {
	m, err := a.Mappings.Mapping(in.Pair)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{}
	var changes []FieldChange
	add := func(field, before, after string) {
		if field == "" || before == after {
			return
		}
		fields[field] = after
		changes = append(changes, FieldChange{Action: "link", Field: field, Before: strPtr(before), After: strPtr(after)})
	}
	add(m.Salesforce.ExternalIDField, in.CurrentIssueID, in.IssueID)
	add(m.Salesforce.KeyField, in.CurrentIssueKey, in.IssueKey)
	if len(fields) == 0 {
		return &LinkSalesforceResult{}, nil
	}
	if err := a.SF.Update(ctx, m.Salesforce.Object, in.SfID, fields); err != nil {
		return nil, classify(err)
	}
	return &LinkSalesforceResult{Changes: changes}, nil
}

// ListInScope returns one page (up to 2,000) of the ids of the records a pair syncs.
func (a *Activities) ListInScope(ctx context.Context, in ListInScopeInput) (*ListInScopeResult, error) {
	m, err := a.Mappings.Mapping(in.Pair)
	if err != nil {
		return nil, err
	}
	var res *salesforce.QueryResult
	if in.NextRecordsURL != "" {
		res, err = a.SF.QueryMore(ctx, in.NextRecordsURL)
	} else {
		soql := "SELECT Id FROM " + m.Salesforce.Object
		if m.Salesforce.Where != "" {
			soql += " WHERE " + m.Salesforce.Where
		}
		res, err = a.SF.Query(ctx, soql+" ORDER BY Id")
	}
	if err != nil {
		return nil, classify(err)
	}
	out := &ListInScopeResult{NextRecordsURL: res.NextRecordsURL, Total: res.TotalSize}
	for _, r := range res.Records {
		out.IDs = append(out.IDs, r.ID())
	}
	return out, nil
}

func str(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	default:
		return fmt.Sprint(t)
	}
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
