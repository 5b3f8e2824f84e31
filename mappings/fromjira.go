package mappings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

func isJSONNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// ProjectJira computes the canonical projection of a Jira issue from GET issue `fields`
// (REST v3 JSON), over the same keys ToJira projects (sf_to_jira/both fields, status,
// resolution), so the two can be compared for "already in sync" and verification.
func (b *Bound) ProjectJira(fields map[string]json.RawMessage) Projection {
	p := Projection{}
	for _, bf := range b.Fields {
		if bf.FlowsToJira() {
			if bf.FallbackID != "" {
				p[bf.JiraID] = b.projectUserWithFallback(bf, fields)
				p[bf.FallbackID] = projectText(jiraText(fields[bf.FallbackID]))
				continue
			}
			if bf.Type == TypeUser {
				p[bf.JiraID] = ""
				if raw := fields[bf.JiraID]; !isJSONNull(raw) {
					p[bf.JiraID] = b.projectJiraUser(raw)
				}
				continue
			}
			p[bf.JiraID] = projectJiraValue(bf, fields[bf.JiraID])
		}
	}
	if b.Mapping.Status != nil {
		p["status"] = namedValue(fields["status"])
		p["resolution"] = namedValue(fields["resolution"])
	}
	return p
}

func projectJiraValue(bf BoundField, raw json.RawMessage) string {
	if isJSONNull(raw) {
		return ""
	}
	switch bf.Type {
	case TypeText:
		return projectText(jiraText(raw))
	case TypeRichText:
		return ADFToText(raw)
	case TypeHTML:
		return CanonicalHTML(ADFToHTML(raw))
	case TypeDate:
		s := jiraText(raw)
		if out, err := DateToJira(s); err == nil {
			return out
		}
		return strings.TrimSpace(s)
	case TypeDateTime:
		s := jiraText(raw)
		if out, err := CanonicalDateTime(s); err == nil {
			return out
		}
		return strings.TrimSpace(s)
	case TypeNumber, TypeCurrency, TypePercent:
		if f, ok := jiraNumber(raw); ok {
			c, _ := RoundDecimal(f, bf.Precision)
			return c
		}
		return strings.TrimSpace(jiraText(raw))
	case TypeCheckbox:
		if v, ok := jiraBool(raw); ok {
			return strconv.FormatBool(v)
		}
		return ""
	case TypePicklist, TypeMultiPicklist:
		return projectJiraPicklist(bf, raw)
	case TypeLookup:
		if bf.LinkType != "" {
			return projectIssueLinks(raw, bf.LinkType)
		}
		var ref struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &ref) == nil {
			return ref.ID
		}
		return ""
	}
	return jiraText(raw)
}

// namedValue reads a Jira object value ({"name": …}) such as status or resolution; null → "".
func namedValue(raw json.RawMessage) string {
	if isJSONNull(raw) {
		return ""
	}
	return jiraText(raw)
}

// jiraText renders any Jira field value as text: strings as is, objects by their
// name/value/displayName, arrays joined with ", " (e.g. sprint names), ADF as plain text.
func jiraText(raw json.RawMessage) string {
	if isJSONNull(raw) {
		return ""
	}
	// Fast paths for the shapes Jira returns (every issue read in bulk goes through here):
	// strings, numbers, booleans and objects without decoding into generic maps.
	if t := bytes.TrimSpace(raw); len(t) > 0 {
		switch c := t[0]; {
		case c == '"':
			var s string
			if json.Unmarshal(t, &s) != nil {
				return ""
			}
			return normalizeNewlines(s)
		case c == '-' || (c >= '0' && c <= '9'):
			if _, err := strconv.ParseFloat(string(t), 64); err == nil {
				return string(t) // json.Number keeps the literal
			}
		case c == '{':
			var o struct {
				Type        any `json:"type"`
				Name        any `json:"name"`
				Value       any `json:"value"`
				DisplayName any `json:"displayName"`
				Key         any `json:"key"`
				ID          any `json:"id"`
			}
			if json.Unmarshal(t, &o) != nil {
				return ""
			}
			if o.Type == "doc" {
				return ADFToText(t)
			}
			for _, v := range []any{o.Name, o.Value, o.DisplayName, o.Key, o.ID} {
				if s, ok := v.(string); ok {
					return s
				}
			}
			return ""
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return ""
	}
	return textOf(v)
}

func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return normalizeNewlines(x)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		var parts []string
		for _, e := range x {
			if s := textOf(e); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		if x["type"] == "doc" {
			b, _ := json.Marshal(x)
			return ADFToText(b)
		}
		for _, k := range []string{"name", "value", "displayName", "key", "id"} {
			if s, ok := x[k].(string); ok {
				return s
			}
		}
	}
	return ""
}

func jiraNumber(raw json.RawMessage) (float64, bool) {
	if t := bytes.TrimSpace(raw); len(t) > 0 && (t[0] == '-' || (t[0] >= '0' && t[0] <= '9')) {
		f, err := strconv.ParseFloat(string(t), 64)
		return f, err == nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return 0, false
	}
	f, err := toFloat(v)
	return f, err == nil
}

func jiraBool(raw json.RawMessage) (bool, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return false, false
	}
	return asBool(v)
}

// ToSalesforce converts Jira issue fields into Salesforce values for jira_to_sf and both
// fields, keyed by Salesforce API name. Fields absent from the input are left out; null
// clears the field (or writes its default); values that cannot be converted are left out
// and text longer than max_length is truncated with the marker.
func (b *Bound) ToSalesforce(fields map[string]json.RawMessage) map[string]any {
	out := map[string]any{}
	for _, bf := range b.Fields {
		if !bf.FlowsToSF() {
			continue
		}
		raw, present := fields[bf.JiraID]
		if !present {
			continue
		}
		if isJSONNull(raw) {
			out[bf.SF] = bf.Default
			continue
		}
		switch bf.Type {
		case TypeText, TypeRichText:
			var s string
			if bf.Type == TypeRichText {
				s = ADFToText(raw)
			} else {
				s = jiraText(raw)
			}
			if bf.MaxLength > 0 && utf8.RuneCountInString(s) > bf.MaxLength {
				s, _ = truncateRunes(s, bf.MaxLength)
			}
			if s == "" {
				out[bf.SF] = bf.Default
			} else {
				out[bf.SF] = s
			}
		case TypeHTML:
			if h := CanonicalHTML(ADFToHTML(raw)); h != "" {
				out[bf.SF] = h
			} else {
				out[bf.SF] = bf.Default
			}
		case TypeDate:
			if d, err := DateToJira(jiraText(raw)); err == nil {
				out[bf.SF] = d
			}
		case TypeDateTime:
			if d, err := DateTimeToJira(jiraText(raw)); err == nil {
				out[bf.SF] = d
			}
		case TypeNumber, TypeCurrency, TypePercent:
			if f, ok := jiraNumber(raw); ok {
				_, w := RoundDecimal(f, bf.Precision)
				out[bf.SF] = w
			}
		case TypeCheckbox:
			if v, ok := jiraBool(raw); ok {
				out[bf.SF] = v
			}
		case TypePicklist, TypeMultiPicklist:
			if v, ok := picklistToSalesforce(bf, raw); ok {
				out[bf.SF] = v
			}
		case TypeUser:
			if email, ok := b.jiraUserEmail(raw); ok {
				out[bf.SF] = email
			}
		case TypeLookup:
			// The id of the issue the parent or link now points at (issue links: the ids of
			// every link of the type, comma-joined). It is still keyed by the relationship path:
			// the sync resolves it to the Salesforce record linked to that issue and writes the
			// lookup field (LookupField), or stops with MAPPING_LOOKUP_UNLINKED.
			if id := projectJiraValue(bf, raw); id != "" {
				out[bf.SF] = id
			} else {
				out[bf.SF] = nil
			}
		}
	}
	return out
}

// LinkedIssueKeys maps the id of every issue the mapping's lookups point at (parent, issue
// links) to its key, read from issue fields, so an error about a lookup can name the issue a
// person sees (SFJ-40) rather than its numeric id.
func (b *Bound) LinkedIssueKeys(fields map[string]json.RawMessage) map[string]string {
	out := map[string]string{}
	type ref struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	for _, bf := range b.Fields {
		if bf.Type != TypeLookup {
			continue
		}
		raw := fields[bf.JiraID]
		if isJSONNull(raw) {
			continue
		}
		var one ref
		if json.Unmarshal(raw, &one) == nil && one.ID != "" {
			out[one.ID] = one.Key
			continue
		}
		var links []struct {
			OutwardIssue *ref `json:"outwardIssue"`
		}
		if json.Unmarshal(raw, &links) == nil {
			for _, l := range links {
				if l.OutwardIssue != nil && l.OutwardIssue.ID != "" {
					out[l.OutwardIssue.ID] = l.OutwardIssue.Key
				}
			}
		}
	}
	return out
}

// SalesforceProblems lists, by Salesforce field, the Jira values ToSalesforce cannot write as the
// mapping says: a picklist value with no Salesforce counterpart under `unmapped: fail`, and text
// longer than max_length under `on_overflow: fail`. ToSalesforce leaves such a field out (or, for
// text, cuts it); a pass that is about to write one of these fields must stop with the error
// instead, so the value is neither cleared nor silently cut on the Salesforce side. rec names the
// issue in the messages.
func (b *Bound) SalesforceProblems(rec string, fields map[string]json.RawMessage) map[string]RecordError {
	var out map[string]RecordError
	add := func(bf BoundField, e RecordError) {
		if out == nil {
			out = map[string]RecordError{}
		}
		out[bf.SF] = e
	}
	for _, bf := range b.Fields {
		if !bf.FlowsToSF() {
			continue
		}
		raw, present := fields[bf.JiraID]
		if !present || isJSONNull(raw) {
			continue
		}
		switch bf.Type {
		case TypeText, TypeRichText:
			if bf.MaxLength <= 0 || bf.OnOverflow == OverflowTruncate {
				continue
			}
			s := jiraText(raw)
			if bf.Type == TypeRichText {
				s = ADFToText(raw)
			}
			if n := utf8.RuneCountInString(s); n > bf.MaxLength {
				add(bf, RecordError{Code: CodeValueTooLong, Field: bf.SF, Record: rec,
					Msg: fmt.Sprintf("%s is %d characters in Jira, more than max_length %d for %s", bf.JiraName, n, bf.MaxLength, bf.SF),
					Fix: fmt.Sprintf("shorten %s in Jira, or set on_overflow: truncate in %s", bf.JiraName, b.at(bf.Line))})
			}
		case TypePicklist, TypeMultiPicklist:
			for _, v := range jiraValues(raw) {
				if _, ok := bf.ValueMap.ToSalesforce(v); !ok {
					add(bf, RecordError{Code: CodeValueUnmapped, Field: bf.SF, Record: rec,
						Msg: fmt.Sprintf("%s value %q has no Salesforce value for %s in the mapping", bf.JiraName, v, bf.SF),
						Fix: fmt.Sprintf("add `<Salesforce value>: %s` under values of the field at %s, or set unmapped: pass", yamlKey(v), b.at(bf.Line))})
					break
				}
			}
		}
	}
	return out
}

// WithRichTextRendered returns fields with every rich-text field (one that every mapping of it
// reads as rich_text) replaced by its canonical plain text as a JSON string, which ProjectJira
// and ToSalesforce read exactly as they read the ADF document. Reading an issue for both (as
// every bulk read-back does) then parses each document once instead of twice. fields itself
// is not changed.
func (b *Bound) WithRichTextRendered(fields map[string]json.RawMessage) map[string]json.RawMessage {
	var out map[string]json.RawMessage
	for _, bf := range b.Fields {
		if bf.Type != TypeRichText || bf.FallbackID != "" {
			continue
		}
		raw, ok := fields[bf.JiraID]
		if !ok || isJSONNull(raw) || !b.onlyRichText(bf.JiraID) {
			continue
		}
		if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
			continue
		}
		text, err := json.Marshal(ADFToText(raw))
		if err != nil {
			continue
		}
		if out == nil {
			out = make(map[string]json.RawMessage, len(fields))
			for k, v := range fields {
				out[k] = v
			}
		}
		out[bf.JiraID] = text
	}
	if out == nil {
		return fields
	}
	return out
}

func (b *Bound) onlyRichText(jiraID string) bool {
	for _, bf := range b.Fields {
		if (bf.JiraID == jiraID || bf.FallbackID == jiraID) && bf.Type != TypeRichText {
			return false
		}
	}
	return true
}
