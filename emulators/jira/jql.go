package jira

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// A small JQL implementation: lexer, recursive-descent parser and a compiler that turns
// the syntax tree into predicates over stored issues, with index-backed candidate sets for
// key/id and entity-property equality so lookups stay O(matches) at benchmark scale.

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tString
	tLParen
	tRParen
	tComma
	tOp
)

type token struct {
	kind tokKind
	text string
	pos  int // 1-based character position
}

type jqlError struct{ msg string }

// Error returns the Jira-worded message.
func (e *jqlError) Error() string { return e.msg }

func syntaxErr(format string, pos int, a ...any) error {
	return &jqlError{fmt.Sprintf("Error in the JQL Query: "+format+" (line 1, character %d)", append(a, pos)...)}
}

func semErr(format string, a ...any) error { return &jqlError{fmt.Sprintf(format, a...)} }

const reservedChars = "{}#^%&|?;+*@$`!<>=~"

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-:/[]\\", r)
}

func lex(src string) ([]token, error) {
	rs := []rune(src)
	var toks []token
	for i := 0; i < len(rs); {
		r := rs[i]
		pos := i + 1
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '(':
			toks = append(toks, token{tLParen, "(", pos})
			i++
		case r == ')':
			toks = append(toks, token{tRParen, ")", pos})
			i++
		case r == ',':
			toks = append(toks, token{tComma, ",", pos})
			i++
		case r == '"' || r == '\'':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(rs) {
				if rs[j] == '\\' && j+1 < len(rs) {
					b.WriteRune(rs[j+1])
					j += 2
					continue
				}
				if rs[j] == r {
					closed = true
					break
				}
				b.WriteRune(rs[j])
				j++
			}
			if !closed {
				return nil, syntaxErr("The quoted string '%s' has not been completed.", pos, string(rs[i+1:]))
			}
			toks = append(toks, token{tString, b.String(), pos})
			i = j + 1
		case r == '=' || r == '~':
			toks = append(toks, token{tOp, string(r), pos})
			i++
		case r == '!' || r == '<' || r == '>':
			if i+1 < len(rs) && (rs[i+1] == '=' || (r == '!' && rs[i+1] == '~')) {
				toks = append(toks, token{tOp, string(rs[i : i+2]), pos})
				i += 2
			} else if r == '!' {
				return nil, syntaxErr("The character '!' is a reserved JQL character. You must enclose it in a string or use the escape '\\u0021' instead.", pos)
			} else {
				toks = append(toks, token{tOp, string(r), pos})
				i++
			}
		case isWordRune(r) || r == '*' || r == '+':
			j := i
			for j < len(rs) && (isWordRune(rs[j]) || (j == i && (rs[j] == '+' || rs[j] == '*'))) {
				j++
			}
			toks = append(toks, token{tWord, string(rs[i:j]), pos})
			i = j
		case strings.ContainsRune(reservedChars, r):
			return nil, syntaxErr("The character '%c' is a reserved JQL character. You must enclose it in a string or use the escape '\\u%04x' instead.", pos, r, r)
		default:
			return nil, syntaxErr("The character '%c' is a reserved JQL character. You must enclose it in a string or use the escape '\\u%04x' instead.", pos, r, r)
		}
	}
	toks = append(toks, token{tEOF, "", len(rs) + 1})
	return toks, nil
}

// ---- AST ------------------------------------------------------------------------------

type jqlNode interface{}

type andNode struct{ kids []jqlNode }
type orNode struct{ kids []jqlNode }
type notNode struct{ kid jqlNode }

type jqlValue struct {
	text   string
	quoted bool
	fn     bool // function call like now()
	pos    int
}

type clauseNode struct {
	field string
	pos   int
	op    string // = != < > <= >= ~ !~ in "not in" is "is not"
	vals  []jqlValue
}

type orderTerm struct {
	field string
	desc  bool
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) isKW(kw string) bool {
	t := p.peek()
	return t.kind == tWord && strings.EqualFold(t.text, kw)
}

var keywords = []string{"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}

func isKeyword(s string) bool { return slices.Contains(keywords, strings.ToLower(s)) }

func parseJQL(src string) (jqlNode, []orderTerm, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, nil, err
	}
	p := &parser{toks: toks}
	var where jqlNode
	if p.peek().kind != tEOF && !p.isKW("order") {
		if where, err = p.parseOr(); err != nil {
			return nil, nil, err
		}
	}
	var order []orderTerm
	if p.isKW("order") {
		p.next()
		if !p.isKW("by") {
			t := p.peek()
			if t.kind == tEOF {
				return nil, nil, &jqlError{"Error in the JQL Query: Expecting 'by' but reached the end of the query."}
			}
			return nil, nil, syntaxErr("Expecting 'by' but got '%s'.", t.pos, t.text)
		}
		p.next()
		for {
			t := p.next()
			if t.kind != tWord && t.kind != tString {
				if t.kind == tEOF {
					return nil, nil, &jqlError{"Error in the JQL Query: Expecting a field name at the end of the query."}
				}
				return nil, nil, syntaxErr("Expecting a field name but got '%s'.", t.pos, t.text)
			}
			ot := orderTerm{field: t.text}
			if p.isKW("asc") {
				p.next()
			} else if p.isKW("desc") {
				p.next()
				ot.desc = true
			}
			order = append(order, ot)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if t := p.peek(); t.kind != tEOF {
		if where != nil && order == nil {
			return nil, nil, syntaxErr("Expecting either 'OR' or 'AND' but got '%s'.", t.pos, t.text)
		}
		return nil, nil, syntaxErr("Expecting either ',' or the end of the query but got '%s'.", t.pos, t.text)
	}
	return where, order, nil
}

func (p *parser) parseOr() (jqlNode, error) {
	n, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	kids := []jqlNode{n}
	for p.isKW("or") {
		p.next()
		k, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return n, nil
	}
	return &orNode{kids}, nil
}

func (p *parser) parseAnd() (jqlNode, error) {
	n, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	kids := []jqlNode{n}
	for p.isKW("and") {
		p.next()
		k, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return n, nil
	}
	return &andNode{kids}, nil
}

func (p *parser) parseNot() (jqlNode, error) {
	if p.isKW("not") {
		p.next()
		k, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return &notNode{k}, nil
	}
	if p.peek().kind == tLParen {
		p.next()
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		t := p.next()
		if t.kind != tRParen {
			if t.kind == tEOF {
				return nil, &jqlError{"Error in the JQL Query: Expecting ')' before the end of the query."}
			}
			return nil, syntaxErr("Expecting either 'OR' or 'AND' but got '%s'.", t.pos, t.text)
		}
		return n, nil
	}
	return p.parseClause()
}

const validOps = "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'."

func (p *parser) parseClause() (jqlNode, error) {
	t := p.next()
	switch {
	case t.kind == tEOF:
		return nil, &jqlError{"Error in the JQL Query: Expecting a field name at the end of the query."}
	case t.kind == tString || (t.kind == tWord && !isKeyword(t.text)):
	default:
		return nil, syntaxErr("Expecting a field name but got '%s'. You must surround '%s' in quotation marks to use it as a field name.", t.pos, t.text, t.text)
	}
	cl := &clauseNode{field: t.text, pos: t.pos}
	o := p.next()
	switch {
	case o.kind == tOp:
		cl.op = o.text
	case o.kind == tWord && strings.EqualFold(o.text, "in"):
		cl.op = "in"
	case o.kind == tWord && strings.EqualFold(o.text, "is"):
		cl.op = "is"
		if p.isKW("not") {
			p.next()
			cl.op = "is not"
		}
	case o.kind == tWord && strings.EqualFold(o.text, "not") && p.isKW("in"):
		p.next()
		cl.op = "not in"
	case o.kind == tEOF:
		return nil, &jqlError{"Error in the JQL Query: Expecting operator before the end of the query. " + validOps}
	default:
		return nil, syntaxErr("Expecting operator but got '%s'. "+validOps, o.pos, o.text)
	}
	switch cl.op {
	case "is", "is not":
		v := p.next()
		if v.kind != tWord || !(strings.EqualFold(v.text, "empty") || strings.EqualFold(v.text, "null")) {
			if v.kind == tEOF {
				return nil, &jqlError{"Error in the JQL Query: Expecting 'EMPTY' or 'NULL' at the end of the query."}
			}
			return nil, syntaxErr("Expecting 'EMPTY' or 'NULL' but got '%s'.", v.pos, v.text)
		}
	case "in", "not in":
		if t := p.next(); t.kind != tLParen {
			if t.kind == tEOF {
				return nil, &jqlError{"Error in the JQL Query: Expecting '(' at the end of the query."}
			}
			// A function returning a list, e.g. "in openSprints()", is not supported here.
			return nil, syntaxErr("Expecting '(' but got '%s'.", t.pos, t.text)
		}
		for {
			v, err := p.parseValue()
			if err != nil {
				return nil, err
			}
			cl.vals = append(cl.vals, v)
			t := p.next()
			if t.kind == tRParen {
				break
			}
			if t.kind != tComma {
				if t.kind == tEOF {
					return nil, &jqlError{"Error in the JQL Query: Expecting ')' before the end of the query."}
				}
				return nil, syntaxErr("Expecting either ',' or ')' but got '%s'.", t.pos, t.text)
			}
		}
	default:
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		cl.vals = []jqlValue{v}
	}
	return cl, nil
}

func (p *parser) parseValue() (jqlValue, error) {
	t := p.next()
	switch {
	case t.kind == tString:
		return jqlValue{text: t.text, quoted: true, pos: t.pos}, nil
	case t.kind == tWord && !isKeyword(t.text):
		if p.peek().kind == tLParen {
			p.next()
			if c := p.next(); c.kind != tRParen {
				return jqlValue{}, syntaxErr("Expecting ')' but got '%s'.", c.pos, c.text)
			}
			return jqlValue{text: t.text, fn: true, pos: t.pos}, nil
		}
		return jqlValue{text: t.text, pos: t.pos}, nil
	case t.kind == tEOF:
		return jqlValue{}, &jqlError{"Error in the JQL Query: Expecting either a value, list or function before the end of the query."}
	default:
		return jqlValue{}, syntaxErr("Expecting either a value, list or function but got '%s'. You must surround '%s' in quotation marks to use it as a value.", t.pos, t.text, t.text)
	}
}

// ---- compilation ----------------------------------------------------------------------

type pred func(*issue) bool

// candFn returns the ids that can possibly match (ok=false means "any issue").
type candFn func() (map[int64]struct{}, bool)

type compiled struct {
	eval pred
	cand candFn
}

type compiler struct {
	s   *Server
	now time.Time
}

func anyCand() (map[int64]struct{}, bool) { return nil, false }

func (c *compiler) compile(n jqlNode) (compiled, error) {
	switch x := n.(type) {
	case *andNode:
		var preds []pred
		var cands []candFn
		for _, k := range x.kids {
			ck, err := c.compile(k)
			if err != nil {
				return compiled{}, err
			}
			preds = append(preds, ck.eval)
			cands = append(cands, ck.cand)
		}
		return compiled{
			eval: func(is *issue) bool {
				for _, p := range preds {
					if !p(is) {
						return false
					}
				}
				return true
			},
			cand: func() (map[int64]struct{}, bool) {
				var best map[int64]struct{}
				found := false
				for _, cf := range cands {
					if set, ok := cf(); ok && (!found || len(set) < len(best)) {
						best, found = set, true
					}
				}
				return best, found
			},
		}, nil
	case *orNode:
		var preds []pred
		var cands []candFn
		for _, k := range x.kids {
			ck, err := c.compile(k)
			if err != nil {
				return compiled{}, err
			}
			preds = append(preds, ck.eval)
			cands = append(cands, ck.cand)
		}
		return compiled{
			eval: func(is *issue) bool {
				for _, p := range preds {
					if p(is) {
						return true
					}
				}
				return false
			},
			cand: func() (map[int64]struct{}, bool) {
				union := map[int64]struct{}{}
				for _, cf := range cands {
					set, ok := cf()
					if !ok {
						return nil, false
					}
					for id := range set {
						union[id] = struct{}{}
					}
				}
				return union, true
			},
		}, nil
	case *notNode:
		ck, err := c.compile(x.kid)
		if err != nil {
			return compiled{}, err
		}
		return compiled{eval: func(is *issue) bool { return !ck.eval(is) }, cand: anyCand}, nil
	case *clauseNode:
		return c.clause(x)
	}
	return compiled{}, semErr("unsupported JQL")
}

var propFieldRe = regexp.MustCompile(`(?i)^issue\.property\[([^\]]+)\](?:\.(.+))?$`)
var cfRe = regexp.MustCompile(`(?i)^(?:cf\[(\d+)\]|customfield_(\d+))$`)

func opNotSupported(op, field string) error {
	return semErr("The operator '%s' is not supported by the '%s' field.", strings.ToUpper(op), field)
}

// eqSpec describes a field compared by canonical string values.
type eqSpec struct {
	name      string
	canon     func(v jqlValue) (string, error)
	values    func(is *issue) []string
	ordered   func(is *issue) (float64, bool) // optional: enables < > <= >=
	litNumber func(v jqlValue) (float64, error)
	contains  bool // ~ / !~ on text
}

func (c *compiler) clause(cl *clauseNode) (compiled, error) {
	f := strings.ToLower(cl.field)
	s := c.s
	var spec eqSpec
	switch {
	case f == "project":
		spec = eqSpec{name: "project",
			canon: func(v jqlValue) (string, error) {
				if s.matchProject(v.text) || strings.EqualFold(v.text, projectName) {
					return projectID, nil
				}
				return "", semErr("The value '%s' does not exist for the field 'project'.", v.text)
			},
			values: func(*issue) []string { return []string{projectID} }}
	case f == "issuetype" || f == "type":
		spec = eqSpec{name: "issuetype",
			canon: func(v jqlValue) (string, error) {
				for _, t := range issueTypes {
					if t.ID == v.text || strings.EqualFold(t.Name, v.text) {
						return t.ID, nil
					}
				}
				return "", semErr("The value '%s' does not exist for the field 'issuetype'.", v.text)
			},
			values: func(is *issue) []string { return []string{is.d.TypeID} }}
	case f == "status":
		spec = eqSpec{name: "status",
			canon: func(v jqlValue) (string, error) {
				for _, st := range s.wf().statuses {
					if st.ID == v.text || strings.EqualFold(st.Name, v.text) {
						return st.ID, nil
					}
				}
				return "", semErr("The value '%s' does not exist for the field 'status'.", v.text)
			},
			values: func(is *issue) []string { return []string{is.d.StatusID} }}
	case f == "statuscategory":
		spec = eqSpec{name: "statusCategory",
			canon: func(v jqlValue) (string, error) {
				for _, sc := range []statusCategory{catNew, catIndeterminate, catDone} {
					if strings.EqualFold(sc.Key, v.text) || strings.EqualFold(sc.Name, v.text) || strconv.Itoa(sc.ID) == v.text {
						return sc.Key, nil
					}
				}
				return "", semErr("The value '%s' does not exist for the field 'statusCategory'.", v.text)
			},
			values: func(is *issue) []string { return []string{findStatus(is.d.StatusID).Category.Key} }}
	case f == "resolution":
		spec = eqSpec{name: "resolution",
			canon: func(v jqlValue) (string, error) {
				if strings.EqualFold(v.text, "unresolved") {
					return "", nil
				}
				for _, r := range resolutions {
					if r.ID == v.text || strings.EqualFold(r.Name, v.text) {
						return r.ID, nil
					}
				}
				return "", semErr("The value '%s' does not exist for the field 'resolution'.", v.text)
			},
			values: func(is *issue) []string {
				if is.d.ResolutionID == "" {
					return nil
				}
				return []string{is.d.ResolutionID}
			}}
	case f == "priority":
		spec = eqSpec{name: "priority",
			canon: func(v jqlValue) (string, error) {
				for _, p := range priorities {
					if p.ID == v.text || strings.EqualFold(p.Name, v.text) {
						return p.ID, nil
					}
				}
				return "", semErr("The value '%s' does not exist for the field 'priority'.", v.text)
			},
			values: func(is *issue) []string { return []string{is.d.PriorityID} }}
	case f == "labels":
		spec = eqSpec{name: "labels",
			canon:  func(v jqlValue) (string, error) { return v.text, nil },
			values: func(is *issue) []string { return is.d.Labels }}
	case f == "assignee" || f == "reporter":
		spec = eqSpec{name: f,
			canon: func(v jqlValue) (string, error) {
				if v.fn && strings.EqualFold(v.text, "currentUser") {
					return accountID, nil
				}
				if u := s.users[v.text]; u != nil {
					return u.AccountID, nil
				}
				for _, id := range s.userOrder {
					if u := s.users[id]; strings.EqualFold(u.Email, v.text) {
						return u.AccountID, nil
					}
				}
				return "", semErr("The value '%s' does not exist for the field '%s'.", v.text, f)
			},
			values: func(is *issue) []string {
				u := is.d.Assignee
				if f == "reporter" {
					u = is.d.Reporter
				}
				if u == "" {
					return nil
				}
				return []string{u}
			}}
	case f == "key" || f == "issuekey" || f == "issue" || f == "id" || f == "parent":
		name := "key"
		if f == "id" || f == "parent" {
			name = f
		}
		spec = eqSpec{name: name,
			canon: func(v jqlValue) (string, error) {
				if _, err := strconv.ParseInt(v.text, 10, 64); err == nil {
					return v.text, nil
				}
				if is := s.byKey[strings.ToUpper(v.text)]; is != nil {
					return strconv.FormatInt(is.id, 10), nil
				}
				if !strings.Contains(v.text, "-") {
					return "", semErr("The issue key '%s' for field '%s' is invalid.", v.text, name)
				}
				return "", semErr("An issue with key '%s' does not exist for field '%s'.", v.text, name)
			},
			values: func(is *issue) []string {
				if f == "parent" {
					if is.d.ParentID == 0 {
						return nil
					}
					return []string{strconv.FormatInt(is.d.ParentID, 10)}
				}
				return []string{strconv.FormatInt(is.id, 10)}
			},
		}
		if f != "parent" {
			spec.ordered = func(is *issue) (float64, bool) { return float64(is.id), true }
			spec.litNumber = func(v jqlValue) (float64, error) {
				id, err := spec.canon(v)
				if err != nil {
					return 0, err
				}
				n, _ := strconv.ParseFloat(id, 64)
				return n, nil
			}
		}
	case f == "created" || f == "createddate" || f == "updated" || f == "updateddate" || f == "resolutiondate" || f == "resolved" || f == "duedate" || f == "due" ||
		strings.EqualFold(cl.field, "Start date"):
		name := map[string]string{"createddate": "created", "updateddate": "updated", "resolved": "resolutiondate", "due": "duedate", "start date": FieldStartDate}[f]
		if name == "" {
			name = f
		}
		get := func(is *issue) (float64, bool) {
			var t time.Time
			switch name {
			case "created":
				t = is.created
			case "updated":
				t = is.updated
			case "resolutiondate":
				t = is.d.ResolutionDate
			case "duedate", FieldStartDate:
				str := is.d.DueDate
				if name == FieldStartDate {
					str, _ = is.d.Custom[FieldStartDate].(string)
				}
				if str == "" {
					return 0, false
				}
				t, _ = time.Parse(jiraDate, str)
			}
			if t.IsZero() {
				return 0, false
			}
			return float64(t.UnixMilli()), true
		}
		spec = eqSpec{name: cl.field, ordered: get,
			litNumber: func(v jqlValue) (float64, error) { return c.parseDate(v, cl.field) },
			canon: func(v jqlValue) (string, error) {
				n, err := c.parseDate(v, cl.field)
				return strconv.FormatFloat(n, 'f', -1, 64), err
			},
			values: func(is *issue) []string {
				if n, ok := get(is); ok {
					return []string{strconv.FormatFloat(n, 'f', -1, 64)}
				}
				return nil
			}}
	case f == "summary" || f == "text" || f == "description":
		spec = eqSpec{name: f, contains: true,
			values: func(is *issue) []string {
				if f == "description" {
					if is.d.Description == nil {
						return nil
					}
					return []string{adfText(is.d.Description)}
				}
				return []string{is.d.Summary}
			}}
	case propFieldRe.MatchString(cl.field):
		m := propFieldRe.FindStringSubmatch(cl.field)
		return c.propertyClause(cl, m[1], m[2])
	default:
		fd := c.customField(cl.field)
		if fd == nil {
			return compiled{}, semErr("Field '%s' does not exist or you do not have permission to view it.", cl.field)
		}
		if fd.ID == FieldStartDate {
			cl.field = "Start date"
			return c.clause(cl)
		}
		spec = c.customSpec(fd)
	}
	return c.build(cl, spec)
}

func (c *compiler) customField(name string) *fieldDef {
	if m := cfRe.FindStringSubmatch(name); m != nil {
		id := m[1] + m[2]
		if fd := c.s.field("customfield_" + id); fd != nil {
			return fd
		}
		return nil
	}
	for _, f := range c.s.allFieldDefs() {
		if f.Custom && strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

func (c *compiler) customSpec(fd *fieldDef) eqSpec {
	id := fd.ID
	switch fd.Kind {
	case kindNumber:
		get := func(is *issue) (float64, bool) {
			v, ok := is.d.Custom[id].(float64)
			return v, ok
		}
		num := func(v jqlValue) (float64, error) {
			n, err := strconv.ParseFloat(v.text, 64)
			if err != nil {
				return 0, semErr("The value '%s' is not a valid number for field '%s'.", v.text, fd.Name)
			}
			return n, nil
		}
		return eqSpec{name: fd.Name, ordered: get, litNumber: num,
			canon: func(v jqlValue) (string, error) {
				n, err := num(v)
				return strconv.FormatFloat(n, 'f', -1, 64), err
			},
			values: func(is *issue) []string {
				if n, ok := get(is); ok {
					return []string{strconv.FormatFloat(n, 'f', -1, 64)}
				}
				return nil
			}}
	case kindSprint:
		return eqSpec{name: fd.Name,
			canon: func(v jqlValue) (string, error) {
				for _, sp := range sprints {
					if strconv.FormatInt(sp.ID, 10) == v.text || strings.EqualFold(sp.Name, v.text) {
						return strconv.FormatInt(sp.ID, 10), nil
					}
				}
				return "", semErr("Sprint with name '%s' does not exist or you do not have permission to view it.", v.text)
			},
			values: func(is *issue) []string {
				if n, ok := is.d.Custom[id].(int64); ok {
					return []string{strconv.FormatInt(n, 10)}
				}
				return nil
			}}
	case kindURL:
		return eqSpec{name: fd.Name,
			canon: func(v jqlValue) (string, error) { return v.text, nil },
			values: func(is *issue) []string {
				if s, ok := is.d.Custom[id].(string); ok {
					return []string{s}
				}
				return nil
			}}
	default: // text
		return eqSpec{name: fd.Name, contains: true,
			values: func(is *issue) []string {
				if s, ok := is.d.Custom[id].(string); ok {
					return []string{s}
				}
				return nil
			}}
	}
}

func (c *compiler) build(cl *clauseNode, spec eqSpec) (compiled, error) {
	switch cl.op {
	case "is", "is not":
		want := cl.op == "is"
		return compiled{eval: func(is *issue) bool { return (len(spec.values(is)) == 0) == want }, cand: anyCand}, nil
	case "~", "!~":
		if !spec.contains {
			return compiled{}, opNotSupported(cl.op, spec.name)
		}
		terms := textWords(cl.vals[0].text, true)
		neg := cl.op == "!~"
		return compiled{eval: func(is *issue) bool {
			vals := spec.values(is)
			if len(vals) == 0 {
				return false
			}
			words := textWords(strings.Join(vals, " "), false)
			return matchWords(terms, words) != neg
		}, cand: anyCand}, nil
	case "<", ">", "<=", ">=":
		if spec.ordered == nil {
			return compiled{}, opNotSupported(cl.op, spec.name)
		}
		lit, err := spec.litNumber(cl.vals[0])
		if err != nil {
			return compiled{}, err
		}
		op := cl.op
		return compiled{eval: func(is *issue) bool {
			v, ok := spec.ordered(is)
			if !ok {
				return false
			}
			switch op {
			case "<":
				return v < lit
			case ">":
				return v > lit
			case "<=":
				return v <= lit
			}
			return v >= lit
		}, cand: anyCand}, nil
	}
	if spec.canon == nil {
		return compiled{}, opNotSupported(cl.op, spec.name)
	}
	set := map[string]bool{}
	matchEmpty := false
	for _, v := range cl.vals {
		if !v.quoted && (strings.EqualFold(v.text, "empty") || strings.EqualFold(v.text, "null")) {
			matchEmpty = true
			continue
		}
		cv, err := spec.canon(v)
		if err != nil {
			return compiled{}, err
		}
		if cv == "" {
			matchEmpty = true // e.g. resolution = Unresolved
			continue
		}
		set[cv] = true
	}
	neg := cl.op == "!=" || cl.op == "not in"
	eval := func(is *issue) bool {
		vals := spec.values(is)
		if len(vals) == 0 {
			return matchEmpty != neg
		}
		hit := false
		for _, v := range vals {
			if set[v] {
				hit = true
				break
			}
		}
		return hit != neg
	}
	cand := anyCand
	if !neg && !matchEmpty && (spec.name == "key" || spec.name == "id") {
		cand = func() (map[int64]struct{}, bool) {
			out := make(map[int64]struct{}, len(set))
			for v := range set {
				if id, err := strconv.ParseInt(v, 10, 64); err == nil {
					out[id] = struct{}{}
				}
			}
			return out, true
		}
	}
	return compiled{eval: eval, cand: cand}, nil
}

func (c *compiler) propertyClause(cl *clauseNode, key, path string) (compiled, error) {
	name := cl.field
	switch cl.op {
	case "is", "is not":
		want := cl.op == "is"
		return compiled{eval: func(is *issue) bool {
			p := is.props[key]
			return (p == nil || len(p.flat[path]) == 0) == want
		}, cand: anyCand}, nil
	case "~", "!~":
		term := strings.ToLower(strings.Trim(cl.vals[0].text, "*"))
		neg := cl.op == "!~"
		return compiled{eval: func(is *issue) bool {
			p := is.props[key]
			if p == nil || len(p.flat[path]) == 0 {
				return false
			}
			for _, v := range p.flat[path] {
				if strings.Contains(strings.ToLower(v), term) {
					return !neg
				}
			}
			return neg
		}, cand: anyCand}, nil
	case "<", ">", "<=", ">=":
		lit, err := strconv.ParseFloat(cl.vals[0].text, 64)
		if err != nil {
			return compiled{}, semErr("The value '%s' is not a valid number for field '%s'.", cl.vals[0].text, name)
		}
		op := cl.op
		return compiled{eval: func(is *issue) bool {
			p := is.props[key]
			if p == nil {
				return false
			}
			for _, s := range p.flat[path] {
				v, err := strconv.ParseFloat(s, 64)
				if err != nil || math.IsNaN(v) {
					continue
				}
				if (op == "<" && v < lit) || (op == ">" && v > lit) || (op == "<=" && v <= lit) || (op == ">=" && v >= lit) {
					return true
				}
			}
			return false
		}, cand: anyCand}, nil
	}
	vals := make([]string, 0, len(cl.vals))
	set := map[string]bool{}
	for _, v := range cl.vals {
		n := normScalar(v.text)
		vals = append(vals, n)
		set[n] = true
	}
	neg := cl.op == "!=" || cl.op == "not in"
	s := c.s
	eval := func(is *issue) bool {
		p := is.props[key]
		if p == nil || len(p.flat[path]) == 0 {
			return false
		}
		hit := false
		for _, v := range p.flat[path] {
			if set[v] {
				hit = true
				break
			}
		}
		return hit != neg
	}
	cand := anyCand
	if !neg {
		cand = func() (map[int64]struct{}, bool) {
			out := map[int64]struct{}{}
			for _, v := range vals {
				for id := range s.propIdx[propIndexKey(key, path, v)] {
					out[id] = struct{}{}
				}
			}
			return out, true
		}
	}
	return compiled{eval: eval, cand: cand}, nil
}

var relDateRe = regexp.MustCompile(`^([+-]?)\s*((?:\d+\s*[wdhm]\s*)+)$`)
var relPartRe = regexp.MustCompile(`(\d+)\s*([wdhm])`)

func (c *compiler) parseDate(v jqlValue, field string) (float64, error) {
	txt := strings.TrimSpace(v.text)
	if v.fn {
		y, m, d := c.now.Date()
		sod := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		switch strings.ToLower(txt) {
		case "now":
			return float64(c.now.UnixMilli()), nil
		case "startofday":
			return float64(sod.UnixMilli()), nil
		case "endofday":
			return float64(sod.Add(24*time.Hour - time.Millisecond).UnixMilli()), nil
		}
		return 0, semErr("Unable to find JQL function '%s()'.", txt)
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006/01/02 15:04", "2006-01-02", "2006/01/02"} {
		if t, err := time.ParseInLocation(layout, txt, time.UTC); err == nil {
			return float64(t.UnixMilli()), nil
		}
	}
	if m := relDateRe.FindStringSubmatch(txt); m != nil {
		var d time.Duration
		for _, part := range relPartRe.FindAllStringSubmatch(m[2], -1) {
			n, _ := strconv.Atoi(part[1])
			unit := map[string]time.Duration{"w": 7 * 24 * time.Hour, "d": 24 * time.Hour, "h": time.Hour, "m": time.Minute}[part[2]]
			d += time.Duration(n) * unit
		}
		if m[1] == "-" {
			d = -d
		}
		return float64(c.now.Add(d).UnixMilli()), nil
	}
	if n, err := strconv.ParseInt(txt, 10, 64); err == nil && !v.quoted {
		return float64(n), nil // epoch milliseconds
	}
	return 0, semErr("Date value '%s' for field '%s' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.", v.text, field)
}

// adfText extracts the plain text of an ADF document for `~` matching.
func adfText(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(n any) {
		m, ok := n.(map[string]any)
		if !ok {
			return
		}
		if t, ok := m["text"].(string); ok {
			b.WriteString(t)
			b.WriteByte(' ')
		}
		if arr, ok := m["content"].([]any); ok {
			for _, c := range arr {
				walk(c)
			}
		}
	}
	walk(v)
	return b.String()
}

// ---- ordering -------------------------------------------------------------------------

type lessFn func(a, b *issue) int

func (c *compiler) orderBy(terms []orderTerm) ([]lessFn, error) {
	var out []lessFn
	for _, t := range terms {
		var cmp lessFn
		f := strings.ToLower(t.field)
		switch f {
		case "key", "issuekey", "id", "issue":
			cmp = func(a, b *issue) int { return cmpInt(a.id, b.id) }
		case "created", "createddate":
			cmp = func(a, b *issue) int { return a.created.Compare(b.created) }
		case "updated", "updateddate":
			cmp = func(a, b *issue) int { return a.updated.Compare(b.updated) }
		case "resolutiondate", "resolved":
			cmp = func(a, b *issue) int { return a.d.ResolutionDate.Compare(b.d.ResolutionDate) }
		case "duedate", "due":
			cmp = func(a, b *issue) int { return strings.Compare(a.d.DueDate, b.d.DueDate) }
		case "summary":
			cmp = func(a, b *issue) int {
				return strings.Compare(strings.ToLower(a.d.Summary), strings.ToLower(b.d.Summary))
			}
		case "status":
			set := c.s.wf()
			cmp = func(a, b *issue) int { return cmpInt(set.rank(a.d.StatusID), set.rank(b.d.StatusID)) }
		case "priority":
			cmp = func(a, b *issue) int { return strings.Compare(b.d.PriorityID, a.d.PriorityID) }
		case "issuetype", "type":
			cmp = func(a, b *issue) int { return strings.Compare(a.d.TypeID, b.d.TypeID) }
		default:
			fd := c.customField(t.field)
			if fd == nil {
				if propFieldRe.MatchString(t.field) || f == "labels" || f == "project" {
					return nil, semErr("Field '%s' does not support sorting.", t.field)
				}
				return nil, semErr("Field '%s' does not exist or you do not have permission to view it.", t.field)
			}
			id := fd.ID
			cmp = func(a, b *issue) int {
				av, aok := a.d.Custom[id]
				bv, bok := b.d.Custom[id]
				if !aok || !bok {
					return cmpBool(aok, bok)
				}
				switch x := av.(type) {
				case float64:
					y := bv.(float64)
					return cmpFloat(x, y)
				case int64:
					return cmpInt(x, bv.(int64))
				case string:
					return strings.Compare(x, bv.(string))
				}
				return 0
			}
		}
		if t.desc {
			inner := cmp
			cmp = func(a, b *issue) int { return -inner(a, b) }
		}
		out = append(out, cmp)
	}
	return out, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// sortIssues orders by the given terms, ties broken by id; nil terms sort by id ascending.
func sortIssues(list []*issue, order []lessFn) {
	slices.SortFunc(list, func(a, b *issue) int {
		for _, cmp := range order {
			if r := cmp(a, b); r != 0 {
				return r
			}
		}
		if len(order) == 0 {
			return cmpInt(a.id, b.id)
		}
		return cmpInt(b.id, a.id)
	})
}

// textWords splits text into lower-case words the way Jira's text search tokenizes; with
// keepWildcard a trailing '*' stays on query terms to request prefix matching.
func textWords(s string, keepWildcard bool) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || (keepWildcard && (r == '*' || r == '?')))
	})
}

// matchWords reports whether every query term occurs as a word (or word prefix for
// "term*") in words.
func matchWords(terms, words []string) bool {
	if len(terms) == 0 {
		return false
	}
	for _, t := range terms {
		prefix := strings.HasSuffix(t, "*")
		t = strings.TrimRight(t, "*?")
		found := false
		for _, w := range words {
			if w == t || (prefix && strings.HasPrefix(w, t)) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
