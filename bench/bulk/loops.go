package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/mappings"
)

// The two comparison loops of every scenario. Both use the same clients, mapping and emulators as
// the connector; neither uses Temporal or PostgreSQL.

// conc is the connector's own bound on bulk calls in flight, so the ceiling is like for like.
const conc = activities.DefaultBulkConcurrency

// parallel runs fn over chunks of n items, conc at a time, and returns the first error.
func parallel(n, size int, fn func(start, end int) error) error { return parallelN(n, size, conc, fn) }

// parallelN is parallel with its own bound (the connector runs per-issue steps 16 at once).
func parallelN(n, size, conc int, fn func(start, end int) error) error {
	var mu sync.Mutex
	var first error
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for start := 0; start < n; start += size {
		end := min(start+size, n)
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(start, end); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

type ceilRec struct {
	id, origin    string
	desired       *mappings.Desired
	issueID, key  string
	status, resol string
	visited       map[string]bool
}

// ceilingBackfill makes the connector's bulk calls for every record in a tight loop: keyset SOQL
// pages of 2,000, transform, bulk create (50 a call), bulk transitions, composite back-links
// (200 a call), and the bulk read-back of both sides.
func ceilingBackfill(ctx context.Context, e *emus) error {
	b, m := e.bound, e.bound.Mapping
	after := ""
	var initial, initialRes string
	cache := map[string][]jira.Transition{}
	trace := os.Getenv("BENCH_TRACE") != ""
	t0 := time.Now()
	lap := func(what string) {
		if trace {
			fmt.Printf("    %-12s %v\n", what, time.Since(t0))
			t0 = time.Now()
		}
	}
	for {
		cond := ""
		if after != "" {
			cond = "Id > '" + after + "'"
		}
		page, err := e.sf.Query(ctx, m.SOQL(cond)+" ORDER BY Id LIMIT 2000")
		if err != nil {
			return err
		}
		if len(page.Records) == 0 {
			return nil
		}
		recs := make([]*ceilRec, len(page.Records))
		for i, r := range page.Records {
			rec := r
			d, err := b.ToJira("Opportunity "+r.ID(), func(p string) (any, bool) { return rec.Value(p) })
			if err != nil {
				return err
			}
			recs[i] = &ceilRec{id: r.ID(), origin: "sf/" + r.ID(), desired: d, visited: map[string]bool{}}
		}
		after = recs[len(recs)-1].id
		lap("read")
		// Like the connector: the first issues of the run are created plainly and tell the
		// initial status and its transitions; every other create carries its first step.
		createChunk := func(rs []*ceilRec, from []jira.Transition) error {
			in := make([]jira.IssueInput, 0, len(rs))
			steps := make([]*jira.Transition, len(rs))
			sets := make([]string, len(rs))
			for i, r := range rs {
				f := map[string]any{"project": map[string]any{"key": m.Jira.Project}, "issuetype": map[string]any{"name": m.Jira.IssueType}}
				for k, v := range r.desired.Fields {
					if v != nil {
						f[k] = v
					}
				}
				ii := jira.IssueInput{Fields: f, Properties: []jira.EntityProperty{{Key: m.Jira.Property, Value: map[string]any{"origin": r.origin}}}}
				if from != nil && r.desired.Status != "" && !strings.EqualFold(r.desired.Status, initial) {
					t, _, screen, set, ok := activities.ChooseTransition(m, from, r.desired, map[string]bool{strings.ToLower(initial): true}, false)
					if ok && !(screen && r.desired.Resolution != activities.BulkDefaultResolution) {
						ii.Transition = &jira.TransitionRef{ID: t.ID}
						steps[i], sets[i] = t, set
					}
				}
				in = append(in, ii)
			}
			out, err := e.jira.BulkCreate(ctx, in)
			if err != nil {
				return err
			}
			if len(out.Errors) > 0 {
				return fmt.Errorf("bulk create: %+v", out.Errors[0])
			}
			for i, is := range out.Issues {
				r := rs[i]
				r.issueID, r.key = is.ID, is.Key
				r.status, r.resol = initial, initialRes
				if t := steps[i]; t != nil && is.Transition.Applied() {
					r.status = t.To.Name
					if t.To.CategoryKey == "done" {
						r.resol = activities.BulkDefaultResolution
						if sets[i] != "" {
							r.resol = sets[i]
						}
					}
				}
			}
			return nil
		}
		rest := recs
		if initial == "" {
			first := recs[:min(jira.MaxBulkCreate, len(recs))]
			rest = recs[len(first):]
			if err := createChunk(first, nil); err != nil {
				return err
			}
			is, err := e.jira.GetIssue(ctx, first[0].issueID, []string{"status", "resolution"}, nil)
			if err != nil {
				return err
			}
			initial, initialRes = is.StatusName(), is.ResolutionName()
			for _, r := range first {
				r.status, r.resol = initial, initialRes
			}
			ts, err := e.jira.Transitions(ctx, first[0].issueID)
			if err != nil {
				return err
			}
			cache[strings.ToLower(initial)] = ts
		}
		if err := parallel(len(rest), jira.MaxBulkCreate, func(s, t int) error { return createChunk(rest[s:t], cache[strings.ToLower(initial)]) }); err != nil {
			return err
		}
		lap("create")
		if err := ceilingTransitions(ctx, e, recs, cache); err != nil {
			return err
		}
		lap("transitions")
		var ups []salesforce.Record
		for _, r := range recs {
			ups = append(ups, salesforce.Record{"attributes": map[string]any{"type": m.Salesforce.Object}, "Id": r.id,
				m.Salesforce.ExternalIDField: r.issueID, m.Salesforce.KeyField: r.key, "Jira_Status__c": r.status, "Jira_Resolution__c": r.resol})
		}
		if err := parallel(len(ups), salesforce.CollectionBatchSize, func(s, t int) error {
			res, err := e.sf.CompositeUpdate(ctx, ups[s:t], false)
			if err != nil {
				return err
			}
			for _, x := range res {
				if !x.Success {
					return fmt.Errorf("back-link: %+v", x.Errors)
				}
			}
			return nil
		}); err != nil {
			return err
		}
		lap("backlinks")
		// Read back both sides.
		fields := append(b.JiraFieldIDs(), "updated")
		if err := parallel(len(recs), 100, func(s, t int) error {
			ids := make([]string, 0, t-s)
			for _, r := range recs[s:t] {
				ids = append(ids, r.issueID)
			}
			n := 0
			err := e.jira.SearchEach(ctx, jira.SearchRequest{JQL: "id in (" + strings.Join(ids, ",") + ")", Fields: fields, MaxResults: 100}, func(*jira.Issue) error { n++; return nil })
			if err == nil && n != len(ids) {
				err = fmt.Errorf("read back %d of %d issues", n, len(ids))
			}
			return err
		}); err != nil {
			return err
		}
		if err := parallel(len(recs), 1000, func(s, t int) error {
			ids := make([]string, 0, t-s)
			for _, r := range recs[s:t] {
				ids = append(ids, "'"+r.id+"'")
			}
			return e.sf.QueryEach(ctx, m.SOQL("Id IN ("+strings.Join(ids, ",")+")"), func(salesforce.Record) error { return nil })
		}); err != nil {
			return err
		}
		lap("verify")
		if len(page.Records) < 2000 {
			return nil
		}
	}
}

// ceilingTransitions moves the issues like the connector: one bulk call per round for every
// group, one issue at a time only where a resolution must be set on the screen.
func ceilingTransitions(ctx context.Context, e *emus, recs []*ceilRec, cache map[string][]jira.Transition) error {
	m := e.bound.Mapping
	for round := 0; round < 8; round++ {
		steps := map[string][]*ceilRec{}
		to := map[string]*jira.Transition{}
		set := map[string]string{}
		var single []*ceilRec
		var singleT []*jira.Transition
		for _, r := range recs {
			want := r.desired.Status
			if want == "" || (strings.EqualFold(r.status, want) && (r.desired.Resolution == "" || strings.EqualFold(r.resol, r.desired.Resolution))) {
				continue
			}
			st := strings.ToLower(r.status)
			ts, ok := cache[st]
			if !ok {
				var err error
				if ts, err = e.jira.Transitions(ctx, r.issueID); err != nil {
					return err
				}
				cache[st] = ts
			}
			r.visited[st] = true
			pick, _, screen, sets, ok := activities.ChooseTransition(m, ts, r.desired, r.visited, strings.EqualFold(r.status, want))
			if !ok {
				return fmt.Errorf("%s cannot reach %s", r.status, want)
			}
			if screen && r.desired.Resolution != activities.BulkDefaultResolution {
				single, singleT = append(single, r), append(singleT, pick)
				continue
			}
			steps[pick.ID] = append(steps[pick.ID], r)
			to[pick.ID], set[pick.ID] = pick, sets
		}
		if len(steps) == 0 && len(single) == 0 {
			return nil
		}
		var in []jira.BulkTransitionInput
		for id, rs := range steps {
			bi := jira.BulkTransitionInput{TransitionID: id}
			for _, r := range rs {
				bi.SelectedIssueIdsOrKeys = append(bi.SelectedIssueIdsOrKeys, r.issueID)
			}
			in = append(in, bi)
		}
		if len(in) > 0 {
			if _, err := e.jira.BulkTransition(ctx, in, 20*time.Millisecond); err != nil {
				return err
			}
			for id, rs := range steps {
				for _, r := range rs {
					r.status = to[id].To.Name
					switch {
					case to[id].To.CategoryKey != "done":
						r.resol = ""
					case set[id] != "":
						r.resol = set[id]
					default:
						r.resol = activities.BulkDefaultResolution
					}
				}
			}
		}
		if err := parallelN(len(single), 1, 16, func(s, _ int) error {
			r, t := single[s], singleT[s]
			if err := e.jira.DoTransition(ctx, r.issueID, t.ID, map[string]any{"resolution": map[string]any{"name": r.desired.Resolution}}); err != nil {
				return err
			}
			r.status, r.resol = t.To.Name, r.desired.Resolution
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// naiveBackfill is the DIY script: for each record, read it, create its issue, write the
// back-link, one call after another.
func naiveBackfill(ctx context.Context, e *emus, n int) error {
	b, m := e.bound, e.bound.Mapping
	var ids []string
	if err := e.sf.QueryEach(ctx, fmt.Sprintf("SELECT Id FROM Opportunity ORDER BY Id LIMIT %d", n), func(r salesforce.Record) error {
		ids = append(ids, r.ID())
		return nil
	}); err != nil {
		return err
	}
	e.mark()
	for _, id := range ids {
		res, err := e.sf.Query(ctx, m.SOQL("Id = '"+id+"'"))
		if err != nil {
			return err
		}
		rec := res.Records[0]
		d, err := b.ToJira("Opportunity "+id, func(p string) (any, bool) { return rec.Value(p) })
		if err != nil {
			return err
		}
		f := map[string]any{"project": map[string]any{"key": m.Jira.Project}, "issuetype": map[string]any{"name": m.Jira.IssueType}}
		for k, v := range d.Fields {
			if v != nil {
				f[k] = v
			}
		}
		is, err := e.jira.CreateIssue(ctx, jira.IssueInput{Fields: f, Properties: []jira.EntityProperty{{Key: m.Jira.Property, Value: map[string]any{"origin": "sf/" + id}}}})
		if err != nil {
			return err
		}
		if err := e.sf.Update(ctx, m.Salesforce.Object, id, map[string]any{m.Salesforce.ExternalIDField: is.ID, m.Salesforce.KeyField: is.Key}); err != nil {
			return err
		}
	}
	return nil
}

// ceilingReconcile makes the reconcile's bulk calls in a tight loop against snapshot hashes
// held in memory: the SOQL scan, the Jira id scan, the incremental JQL read, the bulk re-read
// of drifted pairs, their repairs (Jira edits, Salesforce composite updates) and the read-back.
func ceilingReconcile(ctx context.Context, e *emus, hashes map[string]*pairHash, since time.Time) (int, error) {
	b, m := e.bound, e.bound.Mapping
	byIssue := map[string]*pairHash{}
	for _, h := range hashes {
		byIssue[h.issueID] = h
	}
	sfDrift, jiraDrift := map[string]*pairHash{}, map[string]*pairHash{}
	if err := e.sf.QueryEach(ctx, m.SOQL(""), func(r salesforce.Record) error {
		h := hashes[r.ID()]
		got, err := activities.SalesforceSideHash(b, r)
		if err != nil {
			return err
		}
		if h != nil && got != h.sfHash {
			sfDrift[h.issueID] = h
		}
		return nil
	}); err != nil {
		return 0, err
	}
	if err := e.jira.SearchEach(ctx, jira.SearchRequest{JQL: "project = SFJ", Fields: []string{"id"}, MaxResults: 5000}, func(*jira.Issue) error { return nil }); err != nil {
		return 0, err
	}
	fields := append(b.JiraFieldIDs(), "updated")
	jql := fmt.Sprintf(`project = SFJ AND updated >= "%s"`, since.UTC().Format("2006/01/02 15:04"))
	if err := e.jira.SearchEach(ctx, jira.SearchRequest{JQL: jql, Fields: fields, Properties: []string{m.Jira.Property}, MaxResults: 100}, func(is *jira.Issue) error {
		if h := byIssue[is.ID]; h != nil && sfDrift[is.ID] == nil && activities.JiraSideHash(b, is) != h.jiraHash {
			jiraDrift[is.ID] = h
		}
		return nil
	}); err != nil {
		return 0, err
	}
	// Re-read the drifted pairs, repair, read back.
	all := map[string]*pairHash{}
	for k, v := range sfDrift {
		all[k] = v
	}
	for k, v := range jiraDrift {
		all[k] = v
	}
	issues, sfRecs, err := readBoth(ctx, e, all)
	if err != nil {
		return 0, err
	}
	var jiraEdits []func() error
	var ups []salesforce.Record
	for id, h := range all {
		is, rec := issues[id], sfRecs[h.sfID]
		if is == nil || rec == nil {
			continue
		}
		if sfDrift[id] != nil {
			d, err := b.ToJira("Opportunity "+h.sfID, func(p string) (any, bool) { return rec.Value(p) })
			if err != nil {
				return 0, err
			}
			cur := b.ProjectJira(is.Fields)
			edit := map[string]any{}
			for k, v := range d.Fields {
				if d.Projection[k] != cur[k] {
					edit[k] = v
				}
			}
			jiraEdits = append(jiraEdits, func() error { return e.jira.EditIssue(ctx, id, edit) })
			continue
		}
		vals := b.ToSalesforce(is.Fields)
		up := salesforce.Record{"attributes": map[string]any{"type": m.Salesforce.Object}, "Id": h.sfID}
		for _, bf := range b.Fields {
			if bf.FlowsToSF() && bf.FlowsToJira() {
				up[bf.SF] = vals[bf.SF]
			}
		}
		ups = append(ups, up)
	}
	if err := parallel(len(jiraEdits), 1, func(s, _ int) error { return jiraEdits[s]() }); err != nil {
		return 0, err
	}
	if _, err := e.sf.CompositeUpdate(ctx, ups, false); err != nil {
		return 0, err
	}
	if _, _, err := readBoth(ctx, e, all); err != nil {
		return 0, err
	}
	return len(jiraEdits) + len(ups), nil
}

func readBoth(ctx context.Context, e *emus, ps map[string]*pairHash) (map[string]*jira.Issue, map[string]salesforce.Record, error) {
	b, m := e.bound, e.bound.Mapping
	issues := map[string]*jira.Issue{}
	recs := map[string]salesforce.Record{}
	var ids, sfIDs []string
	for id, h := range ps {
		ids = append(ids, id)
		sfIDs = append(sfIDs, "'"+h.sfID+"'")
	}
	fields := append(b.JiraFieldIDs(), "updated")
	for s := 0; s < len(ids); s += 100 {
		chunk := ids[s:min(s+100, len(ids))]
		if err := e.jira.SearchEach(ctx, jira.SearchRequest{JQL: "id in (" + strings.Join(chunk, ",") + ")", Fields: fields, MaxResults: 100}, func(is *jira.Issue) error {
			c := *is
			issues[is.ID] = &c
			return nil
		}); err != nil {
			return nil, nil, err
		}
	}
	for s := 0; s < len(sfIDs); s += 1000 {
		chunk := sfIDs[s:min(s+1000, len(sfIDs))]
		if err := e.sf.QueryEach(ctx, m.SOQL("Id IN ("+strings.Join(chunk, ",")+")"), func(r salesforce.Record) error {
			recs[r.ID()] = r
			return nil
		}); err != nil {
			return nil, nil, err
		}
	}
	return issues, recs, nil
}

// naiveReconcile compares pairs one at a time: read the record, read the issue, compare hashes.
func naiveReconcile(ctx context.Context, e *emus, hashes map[string]*pairHash, n int) error {
	b, m := e.bound, e.bound.Mapping
	i := 0
	for _, h := range hashes {
		if i >= n {
			break
		}
		i++
		res, err := e.sf.Query(ctx, m.SOQL("Id = '"+h.sfID+"'"))
		if err != nil {
			return err
		}
		if len(res.Records) == 1 {
			_, _ = activities.SalesforceSideHash(b, res.Records[0])
		}
		is, err := e.jira.GetIssue(ctx, h.issueID, append(b.JiraFieldIDs(), "updated"), nil)
		if err != nil {
			return err
		}
		_ = activities.JiraSideHash(b, is)
	}
	return nil
}

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

var _ = json.Marshal
var _ = strconv.Itoa
