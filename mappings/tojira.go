package mappings

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Getter reads a field or relationship path ("Name", "Account.Name") from a Salesforce
// record decoded from JSON (strings, float64, bool, nil, nested maps); ok is false when
// the path is absent.
type Getter func(path string) (any, bool)

// RecordGetter is a Getter over a JSON-decoded Salesforce record, following relationship
// paths through nested objects (a null parent yields nil, true).
func RecordGetter(rec map[string]any) Getter {
	return func(path string) (any, bool) {
		var cur any = rec
		for _, part := range strings.Split(path, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				if cur == nil {
					return nil, true
				}
				return nil, false
			}
			v, ok := m[part]
			if !ok {
				// Salesforce field names are case-insensitive.
				for k, vv := range m {
					if strings.EqualFold(k, part) {
						v, ok = vv, true
						break
					}
				}
				if !ok {
					return nil, false
				}
			}
			cur = v
		}
		return cur, true
	}
}

// Desired is what a Salesforce record should look like in Jira: wire values for the
// create/edit body, the target status, and the canonical projection to compare with.
type Desired struct {
	Fields     map[string]any // Jira wire values by field id; nil clears the field
	Projection Projection
	Status     string // target Jira status name; "" when unmapped under unmapped: keep
	Resolution string
	// Transition is the transition into Status that sets Resolution by itself (see
	// StatusTarget); "" lets the sync choose.
	Transition string
	Warnings   []string
}

// ToJira transforms one Salesforce record into Jira values; recordName ("Opportunity
// 006…") appears in errors. Data problems return *RecordError (errors.Join of several
// when more than one field is bad).
func (b *Bound) ToJira(recordName string, get Getter) (*Desired, error) {
	d := &Desired{Fields: map[string]any{}, Projection: Projection{}}
	var errs []error
	for _, bf := range b.Fields {
		if !bf.FlowsToJira() {
			continue
		}
		var val any
		if bf.Expr != nil {
			val = bf.Expr.Eval(get)
		} else if v, found := get(bf.SF); found {
			val = v
		}
		if bf.Transform != nil && !isEmptyValue(val) {
			v, err := b.applyTransform(bf, recordName, val, get)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			val = v
		}
		if isEmptyValue(val) && bf.Default != nil {
			val = bf.Default
		}
		if isEmptyValue(val) {
			if bf.Required {
				errs = append(errs, &RecordError{Code: CodeRequiredValueMissing, Field: bf.SF, Record: recordName,
					Msg: fmt.Sprintf("%s is required but empty", b.label(bf)),
					Fix: fmt.Sprintf("fill in %s on the record, or replace required: true with a default: in %s", bf.SF, b.at(bf.Line))})
				continue
			}
			d.Fields[bf.JiraID] = nil
			d.Projection[bf.JiraID] = ""
			if bf.FallbackID != "" {
				d.Fields[bf.FallbackID] = nil
				d.Projection[bf.FallbackID] = ""
			}
			continue
		}
		if bf.FallbackID != "" {
			if err := b.userWithFallback(d, bf, recordName, val); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		wire, proj, warn, err := b.convert(bf, recordName, val)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if warn != "" {
			d.Warnings = append(d.Warnings, warn)
		}
		d.Fields[bf.JiraID] = wire
		d.Projection[bf.JiraID] = proj
	}
	if st := b.Mapping.Status; st != nil {
		if err := b.status(d, recordName, get); err != nil {
			errs = append(errs, err)
		}
	}
	switch len(errs) {
	case 0:
		return d, nil
	case 1:
		return nil, errs[0]
	}
	return nil, errors.Join(errs...)
}

func (b *Bound) label(bf BoundField) string { return fmt.Sprintf("%s (→ %s)", bf.SF, bf.Jira) }

func (b *Bound) at(line int) string { return fmt.Sprintf("%s:%d", b.Mapping.File, line) }

func isEmptyValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	}
	return false
}

// asText converts scalar record values (formula fields may be numbers) to text.
func asText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		return x.String(), true
	case float64, float32, int, int64:
		f, _ := toFloat(x)
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	return "", false
}

func asBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "1", "yes":
			return true, true
		case "false", "0", "no":
			return false, true
		}
	case float64:
		return x != 0, true
	case json.Number:
		f, err := x.Float64()
		return f != 0, err == nil
	}
	return false, false
}

func (b *Bound) convert(bf BoundField, rec string, val any) (wire any, proj, warn string, err error) {
	mismatch := func(want string) error {
		return &RecordError{Code: CodeTypeMismatch, Field: bf.SF, Record: rec,
			Msg: fmt.Sprintf("%s must be %s, got %s", b.label(bf), want, bf.shown(val)),
			Fix: fmt.Sprintf("correct %s in Salesforce, or change type: %s in %s", bf.SF, bf.Type, b.at(bf.Line))}
	}
	switch bf.Type {
	case TypeText, TypeRichText:
		s, ok := asText(val)
		if !ok {
			return nil, "", "", mismatch("text")
		}
		s = normalizeNewlines(s)
		if bf.MaxLength > 0 && utf8.RuneCountInString(s) > bf.MaxLength {
			if bf.OnOverflow != OverflowTruncate {
				return nil, "", "", &RecordError{Code: CodeValueTooLong, Field: bf.SF, Record: rec,
					Msg: fmt.Sprintf("%s is %d characters, more than max_length %d", b.label(bf), utf8.RuneCountInString(s), bf.MaxLength),
					Fix: fmt.Sprintf("shorten %s in Salesforce, or set on_overflow: truncate in %s", bf.SF, b.at(bf.Line))}
			}
			s, _ = truncateRunes(s, bf.MaxLength)
			warn = fmt.Sprintf("truncated %s to %d characters", b.label(bf), bf.MaxLength)
		}
		if bf.Type == TypeText {
			return s, projectText(s), warn, nil
		}
		doc := TextToADF(s)
		if doc == nil {
			return nil, "", warn, nil
		}
		return doc, CanonicalText(s), warn, nil
	case TypeHTML:
		s, ok := asText(val)
		if !ok {
			return nil, "", "", mismatch("rich text (HTML)")
		}
		doc := HTMLToADF(s)
		if doc == nil {
			return nil, "", "", nil
		}
		return doc, CanonicalHTML(s), "", nil
	case TypeDate:
		s, ok := val.(string)
		if !ok {
			return nil, "", "", mismatch("a date (YYYY-MM-DD)")
		}
		out, e := DateToJira(s)
		if e != nil {
			return nil, "", "", mismatch("a date (YYYY-MM-DD)")
		}
		return out, out, "", nil
	case TypeDateTime:
		s, ok := val.(string)
		if !ok {
			return nil, "", "", mismatch("an ISO 8601 datetime")
		}
		w, e1 := DateTimeToJira(s)
		c, e2 := CanonicalDateTime(s)
		if e1 != nil || e2 != nil {
			return nil, "", "", mismatch("an ISO 8601 datetime")
		}
		return w, c, "", nil
	case TypeNumber, TypeCurrency, TypePercent:
		f, e := toFloat(val)
		if e != nil {
			return nil, "", "", mismatch("a number")
		}
		c, w := RoundDecimal(f, bf.Precision)
		return w, c, "", nil
	case TypePicklist, TypeMultiPicklist:
		w, p, err := b.picklistToJira(bf, rec, val)
		return w, p, "", err
	case TypeUser:
		w, p, err := b.userToJira(bf, rec, val)
		return w, p, "", err
	case TypeLookup:
		s, ok := asText(val)
		s = strings.TrimSpace(s)
		if !ok || !isIssueID(s) {
			return nil, "", "", &RecordError{Code: CodeTypeMismatch, Field: bf.SF, Record: rec,
				Msg: fmt.Sprintf("%s must be a Jira issue id (digits), got %s", b.label(bf), bf.shown(val)),
				Fix: fmt.Sprintf("point sf: at the related record's Jira issue id back-link, e.g. Opportunity__r.Jira_Issue_Id__c, in %s", b.at(bf.Line))}
		}
		return map[string]any{"id": s}, s, "", nil
	case TypeCheckbox:
		v, ok := asBool(val)
		if !ok {
			return nil, "", "", mismatch("true or false")
		}
		p := strconv.FormatBool(v)
		if bf.SchemaType == "number" {
			if v {
				return 1.0, p, "", nil
			}
			return 0.0, p, "", nil
		}
		return p, p, "", nil
	}
	return nil, "", "", mismatch("a supported type")
}

func shortValue(v any) string {
	switch x := v.(type) {
	case string:
		if r := []rune(x); len(r) > 40 {
			x = string(r[:40]) + "…"
		}
		return strconv.Quote(x)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprint(v)
}

func (b *Bound) status(d *Desired, rec string, get Getter) error {
	st := b.Mapping.Status
	raw, _ := get(st.SF)
	if isEmptyValue(raw) {
		if st.Unmapped == UnmappedKeep {
			return nil
		}
		return &RecordError{Code: CodeRequiredValueMissing, Field: st.SF, Record: rec,
			Msg: fmt.Sprintf("%s (→ status) is empty, so the Jira status cannot be chosen", st.SF),
			Fix: fmt.Sprintf("set %s on the record, or use unmapped: keep in %s", st.SF, b.at(st.Line))}
	}
	v, ok := raw.(string)
	if !ok {
		return &RecordError{Code: CodeTypeMismatch, Field: st.SF, Record: rec,
			Msg: fmt.Sprintf("%s (→ status) must be text, got %s", st.SF, shortValue(raw)),
			Fix: fmt.Sprintf("map a picklist or text field in status.sf at %s", b.at(st.Line))}
	}
	t, ok := st.Values[v]
	if !ok {
		if st.Unmapped == UnmappedKeep {
			return nil
		}
		fix := fmt.Sprintf("add `%s: { status: <Jira status> }` under status.values in %s, or set unmapped: keep", yamlKey(v), b.at(st.valuesLineOr()))
		if near := nearStatusValue(v, st.Values); near != "" {
			fix = fmt.Sprintf("did you mean %q? values match exactly, including case and spaces; fix the Salesforce value or ", near) + fix
		}
		return &RecordError{Code: CodeValueUnmapped, Field: st.SF, Record: rec,
			Msg: fmt.Sprintf("%s value %q has no Jira status in the mapping", st.SF, v), Fix: fix}
	}
	d.Status, d.Resolution, d.Transition = t.Status, t.Resolution, t.Transition
	d.Projection["status"] = t.Status
	d.Projection["resolution"] = t.Resolution
	return nil
}

func (st *StatusMap) valuesLineOr() int {
	if st.valuesLine > 0 {
		return st.valuesLine
	}
	return st.Line
}

func nearStatusValue(v string, values map[string]StatusTarget) string {
	var hits []string
	for k := range values {
		if strings.EqualFold(strings.TrimSpace(k), strings.TrimSpace(v)) {
			hits = append(hits, k)
		}
	}
	sort.Strings(hits)
	if len(hits) > 0 {
		return hits[0]
	}
	return ""
}

// yamlKey quotes a value when it would not read back as a plain YAML string key.
func yamlKey(s string) string {
	_, numErr := strconv.ParseFloat(s, 64)
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "null", "~":
		return strconv.Quote(s)
	}
	if numErr == nil || s == "" || strings.ContainsAny(s, ":#{}[],&*!|>'\"%@`") || strings.TrimSpace(s) != s {
		return strconv.Quote(s)
	}
	return s
}
