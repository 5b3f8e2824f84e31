package mappings

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Expressions compute a Jira value from several Salesforce fields without a scripting language:
// field paths, string/number/boolean literals, comparisons, and/or/not, and a fixed set of
// functions. They cannot loop, assign or call out, so a reviewer reads one line and knows
// everything it can do; they flow Salesforce → Jira only (an expression has no inverse).
//
//	expr: concat(Account.Name, " — ", Subject)
//	expr: if(IsClosed, "Done", "Open")
//	expr: if(Amount >= 100000 and StageName != "Closed Lost", "Strategic", "Standard")
//	expr: coalesce(Contact.Email, SuppliedEmail, "unknown@example.com")

// exprFuncs lists the functions with their argument counts (max -1 = any number).
var exprFuncs = map[string][2]int{
	"concat":   {1, -1},
	"if":       {3, 3},
	"coalesce": {1, -1},
	"upper":    {1, 1},
	"lower":    {1, 1},
	"trim":     {1, 1},
	"isblank":  {1, 1},
}

// Expr is a parsed expression; Source is its text as written and Paths the Salesforce fields it
// reads (in order of first use), which the sync adds to its SOQL.
type Expr struct {
	Source string
	Paths  []string
	root   exprNode
}

// ExprError is a problem in an expression; Offset is the byte offset in the source where it
// was found, so the loader can point at the exact column.
type ExprError struct {
	Offset   int
	Msg, Fix string
}

func (e *ExprError) Error() string { return e.Msg }

type exprNode interface {
	eval(get Getter) any
}

type (
	litNode  struct{ v any }
	pathNode struct{ path string }
	callNode struct {
		name string
		args []exprNode
	}
	cmpNode struct {
		op   string
		l, r exprNode
	}
	boolNode struct {
		op   string // and, or, not
		args []exprNode
	}
)

// ParseExpr parses an expression. Errors are *ExprError with the offset of the problem.
func ParseExpr(src string) (*Expr, error) {
	p := &exprParser{src: src}
	p.next()
	if p.err != nil {
		return nil, p.err
	}
	if p.tok.kind == tEOF {
		return nil, &ExprError{Offset: 0, Msg: "expression is empty", Fix: `write e.g. concat(Account.Name, " — ", Name)`}
	}
	n := p.parseOr()
	if p.err == nil && p.tok.kind != tEOF {
		p.fail(p.tok.pos, fmt.Sprintf("unexpected %s after the end of the expression", p.tok.describe()),
			"join parts with concat(…, …), or combine conditions with and / or")
	}
	if p.err != nil {
		return nil, p.err
	}
	return &Expr{Source: src, Paths: p.paths, root: n}, nil
}

// Eval computes the expression over one record. It never fails: missing fields are null, and
// every function accepts every value (concat renders numbers and booleans as text).
func (e *Expr) Eval(get Getter) any { return e.root.eval(get) }

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tOp
	tLParen
	tRParen
	tComma
	tBad
)

type token struct {
	kind tokKind
	text string
	pos  int
	val  string // decoded string literal
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return "string " + strconv.Quote(t.val)
	}
	return strconv.Quote(t.text)
}

type exprParser struct {
	src   string
	pos   int
	tok   token
	err   *ExprError
	paths []string
	depth int
}

func (p *exprParser) fail(pos int, msg, fix string) {
	if p.err == nil {
		p.err = &ExprError{Offset: pos, Msg: msg, Fix: fix}
	}
	p.tok = token{kind: tEOF, pos: len(p.src)}
}

func (p *exprParser) next() {
	if p.err != nil {
		return
	}
	for p.pos < len(p.src) {
		r, w := utf8.DecodeRuneInString(p.src[p.pos:])
		if !unicode.IsSpace(r) {
			break
		}
		p.pos += w
	}
	start := p.pos
	if p.pos >= len(p.src) {
		p.tok = token{kind: tEOF, pos: start}
		return
	}
	c := p.src[p.pos]
	switch {
	case c == '(':
		p.pos++
		p.tok = token{kind: tLParen, text: "(", pos: start}
	case c == ')':
		p.pos++
		p.tok = token{kind: tRParen, text: ")", pos: start}
	case c == ',':
		p.pos++
		p.tok = token{kind: tComma, text: ",", pos: start}
	case c == '"' || c == '\'':
		p.lexString(c)
	case c >= '0' && c <= '9' || (c == '-' && p.pos+1 < len(p.src) && p.src[p.pos+1] >= '0' && p.src[p.pos+1] <= '9'):
		p.pos++
		for p.pos < len(p.src) && (p.src[p.pos] >= '0' && p.src[p.pos] <= '9' || p.src[p.pos] == '.') {
			p.pos++
		}
		text := p.src[start:p.pos]
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			p.fail(start, fmt.Sprintf("invalid number %q", text), "write numbers like 100000 or 0.5")
			return
		}
		p.tok = token{kind: tNumber, text: text, pos: start}
	case strings.ContainsRune("=!<>", rune(c)):
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '=' || (c == '<' && p.src[p.pos] == '>')) {
			p.pos++
		}
		op := p.src[start:p.pos]
		if op == "!" {
			p.fail(start, `"!" is not an operator`, `write != for "not equal", or not(…) to negate`)
			return
		}
		p.tok = token{kind: tOp, text: op, pos: start}
	case c == '_' || c < utf8.RuneSelf && unicode.IsLetter(rune(c)):
		for p.pos < len(p.src) && (p.src[p.pos] == '_' || p.src[p.pos] == '.' || p.src[p.pos] < utf8.RuneSelf && (unicode.IsLetter(rune(p.src[p.pos])) || unicode.IsDigit(rune(p.src[p.pos])))) {
			p.pos++
		}
		p.tok = token{kind: tIdent, text: p.src[start:p.pos], pos: start}
	default:
		r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
		fix := "use field names, quoted text, numbers, comparisons and the functions " + funcList()
		if r == '+' || r == '&' || r == '|' {
			fix = `join text with concat(a, b), and conditions with and / or`
		} else if r == '“' || r == '”' || r == '«' || r == '»' {
			fix = `quote text with plain double quotes "…"`
		}
		p.fail(start, fmt.Sprintf("unexpected character %q", r), fix)
	}
}

func (p *exprParser) lexString(q byte) {
	start := p.pos
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\\' && p.pos+1 < len(p.src):
			switch e := p.src[p.pos+1]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '\\', '"', '\'':
				b.WriteByte(e)
			default:
				p.fail(p.pos, fmt.Sprintf(`unknown escape "\%c" in text`, e), `use \" \' \\ \n or \t`)
				return
			}
			p.pos += 2
		case c == q:
			p.pos++
			p.tok = token{kind: tString, text: p.src[start:p.pos], pos: start, val: b.String()}
			return
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	p.fail(start, "text is not closed", fmt.Sprintf("end the text with %c", q))
}

func funcList() string {
	names := make([]string, 0, len(exprFuncs))
	for n := range exprFuncs {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func (p *exprParser) parseOr() exprNode {
	l := p.parseAnd()
	for p.err == nil && p.tok.kind == tIdent && strings.EqualFold(p.tok.text, "or") {
		p.next()
		r := p.parseAnd()
		l = &boolNode{op: "or", args: []exprNode{l, r}}
	}
	return l
}

func (p *exprParser) parseAnd() exprNode {
	l := p.parseNot()
	for p.err == nil && p.tok.kind == tIdent && strings.EqualFold(p.tok.text, "and") {
		p.next()
		r := p.parseNot()
		l = &boolNode{op: "and", args: []exprNode{l, r}}
	}
	return l
}

func (p *exprParser) parseNot() exprNode {
	if p.tok.kind == tIdent && strings.EqualFold(p.tok.text, "not") {
		p.next()
		return &boolNode{op: "not", args: []exprNode{p.parseNot()}}
	}
	return p.parseCmp()
}

func (p *exprParser) parseCmp() exprNode {
	l := p.parsePrimary()
	if p.err == nil && p.tok.kind == tOp {
		op := p.tok.text
		switch op {
		case "==":
			op = "="
		case "<>":
			op = "!="
		}
		p.next()
		r := p.parsePrimary()
		if p.err == nil && p.tok.kind == tOp {
			p.fail(p.tok.pos, "comparisons cannot be chained", "combine them with and, e.g. Amount > 0 and Amount < 10")
		}
		return &cmpNode{op: op, l: l, r: r}
	}
	return l
}

func (p *exprParser) parsePrimary() exprNode {
	if p.err != nil {
		return nil
	}
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 50 {
		p.fail(p.tok.pos, "expression is nested too deeply", "simplify it; more than 50 levels is not supported")
		return nil
	}
	t := p.tok
	switch t.kind {
	case tString:
		p.next()
		return &litNode{v: t.val}
	case tNumber:
		p.next()
		f, _ := strconv.ParseFloat(t.text, 64)
		return &litNode{v: f}
	case tLParen:
		p.next()
		n := p.parseOr()
		if p.err == nil && p.tok.kind != tRParen {
			p.fail(p.tok.pos, fmt.Sprintf("expected \")\", found %s", p.tok.describe()), `close the "(" opened at column `+strconv.Itoa(t.pos+1))
		}
		p.next()
		return n
	case tIdent:
		p.next()
		switch strings.ToLower(t.text) {
		case "true":
			return &litNode{v: true}
		case "false":
			return &litNode{v: false}
		case "null":
			return &litNode{v: nil}
		case "and", "or", "not":
			p.fail(t.pos, fmt.Sprintf("%q needs a value before it", t.text), "write a condition on each side, e.g. IsClosed and Amount > 0")
			return nil
		}
		if p.tok.kind == tLParen {
			return p.parseCall(t)
		}
		if !sfPathRE.MatchString(t.text) {
			p.fail(t.pos, fmt.Sprintf("invalid Salesforce field %q", t.text), "use an API name or a relationship path, e.g. Account.Name")
			return nil
		}
		if strings.Count(t.text, ".") > 5 {
			p.fail(t.pos, fmt.Sprintf("Salesforce path %q is too deep", t.text), "SOQL allows at most 5 levels of parent relationships")
			return nil
		}
		seen := false
		for _, q := range p.paths {
			if strings.EqualFold(q, t.text) {
				seen = true
			}
		}
		if !seen {
			p.paths = append(p.paths, t.text)
		}
		return &pathNode{path: t.text}
	case tEOF:
		p.fail(t.pos, "expression ends too early", "complete the expression")
		return nil
	}
	p.fail(t.pos, fmt.Sprintf("unexpected %s", t.describe()), "a value (field, text, number) or a function call is expected here")
	return nil
}

func (p *exprParser) parseCall(name token) exprNode {
	fn := strings.ToLower(name.text)
	arity, ok := exprFuncs[fn]
	if !ok {
		fix := "use one of: " + funcList()
		names := make([]string, 0, len(exprFuncs))
		for n := range exprFuncs {
			names = append(names, n)
		}
		if c := closest(fn, names); c != "" {
			fix = fmt.Sprintf("did you mean %s(…)? functions: %s", c, funcList())
		}
		p.fail(name.pos, fmt.Sprintf("unknown function %q", name.text), fix)
		return nil
	}
	p.next() // (
	var args []exprNode
	if p.tok.kind != tRParen {
		for {
			args = append(args, p.parseOr())
			if p.err != nil {
				return nil
			}
			if p.tok.kind == tComma {
				p.next()
				continue
			}
			break
		}
	}
	if p.err == nil && p.tok.kind != tRParen {
		p.fail(p.tok.pos, fmt.Sprintf("expected \",\" or \")\" in %s(…), found %s", fn, p.tok.describe()), "separate arguments with commas and close the call")
		return nil
	}
	p.next()
	if len(args) < arity[0] || (arity[1] >= 0 && len(args) > arity[1]) {
		want := strconv.Itoa(arity[0])
		switch {
		case arity[1] < 0:
			want = "at least " + want
		case arity[1] != arity[0]:
			want = fmt.Sprintf("%d to %d", arity[0], arity[1])
		}
		fix := fmt.Sprintf("give %s %s argument(s)", fn, want)
		if fn == "if" {
			fix = `write if(condition, value when true, value when false)`
		}
		p.fail(name.pos, fmt.Sprintf("%s takes %s argument(s), got %d", fn, want, len(args)), fix)
		return nil
	}
	return &callNode{name: fn, args: args}
}

func (n *litNode) eval(Getter) any { return n.v }

func (n *pathNode) eval(get Getter) any {
	v, ok := get(n.path)
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case string:
		if strings.TrimSpace(x) == "" {
			return nil
		}
	case map[string]any, []any:
		return nil // a relationship (Account), not a value (Account.Name)
	}
	return v
}

func (n *callNode) eval(get Getter) any {
	switch n.name {
	case "concat":
		var b strings.Builder
		for _, a := range n.args {
			b.WriteString(exprText(a.eval(get)))
		}
		return b.String()
	case "if":
		if truthy(n.args[0].eval(get)) {
			return n.args[1].eval(get)
		}
		return n.args[2].eval(get)
	case "coalesce":
		for _, a := range n.args {
			if v := a.eval(get); !isEmptyValue(v) {
				return v
			}
		}
		return nil
	case "upper":
		return strings.ToUpper(exprText(n.args[0].eval(get)))
	case "lower":
		return strings.ToLower(exprText(n.args[0].eval(get)))
	case "trim":
		return strings.TrimSpace(exprText(n.args[0].eval(get)))
	case "isblank":
		return isEmptyValue(n.args[0].eval(get))
	}
	return nil
}

func (n *cmpNode) eval(get Getter) any {
	l, r := n.l.eval(get), n.r.eval(get)
	if isEmptyValue(l) || isEmptyValue(r) {
		e := isEmptyValue(l) && isEmptyValue(r)
		switch n.op {
		case "=":
			return e
		case "!=":
			return !e
		}
		return false
	}
	lf, lerr := exprNumber(l)
	rf, rerr := exprNumber(r)
	var c int
	if lerr && rerr {
		switch {
		case lf < rf:
			c = -1
		case lf > rf:
			c = 1
		}
	} else {
		c = strings.Compare(exprText(l), exprText(r))
	}
	switch n.op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

func (n *boolNode) eval(get Getter) any {
	switch n.op {
	case "not":
		return !truthy(n.args[0].eval(get))
	case "and":
		return truthy(n.args[0].eval(get)) && truthy(n.args[1].eval(get))
	}
	return truthy(n.args[0].eval(get)) || truthy(n.args[1].eval(get))
}

// exprNumber reads numbers and booleans as numbers; text is compared as text (never parsed, so
// "10" and "9" compare as Salesforce text fields do).
func exprNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

func exprText(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := asText(v); ok {
		return s
	}
	return fmt.Sprint(v)
}

// truthy: booleans as they are, "true"/"false" text as booleans, other text when not blank,
// numbers when not zero, null as false.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
			return b
		}
		return strings.TrimSpace(x) != ""
	}
	if f, ok := exprNumber(v); ok {
		return f != 0
	}
	return true
}
