package mappings

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func adfJSON(t testing.TB, doc map[string]any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
	return raw
}

func TestHTMLToADFStructure(t *testing.T) {
	in := `<p>Hello <b>big</b>   <i>world</i>&nbsp;&amp; more</p>
<ul><li>one</li><li>two <a href="https://example.com/x?a=1&amp;b=2">docs</a><ol start="3"><li>nested</li></ol></li></ul>
<pre>func main() {
  fmt.Println("hi")
}</pre><p>Call <code>sfjira sync</code> — ask <span data-jira-mention="acc-1">@Zoë Müller</span><br>next line</p>
<h2>Risks</h2><blockquote>quoted</blockquote><hr><p><img src="x.png"><font color="red">red text</font></p>`
	doc := HTMLToADF(in)
	require.NotNil(t, doc)
	raw := adfJSON(t, doc)
	var d struct {
		Content []struct {
			Type    string
			Attrs   map[string]any
			Content []map[string]any
		}
	}
	require.NoError(t, json.Unmarshal(raw, &d))
	var types []string
	for _, c := range d.Content {
		types = append(types, c.Type)
	}
	assert.Equal(t, []string{"paragraph", "bulletList", "codeBlock", "paragraph", "heading", "blockquote", "rule", "paragraph"}, types)
	assert.Equal(t, "Hello ", d.Content[0].Content[0]["text"])
	assert.Equal(t, []any{map[string]any{"type": "strong"}}, d.Content[0].Content[1]["marks"])
	assert.Equal(t, "\u00a0& more", d.Content[0].Content[4]["text"], "entities decoded, spaces collapsed")
	assert.Equal(t, "func main() {\n  fmt.Println(\"hi\")\n}", d.Content[2].Content[0]["text"], "code blocks keep their whitespace")
	assert.Equal(t, map[string]any{"id": "acc-1", "text": "@Zoë Müller"}, d.Content[3].Content[3]["attrs"])
	assert.Equal(t, "hardBreak", d.Content[3].Content[4]["type"])
	assert.Equal(t, float64(2), d.Content[4].Attrs["level"])

	out := ADFToHTML(raw)
	assert.Equal(t, `<p>Hello <b>big</b> <i>world</i>`+"\u00a0"+`&amp; more</p>`+
		`<ul><li>one</li><li>two <a href="https://example.com/x?a=1&amp;b=2">docs</a><ol start="3"><li>nested</li></ol></li></ul>`+
		`<pre>func main() {`+"\n"+`  fmt.Println(&#34;hi&#34;)`+"\n"+`}</pre>`+
		`<p>Call <code>sfjira sync</code> — ask <span data-jira-mention="acc-1">@Zoë Müller</span><br>next line</p>`+
		`<h2>Risks</h2><blockquote><p>quoted</p></blockquote><hr><p>red text</p>`, out)
	assert.Equal(t, out, CanonicalHTML(in))
	assert.Equal(t, out, CanonicalHTML(out), "canonical HTML is stable")
	assert.Equal(t, "Hello big world\u00a0& more", strings.SplitN(ADFToText(raw), "\n", 2)[0])
}

func TestHTMLUnsafeAndEmpty(t *testing.T) {
	assert.Nil(t, HTMLToADF(""))
	assert.Nil(t, HTMLToADF("<p> </p><br><img src=x>"))
	assert.Equal(t, "", CanonicalHTML("<p>&nbsp;</p>")[0:0])
	assert.Equal(t, `<p>click</p>`, CanonicalHTML(`<a href="javascript:alert(1)">click</a>`), "unsafe links lose the link, keep the text")
	assert.Equal(t, `<p>&lt;script&gt;x&lt;/script&gt; ok</p>`, CanonicalHTML(`<p>&lt;script&gt;x&lt;/script&gt; ok</p>`))
	assert.Equal(t, `<p>ok</p>`, CanonicalHTML(`<script>alert(1)</script><p>ok</p>`))
	assert.Equal(t, `<p>plain text</p>`, CanonicalHTML("plain   text"))
}

// A mention written in Jira survives Salesforce and comes back as the same mention.
func TestHTMLMentionRoundTrip(t *testing.T) {
	doc := map[string]any{"type": "doc", "version": 1, "content": []any{
		map[string]any{"type": "paragraph", "content": []any{
			map[string]any{"type": "text", "text": "Ping "},
			map[string]any{"type": "mention", "attrs": map[string]any{"id": "712020:abc", "text": "@Li Wei"}},
			map[string]any{"type": "text", "text": " about ", "marks": []any{map[string]any{"type": "em"}}},
			map[string]any{"type": "text", "text": "SSO", "marks": []any{map[string]any{"type": "link", "attrs": map[string]any{"href": "https://sso.example"}}, map[string]any{"type": "strong"}}},
		}},
	}}
	h := ADFToHTML(adfJSON(t, doc))
	assert.Equal(t, `<p>Ping <span data-jira-mention="712020:abc">@Li Wei</span><i> about </i><a href="https://sso.example"><b>SSO</b></a></p>`, h)
	back := HTMLToADF(h)
	assert.Equal(t, h, ADFToHTML(adfJSON(t, back)))
}

// FuzzHTMLCanonical: any HTML converts without panic; canonical HTML is a fixed point; the ADF
// has no empty text nodes (Jira rejects them) and only allowed marks next to code.
func FuzzHTMLCanonical(f *testing.F) {
	for _, s := range []string{
		`<p>a <b>b</b></p>`, `<ul><li>x<ul><li>y</li></ul></li></ul>`, `<ol start="4"><li>four</li></ol>`, `<pre>  x\n y</pre>`,
		`<p><code><b>c</b></code></p>`, `<a href="https://x">l<br>m</a>`, `<span data-jira-mention="1">@A</span>`, `<blockquote><h1>t</h1><pre>p</pre></blockquote>`,
		`<li>orphan</li>`, `<ul>text<li>i</li><ol><li>n</li></ol></ul>`, "日本語 <i>テキスト</i> 🚀", `<p>` + strings.Repeat("long ", 200) + `</p>`, `<table><tr><td>a</td><td>b</td></tr></table>`,
		`<p> lead<br> trail </p>`, `<<>>&&;`, `<p>x</p><h7>y</h7>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c1 := CanonicalHTML(s)
		c2 := CanonicalHTML(c1)
		if c1 != c2 {
			t.Fatalf("canonical HTML is not stable:\nin:  %q\nc1:  %q\nc2:  %q", s, c1, c2)
		}
		doc := HTMLToADF(s)
		if doc == nil {
			if c1 != "" {
				t.Fatalf("no document but canonical %q", c1)
			}
			return
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		checkADFNodes(t, raw)
		if ADFToHTML(raw) != c1 {
			t.Fatalf("render differs from canonical")
		}
	})
}

func checkADFNodes(t *testing.T, raw json.RawMessage) {
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		if n["type"] == "text" {
			if s, _ := n["text"].(string); s == "" {
				t.Fatalf("empty text node in %s", raw)
			}
		}
		if c, ok := n["content"].([]any); ok {
			if n["type"] == "listItem" && (len(c) == 0 || c[0].(map[string]any)["type"] != "paragraph") {
				t.Fatalf("list item must start with a paragraph: %s", raw)
			}
			for _, x := range c {
				walk(x.(map[string]any))
			}
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	walk(doc)
}

// FuzzADFToHTML: any ADF-ish JSON renders without panic, and its canonical form is stable.
func FuzzADFToHTML(f *testing.F) {
	f.Add(`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"a","marks":[{"type":"strong"},{"type":"code"}]}]}]}`)
	f.Add(`{"type":"doc","content":[{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"x"}]},{"type":"codeBlock","content":[{"type":"text","text":"c"}]}]}]}]}`)
	f.Add(`{"type":"doc","content":[{"type":"heading","attrs":{"level":9},"content":[{"type":"mention","attrs":{"id":"1"}}]}]}`)
	f.Add(`"plain string"`)
	f.Add(`{"type":"doc","content":[{"type":"orderedList","attrs":{"order":0},"content":[]}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		h := ADFToHTML(json.RawMessage(s))
		c := CanonicalHTML(h)
		if CanonicalHTML(c) != c {
			t.Fatalf("canonical of rendered ADF is not stable: %q", c)
		}
	})
}

// An html field both ways: what Salesforce holds, Jira reads back equal; a Jira edit comes back
// to Salesforce as HTML that projects equal to the Jira side (no ping-pong).
func TestHTMLFieldBothWays(t *testing.T) {
	m, err := Load("h.yaml", []byte(header+"  - sf: Notes__c\n    jira: description\n    type: html\n    direction: both\n"))
	require.NoError(t, err)
	b, err := m.Bind(jiraFields)
	require.NoError(t, err)
	rec := map[string]any{"Name": "x", "Notes__c": `<p>Scope:</p><ul><li><b>SSO</b></li><li>SCIM <a href="https://scim.cloud">spec</a></li></ul>`}
	d, err := b.ToJira("Opportunity 006h", RecordGetter(rec))
	require.NoError(t, err)
	jiraFieldsJSON := map[string]json.RawMessage{"summary": json.RawMessage(`"x"`), "description": adfJSON(t, d.Fields["description"].(map[string]any))}
	assert.Empty(t, d.Projection.Diff(b.ProjectJira(jiraFieldsJSON)))

	edited := HTMLToADF(`<p>Scope:</p><ol><li>SSO</li></ol><pre>curl -X POST</pre><p>cc <span data-jira-mention="acc-9">@Ana</span></p>`)
	jiraFieldsJSON["description"] = adfJSON(t, edited)
	back := b.ToSalesforce(jiraFieldsJSON)
	assert.Equal(t, `<p>Scope:</p><ol><li>SSO</li></ol><pre>curl -X POST</pre><p>cc <span data-jira-mention="acc-9">@Ana</span></p>`, back["Notes__c"])
	assert.Equal(t, b.ProjectSalesforceValues(back)["Notes__c"], CanonicalHTML(ADFToHTML(jiraFieldsJSON["description"])))

	rec["Notes__c"] = "<p> </p>"
	d, err = b.ToJira("Opportunity 006h", RecordGetter(rec))
	require.NoError(t, err)
	assert.Nil(t, d.Fields["description"], "blank rich text clears the field")
}
