package mappings

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPhoneE164(t *testing.T) {
	fc := FieldContext{SF: "Phone"}
	for in, want := range map[string]string{
		"+44 (0)20 7946 0958": "+442079460958",
		"0049-30-1234567":     "+49301234567",
		"+1 (415) 555-0100":   "+14155550100",
		"+33.1.23.45.67.89":   "+33123456789",
		"  +81 3/1234/5678 ":  "+81312345678",
	} {
		got, err := PhoneE164(fc, in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for in, msg := range map[string]string{
		"020 7946 0958":           "has no country code",
		"+44 20 7946 0958 ext 12": "extension",
		"+1 415 555 0100 x12":     "extension",
		"+44 20 CALL NOW":         "contains 'C'",
		"+0 123 4567 890":         "no valid country code",
		"+1 555":                  "has 4 digits",
		"+1234567890123456":       "has 16 digits",
	} {
		_, err := PhoneE164(fc, in)
		var te *TransformError
		require.True(t, errors.As(err, &te), "%s: want a TransformError, got %v", in, err)
		assert.Equal(t, CodeTransformFailed, te.Code)
		assert.Contains(t, te.Msg, msg, in)
		assert.NotEmpty(t, te.Fix)
	}
}

func TestCountryCodeAndRegion(t *testing.T) {
	fc := FieldContext{SF: "BillingCountry"}
	for in, want := range map[string][2]string{
		"Germany":              {"DE", "EMEA"},
		"deutschland":          {"DE", "EMEA"},
		"DEU":                  {"DE", "EMEA"},
		"U.S.A.":               {"US", "AMER"},
		"United States":        {"US", "AMER"},
		"Côte d’Ivoire":        {"CI", "EMEA"},
		"cote d'ivoire":        {"CI", "EMEA"},
		"Japan":                {"JP", "APAC"},
		"australia":            {"AU", "APAC"},
		"Brazil":               {"BR", "AMER"},
		"Saudi Arabia":         {"SA", "EMEA"},
		"United Kingdom":       {"GB", "EMEA"},
		"Bosnia & Herzegovina": {"BA", "EMEA"},
		"The Netherlands":      {"NL", "EMEA"},
	} {
		code, err := CountryCode(fc, in)
		require.NoError(t, err, in)
		assert.Equal(t, want[0], code, in)
		region, err := SalesRegion(fc, in)
		require.NoError(t, err, in)
		assert.Equal(t, want[1], region, in)
	}
	_, err := CountryCode(fc, "Atlantis")
	var te *TransformError
	require.True(t, errors.As(err, &te))
	assert.Equal(t, `"Atlantis" is not a country name or ISO 3166 code`, te.Msg)
	_, err = SalesRegion(fc, "Antarctica")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "in no sales region")
}

func TestRegisterRejectsBadNamesAndDuplicates(t *testing.T) {
	fn := func(FieldContext, any) (any, error) { return nil, nil }
	assert.ErrorContains(t, Register("Phone-Fix", fn), "lower_snake_case")
	assert.ErrorContains(t, Register("phone_e164", fn), "already registered")
	assert.ErrorContains(t, Register("no_func", nil), "no function")
	require.NoError(t, RegisterOnce("phone_e164", fn), "RegisterOnce keeps the first registration")
	got, err := PhoneE164(FieldContext{}, "+44 20 7946 0958")
	require.NoError(t, err)
	assert.Equal(t, "+442079460958", got)
	assert.Subset(t, TransformNames(), []string{"country_code", "phone_e164", "sales_region"})
}

const transformMapping = `version: 1
pair: account-task
salesforce:
  object: Account
  external_id_field: Jira_Issue_Id__c
jira:
  project: SFJ
  issue_type: Task
fields:
  - sf: Name
    jira: summary
    type: text
  - sf: Phone
    jira: Customer
    type: text
    transform: phone_e164
  - sf: BillingCountry
    jira: Industry
    type: text
    transform: sales_region
    default: Unknown
  - sf: Description
    jira: Account Type
    type: text
    transform: test_panics
`

func TestNamedTransformInToJira(t *testing.T) {
	t.Cleanup(func() { registry.Lock(); delete(registry.fns, "test_panics"); registry.Unlock() })
	require.NoError(t, RegisterOnce("test_panics", func(fc FieldContext, v any) (any, error) {
		if v == "boom" {
			panic("index out of range")
		}
		if v == "odd" {
			return nil, fmt.Errorf("odd value")
		}
		if v == "bad code" {
			return nil, &TransformError{Code: "NOT_A_CODE", Msg: "no"}
		}
		other, _ := fc.Get("Name")
		return fmt.Sprintf("%v/%s/%d/%s", other, fc.Pair, fc.Line, fc.Jira), nil
	}))
	m, err := Load("t.yaml", []byte(transformMapping))
	require.NoError(t, err)
	b, err := m.Bind(append(append([]JiraField{}, jiraFields...), JiraField{ID: "customfield_10057", Name: "Account Type", SchemaType: "string"}))
	require.NoError(t, err)

	rec := map[string]any{"Name": "Acme", "Phone": "+44 (0)20 7946 0958", "BillingCountry": "japan", "Description": "x"}
	d, err := b.ToJira("Account 001A", RecordGetter(rec))
	require.NoError(t, err)
	assert.Equal(t, "+442079460958", d.Fields["customfield_10052"])
	assert.Equal(t, "APAC", d.Fields["customfield_10054"])
	assert.Equal(t, "Acme/account-task/22/Account Type", d.Fields["customfield_10057"], "the transform sees the field context and sibling fields")

	rec = map[string]any{"Name": "Acme", "Phone": "020 7946 0958", "BillingCountry": nil, "Description": "boom"}
	_, err = b.ToJira("Account 001B", RecordGetter(rec))
	require.Error(t, err)
	var res []*RecordError
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var re *RecordError
		require.True(t, errors.As(e, &re))
		res = append(res, re)
	}
	require.Len(t, res, 2)
	assert.Equal(t, CodeTransformFailed, res[0].Code)
	assert.Equal(t, "Phone", res[0].Field)
	assert.Equal(t, `MAPPING_TRANSFORM_FAILED: Account 001B: Phone (→ Customer): transform phone_e164: phone number "020 7946 0958" has no country code (+ or 00) (fix: write Phone with its country code, e.g. +44 20 7946 0958 or +1 415 555 0100)`, res[0].Error())
	assert.Contains(t, res[1].Error(), "transform test_panics: panicked on \"boom\": index out of range")

	for in, want := range map[string]string{"odd": "transform test_panics: odd value", "bad code": "MAPPING_TRANSFORM_FAILED"} {
		_, err = b.ToJira("Account 001C", RecordGetter(map[string]any{"Name": "Acme", "Description": in}))
		require.Error(t, err)
		assert.Contains(t, err.Error(), want)
	}
	// An empty value skips the transform and takes the default.
	d, err = b.ToJira("Account 001D", RecordGetter(map[string]any{"Name": "Acme", "BillingCountry": " "}))
	require.NoError(t, err)
	assert.Equal(t, "Unknown", d.Fields["customfield_10054"])
}

func TestTransformLoadErrors(t *testing.T) {
	src := strings.Replace(transformMapping, "transform: sales_region\n    default: Unknown", "transform: sales_region\n    direction: both", 1)
	_, err := Load("t.yaml", []byte(src))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "t.yaml:20:5: a named transform cannot write Jira values back to Salesforce (direction: both)")
}

// FuzzNamedTransforms: the built-in transforms never panic, and what they accept is a fixed
// point (normalising twice changes nothing), so re-syncs never flip a value.
func FuzzNamedTransforms(f *testing.F) {
	for _, s := range []string{"+44 (0)20 7946 0958", "0049-30-1234567", "+1 415 555 0100 x12", "Germany", "côte d’ivoire",
		"U.S.A.", "", "   ", "+", "00", "(0)", "+٤٤١٢٣٤٥٦٧٨", "Bosnia & Herzegovina", "\x00\xff", strings.Repeat("9", 500)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fc := FieldContext{SF: "F"}
		if out, err := PhoneE164(fc, s); err == nil {
			again, err := PhoneE164(fc, out)
			if err != nil || again != out {
				t.Fatalf("phone_e164(%q) = %q, again %q, %v", s, out, again, err)
			}
		}
		if out, err := CountryCode(fc, s); err == nil {
			again, err := CountryCode(fc, out)
			if err != nil || again != out {
				t.Fatalf("country_code(%q) = %q, again %q, %v", s, out, again, err)
			}
			if _, err := SalesRegion(fc, s); err != nil && !strings.Contains(err.Error(), "in no sales region") {
				t.Fatalf("sales_region(%q): %v", s, err)
			}
		}
	})
}
