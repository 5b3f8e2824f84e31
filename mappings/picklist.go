package mappings

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// splitMulti splits a Salesforce multi-select picklist value ("A;B;C"), trimming each value
// and dropping empty ones.
func splitMulti(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// joinSet is the canonical form of a set of values: duplicates removed ignoring case (first
// spelling kept), sorted ignoring case, ";"-joined; multi-select order carries no meaning on
// either side, and Salesforce matches picklist values ignoring case.
func joinSet(vs []string) string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		if k := foldValue(v); !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return foldValue(out[i]) < foldValue(out[j]) })
	return strings.Join(out, ";")
}

func isLabels(bf BoundField) bool {
	return bf.SchemaType == "array" && bf.SchemaItems == "string"
}

func (b *Bound) unmapped(bf BoundField, rec, v string) error {
	return &RecordError{Code: CodeValueUnmapped, Field: bf.SF, Record: rec,
		Msg: fmt.Sprintf("%s value %s has no Jira value in the mapping", b.label(bf), bf.quoted(v)),
		Fix: fmt.Sprintf("add `%s: <Jira value>` under values of the field at %s, or set unmapped: pass", bf.plain(yamlKey(v), "<the value>"), b.at(bf.Line))}
}

// picklistToJira maps a picklist or multi-picklist value through the value map to the Jira
// wire shape of the target field (select option, priority, text, multi-select or labels).
func (b *Bound) picklistToJira(bf BoundField, rec string, val any) (wire any, proj string, err error) {
	var raw []string
	switch x := val.(type) {
	case string:
		if bf.Type == TypeMultiPicklist {
			raw = splitMulti(x)
		} else {
			raw = []string{strings.TrimSpace(x)}
		}
	case []any: // a multi-select value already split
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, "", b.picklistMismatch(bf, rec, val)
			}
			raw = append(raw, splitMulti(s)...)
		}
	default:
		return nil, "", b.picklistMismatch(bf, rec, val)
	}
	mapped := make([]string, 0, len(raw))
	for _, v := range raw {
		j, ok := bf.ValueMap.ToJira(v)
		if !ok {
			return nil, "", b.unmapped(bf, rec, v)
		}
		if isLabels(bf) && strings.ContainsAny(j, " \t\n") {
			return nil, "", &RecordError{Code: CodeTypeMismatch, Field: bf.SF, Record: rec,
				Msg: fmt.Sprintf("%s value %s becomes label %s, and Jira labels cannot contain spaces", b.label(bf), bf.quoted(v), bf.quoted(j)),
				Fix: fmt.Sprintf("map %s to a label without spaces under values at %s", bf.plain(yamlKey(v), "the value"), b.at(bf.Line))}
		}
		mapped = append(mapped, j)
	}
	if bf.Type == TypePicklist {
		v := mapped[0]
		switch bf.SchemaType {
		case "option":
			return map[string]any{"value": v}, v, nil
		case "priority":
			return map[string]any{"name": v}, v, nil
		}
		return v, v, nil
	}
	proj = joinSet(mapped)
	items := []any{}
	for _, v := range strings.Split(proj, ";") {
		if v == "" {
			continue
		}
		if isLabels(bf) {
			items = append(items, v)
		} else {
			items = append(items, map[string]any{"value": v})
		}
	}
	return items, proj, nil
}

func (b *Bound) picklistMismatch(bf BoundField, rec string, val any) error {
	return &RecordError{Code: CodeTypeMismatch, Field: bf.SF, Record: rec,
		Msg: fmt.Sprintf("%s must be a picklist value, got %s", b.label(bf), bf.shown(val)),
		Fix: fmt.Sprintf("correct %s in Salesforce, or change type: %s in %s", bf.SF, bf.Type, b.at(bf.Line))}
}

// jiraValues reads a Jira single or multi-value field as the list of its value names.
func jiraValues(raw json.RawMessage) []string {
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) == nil {
		var out []string
		for _, e := range arr {
			if s := strings.TrimSpace(jiraText(e)); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	if s := strings.TrimSpace(jiraText(raw)); s != "" {
		return []string{s}
	}
	return nil
}

// projectJiraPicklist is the canonical Jira-side form of a picklist field.
func projectJiraPicklist(bf BoundField, raw json.RawMessage) string {
	vs := jiraValues(raw)
	if bf.Type == TypeMultiPicklist {
		return joinSet(vs)
	}
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// picklistToSalesforce maps Jira values back through the value map; ok is false when a value
// has no Salesforce counterpart under unmapped: fail (the field is then left out, never
// written half-mapped).
func picklistToSalesforce(bf BoundField, raw json.RawMessage) (any, bool) {
	vs := jiraValues(raw)
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		s, ok := bf.ValueMap.ToSalesforce(v)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return bf.Default, true
	}
	if bf.Type == TypeMultiPicklist {
		return joinSet(out), true
	}
	return out[0], true
}

// canonicalSFPicklist is the canonical Salesforce-side form of a picklist value.
func canonicalSFPicklist(bf BoundField, v any) string {
	s := strings.TrimSpace(fmt.Sprint(v))
	if bf.Type == TypeMultiPicklist {
		return joinSet(splitMulti(s))
	}
	return s
}
