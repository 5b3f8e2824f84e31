package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

// Drift kinds a reconciliation classifies.
const (
	// DriftMissingTarget is a Salesforce record in scope that has no linked Jira issue.
	DriftMissingTarget = "missing_target"
	// DriftOrphanLink is a link whose Salesforce record or Jira issue no longer exists.
	DriftOrphanLink = "orphan_link"
	// DriftField is a linked pair where a side differs from the last-synced snapshot (a change
	// that change capture missed).
	DriftField = "field_drift"
	// DriftMappingChanged is a linked pair last synced with another version of its mapping: it is
	// synced again with the current one, so a changed mapping leaves no old values behind.
	DriftMappingChanged = "mapping_changed"
	// DriftUnlinkedDuplicate is a Jira issue carrying an origin whose pair is linked to another
	// issue: reported, never deleted automatically.
	DriftUnlinkedDuplicate = "unlinked_duplicate"
)

// DriftKinds lists the kinds in report order.
var DriftKinds = []string{DriftMissingTarget, DriftOrphanLink, DriftField, DriftMappingChanged, DriftUnlinkedDuplicate}

const (
	reconcileExamplesPerKind = 5
	// ReconcileWatermarkMargin is subtracted from the previous run's start before the
	// incremental Jira scan, covering clock skew and JQL's minute precision.
	ReconcileWatermarkMargin = 2 * time.Minute
)

// ReconcileInput names the pair to reconcile. Full reads every Jira issue in full instead of
// only those updated since the last repairing run.
type ReconcileInput struct {
	Pair   string
	DryRun bool
	Full   bool
}

// DriftExample is one finding, for the report's first examples.
type DriftExample struct {
	Kind      string
	OriginKey string
	SfID      string
	IssueKey  string
	Detail    string
}

// ReconcileReport is what one reconciliation found and repaired.
type ReconcileReport struct {
	Pair     string
	DryRun   bool
	FullScan bool
	// Since is the watermark of the incremental Jira scan (zero when every issue was read).
	Since      time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	Seconds    float64
	// ScannedSF and ScannedJira count the records and issues seen; JiraRead the issues read in
	// full (the incremental part); Linked the pairs compared.
	ScannedSF   int
	ScannedJira int
	JiraRead    int
	Linked      int
	Found       map[string]int
	Repaired    map[string]int
	// HandedOff counts findings passed to their per-record RecordSync (creates, deletes,
	// conflicts, and repairs that did not verify).
	HandedOff int
	Examples  []DriftExample
}

// Total is the number of findings of every kind.
func (r *ReconcileReport) Total() int {
	n := 0
	for _, v := range r.Found {
		n += v
	}
	return n
}

type reconcileState struct {
	rep     *ReconcileReport
	byOrig  map[string]*store.PairSummary
	bySF    map[string]*store.PairSummary
	byIssue map[string]*store.PairSummary
	seenSF  map[string]bool
	drift   map[string]bool // origin keys with field drift
	// remapped are the drifted origin keys last synced with another mapping version.
	remapped map[string]bool
	handoff  map[string]store.PairSummary
	missing  []string // Salesforce ids without a linked issue or a back-link: created in bulk
}

func (st *reconcileState) find(kind, origin, sfID, key, detail string) {
	st.rep.Found[kind]++
	n := 0
	for _, e := range st.rep.Examples {
		if e.Kind == kind {
			n++
		}
	}
	if n < reconcileExamplesPerKind {
		st.rep.Examples = append(st.rep.Examples, DriftExample{Kind: kind, OriginKey: origin, SfID: sfID, IssueKey: key, Detail: detail})
	}
}

// Reconcile compares a pair's two systems with the last-synced state and repairs the drift
// (design §4.7): it reads every Salesforce record in scope (SOQL pages of 2,000), every Jira issue
// id of the project (5,000 a page) and, in full, the issues updated since the last repairing run;
// compares the mapped projections by hash with the pair state; classifies what differs; and
// repairs field drift in bulk through the same transform, merge, verify and record steps as a
// sync; missing targets are created through the bulk backfill path (createMissing). Deletes,
// conflicts and whatever fails in bulk go to the pairs' RecordSync workflows. With DryRun it
// only reports. The report is stored in reconcile_runs.
func (a *Activities) Reconcile(ctx context.Context, in ReconcileInput) (*ReconcileReport, error) {
	b, err := a.Mappings.Bound(ctx, in.Pair)
	if err != nil {
		return nil, err
	}
	m := b.Mapping
	start := time.Now().UTC()
	rep := &ReconcileReport{Pair: in.Pair, DryRun: in.DryRun, StartedAt: start, Found: map[string]int{}, Repaired: map[string]int{}}
	for _, k := range DriftKinds {
		rep.Found[k], rep.Repaired[k] = 0, 0
	}
	if !in.Full {
		last, err := a.Store.LastRepairRun(ctx, in.Pair)
		switch {
		case err == nil:
			rep.Since = last.StartedAt.Add(-ReconcileWatermarkMargin).UTC()
		case !errors.Is(err, store.ErrNotFound):
			return nil, classify(err)
		}
	}
	rep.FullScan = rep.Since.IsZero()
	st := &reconcileState{rep: rep, byOrig: map[string]*store.PairSummary{}, bySF: map[string]*store.PairSummary{}, byIssue: map[string]*store.PairSummary{},
		seenSF: map[string]bool{}, drift: map[string]bool{}, remapped: map[string]bool{}, handoff: map[string]store.PairSummary{}}
	if err := a.Store.PairSummaries(ctx, in.Pair, func(p store.PairSummary) error {
		p2 := p
		st.byOrig[p.OriginKey] = &p2
		if p.SfID != "" {
			st.bySF[p.SfID] = &p2
		}
		if p.JiraIssueID != "" {
			st.byIssue[p.JiraIssueID] = &p2
		}
		return nil
	}); err != nil {
		return nil, classify(err)
	}
	activity.RecordHeartbeat(ctx, "scanning Salesforce")

	// 1. Every Salesforce record in scope, compared by hash with the snapshot.
	fields := mergeFields(b)
	soqlFields := m.SOQLFields()
	err = a.SF.QueryEach(ctx, m.SOQL(""), func(rec salesforce.Record) error {
		rep.ScannedSF++
		if rep.ScannedSF%10000 == 0 {
			activity.RecordHeartbeat(ctx, fmt.Sprintf("scanned %d Salesforce records", rep.ScannedSF))
		}
		sf := sfResultOfFields(m, soqlFields, rec)
		st.seenSF[sf.SfID] = true
		link := st.bySF[sf.SfID]
		if link == nil {
			link = st.byOrig["sf/"+sf.SfID]
		}
		if link == nil || link.State == "creating" && link.JiraIssueID == "" {
			detail := "no Jira issue"
			if sf.LinkedIssueID != "" {
				detail = "back-link " + sf.LinkedIssueID + " without a link row"
			}
			st.find(DriftMissingTarget, "sf/"+sf.SfID, sf.SfID, "", detail)
			if sf.LinkedIssueID != "" {
				// Its issue may exist: the per-record sync looks before it creates.
				st.handoff["sf/"+sf.SfID] = store.PairSummary{OriginKey: "sf/" + sf.SfID, SfID: sf.SfID}
			} else {
				st.missing = append(st.missing, sf.SfID)
			}
			return nil
		}
		if link.State != "linked" {
			return nil
		}
		rep.Linked++
		values := sf.Values
		d, err := b.ToJira(m.Salesforce.Object+" "+sf.SfID, func(p string) (any, bool) { v, ok := values[p]; return v, ok })
		if err != nil {
			st.find(DriftField, link.OriginKey, sf.SfID, link.JiraIssueKey, "cannot be mapped: "+rootText(err))
			st.handoff[link.OriginKey] = *link
			return nil
		}
		if link.HasSnapshot && link.MappingVersion != "" && link.MappingVersion != m.Version {
			st.find(DriftMappingChanged, link.OriginKey, sf.SfID, link.JiraIssueKey, "synced with mapping version "+link.MappingVersion+", now "+m.Version)
			st.drift[link.OriginKey] = true
			st.remapped[link.OriginKey] = true
			return nil
		}
		sfSide, _ := sideProjections(b, fields, d, values, nil)
		if !link.HasSnapshot || sfSide.Hash() != link.SfHash {
			st.find(DriftField, link.OriginKey, sf.SfID, link.JiraIssueKey, "Salesforce side differs from the last sync")
			st.drift[link.OriginKey] = true
		}
		return nil
	})
	if err != nil {
		return nil, classify(err)
	}

	// 2. Which issues exist (ids only: 5,000 a page).
	activity.RecordHeartbeat(ctx, "listing Jira issues")
	exists := map[string]bool{}
	if err := a.Jira.SearchEach(ctx, jira.SearchRequest{JQL: fmt.Sprintf(`project = "%s"`, m.Jira.Project), Fields: []string{"id"}, MaxResults: 5000},
		func(is *jira.Issue) error { exists[is.ID] = true; return nil }); err != nil {
		return nil, classify(err)
	}
	rep.ScannedJira = len(exists)

	// 3. Issues changed since the last repairing run (all of them on a full scan), in full.
	activity.RecordHeartbeat(ctx, "reading changed Jira issues")
	jql := fmt.Sprintf(`project = "%s"`, m.Jira.Project)
	if !rep.FullScan {
		jql += fmt.Sprintf(` AND updated >= "%s"`, rep.Since.Format("2006/01/02 15:04"))
	}
	jfields := append(b.JiraFieldIDs(), "updated")
	err = a.Jira.SearchEach(ctx, jira.SearchRequest{JQL: jql, Fields: jfields, Properties: []string{m.Jira.Property}, MaxResults: 100}, func(is *jira.Issue) error {
		rep.JiraRead++
		link := st.byIssue[is.ID]
		if link == nil {
			var p struct {
				Origin string `json:"origin"`
			}
			_ = json.Unmarshal(is.Properties[m.Jira.Property], &p)
			if other := st.byOrig[p.Origin]; p.Origin != "" && other != nil && other.JiraIssueID != "" && other.JiraIssueID != is.ID {
				st.find(DriftUnlinkedDuplicate, p.Origin, other.SfID, is.Key, "carries the origin of the pair linked to "+other.JiraIssueKey)
			}
			return nil
		}
		if link.State != "linked" || st.drift[link.OriginKey] {
			return nil
		}
		_, jiraSide := sideProjections(b, fields, nil, nil, jiraStateOf(b, is))
		if !link.HasSnapshot || jiraSide.Hash() != link.JiraHash {
			st.find(DriftField, link.OriginKey, link.SfID, is.Key, "Jira side differs from the last sync")
			st.drift[link.OriginKey] = true
		}
		return nil
	})
	if err != nil {
		return nil, classify(err)
	}

	// 4. Links whose records are gone.
	for _, l := range st.byOrig {
		if l.State != "linked" {
			continue
		}
		sfGone := l.SfID != "" && !st.seenSF[l.SfID]
		jiraGone := l.JiraIssueID != "" && !exists[l.JiraIssueID]
		if sfGone || jiraGone {
			what := "Salesforce record"
			if jiraGone {
				what = "Jira issue"
				if sfGone {
					what = "both records"
				}
			}
			st.find(DriftOrphanLink, l.OriginKey, l.SfID, l.JiraIssueKey, what+" gone")
			st.handoff[l.OriginKey] = *l
			delete(st.drift, l.OriginKey)
		}
	}
	sort.Slice(rep.Examples, func(i, j int) bool {
		if rep.Examples[i].Kind != rep.Examples[j].Kind {
			return rep.Examples[i].Kind < rep.Examples[j].Kind
		}
		return rep.Examples[i].OriginKey < rep.Examples[j].OriginKey
	})

	// 5. Repairs.
	if !in.DryRun {
		activity.RecordHeartbeat(ctx, "repairing")
		var drifted []store.PairSummary
		for o := range st.drift {
			drifted = append(drifted, *st.byOrig[o])
		}
		sort.Slice(drifted, func(i, j int) bool { return drifted[i].OriginKey < drifted[j].OriginKey })
		repaired, more, err := a.repairDrift(ctx, b, in.Pair, drifted)
		if err != nil {
			return nil, err
		}
		remappedLeft := 0
		for _, p := range more {
			st.handoff[p.OriginKey] = p
			if st.remapped[p.OriginKey] {
				remappedLeft++
			}
		}
		if n := len(st.remapped); n > 0 {
			rep.Repaired[DriftMappingChanged] = n - remappedLeft
			repaired -= n - remappedLeft
		}
		rep.Repaired[DriftField] = repaired
		created, handed, err := a.createMissing(ctx, b, in.Pair, st.missing)
		if err != nil {
			return nil, err
		}
		rep.Repaired[DriftMissingTarget] = created
		rep.HandedOff += handed
		if a.Syncs != nil {
			for _, o := range sortedSummaryKeys(st.handoff) {
				p := st.handoff[o]
				req := SyncStart{OriginKey: p.OriginKey, Pair: in.Pair, SfObject: m.Salesforce.Object, SfID: p.SfID, JiraIssueID: p.JiraIssueID,
					JiraProject: m.Jira.Project, Trigger: "reconcile", Source: "operator"}
				if err := a.Syncs.StartSync(ctx, req); err != nil {
					return nil, newError(catalog.JiraUnavailable, fmt.Sprintf("could not hand %s to its per-record sync: %v", p.OriginKey, err), err)
				}
				rep.HandedOff++
			}
		}
	}
	rep.FinishedAt = time.Now().UTC()
	rep.Seconds = rep.FinishedAt.Sub(start).Seconds()
	body, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	info := activity.GetInfo(ctx)
	run := store.ReconcileRun{Pair: in.Pair, WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, DryRun: in.DryRun,
		FullScan: rep.FullScan, StartedAt: start, Report: body}
	if !rep.FullScan {
		since := rep.Since
		run.Since = &since
	}
	if err := a.Store.SaveReconcileRun(ctx, run); err != nil {
		return nil, classify(err)
	}
	a.Metrics.ReconcileFinished(in.Pair, rep.Total())
	a.Log.Info("reconciled", zap.String("pair", in.Pair), zap.Bool("dry_run", in.DryRun), zap.Int("found", rep.Total()),
		zap.Int("repaired", rep.Repaired[DriftField]), zap.Int("handed_off", rep.HandedOff), zap.Float64("seconds", rep.Seconds))
	return rep, nil
}

// createMissing creates the Jira issues of Salesforce records in scope that have none through
// the bulk backfill path (bulk create 50 a call, bulk transitions, composite back-links, bulk
// verification, batched bookkeeping), a page of records at a time, instead of one RecordSync per
// record. Records that fail there go to their RecordSync (counted in handed). A retried run finds
// the create intents and adopts what the earlier attempt created.
func (a *Activities) createMissing(ctx context.Context, b *mappings.Bound, pair string, sfIDs []string) (created, handed int, err error) {
	m := b.Mapping
	sort.Strings(sfIDs)
	for start := 0; start < len(sfIDs); start += DefaultBulkPageSize {
		chunk := sfIDs[start:min(start+DefaultBulkPageSize, len(sfIDs))]
		quoted := make([]string, len(chunk))
		for i, id := range chunk {
			quoted[i] = "'" + soqlEscape(id) + "'"
		}
		var rows []salesforce.Record
		if err := a.SF.QueryEach(ctx, m.SOQL("Id IN ("+strings.Join(quoted, ",")+")")+" ORDER BY Id", func(r salesforce.Record) error {
			rows = append(rows, r)
			return nil
		}); err != nil {
			return created, handed, classify(err)
		}
		res := &BulkPageResult{Records: len(rows)}
		job := bulkJob{b: b, pair: pair, jiraProject: m.Jira.Project, conc: DefaultBulkConcurrency, trigger: "reconcile",
			beat: func(stage string) { activity.RecordHeartbeat(ctx, "missing targets: "+stage) }}
		if err := a.bulkSyncRecords(ctx, job, rows, res); err != nil {
			return created, handed, err
		}
		created += res.Created + res.Adopted
		handed += res.HandedOff
	}
	return created, handed, nil
}

func sortedSummaryKeys(m map[string]store.PairSummary) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type driftRepair struct {
	p        store.PairSummary
	sf       *FetchSalesforceResult
	jira     *JiraState
	plan     *TransformResult
	jiraChg  []FieldChange
	sfChg    []FieldChange
	verified bool
}

// repairDrift repairs linked pairs with field drift in bulk: both sides are read in bulk, each
// pair is planned by the same transform and three-way merge as a RecordSync pass, Jira edits go
// out a few at a time (Jira has no bulk edit with per-issue values), Salesforce writes in
// composite collections of 200, both sides are read back in bulk and checked, and the verified
// snapshots and audit rows are committed in one transaction. Pairs whose plan needs more (a
// create, a delete, a conflict) or that do not verify are returned for their RecordSync.
func (a *Activities) repairDrift(ctx context.Context, b *mappings.Bound, pair string, drifted []store.PairSummary) (int, []store.PairSummary, error) {
	if len(drifted) == 0 {
		return 0, nil, nil
	}
	m := b.Mapping
	sfs, issues, err := a.readPairs(ctx, b, drifted)
	if err != nil {
		return 0, nil, err
	}
	var more []store.PairSummary
	var work []*driftRepair
	for _, p := range drifted {
		sf, js := sfs[p.SfID], issues[p.JiraIssueID]
		if sf == nil || js == nil {
			more = append(more, p)
			continue
		}
		plan, err := a.Transform(ctx, TransformInput{Pair: pair, OriginKey: p.OriginKey, SF: *sf, Jira: *js})
		if err != nil || plan.Skip != "" || plan.DeleteAction != "" || plan.CreateJira || plan.CreateSalesforce ||
			len(plan.Conflicts) > 0 || len(plan.AppliedConflicts) > 0 || len(plan.Held) > 0 {
			more = append(more, p)
			continue
		}
		work = append(work, &driftRepair{p: p, sf: sf, jira: js, plan: plan})
	}
	// Jira edits and status moves, 8 at a time.
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, w := range work {
		if len(w.plan.JiraFields) == 0 && w.plan.Status == "" {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(w *driftRepair) {
			defer wg.Done()
			defer func() { <-sem }()
			var chg []FieldChange
			err := func() error {
				// Jira refuses issuelinks in edit requests: the issue-link lookup is written apart.
				fields, linkWant, hasLink := splitIssueLink(b, w.plan.JiraFields)
				if len(fields) > 0 {
					if err := a.Jira.EditIssue(ctx, w.jira.IssueID, fields); err != nil {
						return err
					}
					for _, f := range sortedAnyKeys(fields) {
						chg = append(chg, FieldChange{Action: "update", Field: f, Label: label(b, f), Before: strPtr(w.jira.Projection[f]), After: strPtr(projectionOf(b, f, fields[f]))})
					}
				}
				if hasLink {
					lc, err := a.writeIssueLink(ctx, b, w.jira.IssueID, linkWant)
					if err != nil {
						return err
					}
					chg = append(chg, lc...)
				}
				cur := w.jira.Projection
				if w.plan.Status != "" && (cur[keyStatus] != w.plan.Status || cur[keyResolution] != w.plan.Resolution) {
					if err := a.moveToStatus(ctx, b, w.jira.IssueID, cur[keyStatus], w.plan.Status, w.plan.Resolution); err != nil {
						return err
					}
					chg = append(chg, FieldChange{Action: "transition", Field: keyStatus, Label: "Status", Before: strPtr(cur[keyStatus]), After: strPtr(w.plan.Status)})
				}
				return nil
			}()
			mu.Lock()
			defer mu.Unlock()
			var apiErr *jira.APIError
			switch {
			case err == nil:
				w.jiraChg = chg
			case errors.As(err, &apiErr) && !apiErr.Retryable():
				w.plan = nil // a 4xx for this issue: its RecordSync classifies and dead-letters it
			default:
				if firstErr == nil {
					firstErr = classify(err)
				}
			}
		}(w)
	}
	wg.Wait()
	if firstErr != nil {
		return 0, nil, firstErr
	}
	// Salesforce writes in composite collections.
	var recs []salesforce.Record
	var owners []*driftRepair
	for _, w := range work {
		if w.plan == nil || len(w.plan.SFFields) == 0 {
			continue
		}
		rec := salesforce.Record{"attributes": map[string]any{"type": m.Salesforce.Object}, "Id": w.sf.SfID}
		for _, k := range sortedAnyKeys(w.plan.SFFields) {
			rec[k] = w.plan.SFFields[k]
			w.sfChg = append(w.sfChg, FieldChange{Action: "update", Field: k, Label: k, Before: strPtr(w.plan.SFBefore[k]), After: strPtr(canonString(w.plan.SFFields[k]))})
		}
		recs = append(recs, rec)
		owners = append(owners, w)
	}
	if len(recs) > 0 {
		out, err := a.SF.CompositeUpdate(ctx, recs, false)
		if err != nil {
			return 0, nil, classify(err)
		}
		for i, r := range out {
			if !r.Success {
				owners[i].plan = nil
			}
		}
	}
	// Read back and check what was written, then record.
	var live []store.PairSummary
	for _, w := range work {
		if w.plan != nil {
			live = append(live, w.p)
		} else {
			more = append(more, w.p)
		}
	}
	sfs2, issues2, err := a.readPairs(ctx, b, live)
	if err != nil {
		return 0, nil, err
	}
	info := activity.GetInfo(ctx)
	now := time.Now().UTC()
	var items []store.BulkCommit
	for _, w := range work {
		if w.plan == nil {
			continue
		}
		sf, js := sfs2[w.p.SfID], issues2[w.p.JiraIssueID]
		ok := sf != nil && js != nil
		if ok {
			sfSide, jiraSide, err := sidesOf(b, sf, js)
			ok = err == nil
			for _, c := range w.plan.Checks {
				got := jiraSide[c.Key]
				if c.Side == WinnerSF {
					got = sfSide[c.Key]
				}
				if got != c.Want && got == c.Before {
					ok = false
				}
			}
		}
		if !ok {
			more = append(more, w.p)
			continue
		}
		expSF, expJira := w.plan.ExpectSF, w.plan.ExpectJira
		if expSF == nil {
			expSF, expJira = w.plan.SFSide, w.plan.JiraSide
		}
		ps := store.PairState{OriginKey: w.p.OriginKey, Pair: pair, MappingVersion: w.plan.MappingVersion,
			SfSnapshot: copyProj(expSF), JiraSnapshot: copyProj(expJira), SfHash: mappings.Projection(expSF).Hash(), JiraHash: mappings.Projection(expJira).Hash(),
			SfModstamp: parseTime(sf.Modstamp), JiraUpdated: parseTime(js.Updated), SyncedAt: now,
			WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID}
		var rows []store.AuditEntry
		add := func(system, target, prefix, direction string, cs []FieldChange) {
			for _, c := range cs {
				rows = append(rows, store.AuditEntry{At: now, Actor: a.actor(), WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
					Pass: 1, OriginKey: w.p.OriginKey, Pair: pair, Direction: direction, TargetSystem: system, TargetID: target,
					Action: c.Action, Field: c.Field, Before: c.Before, After: c.After, MappingVersion: w.plan.MappingVersion,
					DecidedBy: strings.TrimSpace("reconcile " + w.plan.Reasons[prefix+c.Field])})
			}
		}
		add("jira", w.p.JiraIssueID, "jira:", DirectionSFToJira, w.jiraChg)
		add("salesforce", w.p.SfID, "salesforce:", DirectionJiraToSF, w.sfChg)
		rows, err := a.protectAudit(ctx, rows)
		if err != nil {
			return 0, nil, err
		}
		items = append(items, store.BulkCommit{Link: store.Link{OriginKey: w.p.OriginKey, Pair: pair, SfObject: m.Salesforce.Object, SfID: w.p.SfID,
			JiraIssueID: w.p.JiraIssueID, JiraIssueKey: w.p.JiraIssueKey}, State: ps, Audit: rows})
	}
	if err := a.Store.CommitBulk(ctx, items); err != nil {
		return 0, nil, classify(err)
	}
	return len(items), more, nil
}

// readPairs reads both sides of the given pairs in bulk: SOQL Id IN (1,000 a query) and the
// enhanced JQL search by ids (100 a page).
func (a *Activities) readPairs(ctx context.Context, b *mappings.Bound, ps []store.PairSummary) (map[string]*FetchSalesforceResult, map[string]*JiraState, error) {
	m := b.Mapping
	sfs := map[string]*FetchSalesforceResult{}
	issues := map[string]*JiraState{}
	var sfIDs, issueIDs []string
	for _, p := range ps {
		if p.SfID != "" {
			sfIDs = append(sfIDs, "'"+p.SfID+"'")
		}
		if p.JiraIssueID != "" {
			issueIDs = append(issueIDs, p.JiraIssueID)
		}
	}
	for start := 0; start < len(sfIDs); start += soqlInChunk {
		chunk := sfIDs[start:min(start+soqlInChunk, len(sfIDs))]
		if err := a.SF.QueryEach(ctx, m.SOQL("Id IN ("+strings.Join(chunk, ",")+")"), func(rec salesforce.Record) error {
			r := sfResultOf(m, rec)
			sfs[r.SfID] = &r
			return nil
		}); err != nil {
			return nil, nil, classify(err)
		}
	}
	if err := a.searchByIDs(ctx, issueIDs, append(b.JiraFieldIDs(), "updated"), func(is *jira.Issue) { issues[is.ID] = jiraStateOf(b, is) }); err != nil {
		return nil, nil, err
	}
	return sfs, issues, nil
}

// SalesforceSideHash is the hash reconciliation compares with a pair's sf_hash for one
// Salesforce record as SOQL returns it (exported for the benchmark's bulk ceiling).
func SalesforceSideHash(b *mappings.Bound, rec salesforce.Record) (string, error) {
	sf := sfResultOf(b.Mapping, rec)
	values := sf.Values
	d, err := b.ToJira(b.Mapping.Salesforce.Object+" "+sf.SfID, func(p string) (any, bool) { v, ok := values[p]; return v, ok })
	if err != nil {
		return "", err
	}
	s, _ := sideProjections(b, mergeFields(b), d, values, nil)
	return s.Hash(), nil
}

// JiraSideHash is the hash reconciliation compares with a pair's jira_hash for one issue.
func JiraSideHash(b *mappings.Bound, is *jira.Issue) string {
	_, j := sideProjections(b, mergeFields(b), nil, nil, jiraStateOf(b, is))
	return j.Hash()
}
