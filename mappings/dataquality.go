package mappings

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// The data-quality report (`sfjira preflight --data`) runs every Salesforce record in a mapping's
// scope through the same transform a sync uses, without writing anything, and counts per field
// what would go wrong, so data is cleaned before going live rather than found in the dead-letter
// queue one record at a time.

// MaxExamples is how many record ids a data-quality count keeps as examples.
const MaxExamples = 3

// Count is a number of records with the first few record ids as examples.
type Count struct {
	N        int      `json:"count"`
	Examples []string `json:"examples,omitempty"`
}

func (c *Count) add(id string) {
	c.N++
	if len(c.Examples) < MaxExamples {
		c.Examples = append(c.Examples, id)
	}
}

// ValueCount is one unmapped source value (a picklist value without a Jira value, an e-mail
// without a Jira user, a stage without a status) and the records holding it.
type ValueCount struct {
	Value string `json:"value"`
	Count
}

// FieldQuality is the data-quality tally of one mapped field over the records in scope.
type FieldQuality struct {
	SF   string `json:"sf"`
	Jira string `json:"jira"`
	Type string `json:"type"`
	Line int    `json:"line"`
	// Required is true when an empty value stops the record.
	Required bool `json:"required"`
	// Limit is the length a text value must fit: max_length, else Jira's limit for the field.
	Limit int `json:"limit,omitempty"`
	// Empty counts records without a value; Invalid those the type conversion or the named
	// transform rejects; TooLong those beyond Limit (failing unless on_overflow: truncate, counted
	// in Truncated); Unmapped those whose value has no target, with the values in Values.
	Empty     Count         `json:"empty"`
	Invalid   Count         `json:"invalid"`
	TooLong   Count         `json:"too_long"`
	Truncated int           `json:"truncated"`
	Unmapped  Count         `json:"unmapped"`
	Values    []*ValueCount `json:"unmapped_values,omitempty"`
	// Failing counts records this field alone would stop.
	Failing int `json:"failing"`

	values   map[string]*ValueCount
	bf       *BoundField
	isStatus bool
}

// DataReport is the data-quality report of one mapping over its Salesforce scope.
type DataReport struct {
	Pair    string          `json:"pair"`
	File    string          `json:"file"`
	Object  string          `json:"object"`
	Scope   string          `json:"scope"`
	Records int             `json:"records"`
	Failing Count           `json:"failing"`
	Fields  []*FieldQuality `json:"fields"`

	b *Bound
}

// NewDataReport starts an empty report over the fields flowing Salesforce → Jira (and the status
// map), in file order.
func (b *Bound) NewDataReport() *DataReport {
	m := b.Mapping
	r := &DataReport{Pair: m.Pair, File: m.File, Object: m.Salesforce.Object, Scope: m.Salesforce.Where, b: b}
	for i := range b.Fields {
		bf := &b.Fields[i]
		if !bf.FlowsToJira() {
			continue
		}
		fq := &FieldQuality{SF: bf.SF, Jira: bf.Jira, Type: bf.Type, Line: bf.Line, Required: bf.Required, bf: bf, values: map[string]*ValueCount{}}
		if bf.Type == TypeText || bf.Type == TypeRichText || bf.Type == TypeHTML {
			fq.Limit = jiraLimit(*bf)
			if bf.MaxLength > 0 && bf.MaxLength < fq.Limit {
				fq.Limit = bf.MaxLength
			}
		}
		r.Fields = append(r.Fields, fq)
	}
	if st := m.Status; st != nil {
		r.Fields = append(r.Fields, &FieldQuality{SF: st.SF, Jira: "status", Type: "status", Line: st.Line,
			Required: st.Unmapped != UnmappedKeep, isStatus: true, values: map[string]*ValueCount{}})
	}
	return r
}

// jiraLimit is the most characters the Jira field takes.
func jiraLimit(bf BoundField) int {
	if bf.ADF {
		return JiraLimitRichText
	}
	return JiraLimitSingleLine
}

// Add runs one record through the transform and tallies what would go wrong. It returns an
// error only for problems that are not the record's data (a Jira user lookup that failed).
func (r *DataReport) Add(id string, get Getter) error {
	b := r.b
	rec := b.Mapping.Salesforce.Object + " " + id
	r.Records++
	_, err := b.ToJira(rec, get)
	var recErrs []*RecordError
	if err != nil {
		for _, e := range flattenErrors(err) {
			var re *RecordError
			if !errors.As(e, &re) {
				return fmt.Errorf("%s: %w", rec, e)
			}
			recErrs = append(recErrs, re)
		}
	}
	failing := len(recErrs) > 0
	for _, fq := range r.Fields {
		var mine []*RecordError
		for _, re := range recErrs {
			if fq.owns(b, re) {
				mine = append(mine, re)
			}
		}
		if fq.isStatus {
			r.addStatus(fq, id, get, mine)
			continue
		}
		bf := *fq.bf
		raw := readSource(bf, get)
		if isEmptyValue(raw) {
			fq.Empty.add(id)
		}
		for _, re := range mine {
			fq.Failing++
			switch re.Code {
			case CodeRequiredValueMissing:
				// counted as empty above
			case CodeValueTooLong:
				fq.TooLong.add(id)
			case CodeValueUnmapped:
				fq.Unmapped.add(id)
				for _, v := range r.unmappedValues(bf, rec, raw, get, re) {
					fq.addValue(v, id)
				}
			default:
				fq.Invalid.add(id)
			}
		}
		if len(mine) > 0 || fq.Limit == 0 || isEmptyValue(raw) {
			continue
		}
		// Converted fine (or the record failed on another field): check the length against max_length (truncated) and Jira's limit, which
		// the transform does not enforce and Jira answers with a 400.
		s, ok := asText(raw)
		if bf.Transform != nil {
			if v, err := b.applyTransform(bf, rec, raw, get); err == nil {
				s, ok = asText(v)
			}
		}
		if !ok {
			continue
		}
		n := utf8.RuneCountInString(normalizeNewlines(s))
		if bf.MaxLength > 0 && n > bf.MaxLength && bf.OnOverflow == OverflowTruncate {
			fq.Truncated++
			fq.TooLong.add(id)
			continue
		}
		if bf.Type == TypeText && n > jiraLimit(bf) {
			fq.TooLong.add(id)
			fq.Failing++
			failing = true
		}
	}
	if failing {
		r.Failing.add(id)
	}
	return nil
}

func (r *DataReport) addStatus(fq *FieldQuality, id string, get Getter, mine []*RecordError) {
	raw, _ := get(fq.SF)
	if isEmptyValue(raw) {
		fq.Empty.add(id)
	}
	for _, re := range mine {
		fq.Failing++
		switch re.Code {
		case CodeRequiredValueMissing:
		case CodeValueUnmapped:
			fq.Unmapped.add(id)
			s, _ := asText(raw)
			fq.addValue(s, id)
		default:
			fq.Invalid.add(id)
		}
	}
}

// owns tells whether a record error is about this field (errors carry the Salesforce field and
// start with the field's label, so two fields reading one Salesforce field stay apart).
func (fq *FieldQuality) owns(b *Bound, re *RecordError) bool {
	if fq.isStatus {
		return re.Field == fq.SF && (strings.HasPrefix(re.Msg, fq.SF+" (→ status)") || strings.HasPrefix(re.Msg, fq.SF+" value "))
	}
	return re.Field == fq.bf.SF && strings.HasPrefix(re.Msg, b.label(*fq.bf))
}

// addValue counts an unmapped value; values match ignoring case and surrounding spaces, as the
// value maps do, and keep the first spelling seen.
func (fq *FieldQuality) addValue(v, id string) {
	k := foldValue(v)
	if fq.isStatus {
		k = v // status values match exactly
	}
	vc, ok := fq.values[k]
	if !ok {
		vc = &ValueCount{Value: v}
		fq.values[k] = vc
		fq.Values = append(fq.Values, vc)
	}
	vc.add(id)
}

// readSource reads a field's source value as ToJira does, before any default.
func readSource(bf BoundField, get Getter) any {
	if bf.Expr != nil {
		return bf.Expr.Eval(get)
	}
	v, _ := get(bf.SF)
	return v
}

// unmappedValues lists the source values of a field without a target: picklist values missing
// from the value map (all of them, not only the first ToJira stopped at), or the e-mail no Jira
// user has.
func (r *DataReport) unmappedValues(bf BoundField, rec string, raw any, get Getter, re *RecordError) []string {
	v := raw
	if bf.Transform != nil {
		if t, err := r.b.applyTransform(bf, rec, raw, get); err == nil {
			v = t
		}
	}
	if isEmptyValue(v) && bf.Default != nil {
		v = bf.Default
	}
	if bf.ValueMap != nil {
		var vals []string
		switch x := v.(type) {
		case string:
			if bf.Type == TypeMultiPicklist {
				vals = splitMulti(x)
			} else {
				vals = []string{strings.TrimSpace(x)}
			}
		case []any:
			for _, e := range x {
				if s, ok := asText(e); ok {
					vals = append(vals, strings.TrimSpace(s))
				}
			}
		default:
			if s, ok := asText(x); ok {
				vals = []string{strings.TrimSpace(s)}
			}
		}
		var out []string
		for _, s := range vals {
			if _, ok := bf.ValueMap.ToJira(s); !ok {
				out = append(out, s)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	if s, ok := asText(v); ok {
		return []string{canonicalEmailOr(bf, s)}
	}
	return []string{re.Msg}
}

func canonicalEmailOr(bf BoundField, s string) string {
	if bf.Type == TypeUser {
		return canonicalEmail(s)
	}
	return strings.TrimSpace(s)
}

// flattenErrors undoes errors.Join.
func flattenErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flattenErrors(e)...)
		}
		return out
	}
	return []error{err}
}

// Finish sorts the unmapped values by count (then value) so the biggest clean-up comes first.
func (r *DataReport) Finish() {
	for _, fq := range r.Fields {
		sort.SliceStable(fq.Values, func(i, j int) bool {
			if fq.Values[i].N != fq.Values[j].N {
				return fq.Values[i].N > fq.Values[j].N
			}
			return fq.Values[i].Value < fq.Values[j].Value
		})
	}
}

// Blocking reports whether any record in scope would fail to sync.
func (r *DataReport) Blocking() bool { return r.Failing.N > 0 }
