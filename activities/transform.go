package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

// Transform maps both sides of a pair with the pair's mapping and merges them against the
// last-synced snapshot (three-way merge, see merge): the result says what to write on each side,
// which side won each field and why, and which conflicts wait for an operator. It writes nothing.
func (a *Activities) Transform(ctx context.Context, in TransformInput) (*TransformResult, error) {
	b, err := a.Mappings.Bound(ctx, in.Pair)
	if err != nil {
		return nil, err
	}
	m := b.Mapping
	res := &TransformResult{MappingVersion: m.Version, JiraProject: m.Jira.Project, JiraIssueType: m.Jira.IssueType, HasActivities: len(m.Activities) > 0}
	originIsJira := strings.HasPrefix(in.OriginKey, "jira/")

	link, err := a.Store.GetLink(ctx, in.OriginKey)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, classify(err)
	}
	if link != nil && link.State == "deleted" {
		res.Skip = "pair_deleted"
		return res, nil
	}

	// One side deleted: apply the pair's delete policy instead of recreating it.
	switch {
	case in.SF.Deleted && in.Jira.Found:
		switch m.Salesforce.OnDelete {
		case mappings.OnDeleteDelete:
			res.DeleteAction = "delete_jira"
		case mappings.OnDeleteIgnore:
			res.DeleteAction = "ignore"
		default:
			res.DeleteAction = "mark_jira"
		}
		return res, nil
	case in.Jira.Deleted && in.SF.Found:
		res.DeleteAction = "unlink_salesforce"
		return res, nil
	case in.SF.Deleted || in.Jira.Deleted:
		res.Skip = "deleted"
		return res, nil
	}

	var desired *mappings.Desired
	if in.SF.Found {
		values := in.SF.Values
		desired, err = b.ToJira(fmt.Sprintf("%s %s", m.Salesforce.Object, in.SF.SfID), func(path string) (any, bool) {
			v, ok := values[path]
			return v, ok
		})
		if err != nil {
			return nil, classify(err)
		}
		res.Warnings = desired.Warnings
	}
	fields := mergeFields(b)

	switch {
	case !in.SF.Found && !in.Jira.Found:
		res.Skip = "neither_side_exists"
		return res, nil
	case !in.Jira.Found:
		// Salesforce-origin pair without its issue yet: create it with every mapped value.
		res.CreateJira = true
		res.JiraFields = map[string]any{}
		for k, v := range desired.Fields {
			if v != nil {
				res.JiraFields[k] = v
			}
		}
		res.Status, res.Resolution = desired.Status, desired.Resolution
		res.SourceTime = in.SF.Modstamp
		// What the created issue reads as, so a pass that must plan again before its first
		// commit can tell a person's edit of the new issue from its own create (OwnJira).
		created, _ := sideProjections(b, fields, desired, in.SF.Values, nil)
		res.ExpectJira = mappings.Projection{}
		for k, v := range created {
			if strings.HasPrefix(k, "j:") {
				res.ExpectJira[k] = v
			}
		}
		return res, nil
	case !in.SF.Found:
		if !m.Jira.CreateInSalesforce {
			res.Skip = "create_in_salesforce_disabled"
			return res, nil
		}
		res.CreateSalesforce = true
		res.SFFields = map[string]any{}
		for k, v := range in.Jira.SFValues {
			if v != nil {
				res.SFFields[k] = v
			}
		}
		if err := sfProblem(in.Jira, keysOf(in.Jira.SFProblems)); err != nil {
			return nil, err
		}
		if m.Status != nil {
			if stage := m.StatusToStage(in.Jira.Projection[keyStatus], in.Jira.Projection[keyResolution]); stage != "" {
				res.SFFields[m.Status.SF] = stage
			}
		}
		if err := a.followLookups(ctx, b, in, res); err != nil {
			return nil, err
		}
		res.SourceTime = in.Jira.Updated
		return res, nil
	}

	sfSide, jiraSide := sideProjections(b, fields, desired, in.SF.Values, &in.Jira)
	res.SidesHash = sfSide.Hash() + jiraSide.Hash()
	res.SFSide, res.JiraSide = sfSide, jiraSide
	mi := mergeInput{Fields: fields, SF: sfSide, Jira: jiraSide, OriginIsJira: originIsJira, Resolved: map[string]string{}}
	if t := parseTime(in.SF.Modstamp); t != nil {
		mi.SFTime = *t
	}
	if t := parseTime(in.Jira.Updated); t != nil {
		mi.JiraTime = *t
	}
	ps, err := a.Store.GetPairState(ctx, in.OriginKey)
	switch {
	case err == nil:
		mi.HasBase = ps.MappingVersion != "" && len(ps.SfSnapshot) > 0
		mi.BaseSF, mi.BaseJira = ps.SfSnapshot, ps.JiraSnapshot
		res.SnapshotHash = mappings.Projection(ps.SfSnapshot).Hash() + mappings.Projection(ps.JiraSnapshot).Hash()
		if len(in.OwnJira) > 0 {
			// Our own uncommitted Jira writes count as the base, not as Jira-side changes.
			base := copyProj(ps.JiraSnapshot)
			for k, v := range in.OwnJira {
				if jiraSide[k] == v {
					base[k] = v
				}
			}
			mi.BaseJira = base
		}
	case errors.Is(err, store.ErrNotFound):
		if len(in.OwnJira) > 0 && !originIsJira {
			// No snapshot yet, but this pass created the issue: what it wrote is the base, so a
			// person's edit of the new issue (a transition right after the create) is a Jira
			// change, not a difference the origin side overwrites as on a first sync.
			mi.HasBase = true
			mi.BaseSF, mi.BaseJira = copyProj(in.OwnJira), copyProj(in.OwnJira)
		}
	default:
		return nil, classify(err)
	}
	conflicts, err := a.Store.OpenConflicts(ctx, in.OriginKey)
	if err != nil {
		return nil, classify(err)
	}
	for _, c := range conflicts {
		if c.Resolution != "" {
			mi.Resolved[c.Field] = c.Resolution
			res.AppliedConflicts = append(res.AppliedConflicts, c.ID)
		}
	}
	if err := a.evalTriggers(ctx, m, in, res); err != nil {
		return nil, err
	}
	out := merge(mi)
	if in.RealtimeOnly {
		deferBatchFields(b, &out)
	}
	res.Decisions, res.Conflicts, res.Held, res.Diverged = out.Decisions, out.Conflicts, out.Held, out.Diverged

	res.JiraFields = map[string]any{}
	for _, f := range out.WriteJira {
		switch {
		case f.JiraID == keyStatus || f.JiraID == keyResolution:
			res.Status, res.Resolution = desired.Status, desired.Resolution
		default:
			res.JiraFields[f.JiraID] = desired.Fields[f.JiraID]
			for _, c := range b.Companions(f.JiraID) {
				res.JiraFields[c] = desired.Fields[c]
			}
		}
	}
	res.SFFields = map[string]any{}
	writeSF := make([]string, 0, len(out.WriteSF))
	for _, f := range out.WriteSF {
		res.SFFields[f.SFField] = in.Jira.SFValues[f.SFField]
		writeSF = append(writeSF, f.SFField)
	}
	if err := sfProblem(in.Jira, writeSF); err != nil {
		return nil, err
	}
	res.ExpectSF, res.ExpectJira = copyProj(sfSide), copyProj(jiraSide)
	res.SFBefore, res.Reasons = map[string]string{}, map[string]string{}
	reason := map[string]string{}
	for _, d := range out.Decisions {
		reason[d.Key] = d.Reason
	}
	for _, f := range out.WriteJira {
		res.Reasons["jira:"+f.JiraID] = reason[f.Key]
		res.ExpectJira[f.Key] = sfSide[f.Key]
		res.Checks = append(res.Checks, VerifyCheck{Key: f.Key, Label: f.Label, Side: WinnerJira, Want: sfSide[f.Key], Before: jiraSide[f.Key]})
	}
	for _, f := range out.WriteSF {
		res.Reasons["salesforce:"+f.SFField] = reason[f.Key]
		res.SFBefore[f.SFField] = sfSide[f.Key]
		res.ExpectSF[f.Key] = jiraSide[f.Key]
		res.Checks = append(res.Checks, VerifyCheck{Key: f.Key, Label: f.Label, Side: WinnerSF, Want: jiraSide[f.Key], Before: sfSide[f.Key]})
	}
	// A parent or issue link moved in Jira: write the Salesforce lookup to the record linked to
	// the new issue (verified, like any field, through the relationship path's back-link).
	if err := a.followLookups(ctx, b, in, res); err != nil {
		return nil, err
	}
	// Fields Jira reports back to Salesforce (such as Jira_Status__c) must reflect what this
	// pass writes to Jira, or the pass would leave the pair out of step until the next event.
	derived, derivedProj := derivedSF(b, res)
	for k, v := range derived {
		key := "s:" + k
		res.SFFields[k] = v
		res.SFBefore[k] = sfSide[key]
		res.Reasons["salesforce:"+k] = ReasonFollowsJira
		res.Checks = append(res.Checks, VerifyCheck{Key: key, Label: k, Side: WinnerSF, Want: derivedProj[k], Before: sfSide[key]})
		res.ExpectSF[key], res.ExpectJira[key] = derivedProj[k], derivedProj[k]
	}
	switch {
	case len(out.WriteJira) > 0:
		res.SourceTime = in.SF.Modstamp
	case len(out.WriteSF) > 0:
		res.SourceTime = in.Jira.Updated
	}
	return res, nil
}

// sidesOf computes both sides' comparable projections from fetched state; Verify and the
// read-only check use it to compare exactly what Transform compares.
func sidesOf(b *mappings.Bound, sf *FetchSalesforceResult, jira *JiraState) (sfSide, jiraSide mappings.Projection, err error) {
	fields := mergeFields(b)
	var desired *mappings.Desired
	if sf != nil && sf.Found {
		values := sf.Values
		desired, err = b.ToJira(b.Mapping.Salesforce.Object+" "+sf.SfID, func(p string) (any, bool) { v, ok := values[p]; return v, ok })
		if err != nil {
			return nil, nil, err
		}
	}
	var values map[string]any
	if sf != nil {
		values = sf.Values
	}
	s, j := sideProjections(b, fields, desired, values, jira)
	return s, j, nil
}

// canonString renders a Salesforce or Jira value for audit rows.
func canonString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	default:
		return fmt.Sprint(t)
	}
}

// derivedSF predicts the Jira → Salesforce values of the fields that read what this plan writes
// to Jira (the status and resolution, or a field mapped both ways into another Salesforce
// field), and returns those that differ from the record.
func derivedSF(b *mappings.Bound, res *TransformResult) (map[string]any, mappings.Projection) {
	predicted := map[string]json.RawMessage{}
	if res.Status != "" {
		predicted[keyStatus], _ = json.Marshal(map[string]any{"name": res.Status})
		if res.Resolution != "" {
			predicted[keyResolution], _ = json.Marshal(map[string]any{"name": res.Resolution})
		} else {
			predicted[keyResolution] = json.RawMessage("null")
		}
	}
	// Only the Jira fields some jira_to_sf-only field reads matter (both-way fields are decided
	// by the merge); skipping the rest saves encoding and decoding e.g. every description.
	for _, bf := range b.Fields {
		if !bf.FlowsToSF() || bf.FlowsToJira() {
			continue
		}
		if v, ok := res.JiraFields[bf.JiraID]; ok {
			if _, done := predicted[bf.JiraID]; !done {
				predicted[bf.JiraID], _ = json.Marshal(v)
			}
		}
	}
	if len(predicted) == 0 {
		return nil, nil
	}
	out := map[string]any{}
	after := b.ToSalesforce(predicted)
	afterProj := b.ProjectSalesforceValues(after)
	for _, bf := range b.Fields {
		if !bf.FlowsToSF() || bf.FlowsToJira() {
			continue // both-way fields are decided by the merge itself
		}
		if _, touched := predicted[bf.JiraID]; !touched {
			continue
		}
		if res.SFSide["s:"+bf.SF] != afterProj[bf.SF] {
			out[bf.SF] = after[bf.SF]
		}
	}
	return out, afterProj
}

// deferBatchFields drops the writes of fields marked `sync: batch` from a change-capture pass
// and holds their snapshot keys, so the reconcile schedule still sees them as changed and
// writes them in bulk (hybrid mode).
func deferBatchFields(b *mappings.Bound, out *mergeOutcome) {
	batch := map[string]bool{}
	for _, bf := range b.Fields {
		if bf.Sync != mappings.SyncBatch {
			continue
		}
		if bf.FlowsToJira() {
			batch["j:"+bf.JiraID] = true
		} else {
			batch["s:"+bf.SF] = true
		}
	}
	if len(batch) == 0 {
		return
	}
	keep := func(fs []mergeField) []mergeField {
		var kept []mergeField
		for _, f := range fs {
			if batch[f.Key] {
				out.Held = append(out.Held, f.Key)
				continue
			}
			kept = append(kept, f)
		}
		return kept
	}
	out.WriteJira = keep(out.WriteJira)
	out.WriteSF = keep(out.WriteSF)
}

// sfProblem returns the first (by field name) problem among the Salesforce fields a pass is
// about to write from Jira, as a non-retryable error with its catalog code.
func sfProblem(js JiraState, fields []string) error {
	sort.Strings(fields)
	for _, f := range fields {
		if p, ok := js.SFProblems[f]; ok {
			return classify(&p)
		}
	}
	return nil
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
