package mappings

import "strconv"

// HiddenPII stands in for the value of a PII-marked field in error messages and warnings: those
// travel into logs, dead letters and Temporal failures, where personal data must not go. The
// message still names the field and the record, which is what an operator needs to find it.
const HiddenPII = "(PII value hidden)"

// shown renders a source value for a message: shortened and quoted, or HiddenPII for PII fields.
func (f FieldMap) shown(v any) string {
	if f.PII {
		return HiddenPII
	}
	return shortValue(v)
}

// quoted is shown for a string the caller already has, quoted like %q.
func (f FieldMap) quoted(s string) string {
	if f.PII {
		return HiddenPII
	}
	return strconv.Quote(s)
}

// plain is the bare value for running text ("invite ana@x.com to Jira"), or a neutral phrase.
func (f FieldMap) plain(s, hidden string) string {
	if f.PII {
		return hidden
	}
	return s
}
