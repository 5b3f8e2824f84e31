package mappings

import (
	"fmt"
	"strings"
	"time"
)

// Wire and canonical layouts. Salesforce and Jira both write datetimes with a colon-less
// offset; the canonical projection is ISO 8601 in UTC with milliseconds.
const (
	dateLayout          = "2006-01-02"
	wireDateTimeLayout  = "2006-01-02T15:04:05.000-0700"
	canonDateTimeLayout = "2006-01-02T15:04:05.000Z"
)

var dateTimeInputs = []string{
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05-0700",
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04Z07:00",
}

func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(dateLayout, strings.TrimSpace(s))
	if err == nil && !fourDigitYear(t) {
		return time.Time{}, fmt.Errorf("date %q is outside the years 0001-9999", s)
	}
	return t, err
}

// fourDigitYear keeps values inside what ISO 8601 without expansion (and both systems) can
// write, so a value accepted once always reads back: 0000-01-01T00:00+00:01 would otherwise
// become the unwritable date -0001-12-31 in UTC.
func fourDigitYear(t time.Time) bool { return t.Year() >= 1 && t.Year() <= 9999 }

// parseDateTime accepts the ISO 8601 forms Salesforce and Jira emit (+0000, +00:00, Z).
func parseDateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range dateTimeInputs {
		if t, err := time.Parse(l, s); err == nil {
			if !fourDigitYear(t.UTC()) {
				return time.Time{}, fmt.Errorf("datetime %q is outside the years 0001-9999 in UTC", s)
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not an ISO 8601 datetime: %q", s)
}

// DateToJira converts a Salesforce date ("2024-01-31", or a datetime whose date part is
// taken in UTC) to the Jira date value, which is also its canonical form.
func DateToJira(s string) (string, error) {
	if t, err := parseDate(s); err == nil {
		return t.Format(dateLayout), nil
	}
	if t, err := parseDateTime(s); err == nil {
		return t.Format(dateLayout), nil
	}
	return "", fmt.Errorf("not a date (YYYY-MM-DD): %q", s)
}

// DateTimeToJira converts a Salesforce datetime to Jira's wire format in UTC
// ("2024-01-31T10:00:00.000+0000"); one timezone policy for the whole connector.
func DateTimeToJira(s string) (string, error) {
	t, err := parseDateTime(s)
	if err != nil {
		return "", err
	}
	return t.Format(wireDateTimeLayout), nil
}

// CanonicalDateTime is the projection of a datetime: ISO 8601 UTC with milliseconds, so
// values written in different offsets compare equal.
func CanonicalDateTime(s string) (string, error) {
	t, err := parseDateTime(s)
	if err != nil {
		return "", err
	}
	return t.Truncate(time.Millisecond).Format(canonDateTimeLayout), nil
}

func formatUnixMillisDate(ms int64) string {
	return time.UnixMilli(ms).UTC().Format(dateLayout)
}
