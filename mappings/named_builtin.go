package mappings

import (
	"fmt"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/unicode/norm"
)

// The built-in named transforms. They are registered through Register like any site transform,
// so they are proof that the extension point carries real rules.
func init() {
	MustRegister("phone_e164", PhoneE164)
	MustRegister("country_code", CountryCode)
	MustRegister("sales_region", SalesRegion)
}

// PhoneE164 normalises a phone number written for people ("+44 (0)20 7946 0958", "0049-30-1234567")
// to E.164 ("+442079460958"), the form Jira automation, dialers and de-duplication expect. It
// accepts spaces, dashes, dots, slashes and parentheses, a leading + or 00, and the "(0)" trunk
// prefix written after the country code. A number without a country code is rejected rather than
// guessed, as are letters, extensions and digit counts outside E.164 (8 to 15 digits).
func PhoneE164(fc FieldContext, v any) (any, error) {
	s, ok := asText(v)
	if !ok {
		return nil, &TransformError{Code: CodeTypeMismatch, Msg: fmt.Sprintf("a phone number must be text, got %s", shortValue(v)),
			Fix: "map a phone or text field"}
	}
	raw := strings.TrimSpace(s)
	low := strings.ToLower(raw)
	if strings.ContainsAny(low, "#;x") || strings.Contains(low, "ext") {
		return nil, Reject("keep only the number in "+fc.SF+"; put extensions in a field of their own",
			"phone number %s has an extension or suffix, which E.164 cannot hold", shortValue(raw))
	}
	t := strings.ReplaceAll(raw, "(0)", "")
	intl := false
	switch {
	case strings.HasPrefix(t, "+"):
		intl, t = true, t[1:]
	case strings.HasPrefix(t, "00"):
		intl, t = true, t[2:]
	}
	var digits strings.Builder
	for _, r := range t {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '/' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return nil, Reject("write the number with digits, spaces and dashes only, e.g. +44 20 7946 0958",
				"phone number %s contains %q", shortValue(raw), r)
		}
	}
	d := digits.String()
	if !intl {
		return nil, Reject(fmt.Sprintf("write %s with its country code, e.g. +44 20 7946 0958 or +1 415 555 0100", fc.SF),
			"phone number %s has no country code (+ or 00)", shortValue(raw))
	}
	if d == "" || d[0] == '0' {
		return nil, Reject("country codes never start with 0; check the digits after +", "phone number %s has no valid country code", shortValue(raw))
	}
	if len(d) < 8 || len(d) > 15 {
		return nil, Reject("check the number: E.164 numbers have 8 to 15 digits including the country code",
			"phone number %s has %d digits", shortValue(raw), len(d))
	}
	return "+" + d, nil
}

// countries maps folded country names, aliases and ISO 3166-1 codes to the alpha-2 region. It is
// built once from the CLDR English names (golang.org/x/text), so it covers every country without
// a hand-kept list; aliases add the names people actually type.
var countries = sync.OnceValue(func() map[string]language.Region {
	out := map[string]language.Region{}
	names := display.English.Regions()
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			r, err := language.ParseRegion(string([]rune{a, b}))
			if err != nil || !r.IsCountry() || r.Canonicalize() != r || r.String() != string([]rune{a, b}) {
				continue
			}
			out[foldCountry(r.String())] = r
			out[foldCountry(r.ISO3())] = r
			if n := names.Name(r); n != "" {
				out[foldCountry(n)] = r
			}
		}
	}
	for alias, code := range map[string]string{
		"USA": "US", "United States of America": "US", "America": "US", "U.S.": "US", "U.S.A.": "US",
		"UK": "GB", "Great Britain": "GB", "Britain": "GB", "England": "GB", "Scotland": "GB", "Wales": "GB", "Northern Ireland": "GB",
		"Russian Federation": "RU", "South Korea": "KR", "Korea": "KR", "Republic of Korea": "KR", "Korea, Republic of": "KR",
		"North Korea": "KP", "Czech Republic": "CZ", "Holland": "NL", "The Netherlands": "NL", "Ivory Coast": "CI",
		"Turkey": "TR", "Türkiye": "TR", "UAE": "AE", "Viet Nam": "VN", "Iran, Islamic Republic of": "IR",
		"Swaziland": "SZ", "Burma": "MM", "Macedonia": "MK", "Cape Verde": "CV", "East Timor": "TL",
		"Vatican": "VA", "Vatican City": "VA", "Hong Kong": "HK", "Macau": "MO", "Taiwan, Province of China": "TW",
		"Congo-Kinshasa": "CD", "DR Congo": "CD", "Democratic Republic of the Congo": "CD", "Congo-Brazzaville": "CG", "Republic of the Congo": "CG",
		"Bolivia, Plurinational State of": "BO", "Venezuela, Bolivarian Republic of": "VE", "Tanzania, United Republic of": "TZ",
		"Deutschland": "DE", "España": "ES", "Brasil": "BR", "México": "MX", "Italia": "IT", "Schweiz": "CH", "Suisse": "CH", "Österreich": "AT",
	} {
		r, err := language.ParseRegion(code)
		if err == nil {
			out[foldCountry(alias)] = r
		}
	}
	return out
})

// foldCountry lower-cases a country name, drops accents and punctuation, reads "&" as "and" and
// drops a leading "the", so "Côte d’Ivoire", "cote d'ivoire" and "COTE DIVOIRE" meet.
func foldCountry(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(strings.ToLower(strings.TrimSpace(s))) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		case r == '&':
			if b.Len() > 0 {
				b.WriteString(" and")
			}
			space = true
		case r == '\'' || r == '’' || r == '.':
		default:
			space = true
		}
	}
	return strings.TrimPrefix(b.String(), "the ")
}

func countryOf(fc FieldContext, v any) (language.Region, error) {
	s, ok := asText(v)
	if !ok {
		return language.Region{}, &TransformError{Code: CodeTypeMismatch, Msg: fmt.Sprintf("a country must be text, got %s", shortValue(v)),
			Fix: "map a country name or code field"}
	}
	if r, ok := countries()[foldCountry(s)]; ok {
		return r, nil
	}
	return language.Region{}, Reject(fmt.Sprintf("write %s as a country name (Germany) or ISO code (DE), or use a country picklist in Salesforce", fc.SF),
		"%s is not a country name or ISO 3166 code", shortValue(s))
}

// CountryCode turns a country as people type it ("Germany", "deutschland", "DEU", "U.S.A.") into
// its ISO 3166-1 alpha-2 region code ("DE", "US"), the form Jira select lists and reports group by.
func CountryCode(fc FieldContext, v any) (any, error) {
	r, err := countryOf(fc, v)
	if err != nil {
		return nil, err
	}
	return r.String(), nil
}

// UN M.49 areas the sales regions are made of.
var (
	m49Americas    = language.MustParseRegion("019")
	m49Europe      = language.MustParseRegion("150")
	m49Africa      = language.MustParseRegion("002")
	m49WesternAsia = language.MustParseRegion("145")
	m49Asia        = language.MustParseRegion("142")
	m49Oceania     = language.MustParseRegion("009")
)

// SalesRegion turns a country into the sales region most teams report by: AMER (the Americas),
// EMEA (Europe, Africa and the Middle East, i.e. UN M.49 Western Asia) or APAC (the rest of Asia
// and Oceania), from the UN M.49 area of the country. Antarctica is rejected.
func SalesRegion(fc FieldContext, v any) (any, error) {
	r, err := countryOf(fc, v)
	if err != nil {
		return nil, err
	}
	switch {
	case r.String() == "AQ": // CLDR files Antarctica under Outlying Oceania; no sales team covers it
	case m49Americas.Contains(r):
		return "AMER", nil
	case m49Europe.Contains(r), m49Africa.Contains(r), m49WesternAsia.Contains(r):
		return "EMEA", nil
	case m49Asia.Contains(r), m49Oceania.Contains(r):
		return "APAC", nil
	}
	return nil, Reject("map this record's region by hand, or leave the field empty", "country %s (%s) is in no sales region", shortValue(v), r)
}
