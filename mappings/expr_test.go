package mappings

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func exprRecord() Getter {
	return RecordGetter(map[string]any{
		"Name": "Renewal 2027", "Amount": 125000.0, "IsClosed": true, "StageName": "Closed Won",
		"Subject": "Login fails", "CaseNumber": "00001001", "Blank": "   ", "Count": json.Number("7"),
		"Account": map[string]any{"Name": "Müller & Söhne", "Industry": nil},
	})
}

func TestExprEval(t *testing.T) {
	get := exprRecord()
	tests := []struct {
		src  string
		want any
	}{
		{`concat(Account.Name, " — ", Name)`, "Müller & Söhne — Renewal 2027"},
		{`if(IsClosed, "Done", "Open")`, "Done"},
		{`if(not IsClosed, "Open", "Done")`, "Done"},
		{`if(Amount >= 100000 and StageName != "Closed Lost", "Strategic", "Standard")`, "Strategic"},
		{`if(Amount > 200000 or StageName = "Closed Won", "yes", "no")`, "yes"},
		{`if(Amount < 1000, "small", if(Amount < 1000000, "medium", "large"))`, "medium"},
		{`coalesce(Account.Industry, Blank, "n/a")`, "n/a"},
		{`coalesce(Missing__c, Name)`, "Renewal 2027"},
		{`concat("Case ", CaseNumber, ": ", Subject)`, "Case 00001001: Login fails"},
		{`concat(Amount, " / ", IsClosed, " / ", Count)`, "125000 / true / 7"},
		{`upper(Name)`, "RENEWAL 2027"},
		{`lower(Account.Name)`, "müller & söhne"},
		{`trim("  x  ")`, "x"},
		{`isblank(Account.Industry)`, true},
		{`isblank(Name)`, false},
		{`Account.Industry = null`, true},
		{`Account.Industry != ""`, false},
		{`Count > 6`, true},
		{`"10" < "9"`, true}, // text compares as text
		{`10 < 9`, false},
		{`if(Missing__c, "a", "b")`, "b"},
		{`concat("say \"hi\"\n", 'it''s')`, nil}, // see below: '' is not an escape
		{`Name`, "Renewal 2027"},
		{`-5 < 0`, true},
		{`(IsClosed)`, true},
		{`"Salesforce"`, "Salesforce"}, // a constant
	}
	for _, tc := range tests {
		e, err := ParseExpr(tc.src)
		if tc.want == nil {
			require.Error(t, err, tc.src)
			continue
		}
		require.NoError(t, err, tc.src)
		assert.Equal(t, tc.want, e.Eval(get), tc.src)
		assert.Equal(t, tc.src, e.Source)
	}
	e, err := ParseExpr(`concat("say \"hi\"\n", 'it\'s')`)
	require.NoError(t, err)
	assert.Equal(t, "say \"hi\"\nit's", e.Eval(get))
}

func TestExprPaths(t *testing.T) {
	e, err := ParseExpr(`if(IsClosed and Account.Name != "", concat(Account.Name, account.name, Name), Name)`)
	require.NoError(t, err)
	assert.Equal(t, []string{"IsClosed", "Account.Name", "Name"}, e.Paths, "each field once, case-insensitively, in order of first use")
}

func TestExprErrors(t *testing.T) {
	tests := []struct {
		src    string
		offset int
		msg    string
	}{
		{``, 0, "expression is empty"},
		{`concatt(Name)`, 0, `unknown function "concatt"`},
		{`concat(Name`, 11, `expected "," or ")" in concat(…), found end of expression`},
		{`if(A, "b")`, 0, "if takes 3 argument(s), got 2"},
		{`upper(A, B)`, 0, "upper takes 1 argument(s), got 2"},
		{`concat()`, 0, "concat takes at least 1 argument(s), got 0"},
		{`Name + "x"`, 5, `unexpected character '+'`},
		{`"abc`, 0, "text is not closed"},
		{`1 < A < 3`, 6, "comparisons cannot be chained"},
		{`A B`, 2, `unexpected "B" after the end of the expression`},
		{`(A`, 2, `expected ")", found end of expression`},
		{`and A`, 0, `"and" needs a value before it`},
		{`A.`, 0, `invalid Salesforce field "A."`},
		{`A.B.C.D.E.F.G`, 0, `Salesforce path "A.B.C.D.E.F.G" is too deep`},
		{`1.2.3`, 0, `invalid number "1.2.3"`},
		{`"\x"`, 1, `unknown escape "\x" in text`},
		{`!A`, 0, `"!" is not an operator`},
		{`concat(,)`, 7, `unexpected ","`},
		{strings.Repeat("(", 60) + "A" + strings.Repeat(")", 60), 50, "expression is nested too deeply"},
	}
	for _, tc := range tests {
		_, err := ParseExpr(tc.src)
		require.Error(t, err, tc.src)
		pe, ok := err.(*ExprError)
		require.True(t, ok, "%T", err)
		assert.Equal(t, tc.msg, pe.Msg, tc.src)
		assert.Equal(t, tc.offset, pe.Offset, tc.src)
		assert.NotEmpty(t, pe.Fix, tc.src)
	}
}

// FuzzExpr: parsing anything never panics, errors point inside the text, and what parses
// evaluates (over a record with every kind of value) without panicking, deterministically.
func FuzzExpr(f *testing.F) {
	for _, s := range []string{
		`concat(Account.Name, " — ", Name)`, `if(IsClosed, "Done", "Open")`, `coalesce(A, B, "x")`,
		`if(Amount >= 100000 and not IsClosed, upper(Name), lower(Name))`, `"unterminated`, `((((`, `a.b.c = 'x\'y'`,
		`if(1,2,3) != -4.5`, "concat(\"日本語\", Name, \"\\n\")", `isblank(trim(Subject))`, `!=`, `<>`, `A <= B`,
	} {
		f.Add(s)
	}
	get := exprRecord()
	f.Fuzz(func(t *testing.T, src string) {
		e, err := ParseExpr(src)
		if err != nil {
			pe, ok := err.(*ExprError)
			if !ok {
				t.Fatalf("error of type %T", err)
			}
			if pe.Offset < 0 || pe.Offset > len(src) {
				t.Fatalf("offset %d outside %q", pe.Offset, src)
			}
			if pe.Msg == "" || pe.Fix == "" {
				t.Fatalf("error without message or fix: %+v", pe)
			}
			return
		}
		v1, v2 := e.Eval(get), e.Eval(get)
		switch v1.(type) {
		case nil, string, bool, float64, json.Number:
		default:
			t.Fatalf("%q evaluates to a %T, not a scalar", src, v1)
		}
		if v1 != v2 {
			t.Fatalf("not deterministic: %v vs %v", v1, v2)
		}
		for _, p := range e.Paths {
			if !sfPathRE.MatchString(p) {
				t.Fatalf("path %q is not a Salesforce path", p)
			}
		}
	})
}
