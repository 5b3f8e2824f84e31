package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

// followLookups rewrites the lookups among a plan's Salesforce writes. Jira → Salesforce, a
// lookup arrives as the id of the issue the synced issue's parent (or issue link) now points at,
// keyed by the relationship path it is read through (Opportunity__r.Jira_Issue_Id__c); what
// Salesforce must be given is the lookup field (Opportunity__c) holding the id of the record
// linked to that issue. The link table is the source of truth for "linked": the same rows every
// sync writes. An issue that no record is linked to (or several links where the lookup holds
// one) stops the pass with a catalog error naming the issue and the fix, never a silent drop.
// A parent or link that was removed clears the lookup.
func (a *Activities) followLookups(ctx context.Context, b *mappings.Bound, in TransformInput, res *TransformResult) error {
	for _, bf := range b.Fields {
		lf := bf.LookupField()
		if lf == "" || !bf.FlowsToSF() {
			continue
		}
		v, planned := res.SFFields[bf.SF]
		if !planned {
			continue
		}
		delete(res.SFFields, bf.SF)
		if _, had := res.SFBefore[bf.SF]; had {
			delete(res.SFBefore, bf.SF)
			// The before-image is the lookup's own value, so a rollback restores the record id.
			res.SFBefore[lf] = canonString(in.SF.Values[lf])
		}
		if r, had := res.Reasons["salesforce:"+bf.SF]; had {
			delete(res.Reasons, "salesforce:"+bf.SF)
			res.Reasons["salesforce:"+lf] = r
		}
		issueID := strings.TrimSpace(canonString(v))
		if issueID == "" {
			res.SFFields[lf] = nil
			continue
		}
		sfID, err := a.linkedRecord(ctx, b, bf, in, issueID)
		if err != nil {
			return err
		}
		res.SFFields[lf] = sfID
	}
	return nil
}

// linkedRecord finds the Salesforce record linked to a Jira issue, for lookup bf.
func (a *Activities) linkedRecord(ctx context.Context, b *mappings.Bound, bf mappings.BoundField, in TransformInput, issueID string) (string, error) {
	m := b.Mapping
	rec := m.Salesforce.Object + " " + in.SF.SfID
	if in.SF.SfID == "" {
		rec = m.Salesforce.Object + " (from " + in.Jira.IssueKey + ")"
	}
	issue := in.Jira.IssueKey
	if issue == "" {
		issue = "issue " + in.Jira.IssueID
	}
	name := func(id string) string {
		if k := in.Jira.LookupKeys[id]; k != "" {
			return fmt.Sprintf("%s (id %s)", k, id)
		}
		return "issue id " + id
	}
	relation := "parent"
	if bf.LinkType != "" {
		relation = fmt.Sprintf("%q link", bf.LinkType)
	}
	if ids := strings.Split(issueID, ","); len(ids) > 1 {
		named := make([]string, len(ids))
		for i, id := range ids {
			named[i] = name(id)
		}
		return "", classify(&mappings.RecordError{Code: mappings.CodeLookupAmbiguous, Field: bf.SF, Record: rec,
			Msg: fmt.Sprintf("Jira issue %s has %d %s links (to %s), but the Salesforce lookup %s holds one record",
				issue, len(ids), bf.LinkType, strings.Join(named, ", "), bf.LookupField()),
			Fix: fmt.Sprintf("remove all but one %q link on %s in Jira, then replay the sync (sfjira dlq replay)", bf.LinkType, issue)})
	}
	link, err := a.Store.LinkByJiraID(ctx, issueID)
	switch {
	case err == nil && link.State != "deleted" && link.SfID != "":
		// Salesforce ids start with their object's key prefix: when the lookup holds a record
		// now, the new one must be of the same object (a Relates link may point at any issue,
		// e.g. a Bug synced with a Case), or Salesforce would refuse the write less clearly.
		if cur := canonString(in.SF.Values[bf.LookupField()]); len(cur) >= 3 && len(link.SfID) >= 3 && !strings.EqualFold(cur[:3], link.SfID[:3]) {
			return "", classify(&mappings.RecordError{Code: mappings.CodeLookupUnlinked, Field: bf.SF, Record: rec,
				Msg: fmt.Sprintf("Jira issue %s now has %s %s, which is linked to %s %s (pair %s), not to the kind of record %s holds (now %s)",
					issue, relation, name(issueID), link.SfObject, link.SfID, link.Pair, bf.LookupField(), cur),
				Fix: fmt.Sprintf("in Jira, point the %s of %s at an issue synced with the record type %s refers to; then replay the sync (sfjira dlq replay)",
					relation, issue, bf.LookupField())})
		}
		return link.SfID, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return "", classify(err)
	}
	return "", classify(&mappings.RecordError{Code: mappings.CodeLookupUnlinked, Field: bf.SF, Record: rec,
		Msg: fmt.Sprintf("Jira issue %s now has %s %s, which is not linked to a Salesforce record, so %s cannot follow it (mapping %s line %d)",
			issue, relation, name(issueID), bf.LookupField(), m.File, bf.Line),
		Fix: fmt.Sprintf("in Jira, point the %s of %s at an issue synced with Salesforce, or sync the Salesforce record of %s first; then replay the sync (sfjira dlq replay)",
			relation, issue, name(issueID))})
}
