package mappings

import (
	"encoding/json"
	"strconv"
	"strings"
)

// TextToADF converts Salesforce plain/long text into an Atlassian Document Format
// document: blank lines separate paragraphs, single newlines become hardBreak nodes.
// Empty or whitespace-only text returns nil, which clears the Jira field. No empty text
// nodes are produced (Jira rejects them).
func TextToADF(s string) map[string]any {
	paras := splitParagraphs(s)
	if len(paras) == 0 {
		return nil
	}
	content := make([]any, 0, len(paras))
	for _, p := range paras {
		var inline []any
		for i, line := range p {
			if i > 0 {
				inline = append(inline, map[string]any{"type": "hardBreak"})
			}
			inline = append(inline, map[string]any{"type": "text", "text": line})
		}
		content = append(content, map[string]any{"type": "paragraph", "content": inline})
	}
	return map[string]any{"type": "doc", "version": 1, "content": content}
}

// splitParagraphs splits text into paragraphs of non-blank lines; whitespace-only lines
// count as paragraph separators.
func splitParagraphs(s string) [][]string {
	var paras [][]string
	var cur []string
	for _, line := range strings.Split(normalizeNewlines(s), "\n") {
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				paras = append(paras, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		paras = append(paras, cur)
	}
	return paras
}

// CanonicalText is the plain text a value round-trips to through ADF (what Jira will
// show back); projections of rich text use it on both sides.
func CanonicalText(s string) string {
	paras := splitParagraphs(s)
	out := make([]string, len(paras))
	for i, p := range paras {
		out[i] = strings.Join(p, "\n")
	}
	return strings.Join(out, "\n\n")
}

// adfNode is the subset of an ADF node the text conversion reads.
type adfNode struct {
	Type    string          `json:"type"`
	Text    string          `json:"text"`
	Attrs   json.RawMessage `json:"attrs"`
	Content []adfNode       `json:"content"`
	Marks   json.RawMessage `json:"marks"`
}

// ADFToText renders an ADF document (as JSON) as plain text for Salesforce and for
// comparisons: paragraphs joined by a blank line, hardBreak as newline, lists as
// "- x" / "1. x", mentions as @Name, links as their text. Non-ADF input returns "".
func ADFToText(raw json.RawMessage) string {
	var n adfNode
	if len(raw) == 0 || json.Unmarshal(raw, &n) != nil {
		var s string
		if json.Unmarshal(raw, &s) == nil { // a v2-style plain string
			return CanonicalText(s)
		}
		return ""
	}
	return CanonicalText(renderBlocks(n.Content, ""))
}

// ADFMapToText is ADFToText for a document already decoded into maps (e.g. Desired.Fields).
func ADFMapToText(doc map[string]any) string {
	if doc == nil {
		return ""
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return ""
	}
	return ADFToText(b)
}

func renderBlocks(nodes []adfNode, indent string) string {
	var parts []string
	for _, n := range nodes {
		if s := renderBlock(n, indent); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n\n")
}

func attrsMap(n adfNode) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(n.Attrs, &m)
	return m
}

func renderBlock(n adfNode, indent string) string {
	switch n.Type {
	case "paragraph", "heading":
		return renderInline(n.Content)
	case "bulletList", "orderedList":
		return renderList(n, indent)
	case "codeBlock":
		return renderInline(n.Content)
	case "rule":
		return "---"
	case "table":
		var rows []string
		for _, row := range n.Content {
			var cells []string
			for _, cell := range row.Content {
				cells = append(cells, strings.ReplaceAll(renderBlocks(cell.Content, ""), "\n", " "))
			}
			rows = append(rows, strings.Join(cells, " | "))
		}
		return strings.Join(rows, "\n")
	case "mediaSingle", "mediaGroup", "media":
		return ""
	case "text", "hardBreak", "mention", "emoji", "inlineCard", "status", "date":
		return renderInline([]adfNode{n})
	}
	// blockquote, panel, expand, layouts and unknown containers: render their children.
	return renderBlocks(n.Content, indent)
}

func renderList(n adfNode, indent string) string {
	start := 1
	if a := attrsMap(n); a != nil {
		if o, ok := a["order"].(float64); ok && o >= 1 {
			start = int(o)
		}
	}
	var lines []string
	for i, item := range n.Content {
		marker := "- "
		if n.Type == "orderedList" {
			marker = strconv.Itoa(start+i) + ". "
		}
		var body []string
		for _, c := range item.Content {
			if c.Type == "bulletList" || c.Type == "orderedList" {
				body = append(body, renderList(c, indent+"  "))
			} else if s := renderBlock(c, indent); s != "" {
				body = append(body, s)
			}
		}
		text := strings.Join(body, "\n")
		if len(body) > 0 && (item.Content[0].Type == "bulletList" || item.Content[0].Type == "orderedList") {
			lines = append(lines, indent+strings.TrimRight(marker, " "), text)
			continue
		}
		lines = append(lines, indent+marker+text)
	}
	return strings.Join(lines, "\n")
}

func renderInline(nodes []adfNode) string {
	var b strings.Builder
	for _, n := range nodes {
		a := attrsMap(n)
		str := func(k string) string { s, _ := a[k].(string); return s }
		switch n.Type {
		case "text":
			b.WriteString(n.Text)
		case "hardBreak":
			b.WriteString("\n")
		case "mention":
			t := str("text")
			if t == "" {
				t = str("id")
			}
			if !strings.HasPrefix(t, "@") {
				t = "@" + t
			}
			b.WriteString(t)
		case "emoji":
			if t := str("text"); t != "" {
				b.WriteString(t)
			} else {
				b.WriteString(str("shortName"))
			}
		case "inlineCard":
			b.WriteString(str("url"))
		case "status":
			b.WriteString(str("text"))
		case "date":
			if ms, err := strconv.ParseInt(str("timestamp"), 10, 64); err == nil {
				b.WriteString(formatUnixMillisDate(ms))
			}
		default:
			b.WriteString(renderInline(n.Content))
		}
	}
	return b.String()
}
