package mappings

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func para(inline ...any) map[string]any {
	return map[string]any{"type": "paragraph", "content": inline}
}
func txt(s string) map[string]any { return map[string]any{"type": "text", "text": s} }

var br = map[string]any{"type": "hardBreak"}

func TestTextToADF(t *testing.T) {
	tests := []struct {
		in   string
		want []any // doc content; nil = nil document
	}{
		{"", nil},
		{" \n\t\r\n ", nil},
		{"Hello", []any{para(txt("Hello"))}},
		{"a\nb", []any{para(txt("a"), br, txt("b"))}},
		{"a\r\nb\rc", []any{para(txt("a"), br, txt("b"), br, txt("c"))}},
		{"p1\n\np2", []any{para(txt("p1")), para(txt("p2"))}},
		{"\n\np1\n \n\n  p2 line\nnext  \n\n", []any{para(txt("p1")), para(txt("  p2 line"), br, txt("next  "))}},
		{"Müller — 東京 🚀", []any{para(txt("Müller — 東京 🚀"))}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := TextToADF(tc.in)
			if tc.want == nil {
				assert.Nil(t, got)
				return
			}
			assert.Equal(t, map[string]any{"type": "doc", "version": 1, "content": tc.want}, got)
		})
	}
}

func TestADFToText(t *testing.T) {
	tests := []struct{ name, adf, want string }{
		{"paragraphs and breaks", `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"a"},{"type":"hardBreak"},{"type":"text","text":"b"}]},{"type":"paragraph","content":[{"type":"text","text":"c"}]}]}`, "a\nb\n\nc"},
		{"heading and marks", `{"type":"doc","version":1,"content":[{"type":"heading","attrs":{"level":2},"content":[{"type":"text","text":"Title"}]},{"type":"paragraph","content":[{"type":"text","text":"see "},{"type":"text","text":"docs","marks":[{"type":"link","attrs":{"href":"https://x"}}]}]}]}`, "Title\n\nsee docs"},
		{"bullet list", `{"type":"doc","version":1,"content":[{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"x"}]}]},{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"y"}]},{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"z"}]}]}]}]}]}]}`, "- x\n- y\n  - z"},
		{"ordered list", `{"type":"doc","version":1,"content":[{"type":"orderedList","attrs":{"order":3},"content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"x"}]}]},{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"y"}]}]}]}]}`, "3. x\n4. y"},
		{"code block", `{"type":"doc","version":1,"content":[{"type":"codeBlock","attrs":{"language":"go"},"content":[{"type":"text","text":"x := 1\ny := 2"}]}]}`, "x := 1\ny := 2"},
		{"mention emoji card", `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"hi "},{"type":"mention","attrs":{"id":"5b10","text":"@Ana Souza"}},{"type":"text","text":" "},{"type":"mention","attrs":{"id":"5b11","text":"Bo"}},{"type":"text","text":" "},{"type":"emoji","attrs":{"shortName":":smile:","text":"😄"}},{"type":"text","text":" "},{"type":"inlineCard","attrs":{"url":"https://sf/006"}}]}]}`, "hi @Ana Souza @Bo 😄 https://sf/006"},
		{"blockquote and panel", `{"type":"doc","version":1,"content":[{"type":"blockquote","content":[{"type":"paragraph","content":[{"type":"text","text":"q"}]}]},{"type":"panel","attrs":{"panelType":"info"},"content":[{"type":"paragraph","content":[{"type":"text","text":"p"}]}]},{"type":"rule"}]}`, "q\n\np\n\n---"},
		{"empty paragraphs dropped", `{"type":"doc","version":1,"content":[{"type":"paragraph"},{"type":"paragraph","content":[{"type":"text","text":"x"}]},{"type":"paragraph","content":[]}]}`, "x"},
		{"plain string (v2)", `"a\r\nb"`, "a\nb"},
		{"null", `null`, ""},
		{"garbage", `{"type":`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ADFToText(json.RawMessage(tc.adf)))
		})
	}
}

func TestTextADFRoundTrip(t *testing.T) {
	for _, s := range []string{"a", "a\nb", "a\n\nb\nc", "  indented\n- item\n1. x", "Ünïcödé ✓"} {
		assert.Equal(t, s, ADFMapToText(TextToADF(s)), "canonical text must round-trip exactly")
		assert.Equal(t, s, CanonicalText(s))
	}
}

func TestDates(t *testing.T) {
	tests := []struct{ in, date, wire, canon string }{
		{"2024-01-31", "2024-01-31", "", ""},
		{"2024-01-31T10:00:00.000+0000", "2024-01-31", "2024-01-31T10:00:00.000+0000", "2024-01-31T10:00:00.000Z"},
		{"2024-01-31T10:00:00.000+0530", "2024-01-31", "2024-01-31T04:30:00.000+0000", "2024-01-31T04:30:00.000Z"},
		{"2024-01-31T23:30:00-02:00", "2024-02-01", "2024-02-01T01:30:00.000+0000", "2024-02-01T01:30:00.000Z"},
		{"2024-01-31T10:00:00Z", "2024-01-31", "2024-01-31T10:00:00.000+0000", "2024-01-31T10:00:00.000Z"},
		{"31/01/2024", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			d, err := DateToJira(tc.in)
			if tc.date == "" {
				assert.Error(t, err)
			} else {
				assert.Equal(t, tc.date, d)
			}
			w, err := DateTimeToJira(tc.in)
			c, err2 := CanonicalDateTime(tc.in)
			if tc.wire == "" {
				assert.Error(t, err)
				assert.Error(t, err2)
				return
			}
			assert.Equal(t, tc.wire, w)
			assert.Equal(t, tc.canon, c)
		})
	}
}

func TestRoundDecimal(t *testing.T) {
	tests := []struct {
		in    float64
		prec  int
		canon string
		wire  float64
	}{
		{125000, 2, "125000.00", 125000},
		{1.005, 2, "1.01", 1.01},
		{2.5, 0, "3", 3},
		{-2.5, 0, "-3", -3},
		{-0.004, 2, "0.00", 0},
		{99.995, 2, "100.00", 100},
		{9.96, 1, "10.0", 10},
		{0.1 + 0.2, 2, "0.30", 0.3},
		{12.345, NoPrecision, "12.345", 12.345},
		{1e21, 0, "1000000000000000000000", 1e21},
		{0.5, 0, "1", 1},
		{33.33333, 0, "33", 33},
	}
	for _, tc := range tests {
		c, w := RoundDecimal(tc.in, tc.prec)
		assert.Equal(t, tc.canon, c, "%v@%d", tc.in, tc.prec)
		assert.Equal(t, tc.wire, w, "%v@%d", tc.in, tc.prec)
	}
}

func TestToFloat(t *testing.T) {
	for _, v := range []any{float64(1.5), json.Number("1.5"), "1.5", " 1.5 "} {
		f, err := toFloat(v)
		require.NoError(t, err)
		assert.Equal(t, 1.5, f)
	}
	for _, v := range []any{"abc", true, map[string]any{}, json.Number("x")} {
		_, err := toFloat(v)
		assert.Error(t, err, "%v", v)
	}
}

func TestTruncateRunes(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
		cut  bool
	}{
		{"hello", 5, "hello", false},
		{"hello world", 6, "hello…", true},
		{"héllo wörld", 7, "héllo…", true}, // trailing space before the marker is dropped
		{"東京東京東京", 3, "東京…", true},
		{"🚀🚀🚀", 1, "…", true},
	}
	for _, tc := range tests {
		got, cut := truncateRunes(tc.in, tc.max)
		assert.Equal(t, tc.want, got)
		assert.Equal(t, tc.cut, cut)
		assert.LessOrEqual(t, len([]rune(got)), tc.max)
	}
}

func TestCheckboxAndText(t *testing.T) {
	for in, want := range map[any]bool{true: true, false: false, "true": true, "FALSE": false, float64(1): true, float64(0): false} {
		got, ok := asBool(in)
		assert.True(t, ok)
		assert.Equal(t, want, got, "%v", in)
	}
	_, ok := asBool("maybe")
	assert.False(t, ok)
	assert.Equal(t, "a\nb\nc", normalizeNewlines("a\r\nb\rc"))
	assert.Equal(t, "a\uFFFDb", normalizeNewlines("a\xffb"))
	assert.Equal(t, "x  y", projectText("  x  y \r\n"))
}

func TestEditDistanceAndClosest(t *testing.T) {
	assert.Equal(t, 1, editDistance("tpye", "type"))
	assert.Equal(t, 3, editDistance("kitten", "sitting"))
	assert.Equal(t, "max_length", closest("max_lenght", fieldKeys))
	assert.Equal(t, "", closest("sourc", fieldKeys))
	assert.Equal(t, "Deal Amount", closest("Deal Amont", []string{"Summary", "Deal Amount", "Customer"}))
}
