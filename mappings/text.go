package mappings

import (
	"strings"
	"unicode/utf8"
)

// TruncateMarker is appended (within max_length) when on_overflow is truncate, so readers
// can see the text was cut.
const TruncateMarker = "…"

// normalizeNewlines turns CRLF and lone CR into LF and replaces invalid UTF-8, so the
// same Salesforce text always yields the same Jira value and projection.
func normalizeNewlines(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// truncateRunes shortens s to at most max runes including the marker; ok is false when
// s already fit.
func truncateRunes(s string, max int) (string, bool) {
	if utf8.RuneCountInString(s) <= max {
		return s, false
	}
	r := []rune(s)
	keep := max - utf8.RuneCountInString(TruncateMarker)
	if keep < 0 {
		keep = 0
	}
	return strings.TrimRight(string(r[:keep]), " \t\n") + TruncateMarker, true
}

// projectText is the canonical form of a text value: newlines normalized, surrounding
// whitespace trimmed (Jira trims single-line fields).
func projectText(s string) string { return strings.TrimSpace(normalizeNewlines(s)) }
