package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
)

// FetchSalesforce reads the mapped fields of one Salesforce record with a single SOQL query (a
// query, not a GET, so parent fields such as Account.Name come in the same call). A record that
// is gone comes back with Found false, and Deleted true when it sits in the recycle bin.
func (a *Activities) FetchSalesforce(ctx context.Context, in FetchSalesforceInput) (*FetchSalesforceResult, error) {
	m, err := a.Mappings.Mapping(in.Pair)
	if err != nil {
		return nil, err
	}
	var cond string
	switch {
	case in.SfID != "":
		id, err := salesforce.NormalizeID(in.SfID)
		if err != nil {
			return nil, newError(catalog.InvalidInput, fmt.Sprintf("Salesforce id %q: %v", in.SfID, err), nil)
		}
		in.SfID = id
		cond = fmt.Sprintf("Id = '%s'", id)
	case in.JiraIssueID != "":
		cond = fmt.Sprintf("%s = '%s'", m.Salesforce.ExternalIDField, soqlEscape(in.JiraIssueID))
	default:
		return nil, newError(catalog.InvalidInput, "FetchSalesforce needs SfID or JiraIssueID", nil)
	}
	res, err := a.SF.Query(ctx, m.SOQL(cond))
	if err != nil {
		return nil, classify(err)
	}
	if len(res.Records) == 0 {
		out := &FetchSalesforceResult{SfID: in.SfID}
		if in.SfID != "" {
			// Not in the query: deleted, or outside the mapping's scope.
			if _, err := a.SF.Get(ctx, m.Salesforce.Object, in.SfID, "Id"); err != nil {
				var apiErr *salesforce.APIError
				if errors.As(err, &apiErr) && apiErr.Code == "ENTITY_IS_DELETED" {
					out.Deleted = true
					return out, nil
				}
				if salesforce.IsNotFound(err) {
					// Purged from the recycle bin, or never existed: deleted only if it was linked.
					if _, lerr := a.Store.LinkBySalesforceID(ctx, in.Pair, in.SfID); lerr == nil {
						out.Deleted = true
						return out, nil
					}
					return nil, newError(catalog.SalesforceRecordNotFound, fmt.Sprintf("%s %s does not exist", m.Salesforce.Object, in.SfID), nil)
				}
				return nil, classify(err)
			}
			return nil, newError(catalog.SalesforceRecordNotFound,
				fmt.Sprintf("%s %s is outside the scope of mapping %s (where: %s)", m.Salesforce.Object, in.SfID, m.File, m.Salesforce.Where), nil)
		}
		return out, nil
	}
	rec := res.Records[0]
	out := &FetchSalesforceResult{Found: true, SfID: rec.ID(), Values: map[string]any{}}
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

// WriteSalesforce writes the merged fields and the back-link to the Jira issue in one call, and
// only the fields that differ. A pair that started in Jira gets its record created by an upsert
// on the Jira id external-id field, so a retried create can never make a second record.
func (a *Activities) WriteSalesforce(ctx context.Context, in WriteSalesforceInput) (out *WriteSalesforceResult, outErr error) {
	defer func() {
		if outErr == nil && out != nil && !out.Stale && in.DeleteAction == "" && len(in.Fields) > 0 {
			a.Metrics.RecordsSynced(a.objectOf(in.Pair), DirectionJiraToSF, 1)
		}
	}()
	m, err := a.Mappings.Mapping(in.Pair)
	if err != nil {
		return nil, err
	}
	res := &WriteSalesforceResult{SfID: in.SfID}
	fields := map[string]any{}
	for k, v := range in.Fields {
		fields[k] = v
	}
	if in.DeleteAction == "unlink_salesforce" {
		// The Jira issue was deleted: keep the record, clear its back-link.
		in.IssueID, in.IssueKey = "", ""
		fields[m.Salesforce.ExternalIDField] = nil
		if m.Salesforce.KeyField != "" {
			fields[m.Salesforce.KeyField] = nil
		}
	} else {
		if in.IssueID != "" && in.IssueID != in.CurrentIssueID {
			fields[m.Salesforce.ExternalIDField] = in.IssueID
		}
		if m.Salesforce.KeyField != "" && in.IssueKey != "" && in.IssueKey != in.CurrentIssueKey {
			fields[m.Salesforce.KeyField] = in.IssueKey
		}
	}
	for _, k := range sortedAnyKeys(fields) {
		action := "update"
		switch {
		case in.Create:
			action = "create"
		case k == m.Salesforce.ExternalIDField || k == m.Salesforce.KeyField:
			action = "link"
		}
		before := in.Before[k]
		switch k {
		case m.Salesforce.ExternalIDField:
			before = in.CurrentIssueID
		case m.Salesforce.KeyField:
			before = in.CurrentIssueKey
		}
		res.Changes = append(res.Changes, FieldChange{Action: action, Field: k, Label: k, Before: strPtr(before), After: strPtr(canonString(fields[k]))})
	}
	if len(fields) == 0 {
		return res, nil
	}
	if in.Create {
		if in.IssueID == "" {
			return nil, newError(catalog.InvalidInput, "creating a Salesforce record needs the Jira issue id (the upsert key)", nil)
		}
		delete(fields, m.Salesforce.ExternalIDField)
		// The link row with the Jira id comes first: the new record's own change events carry
		// the Jira id and so resolve to this pair, never to a new one.
		link := store.Link{OriginKey: in.OriginKey, Pair: in.Pair, SfObject: m.Salesforce.Object, JiraIssueID: in.IssueID, JiraIssueKey: in.IssueKey}
		if err := a.Store.RecordJiraOriginIntent(ctx, link); err != nil {
			return nil, classify(err)
		}
		up, err := a.SF.Upsert(ctx, m.Salesforce.Object, m.Salesforce.ExternalIDField, in.IssueID, fields)
		if err != nil {
			return nil, classify(err)
		}
		res.SfID, res.Created = up.ID, up.Created
		defer func() {
			if res.SfID != "" {
				link.SfID = res.SfID
				_ = a.Store.SaveLink(ctx, link)
			}
		}()
		if res.SfID == "" {
			// API versions before 46.0 answer an upsert-update with no body: read the id back.
			q, err := a.SF.Query(ctx, fmt.Sprintf("SELECT Id FROM %s WHERE %s = '%s'", m.Salesforce.Object, m.Salesforce.ExternalIDField, soqlEscape(in.IssueID)))
			if err != nil {
				return nil, classify(err)
			}
			if len(q.Records) > 0 {
				res.SfID = q.Records[0].ID()
			}
		}
		return res, nil
	}
	if in.ExpectModstamp != "" && len(in.Fields) > 0 {
		// One read serves the optimistic-concurrency check and the exact before-image.
		rec, err := a.SF.Get(ctx, m.Salesforce.Object, in.SfID, append(sortedAnyKeys(fields), "SystemModstamp")...)
		if err != nil {
			return nil, classify(err)
		}
		if str(rec["SystemModstamp"]) != in.ExpectModstamp {
			return &WriteSalesforceResult{SfID: in.SfID, Stale: true}, nil
		}
		for i := range res.Changes {
			if v, ok := rec[res.Changes[i].Field]; ok {
				res.Changes[i].BeforeRaw, _ = json.Marshal(v)
			}
		}
	}
	if err := a.SF.Update(ctx, m.Salesforce.Object, in.SfID, fields); err != nil {
		return nil, classify(err)
	}
	return res, nil
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

func soqlEscape(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\'' || r == '\\' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}

func sortedAnyKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
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
