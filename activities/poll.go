package activities

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/store"
)

// Poll sources.
const (
	SourceSalesforce = "salesforce"
	SourceJira       = "jira"
)

// Triggers recorded on syncs started by change capture.
const (
	TriggerSalesforcePoll     = "salesforce_poll"
	TriggerSalesforceOutbound = "salesforce_outbound"
	TriggerJiraWebhook        = "jira_webhook"
	TriggerJiraPoll           = "jira_poll"
)

// pollPageSize bounds one poll; a full page is followed by another poll at once.
const pollPageSize = 2000

// PollInput names one change-capture source of one pair.
type PollInput struct {
	Pair   string
	Source string
	// BaseInterval is the poll interval when the API budget is healthy.
	BaseIntervalSeconds int
}

// PollResult says what one poll handed over and when to poll next.
type PollResult struct {
	Events              int
	More                bool
	Watermark           string
	NextIntervalSeconds int
	BudgetNote          string
}

// PollChanges reads the changes of one source since its durable watermark and hands each to its
// pair's workflow before moving the watermark, so a crash re-reads rather than loses (the
// workflows coalesce and the merge drops echoes, so a re-read writes nothing). Records sharing
// the watermark's timestamp are remembered, so identical timestamps are neither missed nor
// handed over twice.
func (a *Activities) PollChanges(ctx context.Context, in PollInput) (*PollResult, error) {
	m, err := a.Mappings.Mapping(in.Pair)
	if err != nil {
		return nil, err
	}
	source := in.Source + ":" + in.Pair
	wm, err := a.Store.GetWatermark(ctx, source)
	// On the first run only changes from now on are handed over (what exists already is the
	// backfill's job); the records already in the watermark's window are remembered as seen.
	var firstRunFrom time.Time
	if errors.Is(err, store.ErrNotFound) {
		firstRunFrom = time.Now().UTC()
		wm, err = &store.Watermark{Source: source, At: firstRunFrom}, nil
	}
	if err != nil {
		return nil, classify(err)
	}
	seen := map[string]bool{}
	for _, k := range wm.IDsAt {
		seen[k] = true
	}
	type change struct {
		id, issueID string
		at          time.Time
	}
	var changes []change
	var more bool
	switch in.Source {
	case SourceSalesforce:
		floor := wm.At.UTC().Truncate(time.Second)
		cond := fmt.Sprintf("SystemModstamp >= %s", floor.Format("2006-01-02T15:04:05Z"))
		if m.Salesforce.Where != "" {
			cond += " AND (" + m.Salesforce.Where + ")"
		}
		soql := fmt.Sprintf("SELECT Id, SystemModstamp, %s FROM %s WHERE %s ORDER BY SystemModstamp, Id LIMIT %d",
			m.Salesforce.ExternalIDField, m.Salesforce.Object, cond, pollPageSize)
		res, err := a.SF.Query(ctx, soql)
		if err != nil {
			return nil, classify(err)
		}
		more = len(res.Records) >= pollPageSize
		for _, r := range res.Records {
			t := parseTime(str(r["SystemModstamp"]))
			if t == nil {
				continue
			}
			v, _ := r.Value(m.Salesforce.ExternalIDField)
			changes = append(changes, change{id: r.ID(), issueID: str(v), at: *t})
		}
	case SourceJira:
		// JQL compares minutes in the integration user's time zone; read from a minute earlier
		// and let the remembered ids drop what was already handed over.
		floor := wm.At.UTC().Add(-time.Minute).Truncate(time.Minute)
		jql := fmt.Sprintf(`project = "%s" AND issuetype = "%s" AND updated >= "%s" ORDER BY updated ASC`,
			m.Jira.Project, m.Jira.IssueType, floor.Format("2006-01-02 15:04"))
		n := 0
		err := a.Jira.SearchEach(ctx, jira.SearchRequest{JQL: jql, Fields: []string{"updated"}, MaxResults: 100}, func(is *jira.Issue) error {
			n++
			if n > pollPageSize {
				more = true
				return errStop
			}
			if t := parseTime(is.FieldString("updated")); t != nil {
				changes = append(changes, change{issueID: is.ID, at: *t})
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return nil, classify(err)
		}
	default:
		return nil, newError(catalog.InvalidInput, "unknown poll source "+in.Source, nil)
	}

	sort.Slice(changes, func(i, j int) bool { return changes[i].at.Before(changes[j].at) })
	var events []ChangeEvent
	newAt := wm.At
	keys := map[string]time.Time{}
	for _, c := range changes {
		who := c.id
		if who == "" {
			who = c.issueID
		}
		key := who + "@" + c.at.UTC().Format(time.RFC3339Nano)
		keys[key] = c.at
		if c.at.After(newAt) {
			newAt = c.at
		}
		if seen[key] || c.at.Before(firstRunFrom) {
			continue
		}
		ev := ChangeEvent{Pair: in.Pair, Source: in.Source, SfID: c.id, JiraIssueID: c.issueID}
		if in.Source == SourceSalesforce {
			ev.Trigger = TriggerSalesforcePoll
		} else {
			ev.Trigger = TriggerJiraPoll
		}
		events = append(events, ev)
	}
	if in.Source == SourceSalesforce {
		deleted, err := a.pollDeleted(ctx, in.Pair, m.Salesforce.Object)
		if err != nil {
			return nil, err
		}
		events = append(events, deleted...)
	}
	if err := a.HandleChanges(ctx, events); err != nil {
		return nil, classify(err)
	}
	// Remember everything at or after the new watermark's window so the next poll skips it.
	window := newAt.UTC().Truncate(time.Second)
	if in.Source == SourceJira {
		window = newAt.UTC().Add(-time.Minute).Truncate(time.Minute)
	}
	var keep []string
	for k, t := range keys {
		if !t.Before(window) {
			keep = append(keep, k)
		}
	}
	for k := range seen {
		if at, ok := keyTime(k); ok && !at.Before(window) {
			keep = append(keep, k)
		}
	}
	sort.Strings(keep)
	keep = compactStrings(keep)
	if err := a.Store.SetWatermark(ctx, store.Watermark{Source: source, At: newAt, IDsAt: keep}); err != nil {
		return nil, classify(err)
	}
	next, note := a.pollInterval(in)
	return &PollResult{Events: len(events), More: more, Watermark: newAt.UTC().Format(time.RFC3339Nano), NextIntervalSeconds: next, BudgetNote: note}, nil
}

var errStop = errors.New("stop")

func keyTime(k string) (time.Time, bool) {
	_, at, ok := strings.Cut(k, "@")
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	return t, err == nil
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// pollInterval stretches the poll interval as the API budget runs low, so polling never spends
// the quota real-time syncs need.
func (a *Activities) pollInterval(in PollInput) (int, string) {
	base := in.BaseIntervalSeconds
	if base <= 0 {
		base = 10
	}
	var used, max int
	var ok bool
	if in.Source == SourceSalesforce {
		used, max, ok = a.SF.APIUsage()
	} else {
		var limit, remaining int
		limit, remaining, ok = a.Jira.RateLimit()
		used, max = limit-remaining, limit
	}
	if !ok || max <= 0 {
		return base, ""
	}
	left := float64(max-used) / float64(max)
	switch {
	case left < 0.05:
		return base * 16, fmt.Sprintf("%s API budget below 5%% (%d/%d used): polling every %ds", in.Source, used, max, base*16)
	case left < 0.2:
		return base * 4, fmt.Sprintf("%s API budget below 20%% (%d/%d used): polling every %ds", in.Source, used, max, base*4)
	case left < 0.5:
		return base * 2, ""
	}
	return base, ""
}

// maxDeletedLookback is how far back getDeleted may look (the recycle bin keeps 15 days).
const maxDeletedLookback = 14 * 24 * time.Hour

// pollDeleted reads the records deleted since the deletion watermark (getDeleted: deletes do not
// touch SystemModstamp queries or fire Outbound Messages) and returns them as change events; the
// sync then applies the pair's delete policy. The watermark moves only after the hand-over.
func (a *Activities) pollDeleted(ctx context.Context, pair, object string) ([]ChangeEvent, error) {
	source := "sfdel:" + pair
	now := time.Now().UTC()
	wm, err := a.Store.GetWatermark(ctx, source)
	if errors.Is(err, store.ErrNotFound) {
		return nil, classify(a.Store.SetWatermark(ctx, store.Watermark{Source: source, At: now}))
	}
	if err != nil {
		return nil, classify(err)
	}
	start := wm.At.UTC()
	if now.Sub(start) > maxDeletedLookback {
		a.Log.Warn("deletions older than the recycle bin's retention cannot be read; some deletes may have been missed",
			zap.String("pair", pair), zap.Time("watermark", start))
		start = now.Add(-maxDeletedLookback)
	}
	// getDeleted wants a window of more than one minute.
	if now.Sub(start) <= time.Minute+time.Second {
		return nil, nil
	}
	res, err := a.SF.GetDeleted(ctx, object, start, now)
	if err != nil {
		return nil, classify(err)
	}
	var events []ChangeEvent
	for _, r := range res.Records {
		events = append(events, ChangeEvent{Pair: pair, Source: SourceSalesforce, SfID: r.ID, Trigger: TriggerSalesforcePoll})
	}
	next := res.LatestDateCovered
	if next.IsZero() || next.After(now) {
		next = now
	}
	if len(events) > 0 {
		if err := a.HandleChanges(ctx, events); err != nil {
			return nil, classify(err)
		}
	}
	return nil, classify(a.Store.SetWatermark(ctx, store.Watermark{Source: source, At: next}))
}
