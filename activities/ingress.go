package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/store"
)

// SyncStart asks for one pair to be synced: the event after its origin key is resolved.
type SyncStart struct {
	OriginKey   string
	Pair        string
	SfObject    string
	SfID        string
	JiraIssueID string
	JiraProject string
	Trigger     string
	// Source is the system the change came from: "salesforce", "jira" or "operator".
	Source string
	// Comment says the change is a Jira comment (mirrored to Chatter).
	Comment bool
}

// SyncStarter hands a sync request to the pair's workflow with Signal-With-Start, so every event
// for a pair lands in its one open run. The workflows package implements it over a Temporal client.
type SyncStarter interface {
	StartSync(ctx context.Context, s SyncStart) error
}

// ChangeEvent is one change seen by change capture (poller, webhook or outbound message),
// before its pair is known.
type ChangeEvent struct {
	Pair   string
	Source string // "salesforce" or "jira"
	// Salesforce record id, and the Jira issue id its back-link holds if the event carries it.
	SfID        string
	JiraIssueID string
	Trigger     string
	Comment     bool
}

// ResolveOrigin finds the origin key of the pair an event belongs to (design §4.1). The order
// matters: the link row is written before the back-link on the other side, so an event caused by
// our own create always finds its pair and never starts a second one.
func (a *Activities) ResolveOrigin(ctx context.Context, ev ChangeEvent) (string, error) {
	m, err := a.Mappings.Mapping(ev.Pair)
	if err != nil {
		return "", err
	}
	if ev.SfID != "" {
		l, err := a.Store.LinkBySalesforceID(ctx, ev.Pair, ev.SfID)
		if err == nil {
			return l.OriginKey, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", classify(err)
		}
	}
	if ev.JiraIssueID != "" {
		l, err := a.Store.LinkByJiraID(ctx, ev.JiraIssueID)
		if err == nil {
			return l.OriginKey, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", classify(err)
		}
		// No link row (e.g. state restored from an older backup): the issue's property knows.
		raw, err := a.Jira.GetProperty(ctx, ev.JiraIssueID, m.Jira.Property)
		switch {
		case err == nil:
			var p struct {
				Origin string `json:"origin"`
			}
			if json.Unmarshal(raw, &p) == nil && p.Origin != "" {
				return p.Origin, nil
			}
		case jira.IsNotFound(err):
		default:
			return "", classify(err)
		}
		if ev.SfID == "" {
			return "jira/" + ev.JiraIssueID, nil
		}
	}
	if ev.SfID != "" {
		return "sf/" + ev.SfID, nil
	}
	return "", fmt.Errorf("change event names no record: %+v", ev)
}

// HandleChanges resolves each event's pair and hands it to the pair's workflow. It returns only
// after every event is durably with Temporal, so a caller may acknowledge the delivery.
func (a *Activities) HandleChanges(ctx context.Context, events []ChangeEvent) error {
	if a.Syncs == nil {
		return errors.New("no sync starter configured")
	}
	for _, ev := range events {
		origin, err := a.ResolveOrigin(ctx, ev)
		if err != nil {
			return err
		}
		m, _ := a.Mappings.Mapping(ev.Pair)
		s := SyncStart{OriginKey: origin, Pair: ev.Pair, SfObject: m.Salesforce.Object, JiraProject: m.Jira.Project,
			Trigger: ev.Trigger, Source: ev.Source, Comment: ev.Comment}
		switch {
		case strings.HasPrefix(origin, "sf/"):
			s.SfID = strings.TrimPrefix(origin, "sf/")
		case strings.HasPrefix(origin, "jira/"):
			s.JiraIssueID = strings.TrimPrefix(origin, "jira/")
			s.SfID = ev.SfID
		}
		if err := a.Syncs.StartSync(ctx, s); err != nil {
			return fmt.Errorf("hand %s to its workflow: %w", origin, err)
		}
	}
	if len(events) > 0 {
		a.Metrics.ChangeEvents(events[0].Trigger, len(events))
		a.Log.Debug("change events handed over", zap.Int("count", len(events)), zap.String("trigger", events[0].Trigger))
	}
	return nil
}

// PairsForObject lists the pairs syncing a Salesforce object (outbound messages name the object).
func (s *MappingSet) PairsForObject(object string) []string {
	var out []string
	for _, p := range s.Pairs() {
		if strings.EqualFold(s.byPair[p].Salesforce.Object, object) {
			out = append(out, p)
		}
	}
	return out
}

// PairsForJira lists the pairs whose Jira side is the given project (and issue type, if known).
func (s *MappingSet) PairsForJira(project, issueType string) []string {
	var out []string
	for _, p := range s.Pairs() {
		m := s.byPair[p]
		if strings.EqualFold(m.Jira.Project, project) && (issueType == "" || strings.EqualFold(m.Jira.IssueType, issueType)) {
			out = append(out, p)
		}
	}
	return out
}
