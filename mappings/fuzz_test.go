package mappings

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzPlainTextADF checks that text → ADF → text is stable (the canonical form is a fixed
// point), survives JSON, and never produces empty text nodes.
func FuzzPlainTextADF(f *testing.F) {
	for _, s := range []string{"", "a", "a\nb", "a\r\n\r\nb", " \n \n", "\t x \n\ny\r", "é東🚀", "- x\n1. y", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		doc := TextToADF(s)
		canon := CanonicalText(s)
		if doc == nil {
			if strings.TrimSpace(canon) != "" {
				t.Fatalf("nil doc for non-blank text %q", s)
			}
			return
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			Content []struct {
				Content []struct{ Type, Text string }
			}
		}
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		for _, p := range back.Content {
			for _, n := range p.Content {
				if n.Type == "text" && n.Text == "" {
					t.Fatalf("empty text node for %q", s)
				}
			}
		}
		got := ADFToText(raw)
		if got != canon {
			t.Fatalf("round trip of %q: got %q want %q", s, got, canon)
		}
		if again := ADFMapToText(TextToADF(got)); again != got {
			t.Fatalf("canonical text not a fixed point: %q → %q", got, again)
		}
	})
}
