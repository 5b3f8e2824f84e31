package mappings

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Activity targets: a Salesforce activity becomes a Jira comment, or a worklog when it has a
// duration (a meeting).
const (
	ActivityComment = "comment"
	ActivityWorklog = "worklog"
)

var activityKeys = []string{"object", "where", "link_field", "to", "text", "started", "minutes"}

// ActivityRule turns the activities (Tasks, Events) logged on a synced record into comments or
// worklogs on its Jira issue, once each, updated when the activity changes. Activities flow
// Salesforce → Jira only: they are the sales team's log, shown to the delivery team.
type ActivityRule struct {
	// Object is the activity object (Task, Event); LinkField the lookup to the synced record
	// (WhatId by default); Where an optional SOQL condition.
	Object, LinkField, Where string
	// To is comment or worklog.
	To string
	// Text computes the comment (or worklog comment) text.
	Text *Expr
	// Started and Minutes are the worklog's start (a datetime field) and duration in minutes.
	Started, Minutes string
	Line             int
}

// Fields lists the Salesforce fields the rule reads, Id first.
func (r ActivityRule) Fields() []string {
	out := []string{"Id"}
	seen := map[string]bool{"id": true}
	add := func(f string) {
		if f != "" && !seen[strings.ToLower(f)] {
			seen[strings.ToLower(f)] = true
			out = append(out, f)
		}
	}
	for _, p := range r.Text.Paths {
		add(p)
	}
	add(r.Started)
	add(r.Minutes)
	return out
}

// SOQL is the query of the rule's activities of one record.
func (r ActivityRule) SOQL(recordID string) string {
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s = '%s'", strings.Join(r.Fields(), ", "), r.Object, r.LinkField, strings.ReplaceAll(recordID, "'", ""))
	if r.Where != "" {
		q += " AND (" + r.Where + ")"
	}
	return q + " ORDER BY Id"
}

// ActivityItem is one activity as it should appear in Jira.
type ActivityItem struct {
	SfID, Kind string
	// Text is the comment text (ADF paragraphs once written), ending with a line naming the
	// Salesforce record, which also lets a retried create find what an earlier attempt wrote.
	Text string
	// Started (Jira datetime) and Seconds are set for worklogs.
	Started string
	Seconds int
	// Hash identifies the content, so an unchanged activity is not written again.
	Hash string
}

// ActivityMarker is the closing line of every comment or worklog written from an activity.
func ActivityMarker(object, id string) string {
	return fmt.Sprintf("(from Salesforce %s %s)", object, id)
}

// Item maps one activity record; ok is false (with a reason) when a worklog lacks its start or
// a positive duration.
func (r ActivityRule) Item(get Getter) (ActivityItem, string, bool) {
	idv, _ := get("Id")
	id, _ := idv.(string)
	text := strings.TrimSpace(normalizeNewlines(exprText(r.Text.Eval(get))))
	it := ActivityItem{SfID: id, Kind: r.To}
	it.Text = strings.TrimSpace(text + "\n\n" + ActivityMarker(r.Object, id))
	if r.To == ActivityWorklog {
		sv, _ := get(r.Started)
		s, _ := sv.(string)
		started, err := DateTimeToJira(s)
		if err != nil {
			return it, fmt.Sprintf("%s %s has no valid %s (%v)", r.Object, id, r.Started, shortValue(sv)), false
		}
		mv, _ := get(r.Minutes)
		mins, err := toFloat(mv)
		if err != nil || mins <= 0 {
			return it, fmt.Sprintf("%s %s has no positive %s (%v)", r.Object, id, r.Minutes, shortValue(mv)), false
		}
		it.Started, it.Seconds = started, int(mins*60+0.5)
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s\x00%d", it.Kind, it.Text, it.Started, it.Seconds)))
	it.Hash = hex.EncodeToString(sum[:])[:16]
	return it, "", true
}

func (l *loader) activities(m *Mapping, n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		l.add(n, "write activities as a list of `- object: Task …` entries", "activities must be a list")
		return
	}
	for _, item := range n.Content {
		o := l.section(item, "activity rule", activityKeys)
		if o == nil {
			continue
		}
		before := len(l.errs)
		l.require(o, "activity rule", "object", "to", "text")
		r := ActivityRule{Line: o.node.Line, LinkField: "WhatId"}
		if s, n, ok := l.str(o, "object"); ok {
			if !apiNameRE.MatchString(s) {
				l.add(n, "use the object's API name, e.g. Task or Event", "invalid Salesforce object name %q", s)
			}
			r.Object = s
		}
		if s, n, ok := l.str(o, "link_field"); ok {
			if !apiNameRE.MatchString(s) {
				l.add(n, "use the lookup field's API name, e.g. WhatId", "invalid Salesforce field name %q", s)
			}
			r.LinkField = s
		}
		if s, n, ok := l.str(o, "where"); ok {
			if msg, fix := checkWhere(s); msg != "" {
				l.add(n, fix, "%s", msg)
			}
			r.Where = strings.TrimSpace(s)
		}
		r.To = l.enum(o, "to", []string{ActivityComment, ActivityWorklog}, "")
		var f FieldMap
		l.exprKey(&f, o, "text")
		r.Text = f.Expr
		for _, k := range []string{"started", "minutes"} {
			s, n, ok := l.str(o, k)
			if !ok {
				if r.To == ActivityWorklog && n == nil {
					l.add(o.node, fmt.Sprintf("add `%s: …` (worklogs need %s)", k, map[string]string{"started": "a start datetime field, e.g. StartDateTime", "minutes": "a duration field in minutes, e.g. DurationInMinutes"}[k]),
						"missing required key %q in activity rule (to: worklog)", k)
				}
				continue
			}
			if r.To == ActivityComment {
				l.add(o.keys[k], "remove it, or use to: worklog", "%s applies only to to: worklog", k)
				continue
			}
			if !sfPathRE.MatchString(s) {
				l.add(n, "use a field's API name, e.g. StartDateTime or DurationInMinutes", "invalid Salesforce field %q", s)
			}
			if k == "started" {
				r.Started = s
			} else {
				r.Minutes = s
			}
		}
		if len(l.errs) == before {
			m.Activities = append(m.Activities, r)
		}
	}
}
