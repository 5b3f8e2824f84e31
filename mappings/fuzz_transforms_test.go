package mappings

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets for every transform. `go test` (and so `make test`) runs each seed corpus;
// `go test -fuzz=FuzzX ./mappings` explores further. The properties are "no panic" and "no
// silent data change": whatever is written reads back to the same canonical value, and a
// value is only altered where the mapping says so (truncate with the marker).

// FuzzADFToText feeds arbitrary JSON (documents from Jira, HTML or markdown pasted into
// descriptions, garbage) to the ADF reader: the text it returns is already canonical and
// survives a second trip through ADF unchanged.
func FuzzADFToText(f *testing.F) {
	for _, s := range []string{
		`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"a"},{"type":"hardBreak"},{"type":"text","text":"b"}]}]}`,
		`{"type":"doc","version":1,"content":[{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"x"}]},{"type":"orderedList","attrs":{"order":7},"content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"y"}]}]}]}]}]}]}`,
		`{"type":"doc","version":1,"content":[{"type":"codeBlock","attrs":{"language":"html"},"content":[{"type":"text","text":"<p>hi</p>\n<b>x</b>"}]}]}`,
		`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"see docs","marks":[{"type":"link","attrs":{"href":"https://x.example/?a=1&b=2"}}]},{"type":"mention","attrs":{"id":"5b10","text":"@Ana"}},{"type":"date","attrs":{"timestamp":"1711843200000"}}]}]}`,
		`{"type":"doc","version":1,"content":[{"type":"table","content":[{"type":"tableRow","content":[{"type":"tableCell","content":[{"type":"paragraph","content":[{"type":"text","text":"a|b"}]}]}]}]}]}`,
		`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"  **bold** _it_ # not a heading\r\n\r\n"}]}]}`,
		`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"date","attrs":{"timestamp":"-99999999999999999"}}]}]}`,
		`"plain v2 string\r\nwith CRLF"`, `null`, `[]`, `{"type":`, `{"type":"doc","content":[{"type":"orderedList","attrs":{"order":1e300}}]}`,
		"\"\xff\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := ADFToText(raw)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 out of %q: %q", raw, got)
		}
		if CanonicalText(got) != got {
			t.Fatalf("ADFToText(%q) = %q is not canonical", raw, got)
		}
		if back := ADFMapToText(TextToADF(got)); back != got {
			t.Fatalf("text %q changed through ADF: %q", got, back)
		}
	})
}

// FuzzDateTime checks the timezone policy on instants around DST changes in many zones:
// a Salesforce datetime written with any offset (±hh:mm, ±hhmm, Z, fractional seconds) reaches
// Jira as the same instant in UTC, and its canonical form does not depend on the offset used.
func FuzzDateTime(f *testing.F) {
	// 2026 DST changes: Europe 29 Mar / 25 Oct, US 8 Mar / 1 Nov, Sydney 5 Apr / 4 Oct,
	// plus a leap day, the epoch and year 9999.
	for _, s := range []string{"2026-03-29T01:00:00Z", "2026-10-25T00:59:59.999Z", "2026-03-08T07:00:00Z", "2026-11-01T06:30:00Z",
		"2026-04-04T16:00:00Z", "2026-10-03T16:00:00Z", "2024-02-29T23:59:59.5Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z"} {
		tm, _ := time.Parse(time.RFC3339Nano, s)
		for zone := uint8(0); zone < 8; zone += 3 {
			f.Add(tm.UnixNano(), zone, uint8(0))
		}
	}
	f.Add(int64(-4_700_000_000_000_000_000), uint8(1), uint8(2)) // 1821, local mean time in Berlin
	f.Fuzz(func(t *testing.T, nanos int64, zone, layout uint8) {
		zones := []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", "Asia/Kathmandu"}
		loc, err := time.LoadLocation(zones[int(zone)%len(zones)])
		if err != nil {
			t.Skip("no tzdata:", err)
		}
		instant := time.Unix(0, nanos).In(loc)
		if instant.Year() < 1000 || instant.Year() > 9999 {
			return // four-digit years only (ISO 8601 without expansion)
		}
		layouts := []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano, "2006-01-02T15:04:05-07:00", "2006-01-02T15:04:05.000Z07:00"}
		l := layouts[int(layout)%len(layouts)]
		in := instant.Format(l)
		wire, err := DateTimeToJira(in)
		if err != nil {
			t.Fatalf("%q (%s) rejected: %v", in, l, err)
		}
		back, err := time.Parse("2006-01-02T15:04:05.000-0700", wire)
		if err != nil {
			t.Fatalf("wire %q unreadable: %v", wire, err)
		}
		parsedIn, _ := time.Parse(l, in)
		if !back.Equal(parsedIn.Truncate(time.Millisecond)) || !strings.HasSuffix(wire, "+0000") {
			t.Fatalf("%q became %q: instant changed or not UTC", in, wire)
		}
		c1, err1 := CanonicalDateTime(in)
		c2, err2 := CanonicalDateTime(wire)
		// (Historic local mean time offsets have seconds that ISO 8601 offsets cannot carry,
		// so the instant to compare with is the one the formatted input denotes.)
		c3, err3 := CanonicalDateTime(parsedIn.UTC().Format(l))
		if err1 != nil || err2 != nil || err3 != nil || c1 != c2 || c1 != c3 {
			t.Fatalf("canonical forms differ: %q %q %q (%v %v %v)", c1, c2, c3, err1, err2, err3)
		}
		d, err := DateToJira(instant.Format("2006-01-02"))
		if err != nil || d != instant.Format("2006-01-02") {
			t.Fatalf("date %s became %q (%v)", instant.Format("2006-01-02"), d, err)
		}
	})
}

// FuzzDateText feeds arbitrary strings to the date and datetime readers: no panic, and any
// accepted value is a fixed point of its own conversion.
func FuzzDateText(f *testing.F) {
	for _, s := range []string{"2026-03-29", " 2026-03-29 ", "2026-02-30", "2026-03-29T02:30:00+02:00", "2026-03-29T02:30:00.123456789+0200", "29/03/2026", "", "2026-13-01", "0000-01-01T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := DateToJira(s); err == nil {
			if again, err := DateToJira(d); err != nil || again != d {
				t.Fatalf("date %q → %q → %q (%v)", s, d, again, err)
			}
		}
		if w, err := DateTimeToJira(s); err == nil {
			c, _ := CanonicalDateTime(s)
			if again, err := CanonicalDateTime(w); err != nil || again != c {
				t.Fatalf("datetime %q: wire %q canonical %q, wire reads back as %q (%v)", s, w, c, again, err)
			}
		}
	})
}

// FuzzRoundDecimal checks number, currency and percent rounding: the canonical string and the
// wire float agree, rounding is idempotent, and the result is within half a unit of the last
// kept decimal of the input.
func FuzzRoundDecimal(f *testing.F) {
	for _, s := range []struct {
		v float64
		p int8
	}{{1.005, 2}, {-1.005, 2}, {0.5, 0}, {-0.5, 0}, {2.675, 2}, {999999.995, 2}, {1e21, 2}, {1e-10, 4}, {-0.0001, 2}, {123456789.123456789, -1}, {0.1 + 0.2, 2}, {9.999, 2}, {math.MaxFloat64, 0}, {5e-324, 18}} {
		f.Add(s.v, s.p)
	}
	f.Fuzz(func(t *testing.T, v float64, p int8) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if _, err := toFloat(v); err == nil {
				t.Fatal("non-finite number accepted")
			}
			return
		}
		prec := int(p) % 19 // -18..18; negatives mean unrounded
		if prec < 0 {
			prec = NoPrecision
		}
		c, w := RoundDecimal(v, prec)
		parsed, err := strconv.ParseFloat(c, 64)
		if err != nil || parsed != w {
			t.Fatalf("RoundDecimal(%v, %d) = %q, %v: string and float disagree (%v)", v, prec, c, w, err)
		}
		if c2, _ := RoundDecimal(w, prec); c2 != c {
			t.Fatalf("not idempotent: %v → %q → %q", v, c, c2)
		}
		if prec >= 0 {
			if _, frac, ok := strings.Cut(c, "."); (prec == 0 && ok) || (prec > 0 && len(frac) != prec) {
				t.Fatalf("RoundDecimal(%v, %d) = %q: wrong number of decimals", v, prec, c)
			}
			tol := 0.5*math.Pow(10, -float64(prec)) + math.Abs(v)*1e-15
			if math.Abs(w-v) > tol {
				t.Fatalf("RoundDecimal(%v, %d) = %v: moved by more than half a unit", v, prec, w)
			}
		} else if w != v && !(v == 0 && w == 0) {
			t.Fatalf("unrounded %v changed to %v", v, w)
		}
	})
}

// fuzzJiraFields adds a datetime and a checkbox-like custom field to the demo site's fields.
var fuzzJiraFields = append(append([]JiraField{}, jiraFields...),
	JiraField{ID: "customfield_10060", Name: "Kickoff", SchemaType: "datetime"},
	JiraField{ID: "customfield_10061", Name: "Approved", SchemaType: "number"},
	JiraField{ID: "customfield_10062", Name: "Notes", SchemaType: "string", SchemaCustom: "com.atlassian.jira.plugin.system.customfieldtypes:textarea"},
)

const fuzzMapping = `version: 1
pair: fuzz
salesforce:
  object: Opportunity
  external_id_field: Jira_Issue_Id__c
jira:
  project: SFJ
  issue_type: Epic
fields:
  - { sf: Name, jira: summary, type: text, direction: both, owner: both, conflict: last_writer_wins, max_length: 40, on_overflow: truncate }
  - { sf: Description, jira: description, type: rich_text, direction: both }
  - { sf: Notes__c, jira: Notes, type: rich_text, direction: both, max_length: 60, on_overflow: fail }
  - { sf: CloseDate, jira: duedate, type: date, direction: both }
  - { sf: Amount, jira: Deal Amount, type: currency, direction: both }
  - { sf: Probability, jira: Probability, type: percent, direction: both }
  - { sf: Kickoff__c, jira: Kickoff, type: datetime, direction: both }
  - { sf: Approved__c, jira: Approved, type: checkbox, direction: both }
`

// FuzzRecordRoundTrip drives a whole record through ToJira, the Jira wire (JSON), ProjectJira
// and ToSalesforce: what is written to Jira projects exactly as ToJira predicted, and what
// comes back to Salesforce equals the original record's canonical values, except for text cut
// by on_overflow: truncate, which must end with the marker and fit the limit.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add("Acme — renewal 🚀", "Line 1\r\nline 2\n\n<p>html</p> **md**", "short", "2026-03-29", 1234.565, 45.5, "2026-03-29T02:30:00+02:00", true)
	f.Add(strings.Repeat("ü", 100), "", strings.Repeat("x", 61), "2026-10-25T01:30:00-04:00", -0.005, 100.0, "2026-11-01T01:30:00.999-0500", false)
	f.Add("  padded  ", "\n\n\n", "é\u0301 e\u0301", "bad date", 1e15, 0.0, "not a datetime", true)
	f.Add("", "- item\n1. first\n`code`", "\x00\xff", "", 0.0, -3.3, "", false)
	// Salesforce's longest text area (131,072 characters) with mixed scripts and blank lines.
	f.Add("long", strings.Repeat("Zeile 東京 🚀 <b>x</b>\n\n", 131072/22), "n", "2024-02-29", 0.125, 12.5, "2024-02-29T23:59:59.999Z", true)
	f.Fuzz(func(t *testing.T, name, desc, notes, date string, amount, prob float64, kickoff string, approved bool) {
		m, err := Load("fuzz.yaml", []byte(fuzzMapping))
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.Bind(fuzzJiraFields)
		if err != nil {
			t.Fatal(err)
		}
		rec := map[string]any{"Name": name, "Description": desc, "Notes__c": notes, "CloseDate": date,
			"Amount": amount, "Probability": prob, "Kickoff__c": kickoff, "Approved__c": approved}
		d, err := b.ToJira("Opportunity 006fuzz", RecordGetter(rec))
		if err != nil {
			if !strings.Contains(err.Error(), "MAPPING_") {
				t.Fatalf("uncatalogued error: %v", err)
			}
			return // bad data is rejected with a catalog code, never written half-converted
		}
		wire, err := json.Marshal(d.Fields)
		if err != nil {
			t.Fatal(err)
		}
		var issue map[string]json.RawMessage
		if err := json.Unmarshal(wire, &issue); err != nil {
			t.Fatal(err)
		}
		if got := b.ProjectJira(issue); got.Hash() != d.Projection.Hash() {
			t.Fatalf("Jira reads back differently than predicted:\n%v", d.Projection.Diff(got))
		}
		truncated := map[string]bool{}
		if s, _ := d.Fields["summary"].(string); strings.HasSuffix(s, TruncateMarker) && utf8.RuneCountInString(projectText(name)) > 0 {
			if utf8.RuneCountInString(s) > 40 {
				t.Fatalf("summary %q longer than max_length 40", s)
			}
			truncated["Name"] = utf8.RuneCountInString(normalizeNewlines(name)) > 40
		}
		back := b.ToSalesforce(issue)
		want := b.ProjectSalesforce(RecordGetter(rec))
		got := b.ProjectSalesforceValues(back)
		for k, w := range want {
			if truncated[k] {
				continue
			}
			if got[k] != w {
				t.Fatalf("%s changed on the round trip: %q → %q (wire %s)", k, w, got[k], wire)
			}
		}
	})
}
