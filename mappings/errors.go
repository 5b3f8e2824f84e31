package mappings

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a mapping file, positioned so an admin can jump to it and
// told how to fix it; its text is "file:line:col: msg (fix: fix)".
type Error struct {
	File         string
	Line, Column int
	Msg, Fix     string
}

// Error renders the problem in the compiler-style format editors and CI logs understand.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Fix != "" {
		b.WriteString(" (fix: ")
		b.WriteString(e.Fix)
		b.WriteString(")")
	}
	return b.String()
}

// ErrorList collects every problem found in one load so an admin fixes them all in one
// round instead of one per run.
type ErrorList []*Error

// Error joins the problems one per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes the individual problems to errors.As / errors.Is.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

func (l ErrorList) sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// errOrNil returns nil for an empty list, so callers never see a typed-nil error.
func (l ErrorList) errOrNil() error {
	if len(l) == 0 {
		return nil
	}
	l.sort()
	return l
}

// Record error codes, part of the connector's error catalog (dead letters carry them).
const (
	// CodeRequiredValueMissing: a required source value is empty and the field has no default.
	CodeRequiredValueMissing = "MAPPING_REQUIRED_VALUE_MISSING"
	// CodeValueUnmapped: a status value has no entry in status.values and the policy is fail.
	CodeValueUnmapped = "MAPPING_VALUE_UNMAPPED"
	// CodeTypeMismatch: a source value cannot be converted to the field's declared type.
	CodeTypeMismatch = "MAPPING_TYPE_MISMATCH"
	// CodeValueTooLong: a text value exceeds max_length and on_overflow is fail.
	CodeValueTooLong = "MAPPING_VALUE_TOO_LONG"
	// CodeLookupUnlinked: a lookup flowing to Salesforce points at a Jira issue (the new parent,
	// or link target) that no Salesforce record is linked to.
	CodeLookupUnlinked = "MAPPING_LOOKUP_UNLINKED"
	// CodeLookupAmbiguous: an issue-link lookup flowing to Salesforce finds several links of its
	// type, and the Salesforce lookup holds one record.
	CodeLookupAmbiguous = "MAPPING_LOOKUP_AMBIGUOUS"
	// CodeUserUnknown: a user field's e-mail belongs to no active user on the other system and
	// the entry has no fallback field. Apart from CodeValueUnmapped because the fix is in the
	// user directory, not in the mapping's value map.
	CodeUserUnknown = "MAPPING_USER_UNKNOWN"
)

// RecordError is a non-retryable problem transforming one record's data; it carries a
// catalog code and remediation text for the dead-letter queue.
type RecordError struct {
	Code, Field, Record, Msg, Fix string
}

// Error renders "CODE: record: msg (fix: fix)".
func (e *RecordError) Error() string {
	s := e.Code + ": " + e.Record + ": " + e.Msg
	if e.Fix != "" {
		s += " (fix: " + e.Fix + ")"
	}
	return s
}
