package mappings

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Trigger keys, in documentation order (error messages list them).
var (
	triggerKeys        = []string{"name", "becomes", "version", "stories", "story_type"}
	triggerVersionKeys = []string{"name", "description", "fix_version"}
	triggerStoryKeys   = []string{"summary", "description"}
	triggerNameRE      = pairRE
)

// TriggerProperty is the issue entity property the connector sets on every Story a trigger
// creates: {"id": "<origin>|<trigger>|story-N", …}. It is the Story's identity, so a retried or
// replayed trigger finds what an earlier attempt created instead of creating it again, and the
// pair checks (sfjira verify) know these Stories are not pairs of their own.
const TriggerProperty = "sfjira_trigger"

// Limits Jira puts on what triggers create: version names and summaries hold 255 characters.
const (
	maxVersionName = 255
	maxSummary     = 255
)

// Trigger is a condition on the synced record that starts cross-system actions when it becomes
// true: e.g. an Opportunity that becomes Closed Won above 100,000 gets a Jira version (release)
// set as its Epic's fix version and child Stories from a template. It fires on the transition
// only (false at the last sync, true now), never on every pass where it holds.
type Trigger struct {
	Name string
	// Becomes is the condition, an expression over the Salesforce record (expr.go).
	Becomes *Expr
	// Version, when set, is the release to find or create in the project.
	Version *VersionTemplate
	// Stories are created under the synced issue (its `parent`), in file order.
	Stories []StoryTemplate
	// StoryType is the Jira issue type of the Stories (default Story).
	StoryType string
	Line      int
}

// VersionTemplate names the version a trigger creates; FixVersion adds it to the synced issue's
// fixVersions (and the created Stories'), the default.
type VersionTemplate struct {
	Name, Description *Expr
	FixVersion        bool
	Line              int
}

// StoryTemplate is one Story a trigger creates; Description may be nil.
type StoryTemplate struct {
	Summary, Description *Expr
	Line                 int
}

// Paths lists the Salesforce fields the trigger reads (condition and templates).
func (t Trigger) Paths() []string {
	var out []string
	add := func(e *Expr) {
		if e != nil {
			out = append(out, e.Paths...)
		}
	}
	add(t.Becomes)
	if t.Version != nil {
		add(t.Version.Name)
		add(t.Version.Description)
	}
	for _, s := range t.Stories {
		add(s.Summary)
		add(s.Description)
	}
	return out
}

// Holds evaluates the condition over a record (truthy as in conditions of expressions).
func (t Trigger) Holds(get Getter) bool { return truthy(t.Becomes.Eval(get)) }

// TriggerAction is a fired trigger with its templates rendered over the record that fired it:
// everything the action needs, computed once in the sync's plan so retries write the same.
type TriggerAction struct {
	Trigger string
	// VersionName is empty when the trigger has no version.
	VersionName, VersionDescription string
	FixVersion                      bool
	StoryType                       string
	Stories                         []StoryAction
	// Warnings name what could not be rendered (e.g. a blank summary), for the sync's warnings.
	Warnings []string
}

// StoryAction is one Story to create; Item is its stable identity within the trigger (story-N).
type StoryAction struct {
	Item, Summary, Description string
}

// Render computes the action of a fired trigger over the record that fired it. Texts longer
// than Jira takes are cut and end with "…" (and say so in Warnings).
func (t Trigger) Render(get Getter) TriggerAction {
	a := TriggerAction{Trigger: t.Name, StoryType: t.StoryType}
	text := func(e *Expr) string {
		if e == nil {
			return ""
		}
		return strings.TrimSpace(normalizeNewlines(exprText(e.Eval(get))))
	}
	cut := func(what, s string, limit int) string {
		s = strings.Join(strings.Fields(s), " ") // single line
		if utf8.RuneCountInString(s) <= limit {
			return s
		}
		a.Warnings = append(a.Warnings, fmt.Sprintf("trigger %s: %s was longer than %d characters and was cut", t.Name, what, limit))
		r := []rune(s)
		return string(r[:limit-1]) + "…"
	}
	if t.Version != nil {
		a.VersionName = cut("version name", text(t.Version.Name), maxVersionName)
		a.VersionDescription = text(t.Version.Description)
		a.FixVersion = t.Version.FixVersion
		if a.VersionName == "" {
			a.Warnings = append(a.Warnings, fmt.Sprintf("trigger %s: the version name %s is blank for this record; no version was created", t.Name, t.Version.Name.Source))
		}
	}
	for i, s := range t.Stories {
		item := fmt.Sprintf("story-%d", i+1)
		sum := cut(item+" summary", text(s.Summary), maxSummary)
		if sum == "" {
			a.Warnings = append(a.Warnings, fmt.Sprintf("trigger %s: the summary of %s (%s) is blank for this record; that Story was not created", t.Name, item, s.Summary.Source))
			continue
		}
		a.Stories = append(a.Stories, StoryAction{Item: item, Summary: sum, Description: text(s.Description)})
	}
	return a
}

func (l *loader) triggers(m *Mapping, n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		l.add(n, "write triggers as a list of `- name: … becomes: …` entries", "triggers must be a list")
		return
	}
	seen := map[string]int{}
	for _, item := range n.Content {
		// when: is the natural first guess; it is refused with a pointer to becomes:, which says
		// the trigger fires on the change, not whenever the condition holds.
		o := l.section(item, "trigger", append([]string{"when"}, triggerKeys...))
		if o == nil {
			continue
		}
		before := len(l.errs)
		if k, ok := o.keys["when"]; ok {
			l.add(k, "rename when: to becomes:", "unknown key \"when\" in trigger: a trigger fires when its condition becomes true, written becomes:")
			if _, both := o.vals["becomes"]; !both {
				o.vals["becomes"], o.keys["becomes"] = o.vals["when"], k
			}
		}
		l.require(o, "trigger", "name", "becomes")
		t := Trigger{Line: o.node.Line, StoryType: "Story"}
		if s, n, ok := l.str(o, "name"); ok {
			switch {
			case !triggerNameRE.MatchString(s) || len(s) > 63:
				l.add(n, "use lowercase letters, digits and '-', e.g. won-deal-kickoff", "invalid trigger name %q", s)
			case seen[s] > 0:
				l.add(n, "give each trigger its own name (it identifies what the trigger created)", "trigger %q is already defined at line %d", s, seen[s])
			default:
				seen[s] = n.Line
			}
			t.Name = s
		}
		var f FieldMap
		l.exprKey(&f, o, "becomes")
		t.Becomes = f.Expr
		if s, _, ok := l.str(o, "story_type"); ok {
			t.StoryType = strings.TrimSpace(s)
		}
		if vn, ok := o.vals["version"]; ok {
			t.Version = l.triggerVersion(vn)
		}
		if sn, ok := o.vals["stories"]; ok {
			t.Stories = l.triggerStories(sn)
		}
		_, hasVersion := o.vals["version"]
		_, hasStories := o.vals["stories"]
		if !hasVersion && !hasStories {
			l.add(o.node, "add `version: { name: … }` and/or `stories:` with at least one `- summary: …`",
				"trigger %q does nothing: it has neither a version nor stories", t.Name)
		}
		if k, ok := o.keys["story_type"]; ok && !hasStories {
			l.add(k, "remove story_type, or add stories:", "story_type applies only with stories")
		}
		if len(l.errs) == before {
			m.Triggers = append(m.Triggers, t)
		}
	}
}

func (l *loader) triggerVersion(n *yaml.Node) *VersionTemplate {
	o := l.section(n, "trigger version", triggerVersionKeys)
	if o == nil {
		return nil
	}
	l.require(o, "trigger version", "name")
	v := &VersionTemplate{Line: o.node.Line, FixVersion: true}
	var f FieldMap
	l.exprKey(&f, o, "name")
	v.Name = f.Expr
	f = FieldMap{}
	l.exprKey(&f, o, "description")
	v.Description = f.Expr
	if b, _, ok := l.boolean(o, "fix_version"); ok {
		v.FixVersion = b
	}
	return v
}

func (l *loader) triggerStories(n *yaml.Node) []StoryTemplate {
	if n.Kind != yaml.SequenceNode {
		l.add(n, "write stories as a list of `- summary: …` entries", "stories must be a list")
		return nil
	}
	if len(n.Content) == 0 {
		l.add(n, "add at least one `- summary: …` entry, or remove stories:", "stories is empty")
		return nil
	}
	var out []StoryTemplate
	for _, item := range n.Content {
		o := l.section(item, "story template", triggerStoryKeys)
		if o == nil {
			continue
		}
		l.require(o, "story template", "summary")
		s := StoryTemplate{Line: o.node.Line}
		var f FieldMap
		l.exprKey(&f, o, "summary")
		s.Summary = f.Expr
		f = FieldMap{}
		l.exprKey(&f, o, "description")
		s.Description = f.Expr
		out = append(out, s)
	}
	return out
}

// dictionaryTriggers renders the pair's triggers for the data dictionary (sfjira mapping doc):
// the condition, then what each creates, with the file line of each template.
func dictionaryTriggers(b *strings.Builder, m *Mapping) {
	if len(m.Triggers) == 0 {
		return
	}
	b.WriteString("\n### Triggers\n\n")
	b.WriteString("Each trigger runs once when its condition becomes true on the Salesforce record (false at the last sync, true now); what it creates carries a stable identity, so retries and replays create nothing twice. Every action is audited (action `trigger`).\n\n")
	b.WriteString("| trigger | becomes | creates | template | line |\n|---|---|---|---|---|\n")
	for _, t := range m.Triggers {
		fmt.Fprintf(b, "| `%s` | `%s` | | | %d |\n", t.Name, cell(t.Becomes.Source), t.Line)
		if v := t.Version; v != nil {
			what := "Jira version (release) in the issue's project"
			if v.FixVersion {
				what += ", set as the issue's fix version"
			}
			tmpl := "name `" + cell(v.Name.Source) + "`"
			if v.Description != nil {
				tmpl += ", description `" + cell(v.Description.Source) + "`"
			}
			fmt.Fprintf(b, "| | | %s | %s | %d |\n", what, tmpl, v.Line)
		}
		for i, s := range t.Stories {
			tmpl := "summary `" + cell(s.Summary.Source) + "`"
			if s.Description != nil {
				tmpl += ", description `" + cell(s.Description.Source) + "`"
			}
			fmt.Fprintf(b, "| | | %s %d under the issue (`parent`) | %s | %d |\n", t.StoryType, i+1, tmpl, s.Line)
		}
	}
}
