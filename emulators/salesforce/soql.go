package salesforce

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// --- lexer ---------------------------------------------------------------------------------

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tDate
	tDateTime
	tOp
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	text string // raw text (identifiers, operators) or decoded string value
	pos  int    // byte offset in the query
}

var (
	reDateTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})`)
	reDate     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)
	reNumber   = regexp.MustCompile(`^-?\d+(\.\d+)?`)
)

func lex(q string) ([]token, *apiError) {
	var toks []token
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")", i})
			i++
		case c == ',':
			toks = append(toks, token{tComma, ",", i})
			i++
		case c == '=':
			toks = append(toks, token{tOp, "=", i})
			i++
		case c == '!' || c == '<' || c == '>':
			op := string(c)
			if i+1 < len(q) && (q[i+1] == '=' || (c == '<' && q[i+1] == '>')) {
				op += string(q[i+1])
			}
			if op == "!" {
				return nil, soqlErr(q, i, "MALFORMED_QUERY", "unexpected token: !")
			}
			if op == "<>" {
				op = "!="
			}
			toks = append(toks, token{tOp, op, i})
			i += len(op) // "<>" and "!=" are both two bytes
		case c == '\'':
			start := i
			var sb strings.Builder
			i++
			closed := false
			for i < len(q) {
				ch := q[i]
				if ch == '\\' && i+1 < len(q) {
					n := q[i+1]
					switch n {
					case 'n':
						sb.WriteByte('\n')
					case 'r':
						sb.WriteByte('\r')
					case 't':
						sb.WriteByte('\t')
					case 'b':
						sb.WriteByte('\b')
					case 'f':
						sb.WriteByte('\f')
					case '\'', '"', '\\':
						sb.WriteByte(n)
					case '_', '%':
						sb.WriteByte('\\')
						sb.WriteByte(n)
					default:
						return nil, soqlErr(q, i, "MALFORMED_QUERY", "Invalid string literal '"+q[start:min(len(q), i+2)]+"'. Illegal character sequence '\\"+string(n)+"' in string literal.")
					}
					i += 2
					continue
				}
				if ch == '\'' {
					closed = true
					i++
					break
				}
				sb.WriteByte(ch)
				i++
			}
			if !closed {
				return nil, soqlErr(q, start, "MALFORMED_QUERY", "line 1:"+strconv.Itoa(start)+" mismatched character '<EOF>' expecting '''")
			}
			toks = append(toks, token{tString, sb.String(), start})
		case c >= '0' && c <= '9' || (c == '-' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9'):
			rest := q[i:]
			if m := reDateTime.FindString(rest); m != "" && c != '-' {
				toks = append(toks, token{tDateTime, m, i})
				i += len(m)
			} else if m := reDate.FindString(rest); m != "" && c != '-' {
				toks = append(toks, token{tDate, m, i})
				i += len(m)
			} else {
				m := reNumber.FindString(rest)
				toks = append(toks, token{tNumber, m, i})
				i += len(m)
			}
		case isIdentByte(c) || c == '.':
			start := i
			for i < len(q) && (isIdentByte(q[i]) || q[i] == '.' || (q[i] >= '0' && q[i] <= '9')) {
				i++
			}
			toks = append(toks, token{tIdent, q[start:i], start})
		default:
			return nil, soqlErr(q, i, "MALFORMED_QUERY", "unexpected token: "+string(c))
		}
	}
	toks = append(toks, token{tEOF, "<EOF>", len(q)})
	return toks, nil
}

func isIdentByte(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
}

// soqlErr renders an error the way Salesforce does: the query line, a caret, the position and text.
func soqlErr(q string, pos int, code, text string) *apiError {
	row, lineStart := 1, 0
	for i := 0; i < pos && i < len(q); i++ {
		if q[i] == '\n' {
			row++
			lineStart = i + 1
		}
	}
	lineEnd := strings.IndexByte(q[lineStart:], '\n')
	line := q[lineStart:]
	if lineEnd >= 0 {
		line = q[lineStart : lineStart+lineEnd]
	}
	col := pos - lineStart + 1
	msg := "\n" + line + "\n" + strings.Repeat(" ", col-1) + "^\nERROR at Row:" + strconv.Itoa(row) + ":Column:" + strconv.Itoa(col) + "\n" + text
	return &apiError{Status: 400, Code: code, Message: msg}
}

// --- AST -----------------------------------------------------------------------------------

type fieldRef struct {
	path  string
	pos   int
	rels  []*fieldDef // reference fields walked from the FROM object
	field *fieldDef
	full  string // canonical path
}

type literal struct {
	tok token
}

type condKind int

const (
	cAnd condKind = iota
	cOr
	cNot
	cCmp
	cIn
	cLike
)

type cond struct {
	kind  condKind
	kids  []*cond
	ref   *fieldRef
	op    string
	neg   bool
	lits  []literal
	vals  []any
	like  *regexp.Regexp
	isNum bool
	// inSet holds the lower-cased text values of an IN list, so long lists (bulk reads of
	// 1,000 ids) are matched by lookup instead of a scan per row.
	inSet map[string]bool
}

type orderKey struct {
	ref        *fieldRef
	desc       bool
	nullsFirst bool
}

type soqlQuery struct {
	text   string
	count  bool
	fields []*fieldRef
	objTok token
	where  *cond
	order  []orderKey
	limit  int // -1 none
	offset int
}

type parser struct {
	q    string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}
func (p *parser) isKw(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}
func (p *parser) unexpected() *apiError {
	t := p.peek()
	return soqlErr(p.q, t.pos, "MALFORMED_QUERY", "unexpected token: "+t.text)
}
func (p *parser) expectKw(kw string) *apiError {
	if !p.isKw(kw) {
		return p.unexpected()
	}
	p.next()
	return nil
}

var reserved = map[string]bool{"select": true, "from": true, "where": true, "and": true, "or": true, "not": true,
	"in": true, "like": true, "order": true, "by": true, "limit": true, "offset": true, "null": true,
	"true": true, "false": true, "asc": true, "desc": true, "nulls": true, "group": true, "having": true}

func parseSOQL(q string) (*soqlQuery, *apiError) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{q: q, toks: toks}
	sq := &soqlQuery{text: q, limit: -1}
	if err := p.expectKw("SELECT"); err != nil {
		return nil, err
	}
	if p.isKw("COUNT") && p.toks[p.i+1].kind == tLParen {
		p.next()
		p.next()
		if p.peek().kind != tRParen {
			return nil, soqlErr(q, p.peek().pos, "MALFORMED_QUERY", "only COUNT() is supported by this emulator")
		}
		p.next()
		sq.count = true
	} else {
		for {
			t := p.peek()
			if t.kind != tIdent || reserved[strings.ToLower(t.text)] {
				return nil, p.unexpected()
			}
			p.next()
			sq.fields = append(sq.fields, &fieldRef{path: t.text, pos: t.pos})
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if err := p.expectKw("FROM"); err != nil {
		return nil, err
	}
	ot := p.peek()
	if ot.kind != tIdent || reserved[strings.ToLower(ot.text)] {
		return nil, p.unexpected()
	}
	sq.objTok = p.next()
	if p.isKw("WHERE") {
		p.next()
		c, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		sq.where = c
	}
	if p.isKw("ORDER") {
		p.next()
		if err := p.expectKw("BY"); err != nil {
			return nil, err
		}
		for {
			t := p.peek()
			if t.kind != tIdent || reserved[strings.ToLower(t.text)] {
				return nil, p.unexpected()
			}
			p.next()
			k := orderKey{ref: &fieldRef{path: t.text, pos: t.pos}}
			if p.isKw("ASC") {
				p.next()
			} else if p.isKw("DESC") {
				p.next()
				k.desc = true
			}
			k.nullsFirst = !k.desc
			if p.isKw("NULLS") {
				p.next()
				switch {
				case p.isKw("FIRST"):
					k.nullsFirst = true
				case p.isKw("LAST"):
					k.nullsFirst = false
				default:
					return nil, p.unexpected()
				}
				p.next()
			}
			sq.order = append(sq.order, k)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	for p.isKw("LIMIT") || p.isKw("OFFSET") {
		kw := strings.ToUpper(p.next().text)
		t := p.next()
		n, err := strconv.Atoi(t.text)
		if t.kind != tNumber || err != nil || n < 0 {
			return nil, soqlErr(q, t.pos, "MALFORMED_QUERY", "unexpected token: "+t.text)
		}
		if kw == "LIMIT" {
			sq.limit = n
		} else {
			if n > 2000 {
				return nil, soqlErr(q, t.pos, "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
			}
			sq.offset = n
		}
	}
	if p.peek().kind != tEOF {
		return nil, p.unexpected()
	}
	return sq, nil
}

// parseExpr parses conditions joined by AND or OR; like SOQL it rejects mixing both without parentheses.
func (p *parser) parseExpr() (*cond, *apiError) {
	first, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	var joined *cond
	for p.isKw("AND") || p.isKw("OR") {
		kind := cAnd
		if p.isKw("OR") {
			kind = cOr
		}
		if joined != nil && joined.kind != kind {
			return nil, p.unexpected()
		}
		p.next()
		rhs, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		if joined == nil {
			joined = &cond{kind: kind, kids: []*cond{first}}
		}
		joined.kids = append(joined.kids, rhs)
	}
	if joined != nil {
		return joined, nil
	}
	return first, nil
}

func (p *parser) parseUnary() (*cond, *apiError) {
	if p.isKw("NOT") {
		p.next()
		c, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &cond{kind: cNot, kids: []*cond{c}}, nil
	}
	if p.peek().kind == tLParen {
		p.next()
		c, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tRParen {
			return nil, p.unexpected()
		}
		p.next()
		return c, nil
	}
	t := p.peek()
	if t.kind != tIdent || reserved[strings.ToLower(t.text)] {
		return nil, p.unexpected()
	}
	p.next()
	ref := &fieldRef{path: t.text, pos: t.pos}
	neg := false
	if p.isKw("NOT") {
		p.next()
		neg = true
		if !p.isKw("IN") && !p.isKw("LIKE") {
			return nil, p.unexpected()
		}
	}
	switch {
	case p.isKw("IN"):
		p.next()
		if p.peek().kind != tLParen {
			return nil, p.unexpected()
		}
		p.next()
		c := &cond{kind: cIn, ref: ref, neg: neg}
		for {
			lt, err := p.parseLiteral()
			if err != nil {
				return nil, err
			}
			c.lits = append(c.lits, literal{lt})
			if p.peek().kind == tComma {
				p.next()
				continue
			}
			if p.peek().kind != tRParen {
				return nil, p.unexpected()
			}
			p.next()
			return c, nil
		}
	case p.isKw("LIKE"):
		p.next()
		lt := p.peek()
		if lt.kind != tString {
			return nil, p.unexpected()
		}
		p.next()
		c := &cond{kind: cLike, ref: ref, neg: neg, lits: []literal{{lt}}}
		c.like = likeRegexp(lt.text)
		return c, nil
	}
	op := p.peek()
	if op.kind != tOp {
		return nil, p.unexpected()
	}
	p.next()
	lt, err := p.parseLiteral()
	if err != nil {
		return nil, err
	}
	return &cond{kind: cCmp, ref: ref, op: op.text, lits: []literal{{lt}}}, nil
}

func (p *parser) parseLiteral() (token, *apiError) {
	t := p.peek()
	switch t.kind {
	case tString, tNumber, tDate, tDateTime:
		p.next()
		return t, nil
	case tIdent:
		switch strings.ToLower(t.text) {
		case "null", "true", "false":
			p.next()
			return t, nil
		}
	}
	return t, p.unexpected()
}

func likeRegexp(pattern string) *regexp.Regexp {
	var sb strings.Builder
	sb.WriteString(`(?is)^`)
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '\\' && i+1 < len(pattern):
			sb.WriteString(regexp.QuoteMeta(string(pattern[i+1])))
			i++
		case c == '%':
			sb.WriteString(`.*`)
		case c == '_':
			sb.WriteString(`.`)
		default:
			j := i
			for j < len(pattern) && pattern[j] != '%' && pattern[j] != '_' && pattern[j] != '\\' {
				j++
			}
			sb.WriteString(regexp.QuoteMeta(pattern[i:j]))
			i = j - 1
		}
	}
	sb.WriteString(`$`)
	return regexp.MustCompile(sb.String())
}

// --- resolution against the schema ----------------------------------------------------------

const noSuchColumnHint = ". If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."

func (st *store) resolveRef(q string, o *objectDef, r *fieldRef) *apiError {
	segs := strings.Split(r.path, ".")
	if len(segs) > 1 && strings.EqualFold(segs[0], o.Name) {
		segs = segs[1:]
	}
	cur := o
	var canon []string
	for i, seg := range segs {
		if i == len(segs)-1 {
			f := cur.field(seg)
			if f == nil {
				return soqlErr(q, r.pos, "INVALID_FIELD", "No such column '"+seg+"' on entity '"+cur.Name+"'"+noSuchColumnHint)
			}
			r.field = f
			canon = append(canon, f.Name)
			break
		}
		rel := cur.relationship(seg)
		if rel == nil {
			return soqlErr(q, r.pos, "INVALID_FIELD", "Didn't understand relationship '"+seg+"' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.")
		}
		r.rels = append(r.rels, rel)
		canon = append(canon, rel.RelationshipName)
		cur = st.schema.object(rel.ReferenceTo[0])
	}
	r.full = strings.Join(canon, ".")
	return nil
}

// value returns the field value for r, following parent relationships.
func (st *store) value(rec *record, r *fieldRef) any {
	cur := rec
	for _, rel := range r.rels {
		id, _ := cur.vals[rel.Name].(string)
		if id == "" {
			return nil
		}
		cur = st.get(id)
		if cur == nil || cur.deleted {
			return nil
		}
	}
	return cur.vals[r.field.Name]
}

func filterTypeErr(q string, pos int, f *fieldDef, want string, quoted bool) *apiError {
	hint := "should not be enclosed in quotes"
	if quoted {
		hint = "should be enclosed in quotes"
	}
	return soqlErr(q, pos, "INVALID_FIELD", "value of filter criterion for field '"+f.Name+"' must be of type "+want+" and "+hint)
}

// convertLiteral turns a literal into the stored representation of field f.
func convertLiteral(q string, f *fieldDef, t token) (any, *apiError) {
	if t.kind == tIdent && strings.EqualFold(t.text, "null") {
		return nil, nil
	}
	switch {
	case f.Type == "boolean":
		if t.kind == tIdent {
			return strings.EqualFold(t.text, "true"), nil
		}
		return nil, filterTypeErr(q, t.pos, f, "boolean", false)
	case f.isNumber():
		if t.kind == tNumber {
			x, _ := strconv.ParseFloat(t.text, 64)
			return x, nil
		}
		return nil, filterTypeErr(q, t.pos, f, "double", false)
	case f.Type == "date":
		if t.kind == tDate {
			return t.text, nil
		}
		return nil, filterTypeErr(q, t.pos, f, "date", false)
	case f.Type == "datetime":
		if t.kind == tDateTime {
			tm, ok := parseDateTime(t.text)
			if !ok {
				return nil, soqlErr(q, t.pos, "MALFORMED_QUERY", "invalid datetime: "+t.text)
			}
			return tm.UTC().Format(sfDateTime), nil
		}
		return nil, filterTypeErr(q, t.pos, f, "dateTime", false)
	case f.Type == "id" || f.Type == "reference":
		if t.kind != tString {
			return nil, filterTypeErr(q, t.pos, f, "string", true)
		}
		if id, ok := NormalizeID(t.text); ok {
			return id, nil
		}
		if t.text == "" {
			return nil, nil
		}
		return nil, soqlErr(q, t.pos, "INVALID_QUERY_FILTER_OPERATOR", "invalid ID field: "+t.text)
	default:
		if t.kind != tString {
			return nil, filterTypeErr(q, t.pos, f, "string", true)
		}
		if t.text == "" {
			return nil, nil
		}
		return t.text, nil
	}
}

func (st *store) resolveCond(q string, o *objectDef, c *cond) *apiError {
	if c.ref == nil {
		for _, k := range c.kids {
			if err := st.resolveCond(q, o, k); err != nil {
				return err
			}
		}
		return nil
	}
	if err := st.resolveRef(q, o, c.ref); err != nil {
		return err
	}
	if c.kind == cLike {
		return nil
	}
	for _, l := range c.lits {
		v, err := convertLiteral(q, c.ref.field, l.tok)
		if err != nil {
			return err
		}
		c.vals = append(c.vals, v)
	}
	if c.kind == cIn && len(c.vals) > 8 && c.ref.field.Type != "date" && c.ref.field.Type != "datetime" {
		set := make(map[string]bool, len(c.vals))
		for _, v := range c.vals {
			s, ok := v.(string)
			if !ok {
				return nil // mixed or non-text values: match by comparison
			}
			set[strings.ToLower(s)] = true
		}
		c.inSet = set
	}
	return nil
}

// compareValues orders two non-nil stored values of field f.
func compareValues(f *fieldDef, a, b any) int {
	switch x := a.(type) {
	case float64:
		y, _ := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case bool:
		y, _ := b.(bool)
		if x == y {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	case string:
		y, _ := b.(string)
		if f.Type == "date" || f.Type == "datetime" {
			return strings.Compare(x, y)
		}
		if strings.EqualFold(x, y) {
			return 0
		}
		return strings.Compare(strings.ToLower(x), strings.ToLower(y))
	}
	return 0
}

func (st *store) match(c *cond, rec *record) bool {
	switch c.kind {
	case cAnd:
		for _, k := range c.kids {
			if !st.match(k, rec) {
				return false
			}
		}
		return true
	case cOr:
		for _, k := range c.kids {
			if st.match(k, rec) {
				return true
			}
		}
		return false
	case cNot:
		return !st.match(c.kids[0], rec)
	case cLike:
		v, _ := st.value(rec, c.ref).(string)
		ok := v != "" && c.like.MatchString(v)
		return ok != c.neg
	case cIn:
		v := st.value(rec, c.ref)
		if s, ok := v.(string); ok && c.inSet != nil {
			return c.inSet[strings.ToLower(s)] != c.neg
		}
		found := false
		for _, x := range c.vals {
			if (v == nil && x == nil) || (v != nil && x != nil && compareValues(c.ref.field, v, x) == 0) {
				found = true
				break
			}
		}
		return found != c.neg
	}
	v := st.value(rec, c.ref)
	x := c.vals[0]
	if v == nil || x == nil {
		switch c.op {
		case "=":
			return v == nil && x == nil
		case "!=":
			return (v == nil) != (x == nil)
		}
		return false
	}
	r := compareValues(c.ref.field, v, x)
	switch c.op {
	case "=":
		return r == 0
	case "!=":
		return r != 0
	case "<":
		return r < 0
	case "<=":
		return r <= 0
	case ">":
		return r > 0
	case ">=":
		return r >= 0
	}
	return false
}

// --- execution -----------------------------------------------------------------------------

// projNode is one output key of a query row: a field, or a parent relationship with children.
type projNode struct {
	name     string
	field    *fieldDef
	rel      *fieldDef
	children []*projNode
}

func buildProjection(fields []*fieldRef) []*projNode {
	var top []*projNode
	for _, r := range fields {
		level := &top
		for _, rel := range r.rels {
			var node *projNode
			for _, n := range *level {
				if n.rel == rel {
					node = n
					break
				}
			}
			if node == nil {
				node = &projNode{name: rel.RelationshipName, rel: rel}
				*level = append(*level, node)
			}
			level = &node.children
		}
		*level = append(*level, &projNode{name: r.field.Name, field: r.field})
	}
	return top
}

func (st *store) appendProjected(b []byte, rec *record, nodes []*projNode, version string) []byte {
	b = appendAttributes(b, rec.obj.Name, rec.id, version)
	for _, n := range nodes {
		b = append(b, ',')
		b = appendJSONString(b, n.name)
		b = append(b, ':')
		if n.field != nil {
			b = appendJSONValue(b, rec.vals[n.field.Name])
			continue
		}
		id, _ := rec.vals[n.rel.Name].(string)
		var parent *record
		if id != "" {
			parent = st.get(id)
		}
		if parent == nil || parent.deleted {
			b = append(b, "null"...)
			continue
		}
		b = st.appendProjected(b, parent, n.children, version)
	}
	return append(b, '}')
}

// queryResult is the full result of a query, kept as pre-rendered rows for paging.
type queryResult struct {
	rows      [][]byte
	totalSize int
	created   time.Time
}

// runQuery parses, validates and executes SOQL against the store.
func (st *store) runQuery(q, version string, includeDeleted bool) (*queryResult, *apiError) {
	sq, err := parseSOQL(q)
	if err != nil {
		return nil, err
	}
	o := st.schema.object(sq.objTok.text)
	if o == nil {
		return nil, soqlErr(q, sq.objTok.pos, "INVALID_TYPE", "sObject type '"+sq.objTok.text+"' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.")
	}
	seen := map[string]bool{}
	for _, r := range sq.fields {
		if err := st.resolveRef(q, o, r); err != nil {
			return nil, err
		}
		k := strings.ToLower(r.full)
		if seen[k] {
			return nil, soqlErr(q, r.pos, "MALFORMED_QUERY", "duplicate field selected: "+r.full)
		}
		seen[k] = true
	}
	if sq.where != nil {
		if err := st.resolveCond(q, o, sq.where); err != nil {
			return nil, err
		}
	}
	for _, k := range sq.order {
		if err := st.resolveRef(q, o, k.ref); err != nil {
			return nil, err
		}
	}
	t := st.tables[o.Name]
	stopAt := -1
	if len(sq.order) == 0 && sq.limit >= 0 {
		stopAt = sq.offset + sq.limit
	}
	matched := make([]*record, 0, min(t.live, 4096))
	scan := t.rows
	ordered := false
	if cand, ok := t.idCandidates(sq.where); ok {
		scan = cand
	} else if len(sq.order) == 1 && isOwnID(&cond{ref: sq.order[0].ref}) && !sq.order[0].desc {
		// Keyset paging: walk in id order from the bound, stop once the page is full.
		sorted := t.sortedByID()
		scan = sorted[idOrderStart(sorted, sq.where):]
		ordered = true
		if sq.limit >= 0 {
			stopAt = sq.offset + sq.limit
		}
	}
	for _, rec := range scan {
		if stopAt >= 0 && len(matched) >= stopAt {
			break
		}
		if rec.deleted && !includeDeleted {
			continue
		}
		if sq.where != nil && !st.match(sq.where, rec) {
			continue
		}
		matched = append(matched, rec)
	}
	if len(sq.order) > 0 && !ordered {
		keys := make([][]any, len(matched))
		for i, rec := range matched {
			ks := make([]any, len(sq.order))
			for j, k := range sq.order {
				v := st.value(rec, k.ref)
				if s, ok := v.(string); ok && k.ref.field.isText() {
					v = strings.ToLower(s)
				}
				ks[j] = v
			}
			keys[i] = ks
		}
		idx := make([]int, len(matched))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool {
			ka, kb := keys[idx[a]], keys[idx[b]]
			for j, k := range sq.order {
				va, vb := ka[j], kb[j]
				if va == nil || vb == nil {
					if va == nil && vb == nil {
						continue
					}
					return (va == nil) == k.nullsFirst
				}
				c := compareValues(k.ref.field, va, vb)
				if c == 0 {
					continue
				}
				if k.desc {
					return c > 0
				}
				return c < 0
			}
			return false
		})
		sorted := make([]*record, len(matched))
		for i, j := range idx {
			sorted[i] = matched[j]
		}
		matched = sorted
	}
	if sq.offset > 0 {
		if sq.offset >= len(matched) {
			matched = nil
		} else {
			matched = matched[sq.offset:]
		}
	}
	if sq.limit >= 0 && len(matched) > sq.limit {
		matched = matched[:sq.limit]
	}
	res := &queryResult{totalSize: len(matched)}
	if sq.count {
		return res, nil
	}
	proj := buildProjection(sq.fields)
	res.rows = make([][]byte, len(matched))
	var buf []byte
	for i, rec := range matched {
		start := len(buf)
		buf = st.appendProjected(buf, rec, proj, version)
		res.rows[i] = buf[start:len(buf):len(buf)]
	}
	return res, nil
}
