package mappings

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Salesforce Rich Text Area fields hold HTML; Jira rich text fields hold ADF. TypeHTML converts
// between the two structurally: paragraphs, headings, bullet and numbered lists (nested), links,
// bold/italic/underline/strike/inline code, code blocks, quotes, rules, line breaks and Jira
// mentions (kept in Salesforce as <span data-jira-mention="accountId">@Name</span>, which
// degrade to plain "@Name" text if an editor strips the attribute). Anything else (images,
// fonts, colours, tables) is reduced to its text. Comparisons use the canonical HTML: the HTML
// a value reads back as after one trip through ADF, so formatting that cannot cross never counts
// as a change.

// HTMLToADF converts Salesforce rich text (HTML) into an ADF document; nil when it holds no text
// (which clears the Jira field).
func HTMLToADF(s string) map[string]any {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), body)
	if err != nil {
		return TextToADF(s)
	}
	bb := &blockBuilder{}
	for _, n := range nodes {
		bb.walk(n, nil)
	}
	content := bb.finish()
	if len(content) == 0 {
		return nil
	}
	return map[string]any{"type": "doc", "version": 1, "content": content}
}

// ADFToHTML renders an ADF document (JSON) as the HTML a Salesforce rich text field stores.
// Non-ADF input returns "".
func ADFToHTML(raw json.RawMessage) string {
	var n adfNode
	if len(raw) == 0 || json.Unmarshal(raw, &n) != nil {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return CanonicalHTML(html.EscapeString(s))
		}
		return ""
	}
	var b strings.Builder
	htmlBlocks(&b, n.Content)
	return b.String()
}

// CanonicalHTML is the HTML a rich text value reads back as after a trip through ADF; both sides
// of an html field are compared in this form. It is idempotent.
func CanonicalHTML(s string) string {
	doc := HTMLToADF(s)
	if doc == nil {
		return ""
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return ""
	}
	return ADFToHTML(raw)
}

type blockBuilder struct {
	blocks []any
	inline []any
}

type mark map[string]any

var wsRE = regexp.MustCompile(`[ \t\r\n\f]+`)

func (bb *blockBuilder) addText(text string, marks []mark) {
	text = wsRE.ReplaceAllString(text, " ")
	if text == "" {
		return
	}
	bb.inline = append(bb.inline, textNode(text, marks))
}

func textNode(text string, marks []mark) map[string]any {
	n := map[string]any{"type": "text", "text": text}
	if ms := adfMarks(marks); len(ms) > 0 {
		n["marks"] = ms
	}
	return n
}

// adfMarks orders marks canonically and drops the ones ADF forbids next to code (only link may
// accompany a code mark).
func adfMarks(marks []mark) []any {
	order := []string{"link", "strong", "em", "underline", "strike", "code"}
	has := map[string]mark{}
	for _, m := range marks {
		t, _ := m["type"].(string)
		if _, dup := has[t]; !dup {
			has[t] = m
		}
	}
	_, code := has["code"]
	var out []any
	for _, t := range order {
		m, ok := has[t]
		if !ok || (code && t != "code" && t != "link") {
			continue
		}
		out = append(out, map[string]any(m))
	}
	return out
}

// flush closes the paragraph being collected: surrounding spaces trimmed (also around line
// breaks), empty text dropped, neighbours with the same marks merged.
func (bb *blockBuilder) flush() {
	if para := cleanInline(bb.inline); len(para) > 0 {
		bb.blocks = append(bb.blocks, map[string]any{"type": "paragraph", "content": para})
	}
	bb.inline = nil
}

func cleanInline(in []any) []any {
	var out []any
	atLineStart := true
	for _, x := range in {
		n := x.(map[string]any)
		if n["type"] != "text" {
			if n["type"] == "hardBreak" {
				trimLastSpace(out)
				atLineStart = true
			} else {
				atLineStart = false
			}
			out = append(out, n)
			continue
		}
		t := n["text"].(string)
		if atLineStart {
			t = strings.TrimLeft(t, " ")
		}
		if t == "" {
			continue
		}
		if prev := lastText(out); prev != nil && sameMarks(prev, n) {
			prev["text"] = prev["text"].(string) + t
			if strings.HasSuffix(prev["text"].(string), "  ") {
				prev["text"] = strings.TrimRight(prev["text"].(string), " ") + " "
			}
		} else {
			if prev := lastText(out); prev != nil && strings.HasSuffix(prev["text"].(string), " ") && strings.HasPrefix(t, " ") {
				t = strings.TrimLeft(t, " ")
				if t == "" {
					continue
				}
			}
			c := map[string]any{"type": "text", "text": t}
			if m, ok := n["marks"]; ok {
				c["marks"] = m
			}
			out = append(out, c)
		}
		atLineStart = false
	}
	trimLastSpace(out)
	// drop trailing breaks and texts emptied by trimming
	var res []any
	for _, x := range out {
		n := x.(map[string]any)
		if n["type"] == "text" && n["text"] == "" {
			continue
		}
		res = append(res, n)
	}
	for len(res) > 0 && res[len(res)-1].(map[string]any)["type"] == "hardBreak" {
		res = res[:len(res)-1]
	}
	for len(res) > 0 && res[0].(map[string]any)["type"] == "hardBreak" {
		res = res[1:]
	}
	hasContent := false
	for _, x := range res {
		if x.(map[string]any)["type"] != "hardBreak" {
			hasContent = true
		}
	}
	if !hasContent {
		return nil
	}
	return res
}

func lastText(out []any) map[string]any {
	if len(out) == 0 {
		return nil
	}
	n := out[len(out)-1].(map[string]any)
	if n["type"] != "text" {
		return nil
	}
	return n
}

func trimLastSpace(out []any) {
	if n := lastText(out); n != nil {
		n["text"] = strings.TrimRight(n["text"].(string), " ")
	}
}

func sameMarks(a, b map[string]any) bool {
	ja, _ := json.Marshal(a["marks"])
	jb, _ := json.Marshal(b["marks"])
	return string(ja) == string(jb)
}

func (bb *blockBuilder) finish() []any {
	bb.flush()
	return bb.blocks
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

func textContent(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == atom.Br {
			b.WriteString("\n")
			continue
		}
		b.WriteString(textContent(c))
	}
	return b.String()
}

// children builds the blocks of a container element (list item, quote).
func children(n *html.Node, marks []mark) []any {
	sub := &blockBuilder{}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		sub.walk(c, marks)
	}
	return sub.finish()
}

func (bb *blockBuilder) walk(n *html.Node, marks []mark) {
	switch n.Type {
	case html.TextNode:
		bb.addText(n.Data, marks)
		return
	case html.ElementNode:
	default:
		return
	}
	with := func(m mark) []mark { return append(append([]mark{}, marks...), m) }
	switch n.DataAtom {
	case atom.P, atom.Div, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Table, atom.Tbody, atom.Thead, atom.Tr, atom.Td, atom.Th, atom.Dl, atom.Dd, atom.Dt, atom.Center:
		bb.flush()
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			bb.walk(c, marks)
		}
		bb.flush()
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		bb.flush()
		sub := &blockBuilder{}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			sub.walk(c, marks)
		}
		var inline []any
		for _, blk := range sub.finish() {
			if p := blk.(map[string]any); p["type"] == "paragraph" {
				if len(inline) > 0 {
					inline = append(inline, map[string]any{"type": "hardBreak"})
				}
				inline = append(inline, p["content"].([]any)...)
			}
		}
		if len(inline) > 0 {
			level, _ := strconv.Atoi(n.Data[1:])
			bb.blocks = append(bb.blocks, map[string]any{"type": "heading", "attrs": map[string]any{"level": level}, "content": inline})
		}
	case atom.Ul, atom.Ol:
		bb.flush()
		if l := listNode(n, marks); l != nil {
			bb.blocks = append(bb.blocks, l)
		}
	case atom.Li:
		// an item outside a list: its content as paragraphs
		bb.flush()
		bb.blocks = append(bb.blocks, children(n, marks)...)
	case atom.Pre:
		bb.flush()
		t := strings.TrimRight(normalizeNewlines(textContent(n)), "\n")
		t = strings.TrimPrefix(t, "\n")
		if strings.TrimSpace(t) != "" {
			bb.blocks = append(bb.blocks, map[string]any{"type": "codeBlock", "content": []any{map[string]any{"type": "text", "text": t}}})
		}
	case atom.Blockquote:
		bb.flush()
		if c := children(n, marks); len(c) > 0 {
			bb.blocks = append(bb.blocks, map[string]any{"type": "blockquote", "content": onlyParagraphsAndLists(c)})
		}
	case atom.Hr:
		bb.flush()
		bb.blocks = append(bb.blocks, map[string]any{"type": "rule"})
	case atom.Br:
		bb.inline = append(bb.inline, map[string]any{"type": "hardBreak"})
	case atom.B, atom.Strong:
		bb.walkChildren(n, with(mark{"type": "strong"}))
	case atom.I, atom.Em:
		bb.walkChildren(n, with(mark{"type": "em"}))
	case atom.U, atom.Ins:
		bb.walkChildren(n, with(mark{"type": "underline"}))
	case atom.S, atom.Strike, atom.Del:
		bb.walkChildren(n, with(mark{"type": "strike"}))
	case atom.Code, atom.Tt, atom.Kbd, atom.Samp:
		bb.walkChildren(n, with(mark{"type": "code"}))
	case atom.A:
		href := strings.TrimSpace(attr(n, "href"))
		if href != "" && safeHref(href) {
			bb.walkChildren(n, with(mark{"type": "link", "attrs": map[string]any{"href": href}}))
		} else {
			bb.walkChildren(n, marks)
		}
	case atom.Span:
		if id := strings.TrimSpace(attr(n, "data-jira-mention")); id != "" {
			name := strings.TrimSpace(wsRE.ReplaceAllString(textContent(n), " "))
			if !strings.HasPrefix(name, "@") {
				name = "@" + name
			}
			bb.inline = append(bb.inline, map[string]any{"type": "mention", "attrs": map[string]any{"id": id, "text": name}})
			return
		}
		bb.walkChildren(n, marks)
	case atom.Img, atom.Script, atom.Style, atom.Head, atom.Title, atom.Iframe, atom.Object, atom.Embed:
		// no text worth carrying
	default:
		bb.walkChildren(n, marks)
	}
}

func (bb *blockBuilder) walkChildren(n *html.Node, marks []mark) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		bb.walk(c, marks)
	}
}

func safeHref(h string) bool {
	l := strings.ToLower(h)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "mailto:") || strings.HasPrefix(l, "tel:")
}

// onlyParagraphsAndLists keeps what ADF allows inside quotes and list items; code blocks,
// headings and rules inside them become paragraphs of their text.
func onlyParagraphsAndLists(blocks []any) []any {
	var out []any
	for _, x := range blocks {
		n := x.(map[string]any)
		switch n["type"] {
		case "paragraph", "bulletList", "orderedList":
			out = append(out, n)
		case "heading", "codeBlock":
			if c, ok := n["content"].([]any); ok && len(c) > 0 {
				if n["type"] == "codeBlock" {
					c = textWithBreaks(c[0].(map[string]any)["text"].(string))
				}
				out = append(out, map[string]any{"type": "paragraph", "content": c})
			}
		case "blockquote":
			out = append(out, onlyParagraphsAndLists(n["content"].([]any))...)
		}
	}
	return out
}

func textWithBreaks(s string) []any {
	var out []any
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			out = append(out, map[string]any{"type": "hardBreak"})
		}
		if line != "" {
			out = append(out, map[string]any{"type": "text", "text": line})
		}
	}
	return cleanInline(out)
}

func listNode(n *html.Node, marks []mark) map[string]any {
	typ := "bulletList"
	if n.DataAtom == atom.Ol {
		typ = "orderedList"
	}
	var items []any
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		var blocks []any
		switch {
		case c.Type == html.ElementNode && c.DataAtom == atom.Li:
			blocks = children(c, marks)
		case c.Type == html.ElementNode && (c.DataAtom == atom.Ul || c.DataAtom == atom.Ol):
			// a nested list written directly in the list: attach it to the previous item
			if l := listNode(c, marks); l != nil && len(items) > 0 {
				prev := items[len(items)-1].(map[string]any)
				prev["content"] = append(prev["content"].([]any), l)
			}
			continue
		default:
			if t := strings.TrimSpace(textContent(c)); t != "" {
				blocks = children(&html.Node{Type: html.ElementNode, Data: "li", DataAtom: atom.Li, FirstChild: cloneAlone(c)}, marks)
			}
		}
		blocks = onlyParagraphsAndLists(blocks)
		if len(blocks) == 0 {
			continue
		}
		if blocks[0].(map[string]any)["type"] != "paragraph" {
			// ADF list items start with a paragraph
			continue
		}
		items = append(items, map[string]any{"type": "listItem", "content": blocks})
	}
	if len(items) == 0 {
		return nil
	}
	l := map[string]any{"type": typ, "content": items}
	if typ == "orderedList" {
		if start, err := strconv.Atoi(attr(n, "start")); err == nil && start > 1 {
			l["attrs"] = map[string]any{"order": start}
		}
	}
	return l
}

// cloneAlone copies a node without its siblings (so walking it does not run on).
func cloneAlone(n *html.Node) *html.Node {
	c := *n
	c.Parent, c.PrevSibling, c.NextSibling = nil, nil, nil
	return &c
}

// ---- ADF → HTML ----

func htmlBlocks(b *strings.Builder, nodes []adfNode) {
	for _, n := range nodes {
		htmlBlock(b, n)
	}
}

func htmlBlock(b *strings.Builder, n adfNode) {
	switch n.Type {
	case "paragraph":
		if inl := htmlInline(n.Content); inl != "" {
			b.WriteString("<p>" + inl + "</p>")
		}
	case "heading":
		level := 1
		if a := attrsMap(n); a != nil {
			if l, ok := a["level"].(float64); ok && l >= 1 && l <= 6 {
				level = int(l)
			}
		}
		if inl := htmlInline(n.Content); inl != "" {
			fmt.Fprintf(b, "<h%d>%s</h%d>", level, inl, level)
		}
	case "bulletList", "orderedList":
		var items strings.Builder
		for _, it := range n.Content {
			if s := htmlListItem(it); s != "" {
				items.WriteString("<li>" + s + "</li>")
			}
		}
		if items.Len() == 0 {
			return
		}
		if n.Type == "bulletList" {
			b.WriteString("<ul>" + items.String() + "</ul>")
			return
		}
		start := ""
		if a := attrsMap(n); a != nil {
			if o, ok := a["order"].(float64); ok && o > 1 {
				start = fmt.Sprintf(` start="%d"`, int(o))
			}
		}
		b.WriteString("<ol" + start + ">" + items.String() + "</ol>")
	case "codeBlock":
		var t strings.Builder
		for _, c := range n.Content {
			if c.Type == "text" {
				t.WriteString(c.Text)
			} else if c.Type == "hardBreak" {
				t.WriteString("\n")
			}
		}
		s := strings.Trim(normalizeNewlines(t.String()), "\n")
		if strings.TrimSpace(s) != "" {
			b.WriteString("<pre>" + html.EscapeString(s) + "</pre>")
		}
	case "blockquote":
		var inner strings.Builder
		htmlBlocks(&inner, n.Content)
		if inner.Len() > 0 {
			b.WriteString("<blockquote>" + inner.String() + "</blockquote>")
		}
	case "rule":
		b.WriteString("<hr>")
	case "mediaSingle", "mediaGroup", "media":
	case "text", "hardBreak", "mention", "emoji", "inlineCard", "status", "date":
		if inl := htmlInline([]adfNode{n}); inl != "" {
			b.WriteString("<p>" + inl + "</p>")
		}
	default: // panels, expands, tables, layouts: their content
		htmlBlocks(b, n.Content)
	}
}

// htmlListItem renders an item's blocks; a single paragraph is written bare (<li>text</li>),
// which reads back the same.
func htmlListItem(it adfNode) string {
	var b strings.Builder
	var blocks []adfNode
	for _, c := range it.Content {
		if c.Type == "paragraph" && htmlInline(c.Content) == "" {
			continue
		}
		blocks = append(blocks, c)
	}
	if len(blocks) == 0 {
		return ""
	}
	if blocks[0].Type != "paragraph" {
		return "" // ADF items start with a paragraph; anything else does not come back
	}
	b.WriteString(htmlInline(blocks[0].Content))
	for _, c := range blocks[1:] {
		switch c.Type {
		case "bulletList", "orderedList":
			htmlBlock(&b, c)
		case "paragraph":
			if inl := htmlInline(c.Content); inl != "" {
				b.WriteString("<br><br>" + inl)
			}
		default:
			var inner strings.Builder
			htmlBlock(&inner, c)
			if s := CanonicalHTML(inner.String()); s != "" {
				b.WriteString("<br><br>" + strings.TrimSuffix(strings.TrimPrefix(s, "<p>"), "</p>"))
			}
		}
	}
	return b.String()
}

type inlineMarks struct {
	href                                    string
	strong, em, underline, strike, codeMark bool
}

func marksOf(n adfNode) inlineMarks {
	var raw struct {
		Marks []struct {
			Type  string `json:"type"`
			Attrs struct {
				Href string `json:"href"`
			} `json:"attrs"`
		} `json:"marks"`
	}
	var m inlineMarks
	_ = json.Unmarshal(n.Marks, &raw.Marks)
	for _, mk := range raw.Marks {
		switch mk.Type {
		case "link":
			if safeHref(mk.Attrs.Href) {
				m.href = mk.Attrs.Href
			}
		case "strong":
			m.strong = true
		case "em":
			m.em = true
		case "underline":
			m.underline = true
		case "strike":
			m.strike = true
		case "code":
			m.codeMark = true
		}
	}
	if m.codeMark {
		m.strong, m.em, m.underline, m.strike = false, false, false, false
	}
	return m
}

func htmlInline(nodes []adfNode) string {
	// Render piece by piece, then let CanonicalHTML-stable text merging happen on parse.
	var b strings.Builder
	for _, n := range nodes {
		a := attrsMap(n)
		str := func(k string) string { s, _ := a[k].(string); return s }
		switch n.Type {
		case "text":
			if n.Text == "" {
				continue
			}
			t := strings.ReplaceAll(html.EscapeString(normalizeNewlines(n.Text)), "\n", "<br>")
			m := marksOf(n)
			if m.codeMark {
				t = "<code>" + t + "</code>"
			}
			if m.strike {
				t = "<s>" + t + "</s>"
			}
			if m.underline {
				t = "<u>" + t + "</u>"
			}
			if m.em {
				t = "<i>" + t + "</i>"
			}
			if m.strong {
				t = "<b>" + t + "</b>"
			}
			if m.href != "" {
				t = `<a href="` + html.EscapeString(m.href) + `">` + t + "</a>"
			}
			b.WriteString(t)
		case "hardBreak":
			b.WriteString("<br>")
		case "mention":
			name := str("text")
			if name == "" {
				name = str("id")
			}
			if !strings.HasPrefix(name, "@") {
				name = "@" + name
			}
			if id := str("id"); id != "" {
				b.WriteString(`<span data-jira-mention="` + html.EscapeString(id) + `">` + html.EscapeString(name) + "</span>")
			} else {
				b.WriteString(html.EscapeString(name))
			}
		case "inlineCard":
			if u := str("url"); safeHref(u) {
				b.WriteString(`<a href="` + html.EscapeString(u) + `">` + html.EscapeString(u) + "</a>")
			}
		default:
			b.WriteString(html.EscapeString(renderInline([]adfNode{n})))
		}
	}
	return b.String()
}
