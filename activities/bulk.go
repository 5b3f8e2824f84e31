package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
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

// Bulk backfill (design §4.7): one activity per page of Salesforce records does what RecordSync
// does per record, with the bulk APIs: one SOQL page, bulk transform, Jira bulk create (50 a
// call), bulk transitions, Salesforce composite back-links (200 a call), a bulk read-back of both
// sides, and one transaction for links, snapshots and audit. Records that fail at any step leave
// the page and go to their per-record RecordSync workflow (and from there to dead letters).

const (
	// DefaultBulkPageSize is the SOQL page of a bulk backfill.
	DefaultBulkPageSize = 2000
	// DefaultBulkConcurrency bounds the bulk calls a page has in flight at once.
	DefaultBulkConcurrency = 8
	// BulkDefaultResolution is the resolution a transition into a done status leaves when no
	// screen value is given (Jira's templates set Done in a post-function). Bulk transitions
	// cannot fill screens, so records that want another resolution take that last step one
	// issue at a time; the bulk read-back catches a site whose default differs.
	BulkDefaultResolution = "Done"
	// maxBulkFailuresReported caps the failures carried in a page result.
	maxBulkFailuresReported = 20
	// soqlInChunk is how many ids go into one SOQL Id IN (…) read-back (well under the
	// 100,000-character statement limit).
	soqlInChunk = 2000
	// bulkWorkflowTTL bounds how long a worker trusts what it learned about the Jira workflow
	// (initial status, transitions per status) before asking again.
	bulkWorkflowTTL = 5 * time.Minute
)

// bulkWorkflowCache keeps, per Activities instance and project/issue type, the workflow facts
// every bulk page needs (the initial status and the transitions of each status), so pages after
// the first spend no calls on them. A stale entry only costs a failed transition, which the
// page reports and the per-record path repairs.
var bulkWorkflowCache = &workflowCache{m: map[workflowKey]*workflowFacts{}}

type workflowKey struct {
	a         *Activities
	issueType string // project/issue type
}

type workflowFacts struct {
	at          time.Time
	initial     [2]string
	haveInitial bool
	trans       map[string][]jira.Transition
}

type workflowCache struct {
	mu sync.Mutex
	m  map[workflowKey]*workflowFacts
}

func (c *workflowCache) get(k workflowKey) *workflowFacts {
	f := c.m[k]
	if f == nil || time.Since(f.at) > bulkWorkflowTTL {
		f = &workflowFacts{at: time.Now(), trans: map[string][]jira.Transition{}}
		c.m[k] = f
	}
	return f
}

func (c *workflowCache) initial(k workflowKey) ([2]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.get(k)
	return f.initial, f.haveInitial
}

func (c *workflowCache) setInitial(k workflowKey, v [2]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.get(k)
	f.initial, f.haveInitial = v, true
}

// transitions returns a copy of the cached transitions by (lower-cased) status.
func (c *workflowCache) transitions(k workflowKey) map[string][]jira.Transition {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string][]jira.Transition{}
	for st, v := range c.get(k).trans {
		out[st] = v
	}
	return out
}

func (c *workflowCache) setTransitions(k workflowKey, status string, ts []jira.Transition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.get(k).trans[status] = ts
}

func (a *Activities) workflowKeyOf(m *mappings.Mapping) workflowKey {
	return workflowKey{a: a, issueType: m.Jira.Project + "/" + m.Jira.IssueType}
}

// CountInScopeInput names the pair whose records are counted.
type CountInScopeInput struct {
	Pair string
}

// CountInScope counts the records a pair syncs (SELECT COUNT()), for progress and ETA.
func (a *Activities) CountInScope(ctx context.Context, in CountInScopeInput) (int, error) {
	m, err := a.Mappings.Mapping(in.Pair)
	if err != nil {
		return 0, err
	}
	q := "SELECT COUNT() FROM " + m.Salesforce.Object
	if w := strings.TrimSpace(m.Salesforce.Where); w != "" {
		q += " WHERE " + w
	}
	res, err := a.SF.Query(ctx, q)
	if err != nil {
		return 0, classify(err)
	}
	return res.TotalSize, nil
}

// BulkPageInput is one page of a bulk backfill: the records with Id > AfterID (and, when UpTo
// is set, Id <= UpTo), in id order, at most PageSize of them.
type BulkPageInput struct {
	Pair        string
	SfObject    string
	JiraProject string
	AfterID     string
	// UpTo bounds the page from above, so pages planned by BulkPageBounds can run at the same
	// time without overlapping; empty means open-ended.
	UpTo        string
	PageSize    int
	Concurrency int
}

// BulkBoundsInput asks where the next MaxPages pages of a backfill end.
type BulkBoundsInput struct {
	Pair     string
	AfterID  string
	PageSize int
	MaxPages int
}

// BulkBounds lists where the pages of one backfill run end, so the workflow can run several
// pages at once instead of waiting for each page to learn where the next one starts.
type BulkBounds struct {
	// Ends holds the last id of each full page after AfterID, in id order.
	Ends []string
	// Complete says fewer than MaxPages full pages remain: the records after the last end (if
	// any) make one open-ended last page, and the backfill ends with this run.
	Complete bool
}

// BulkPageBounds reads the ids in scope after AfterID (ids only: 2,000 a call) and returns
// every PageSize-th one, at most MaxPages of them.
func (a *Activities) BulkPageBounds(ctx context.Context, in BulkBoundsInput) (*BulkBounds, error) {
	m, err := a.Mappings.Mapping(in.Pair)
	if err != nil {
		return nil, err
	}
	size := in.PageSize
	if size <= 0 || size > DefaultBulkPageSize {
		size = DefaultBulkPageSize
	}
	pages := max(in.MaxPages, 1)
	var conds []string
	if w := strings.TrimSpace(m.Salesforce.Where); w != "" {
		conds = append(conds, "("+w+")")
	}
	if in.AfterID != "" {
		conds = append(conds, fmt.Sprintf("Id > '%s'", soqlEscape(in.AfterID)))
	}
	q := "SELECT Id FROM " + m.Salesforce.Object
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY Id LIMIT " + strconv.Itoa(pages*size)
	out := &BulkBounds{}
	n := 0
	err = a.SF.QueryEach(ctx, q, func(rec salesforce.Record) error {
		n++
		if n%size == 0 {
			out.Ends = append(out.Ends, rec.ID())
		}
		if n%20000 == 0 {
			activity.RecordHeartbeat(ctx, n)
		}
		return nil
	})
	if err != nil {
		return nil, classify(err)
	}
	out.Complete = n < pages*size
	return out, nil
}

// BulkFailure is a record that left the bulk path, with its catalog code.
type BulkFailure struct {
	SfID    string
	Code    string
	Message string
}

// BulkPageResult counts what one page did. LastID is the cursor of the next page; Last says no
// records follow (in the page's range, when it has an upper bound).
type BulkPageResult struct {
	Records       int
	LastID        string
	Last          bool
	Created       int
	Adopted       int
	AlreadyLinked int
	Failed        int
	HandedOff     int
	Failures      []BulkFailure
}

// BulkCheckpoint is the heartbeat detail of a page: the issues created so far, so a retried
// attempt (a restarted worker) adopts them instead of searching Jira or creating them again.
type BulkCheckpoint struct {
	AfterID string
	Stage   string
	Created map[string][2]string // origin key → issue id, key
}

type bulkRec struct {
	sf       FetchSalesforceResult
	origin   string
	desired  *mappings.Desired
	sfSide   mappings.Projection
	issueID  string
	issueKey string
	status   string
	resol    string
	visited  map[string]bool
	created  bool
	route    statusRoute
	moved    []FieldChange
	backlink []FieldChange
	failed   *BulkFailure
}

func (r *bulkRec) fail(code catalog.Code, msg string) {
	if r.failed == nil {
		r.failed = &BulkFailure{SfID: r.sf.SfID, Code: string(code), Message: string(code) + ": " + msg}
	}
}

func (r *bulkRec) ok() bool { return r.failed == nil }

// BulkSyncPage syncs one page of a pair's Salesforce records to Jira with the bulk APIs. It is
// idempotent: intents are recorded before the creates, created issues are kept in the heartbeat
// checkpoint and the link table, and a retried page adopts what an earlier attempt created
// (by checkpoint, link row, then origin-property search) instead of creating it again.
func (a *Activities) BulkSyncPage(ctx context.Context, in BulkPageInput) (*BulkPageResult, error) {
	b, err := a.Mappings.Bound(ctx, in.Pair)
	if err != nil {
		return nil, err
	}
	m := b.Mapping
	size := in.PageSize
	if size <= 0 || size > DefaultBulkPageSize {
		size = DefaultBulkPageSize
	}
	conc := in.Concurrency
	if conc <= 0 {
		conc = DefaultBulkConcurrency
	}
	cp := BulkCheckpoint{AfterID: in.AfterID, Created: map[string][2]string{}}
	if activity.HasHeartbeatDetails(ctx) {
		var prev BulkCheckpoint
		if err := activity.GetHeartbeatDetails(ctx, &prev); err == nil && prev.AfterID == in.AfterID && prev.Created != nil {
			cp.Created = prev.Created
		}
	}
	var cpMu sync.Mutex
	// Time per stage, logged with the page: where a page's wall time goes.
	var stages []zap.Field
	stageAt := time.Now()
	beat := func(stage string) {
		cpMu.Lock()
		defer cpMu.Unlock()
		if stage != cp.Stage && cp.Stage != "" {
			stages = append(stages, zap.Duration(strings.ReplaceAll(cp.Stage, " ", "_"), time.Since(stageAt)))
			stageAt = time.Now()
		}
		cp.Stage = stage
		activity.RecordHeartbeat(ctx, cp)
	}
	beat("reading")

	var conds []string
	if in.AfterID != "" {
		conds = append(conds, fmt.Sprintf("Id > '%s'", soqlEscape(in.AfterID)))
	}
	if in.UpTo != "" {
		conds = append(conds, fmt.Sprintf("Id <= '%s'", soqlEscape(in.UpTo)))
	}
	page, err := a.SF.Query(ctx, m.SOQL(strings.Join(conds, " AND "))+" ORDER BY Id LIMIT "+strconv.Itoa(size))
	if err != nil {
		return nil, classify(err)
	}
	res := &BulkPageResult{Records: len(page.Records), Last: len(page.Records) < size, LastID: in.AfterID}
	if in.UpTo != "" && len(page.Records) > 0 && page.Records[len(page.Records)-1].ID() == in.UpTo {
		res.Last = true // the bounded range is done (records added inside it meanwhile would make it longer)
	}
	if len(page.Records) == 0 {
		res.Last = true
		return res, nil
	}
	res.LastID = page.Records[len(page.Records)-1].ID()
	job := bulkJob{b: b, pair: in.Pair, jiraProject: in.JiraProject, conc: conc, trigger: "backfill", beat: beat,
		remember: func(created []*bulkRec) {
			cpMu.Lock()
			for _, r := range created {
				cp.Created[r.origin] = [2]string{r.issueID, r.issueKey}
			}
			cpMu.Unlock()
			beat("creating issues")
		},
		earlier: func(origin string) [2]string {
			cpMu.Lock()
			defer cpMu.Unlock()
			return cp.Created[origin]
		}}
	if err := a.bulkSyncRecords(ctx, job, page.Records, res); err != nil {
		return nil, err
	}
	beat("done")
	a.Log.Info("bulk page synced", append([]zap.Field{zap.String("pair", in.Pair), zap.Int("records", res.Records), zap.Int("created", res.Created),
		zap.Int("adopted", res.Adopted), zap.Int("already_linked", res.AlreadyLinked), zap.Int("failed", res.Failed)}, stages...)...)
	return res, nil
}

// bulkJob is what a bulk pass over a set of Salesforce records needs besides the records.
type bulkJob struct {
	b                 *mappings.Bound
	pair, jiraProject string
	conc              int
	// trigger names who asked ("backfill", "reconcile"): handed-off syncs and audit rows carry it.
	trigger string
	beat    func(stage string)
	// remember keeps issues as they are created (the page's heartbeat checkpoint); earlier
	// returns what an earlier attempt remembered for an origin. Both may be nil.
	remember func([]*bulkRec)
	earlier  func(origin string) [2]string
}

func (j bulkJob) decidedBy() string { return j.trigger }

// bulkSyncRecords syncs Salesforce records (SOQL rows of the pair's mapping) to Jira with the
// bulk APIs: it records create intents, adopts what an earlier attempt created, creates the
// rest 50 a call, moves statuses in bulk, writes back-links 200 a call, verifies both sides by
// bulk read and records links, snapshots and audit rows in one transaction. Records that fail
// go to their own RecordSync. The counts go into res.
func (a *Activities) bulkSyncRecords(ctx context.Context, job bulkJob, rows []salesforce.Record, res *BulkPageResult) error {
	beat := job.beat
	if beat == nil {
		beat = func(string) { activity.RecordHeartbeat(ctx, "bulk sync") }
	}
	m := job.b.Mapping
	b := job.b
	recs := make([]*bulkRec, 0, len(rows))
	keys := make([]string, 0, len(rows))
	soqlFields := m.SOQLFields()
	for _, rec := range rows {
		r := &bulkRec{sf: sfResultOfFields(m, soqlFields, rec)}
		r.origin = "sf/" + r.sf.SfID
		recs = append(recs, r)
		keys = append(keys, r.origin)
	}

	links, err := a.Store.LinksByOrigin(ctx, keys)
	if err != nil {
		return classify(err)
	}
	synced, err := a.Store.SyncedOrigins(ctx, keys)
	if err != nil {
		return classify(err)
	}
	var work, intents, search []*bulkRec
	fields := mergeFields(b)
	others := m.Status.ResolutionTransitions()
	for _, r := range recs {
		l := links[r.origin]
		if l != nil && l.State == "linked" && l.JiraIssueID != "" && synced[r.origin] && r.sf.LinkedIssueID == l.JiraIssueID {
			res.AlreadyLinked++
			continue
		}
		if l != nil && l.State == "deleted" {
			res.AlreadyLinked++
			continue
		}
		values := r.sf.Values
		d, err := b.ToJira(fmt.Sprintf("%s %s", m.Salesforce.Object, r.sf.SfID), func(p string) (any, bool) { v, ok := values[p]; return v, ok })
		if err != nil {
			r.fail(catalog.Code(ErrorCode(classify(err))), rootText(err))
			work = append(work, r)
			continue
		}
		r.desired = d
		r.route = statusRoute{target: d.Status, resolution: d.Resolution, via: d.Transition, others: others}
		if r.route.via == "" {
			r.route.via = m.Status.TransitionFor(d.Status, d.Resolution)
		}
		r.sfSide, _ = sideProjections(b, fields, d, values, nil)
		r.sf.Values = nil // everything later reads desired and sfSide; two pages in flight hold less
		work = append(work, r)
		switch {
		case l != nil && l.JiraIssueID != "":
			r.issueID, r.issueKey = l.JiraIssueID, l.JiraIssueKey
		case job.earlier != nil && job.earlier(r.origin)[0] != "":
			e := job.earlier(r.origin)
			r.issueID, r.issueKey = e[0], e[1]
		case l != nil:
			search = append(search, r)
		default:
			intents = append(intents, r)
		}
	}
	if len(work) == 0 {
		return nil
	}

	// Intent rows first (design §4.2), then look for issues an earlier attempt created.
	beat("recording intents")
	var il []store.Link
	for _, r := range intents {
		il = append(il, store.Link{OriginKey: r.origin, Pair: job.pair, SfObject: m.Salesforce.Object, SfID: r.sf.SfID})
	}
	if err := a.Store.RecordCreateIntents(ctx, il); err != nil {
		return classify(err)
	}
	if len(search) > 0 {
		beat("looking for issues an earlier attempt created")
		if err := a.adoptByOrigin(ctx, m, search); err != nil {
			return err
		}
	}

	// Bulk create, 50 a call, a bounded number of calls at once.
	var toCreate []*bulkRec
	for _, r := range work {
		if r.ok() && r.issueID == "" {
			toCreate = append(toCreate, r)
		}
	}
	beat("creating issues")
	remember := job.remember
	if remember == nil {
		remember = func([]*bulkRec) { beat("creating issues") }
	}
	refused, err := a.bulkCreate(ctx, b, job.pair, toCreate, job.conc, remember)
	if err != nil {
		return err
	}
	if err := a.Store.DropCreateIntents(ctx, refused); err != nil {
		return classify(err)
	}
	slimWritten(b, work)
	var newLinks []store.Link
	for _, r := range work {
		if r.issueID != "" {
			newLinks = append(newLinks, store.Link{OriginKey: r.origin, Pair: job.pair, SfObject: m.Salesforce.Object,
				SfID: r.sf.SfID, JiraIssueID: r.issueID, JiraIssueKey: r.issueKey})
			if r.created {
				res.Created++
			} else {
				res.Adopted++
			}
		}
	}
	if err := a.Store.SaveLinks(ctx, newLinks); err != nil {
		return classify(err)
	}

	// Statuses: created issues sit in the workflow's initial status; adopted ones are read.
	beat("moving statuses")
	if err := a.bulkStatuses(ctx, m, work, beat); err != nil {
		return err
	}

	// Back-links (and the fields Jira reports back) with composite collections, 200 a call.
	beat("writing back-links")
	if err := a.bulkBacklinks(ctx, b, work, job.conc); err != nil {
		return err
	}

	// Verify by bulk read of both sides, then record everything in one transaction.
	beat("verifying")
	verified, err := a.bulkVerify(ctx, b, work, job.conc)
	if err != nil {
		return err
	}
	beat("recording")
	if err := a.bulkCommit(ctx, job.pair, m, work, verified, job.decidedBy()); err != nil {
		return err
	}

	// Records that failed go to their own RecordSync workflow (and from there to dead letters).
	for _, r := range work {
		if r.ok() {
			continue
		}
		res.Failed++
		if len(res.Failures) < maxBulkFailuresReported {
			res.Failures = append(res.Failures, *r.failed)
		}
		if a.Syncs != nil {
			if err := a.Syncs.StartSync(ctx, SyncStart{OriginKey: r.origin, Pair: job.pair, SfObject: m.Salesforce.Object, SfID: r.sf.SfID,
				JiraProject: job.jiraProject, Trigger: job.trigger, Source: "operator"}); err != nil {
				return newError(catalog.JiraUnavailable, fmt.Sprintf("could not hand %s %s to its per-record sync: %v", m.Salesforce.Object, r.sf.SfID, err), err)
			}
			res.HandedOff++
		}
	}
	return nil
}

// written stands for a field value that was sent to Jira and is no longer needed.
type written struct{}

// slimWritten drops the wire values of the fields the create sent (ADF documents are the bulk of
// a page's memory) once the issues exist: later steps only need which fields were written,
// except the fields a Jira → Salesforce field reads back, which keep their values.
func slimWritten(b *mappings.Bound, work []*bulkRec) {
	keep := map[string]bool{}
	for _, bf := range b.Fields {
		if bf.FlowsToSF() && !bf.FlowsToJira() {
			keep[bf.JiraID] = true
		}
	}
	for _, r := range work {
		if r.desired == nil {
			continue
		}
		slim := make(map[string]any, len(r.desired.Fields))
		for k, v := range r.desired.Fields {
			if v != nil && !keep[k] {
				v = written{}
			}
			slim[k] = v
		}
		r.desired.Fields = slim
	}
}

// sfResultOf turns one SOQL row into what FetchSalesforce returns for it.
func sfResultOf(m *mappings.Mapping, rec salesforce.Record) FetchSalesforceResult {
	return sfResultOfFields(m, m.SOQLFields(), rec)
}

// sfResultOfFields is sfResultOf with the mapping's SOQL fields worked out once per page.
func sfResultOfFields(m *mappings.Mapping, soqlFields []string, rec salesforce.Record) FetchSalesforceResult {
	out := FetchSalesforceResult{Found: true, SfID: rec.ID(), Values: make(map[string]any, len(soqlFields))}
	for _, f := range soqlFields {
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
	return out
}

// jiraStateOf maps one issue read in bulk as FetchJira maps a single one.
func jiraStateOf(b *mappings.Bound, is *jira.Issue) *JiraState {
	st := &JiraState{Found: true, IssueID: is.ID, IssueKey: is.Key}
	fields := b.WithRichTextRendered(is.Fields) // each ADF document parsed once for both reads
	st.Projection = b.ProjectJira(fields)
	st.SFValues = b.ToSalesforce(fields)
	st.SFProjection = b.ProjectSalesforceValues(st.SFValues)
	st.LookupKeys = b.LinkedIssueKeys(is.Fields)
	st.SFProblems = b.SalesforceProblems("Jira issue "+is.Key, is.Fields)
	st.Updated = is.FieldString("updated")
	return st
}

func rootText(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i > 0 && strings.ToUpper(msg[:i]) == msg[:i] {
		return msg[i+2:]
	}
	return msg
}

// adoptByOrigin finds issues carrying the records' origin property (an earlier attempt created
// them but did not live to record it), waiting out Jira's search-index lag once if some are
// missing. Records found twice fail with JIRA_DUPLICATE_ISSUES.
func (a *Activities) adoptByOrigin(ctx context.Context, m *mappings.Mapping, recs []*bulkRec) error {
	byOrigin := map[string]*bulkRec{}
	for _, r := range recs {
		byOrigin[r.origin] = r
	}
	look := func(list []*bulkRec) error {
		for start := 0; start < len(list); start += 100 {
			chunk := list[start:min(start+100, len(list))]
			quoted := make([]string, len(chunk))
			for i, r := range chunk {
				quoted[i] = `"` + r.origin + `"`
			}
			jql := fmt.Sprintf(`project = "%s" AND issue.property[%s].origin in (%s)`, m.Jira.Project, m.Jira.Property, strings.Join(quoted, ", "))
			err := a.Jira.SearchEach(ctx, jira.SearchRequest{JQL: jql, Fields: []string{"key"}, Properties: []string{m.Jira.Property}, MaxResults: 100},
				func(is *jira.Issue) error {
					var p struct {
						Origin string `json:"origin"`
					}
					_ = json.Unmarshal(is.Properties[m.Jira.Property], &p)
					r := byOrigin[p.Origin]
					if r == nil {
						return nil
					}
					if r.issueID != "" && r.issueID != is.ID {
						r.fail(catalog.JiraDuplicateIssues, fmt.Sprintf("issues %s and %s both carry origin %s", r.issueKey, is.Key, r.origin))
						return nil
					}
					r.issueID, r.issueKey = is.ID, is.Key
					return nil
				})
			if err != nil {
				return classify(err)
			}
		}
		return nil
	}
	if err := look(recs); err != nil {
		return err
	}
	var missing []*bulkRec
	for _, r := range recs {
		if r.issueID == "" && r.ok() {
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	deadline := time.Now().Add(a.searchLagWindow())
	for time.Now().Before(deadline) {
		activity.RecordHeartbeat(ctx, "waiting for Jira search index")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return look(missing)
}

// bulkCreate creates the issues of recs with POST /issue/bulk, conc calls at once, the origin
// property set in the create request itself. Each issue is created one step along its way to
// the planned status: the create request carries the first transition out of the workflow's
// initial status (Jira applies it on create), so issues mapped to a status one step away need
// no transition call at all. The first create of a worker learns the initial status and its
// transitions from the first issues created. It returns the origin keys Jira refused (nothing
// was created for them); a call that fails as a whole fails the activity, to be retried.
func (a *Activities) bulkCreate(ctx context.Context, b *mappings.Bound, pair string, recs []*bulkRec, conc int, done func([]*bulkRec)) ([]string, error) {
	m := b.Mapping
	key := a.workflowKeyOf(m)
	var mu sync.Mutex
	var refused []string
	var firstErr error
	createChunk := func(chunk []*bulkRec, initial [2]string, from []jira.Transition) {
		inputs := make([]jira.IssueInput, len(chunk))
		steps := make([]*stepChoice, len(chunk))
		// Jira refuses issuelinks in create requests: an issue-link lookup is written once the
		// issue exists (see writeIssueLink).
		links := map[int]any{}
		for i, r := range chunk {
			fields := map[string]any{"project": map[string]any{"key": m.Jira.Project}, "issuetype": map[string]any{"name": m.Jira.IssueType}}
			rest, want, hasLink := splitIssueLink(b, r.desired.Fields)
			if hasLink && want != nil {
				links[i] = want
			}
			for k, v := range rest {
				if v != nil {
					fields[k] = v
				}
			}
			inputs[i] = jira.IssueInput{Fields: fields, Properties: []jira.EntityProperty{{Key: m.Jira.Property, Value: map[string]any{
				"origin": r.origin, "pair": pair, "sf_object": m.Salesforce.Object, "sf_id": r.sf.SfID}}}}
			if from != nil && r.desired.Status != "" && !strings.EqualFold(r.desired.Status, initial[0]) {
				c, ok := chooseStep(from, r.route, map[string]bool{strings.ToLower(initial[0]): true}, false)
				if ok && !(c.screen && !strings.EqualFold(r.desired.Resolution, BulkDefaultResolution)) {
					inputs[i].Transition = &jira.TransitionRef{ID: c.t.ID}
					steps[i] = &c
				}
			}
		}
		out, err := a.Jira.BulkCreate(ctx, inputs)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if firstErr == nil {
				firstErr = classify(err)
			}
			return
		}
		failed := map[int]bool{}
		for _, e := range out.Errors {
			failed[e.FailedElementNumber] = true
			r := chunk[e.FailedElementNumber]
			var msgs []string
			msgs = append(msgs, e.Messages...)
			for _, k := range sortedKeys(e.Errors) {
				msgs = append(msgs, k+": "+e.Errors[k])
			}
			r.fail(catalog.JiraValidation, fmt.Sprintf("Jira refused to create the issue of %s %s: %s", m.Salesforce.Object, r.sf.SfID, strings.Join(msgs, "; ")))
			refused = append(refused, r.origin)
		}
		var created []*bulkRec
		i := 0
		for idx, r := range chunk {
			if failed[idx] {
				continue
			}
			if i >= len(out.Issues) {
				break
			}
			is := out.Issues[i]
			r.issueID, r.issueKey, r.created = is.ID, is.Key, true
			r.status, r.resol = initial[0], initial[1]
			if c := steps[idx]; c != nil {
				if is.Transition.Applied() {
					r.moveTo(c.t, c.sets)
				} else {
					r.status = "" // not moved on create: read it back before moving it
				}
			}
			if want, ok := links[idx]; ok {
				// One link a record (Jira has no bulk link call); a failure sends the record on to
				// its per-record sync, which adopts the created issue and writes the link.
				if _, err := a.writeIssueLink(ctx, b, r.issueID, want); err != nil {
					code := catalog.Code(ErrorCode(err))
					if code == "" {
						code = catalog.JiraUnavailable
					}
					r.fail(code, fmt.Sprintf("write the %s issue link of %s %s: %v", b.Mapping.Jira.IssueType, m.Salesforce.Object, r.sf.SfID, err))
				}
			}
			created = append(created, r)
			i++
		}
		done(created)
	}
	initial, known := bulkWorkflowCache.initial(key)
	if !known && len(recs) > 0 {
		// The first create of this worker: plain creates, then read where they landed.
		first := recs[:min(jira.MaxBulkCreate, len(recs))]
		recs = recs[len(first):]
		createChunk(first, [2]string{}, nil)
		if firstErr != nil {
			return refused, firstErr
		}
		var probe *bulkRec
		for _, r := range first {
			if r.issueID != "" {
				probe = r
				break
			}
		}
		if probe != nil {
			is, err := a.Jira.GetIssue(ctx, probe.issueID, []string{"status", "resolution"}, nil)
			if err != nil {
				return refused, classify(err)
			}
			initial, known = [2]string{is.StatusName(), is.ResolutionName()}, true
			if len(recs) > 0 {
				ts, err := a.Jira.Transitions(ctx, probe.issueID)
				if err != nil {
					return refused, classify(err)
				}
				bulkWorkflowCache.setTransitions(key, strings.ToLower(initial[0]), ts)
			}
			bulkWorkflowCache.setInitial(key, initial)
		}
		for _, r := range first {
			if r.issueID != "" {
				r.status, r.resol = initial[0], initial[1]
			}
		}
	}
	var from []jira.Transition
	if known && len(recs) > 0 {
		from = bulkWorkflowCache.transitions(key)[strings.ToLower(initial[0])] // nil: plain creates
	}
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for start := 0; start < len(recs); start += jira.MaxBulkCreate {
		chunk := recs[start:min(start+jira.MaxBulkCreate, len(recs))]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			createChunk(chunk, initial, from)
		}()
	}
	wg.Wait()
	return refused, firstErr
}

// bulkStatuses walks every issue to its planned status with bulk transitions: issues are grouped
// by the status they are in, one issue per status is asked for its transitions (cached), and
// each round moves every group one step with one bulk call. A resolution other than
// BulkDefaultResolution goes in bulk through the transition the mapping names for it (whose
// post-function sets it); only without one does the last step go issue by issue, with the
// resolution on the transition screen.
func (a *Activities) bulkStatuses(ctx context.Context, m *mappings.Mapping, work []*bulkRec, beat func(string)) error {
	key := a.workflowKeyOf(m)
	var unknown []*bulkRec
	for _, r := range work {
		if !r.ok() || r.issueID == "" || r.desired.Status == "" {
			continue
		}
		if r.status == "" {
			unknown = append(unknown, r)
		}
	}
	if err := a.readStatuses(ctx, unknown); err != nil {
		return err
	}
	cache := bulkWorkflowCache.transitions(key)
	for round := 0; round < 8; round++ {
		groups := map[string][]*bulkRec{}
		for _, r := range work {
			if !r.ok() || r.issueID == "" || r.desired.Status == "" {
				continue
			}
			atTarget := strings.EqualFold(r.status, r.desired.Status)
			if atTarget && (r.desired.Resolution == "" || strings.EqualFold(r.resol, r.desired.Resolution)) {
				continue
			}
			groups[strings.ToLower(r.status)] = append(groups[strings.ToLower(r.status)], r)
		}
		if len(groups) == 0 {
			return nil
		}
		type step struct {
			c    stepChoice
			recs []*bulkRec
		}
		steps := map[string]*step{}
		var single []*bulkRec
		var singleT []*jira.Transition
		for _, st := range sortedGroupKeys(groups) {
			rs := groups[st]
			ts, ok := cache[st]
			if !ok {
				var err error
				if ts, err = a.Jira.Transitions(ctx, rs[0].issueID); err != nil {
					return classify(err)
				}
				cache[st] = ts
				bulkWorkflowCache.setTransitions(key, st, ts)
			}
			for _, r := range rs {
				if r.visited == nil {
					r.visited = map[string]bool{}
				}
				r.visited[strings.ToLower(r.status)] = true
				needLeave := strings.EqualFold(r.status, r.desired.Status)
				c, ok := chooseStep(ts, r.route, r.visited, needLeave)
				if !ok {
					r.fail(catalog.JiraStatusUnreachable, fmt.Sprintf("issue %s: status %q cannot be reached from %q", r.issueKey, r.desired.Status, r.status))
					continue
				}
				if c.screen && !strings.EqualFold(r.desired.Resolution, BulkDefaultResolution) {
					single, singleT = append(single, r), append(singleT, c.t)
					continue
				}
				s := steps[c.t.ID]
				if s == nil {
					s = &step{c: c}
					steps[c.t.ID] = s
				}
				s.recs = append(s.recs, r)
			}
		}
		var inputs []jira.BulkTransitionInput
		byIssue := map[string]*bulkRec{}
		target := map[string]*stepChoice{}
		for _, id := range sortedStepKeys(steps) {
			s := steps[id]
			bi := jira.BulkTransitionInput{TransitionID: id}
			for _, r := range s.recs {
				bi.SelectedIssueIdsOrKeys = append(bi.SelectedIssueIdsOrKeys, r.issueID)
				byIssue[r.issueID] = r
				target[r.issueID] = &s.c
			}
			inputs = append(inputs, bi)
		}
		if len(inputs) > 0 {
			prog, err := a.Jira.BulkTransition(ctx, inputs, 20*time.Millisecond)
			if err != nil {
				return classify(err)
			}
			for _, id := range prog.ProcessedAccessibleIssues {
				sid := strconv.FormatInt(id, 10)
				r, c := byIssue[sid], target[sid]
				if r == nil {
					continue
				}
				r.moveTo(c.t, c.sets)
				delete(byIssue, sid)
			}
			for sid, reasons := range prog.FailedAccessibleIssues {
				if r := byIssue[sid]; r != nil {
					r.fail(catalog.JiraStatusUnreachable, fmt.Sprintf("issue %s: bulk transition failed: %s", r.issueKey, strings.Join(reasons, "; ")))
					delete(byIssue, sid)
				}
			}
			for _, r := range byIssue {
				r.fail(catalog.JiraNotFound, fmt.Sprintf("issue %s was not transitioned (invalid or not accessible)", r.issueKey))
			}
		}
		// The last step of records that want another resolution and have no transition that
		// sets it: one call each, with the resolution on the screen, 16 at once.
		var mu sync.Mutex
		var firstErr error
		sem := make(chan struct{}, 16)
		var wg sync.WaitGroup
		for i, r := range single {
			t := singleT[i]
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				err := a.Jira.DoTransition(ctx, r.issueID, t.ID, map[string]any{"resolution": map[string]any{"name": r.desired.Resolution}})
				mu.Lock()
				defer mu.Unlock()
				var apiErr *jira.APIError
				switch {
				case err == nil:
					r.moveTo(t, r.desired.Resolution)
				case errors.As(err, &apiErr) && !apiErr.Retryable():
					r.fail(catalog.JiraValidation, fmt.Sprintf("issue %s: transition %s: %v", r.issueKey, t.Name, err))
				case firstErr == nil:
					firstErr = classify(err)
				}
			}()
			if i%50 == 49 {
				beat("moving statuses one by one")
			}
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
	}
	for _, r := range work {
		if r.ok() && r.issueID != "" && r.desired.Status != "" && !strings.EqualFold(r.status, r.desired.Status) {
			r.fail(catalog.JiraStatusUnreachable, fmt.Sprintf("issue %s: status %q not reached from %q", r.issueKey, r.desired.Status, r.status))
		}
	}
	return nil
}

// moveTo records a transition taken: the status, and the resolution it leaves.
func (r *bulkRec) moveTo(t *jira.Transition, resolution string) {
	before, beforeRes := r.status, r.resol
	r.status = t.To.Name
	switch {
	case t.To.CategoryKey != "done":
		r.resol = ""
	case resolution != "":
		r.resol = resolution
	case r.resol == "":
		r.resol = BulkDefaultResolution
	}
	if !strings.EqualFold(before, r.status) {
		r.moved = append(r.moved, FieldChange{Action: "transition", Field: keyStatus, Label: "Status", Before: strPtr(before), After: strPtr(r.status)})
	}
	if beforeRes != r.resol {
		r.moved = append(r.moved, FieldChange{Action: "transition", Field: keyResolution, Label: "Resolution", Before: strPtr(beforeRes), After: strPtr(r.resol)})
	}
}

// readStatuses reads the status and resolution of issues an earlier attempt created.
func (a *Activities) readStatuses(ctx context.Context, recs []*bulkRec) error {
	byID := map[string]*bulkRec{}
	var ids []string
	for _, r := range recs {
		byID[r.issueID] = r
		ids = append(ids, r.issueID)
	}
	return a.searchByIDs(ctx, ids, []string{"status", "resolution"}, func(is *jira.Issue) {
		if r := byID[is.ID]; r != nil {
			r.status, r.resol = is.StatusName(), is.ResolutionName()
		}
	})
}

// searchByIDs reads issues by id with the enhanced JQL search, 100 a page, asking for
// read-after-write consistency on the ids (reconcileIssues takes 50).
func (a *Activities) searchByIDs(ctx context.Context, ids []string, fields []string, fn func(*jira.Issue)) error {
	for start := 0; start < len(ids); start += 100 {
		chunk := ids[start:min(start+100, len(ids))]
		var rec []int64
		for _, id := range chunk[:min(50, len(chunk))] {
			if n, err := strconv.ParseInt(id, 10, 64); err == nil {
				rec = append(rec, n)
			}
		}
		err := a.Jira.SearchEach(ctx, jira.SearchRequest{JQL: "id in (" + strings.Join(chunk, ",") + ")", Fields: fields, MaxResults: 100, ReconcileIssues: rec},
			func(is *jira.Issue) error { fn(is); return nil })
		if err != nil {
			return classify(err)
		}
	}
	return nil
}

// bulkBacklinks writes the Jira id and key, and the fields Jira reports back (status,
// resolution), to the Salesforce records with composite collections.
func (a *Activities) bulkBacklinks(ctx context.Context, b *mappings.Bound, work []*bulkRec, conc int) error {
	m := b.Mapping
	var list []*bulkRec
	var records []salesforce.Record
	for _, r := range work {
		if !r.ok() || r.issueID == "" {
			continue
		}
		rec := salesforce.Record{"attributes": map[string]any{"type": m.Salesforce.Object}, "Id": r.sf.SfID}
		add := func(field, before string, v any) {
			rec[field] = v
			action := "update"
			if field == m.Salesforce.ExternalIDField || field == m.Salesforce.KeyField {
				action = "link"
			}
			r.backlink = append(r.backlink, FieldChange{Action: action, Field: field, Label: field, Before: strPtr(before), After: strPtr(canonString(v))})
		}
		if r.sf.LinkedIssueID != r.issueID {
			add(m.Salesforce.ExternalIDField, r.sf.LinkedIssueID, r.issueID)
		}
		if m.Salesforce.KeyField != "" && r.sf.LinkedIssueKey != r.issueKey {
			add(m.Salesforce.KeyField, r.sf.LinkedIssueKey, r.issueKey)
		}
		plan := &TransformResult{Status: r.status, Resolution: r.resol, JiraFields: r.desired.Fields, SFSide: r.sfSide}
		derived, _ := derivedSF(b, plan)
		for _, k := range sortedAnyKeys(derived) {
			add(k, r.sfSide["s:"+k], derived[k])
		}
		if len(rec) > 2 {
			list = append(list, r)
			records = append(records, rec)
		}
	}
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for start := 0; start < len(records); start += salesforce.CollectionBatchSize {
		end := min(start+salesforce.CollectionBatchSize, len(records))
		sem <- struct{}{}
		wg.Add(1)
		go func(start, end int) {
			defer wg.Done()
			defer func() { <-sem }()
			out, err := a.SF.CompositeUpdate(ctx, records[start:end], false)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = classify(err)
				}
				return
			}
			for i, sr := range out {
				if sr.Success {
					continue
				}
				var msgs []string
				for _, e := range sr.Errors {
					msgs = append(msgs, e.StatusCode+": "+e.Message)
				}
				r := list[start+i]
				r.fail(catalog.SalesforceValidation, fmt.Sprintf("back-link to %s on %s %s: %s", r.issueKey, m.Salesforce.Object, r.sf.SfID, strings.Join(msgs, "; ")))
			}
		}(start, end)
	}
	wg.Wait()
	return firstErr
}

type verifiedPair struct {
	sfSide, jiraSide mappings.Projection
	sfModstamp       string
	jiraUpdated      string
}

// bulkVerify reads both sides back in bulk (JQL by ids, SOQL Id IN) and checks that they agree
// field by field and that the back-link holds the issue id.
func (a *Activities) bulkVerify(ctx context.Context, b *mappings.Bound, work []*bulkRec, conc int) (map[string]*verifiedPair, error) {
	m := b.Mapping
	var live []*bulkRec
	for _, r := range work {
		if r.ok() && r.issueID != "" {
			live = append(live, r)
		}
	}
	issues := map[string]*JiraState{}
	sfs := map[string]*FetchSalesforceResult{}
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	jfields := append(b.JiraFieldIDs(), "updated")
	for start := 0; start < len(live); start += 100 {
		chunk := live[start:min(start+100, len(live))]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ids := make([]string, len(chunk))
			for i, r := range chunk {
				ids[i] = r.issueID
			}
			got := map[string]*JiraState{}
			err := a.searchByIDs(ctx, ids, jfields, func(is *jira.Issue) { got[is.ID] = jiraStateOf(b, is) })
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			for k, v := range got {
				issues[k] = v
			}
		}()
	}
	for start := 0; start < len(live); start += soqlInChunk {
		chunk := live[start:min(start+soqlInChunk, len(live))]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ids := make([]string, len(chunk))
			for i, r := range chunk {
				ids[i] = "'" + r.sf.SfID + "'"
			}
			got := map[string]*FetchSalesforceResult{}
			soqlFields := m.SOQLFields()
			err := a.SF.QueryEach(ctx, m.SOQL("Id IN ("+strings.Join(ids, ",")+")"), func(rec salesforce.Record) error {
				r := sfResultOfFields(m, soqlFields, rec)
				got[r.SfID] = &r
				return nil
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = classify(err)
			}
			for k, v := range got {
				sfs[k] = v
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	out := map[string]*verifiedPair{}
	for _, r := range live {
		jr, sf := issues[r.issueID], sfs[r.sf.SfID]
		if jr == nil || sf == nil {
			r.fail(catalog.VerifyMismatch, fmt.Sprintf("pair %s: after writing, Salesforce found=%v and Jira found=%v", r.origin, sf != nil, jr != nil))
			continue
		}
		sfSide, jiraSide, err := sidesOf(b, sf, jr)
		if err != nil {
			r.fail(catalog.Code(ErrorCode(classify(err))), rootText(err))
			continue
		}
		var bad []string
		for _, k := range sortedKeys(sfSide) {
			if sfSide[k] != jiraSide[k] {
				bad = append(bad, fmt.Sprintf("%s: Salesforce %q, Jira %q", k, sfSide[k], jiraSide[k]))
			}
		}
		if sf.LinkedIssueID != r.issueID {
			bad = append(bad, fmt.Sprintf("back-link: %s holds %q, the issue is %s", m.Salesforce.ExternalIDField, sf.LinkedIssueID, r.issueID))
		}
		if len(bad) > 0 {
			r.fail(catalog.VerifyMismatch, fmt.Sprintf("pair %s (%s): %s", r.origin, r.issueKey, strings.Join(bad, "; ")))
			continue
		}
		out[r.origin] = &verifiedPair{sfSide: sfSide, jiraSide: jiraSide, sfModstamp: sf.Modstamp, jiraUpdated: jr.Updated}
	}
	return out, nil
}

// bulkCommit records the verified pairs: links, snapshots and audit rows in one transaction.
func (a *Activities) bulkCommit(ctx context.Context, pair string, m *mappings.Mapping, work []*bulkRec, verified map[string]*verifiedPair, decidedBy string) error {
	info := activity.GetInfo(ctx)
	now := time.Now().UTC()
	var items []store.BulkCommit
	for _, r := range work {
		v := verified[r.origin]
		if !r.ok() || v == nil {
			continue
		}
		ps := store.PairState{OriginKey: r.origin, Pair: pair, MappingVersion: m.Version,
			SfSnapshot: copyProj(v.sfSide), JiraSnapshot: copyProj(v.jiraSide), SfHash: v.sfSide.Hash(), JiraHash: v.jiraSide.Hash(),
			SfModstamp: parseTime(v.sfModstamp), JiraUpdated: parseTime(v.jiraUpdated), SyncedAt: now,
			WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID}
		var latency *int64
		if t := parseTime(r.sf.Modstamp); t != nil {
			ms := max(now.Sub(*t).Milliseconds(), 0)
			latency = &ms
		}
		var rows []store.AuditEntry
		add := func(system, target, direction string, c FieldChange) {
			rows = append(rows, store.AuditEntry{At: now, Actor: a.actor(), WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
				Pass: 1, OriginKey: r.origin, Pair: pair, Direction: direction, TargetSystem: system, TargetID: target,
				Action: c.Action, Field: c.Field, Before: c.Before, After: c.After, MappingVersion: m.Version, LatencyMS: latency, DecidedBy: decidedBy})
		}
		if r.created {
			for _, f := range sortedAnyKeys(r.desired.Fields) {
				if r.desired.Fields[f] == nil {
					continue
				}
				add("jira", r.issueID, DirectionSFToJira, FieldChange{Action: "create", Field: f, After: strPtr(r.desired.Projection[f])})
			}
		}
		for _, c := range r.moved {
			add("jira", r.issueID, DirectionSFToJira, c)
		}
		for _, c := range r.backlink {
			add("salesforce", r.sf.SfID, DirectionJiraToSF, c)
		}
		rows, err := a.protectAudit(ctx, rows)
		if err != nil {
			return err
		}
		items = append(items, store.BulkCommit{Link: store.Link{OriginKey: r.origin, Pair: pair, SfObject: m.Salesforce.Object, SfID: r.sf.SfID,
			JiraIssueID: r.issueID, JiraIssueKey: r.issueKey}, State: ps, Audit: rows})
	}
	if info.Attempt <= 1 {
		return classify(a.Store.CommitBulkFresh(ctx, items)) // no earlier attempt wrote these rows
	}
	return classify(a.Store.CommitBulk(ctx, items))
}

func sortedGroupKeys(m map[string][]*bulkRec) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedStepKeys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
