package mappings

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Allowed keys per YAML section, in documentation order (error messages list them).
var (
	topKeys        = []string{"version", "pair", "salesforce", "jira", "fields", "status", "activities", "triggers"}
	salesforceKeys = []string{"object", "where", "external_id_field", "key_field", "on_delete"}
	jiraKeys       = []string{"project", "issue_type", "property", "create_in_salesforce"}
	fieldKeys      = []string{"sf", "jira", "type", "direction", "owner", "conflict", "required", "default", "precision", "max_length", "on_overflow", "values", "unmapped", "fallback", "expr", "sync", "link_type", "pii", "transform"}
	statusKeys     = []string{"sf", "unmapped", "values"}
	statusValKeys  = []string{"status", "resolution", "transition"}

	fieldTypes      = []string{TypeText, TypeRichText, TypeDate, TypeDateTime, TypeNumber, TypeCurrency, TypePercent, TypeCheckbox, TypePicklist, TypeMultiPicklist, TypeUser, TypeLookup, TypeHTML}
	laterTypes      = []string{"multi_picklist"}
	directions      = []string{DirSFToJira, DirJiraToSF, DirBoth}
	owners          = []string{OwnerSF, OwnerJira, OwnerBoth}
	conflicts       = []string{ConflictOwnerWins, ConflictLastWriterWins, ConflictManual}
	overflows       = []string{OverflowTruncate, OverflowFail}
	unmappedActions = []string{UnmappedFail, UnmappedKeep}
	syncModes       = []string{SyncRealtime, SyncBatch}
)

var (
	pairRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	apiNameRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	sfPathRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$`)
	projectRE  = regexp.MustCompile(`^[A-Z][A-Z0-9_]+$`)
	propertyRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,255}$`)
	yamlErrRE  = regexp.MustCompile(`line (\d+)(?:: column (\d+))?:\s*(.*)$`)
)

// LoadFile reads and validates one mapping file; problems come back as an ErrorList.
func LoadFile(path string) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, ErrorList{{File: path, Msg: "cannot read mapping file: " + err.Error(), Fix: "check the path and file permissions"}}
	}
	return Load(path, data)
}

// LoadDir loads every *.yaml / *.yml file in dir (not recursive) in name order and checks
// that pair names are unique; all problems of all files come back in one ErrorList.
func LoadDir(dir string) ([]*Mapping, error) {
	return loadFS(os.DirFS(dir), ".", func(name string) string { return filepath.Join(dir, name) })
}

// LoadFS is LoadDir over an fs.FS (e.g. the embedded default pack); error positions name
// files as dir/name inside fsys.
func LoadFS(fsys fs.FS, dir string) ([]*Mapping, error) {
	return loadFS(fsys, dir, func(name string) string { return path.Join(dir, name) })
}

func loadFS(fsys fs.FS, dir string, display func(string) string) ([]*Mapping, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, ErrorList{{File: display(""), Msg: "cannot read mapping directory: " + err.Error(), Fix: "check the mappings directory in the config"}}
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") {
			continue
		}
		if ext := strings.ToLower(path.Ext(n)); ext == ".yaml" || ext == ".yml" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, ErrorList{{File: display(""), Msg: "no *.yaml or *.yml mapping files found", Fix: "add a mapping file or point the config at mappings/default"}}
	}
	var all ErrorList
	var out []*Mapping
	byPair := map[string]*Mapping{}
	for _, n := range names {
		file := display(n)
		data, err := fs.ReadFile(fsys, path.Join(dir, n))
		if err != nil {
			all = append(all, &Error{File: file, Msg: "cannot read mapping file: " + err.Error(), Fix: "check file permissions"})
			continue
		}
		m, err := Load(file, data)
		if err != nil {
			if el, ok := err.(ErrorList); ok {
				all = append(all, el...)
			} else {
				all = append(all, &Error{File: file, Msg: err.Error()})
			}
			continue
		}
		if prev, ok := byPair[m.Pair]; ok {
			all = append(all, &Error{File: file, Line: m.pairLine, Column: m.pairCol,
				Msg: fmt.Sprintf("pair %q is already defined in %s", m.Pair, prev.File),
				Fix: "give each mapping file its own pair name, or delete the duplicate file"})
			continue
		}
		byPair[m.Pair] = m
		out = append(out, m)
	}
	if err := all.errOrNil(); err != nil {
		return nil, err
	}
	return out, nil
}

// Load parses and validates one mapping file's content; file is used in error positions.
func Load(file string, data []byte) (*Mapping, error) {
	l := &loader{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		if e := tabIndent(file, data); e != nil {
			return nil, ErrorList{e}
		}
		return nil, ErrorList{l.syntaxError(err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, ErrorList{{File: file, Line: 1, Column: 1, Msg: "mapping file is empty", Fix: "start from mappings/default/opportunity-epic.yaml"}}
	}
	sum := sha256.Sum256(data)
	m := &Mapping{File: file, Version: hex.EncodeToString(sum[:])[:12]}
	l.mapping(m, doc.Content[0])
	if err := l.errs.errOrNil(); err != nil {
		return nil, err
	}
	return m, nil
}

// tabIndent finds a tab in indentation, the most common YAML mistake, with an exact
// position (the YAML parser's own line numbers can be one off).
func tabIndent(file string, data []byte) *Error {
	for i, line := range strings.Split(string(data), "\n") {
		for j, c := range line {
			if c == '\t' {
				return &Error{File: file, Line: i + 1, Column: j + 1, Msg: "tab character in indentation", Fix: "indent with spaces only"}
			}
			if c != ' ' && c != '-' {
				break
			}
		}
	}
	return nil
}

type loader struct {
	file string
	errs ErrorList
}

func (l *loader) add(n *yaml.Node, fix, format string, args ...any) {
	e := &Error{File: l.file, Msg: fmt.Sprintf(format, args...), Fix: fix}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	l.errs = append(l.errs, e)
}

func (l *loader) syntaxError(err error) *Error {
	e := &Error{File: l.file, Line: 1, Column: 1, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: "),
		Fix: "check indentation, and quote values containing ': ', '#', '{' or a leading '*'/'&'"}
	if m := yamlErrRE.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		if m[2] != "" {
			e.Column, _ = strconv.Atoi(m[2])
		}
		e.Msg = "invalid YAML: " + m[3]
	}
	return e
}

// obj is a validated YAML mapping section: values by key, and key nodes for positions.
type obj struct {
	node *yaml.Node
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// section checks that n is a mapping with string keys from allowed, no duplicates, and
// returns it; what names the section in messages ("field mapping", "salesforce" …).
func (l *loader) section(n *yaml.Node, what string, allowed []string) *obj {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		l.add(n, fmt.Sprintf("write %s as indented key: value lines", what), "%s must be a mapping (key: value pairs)", what)
		return nil
	}
	o := &obj{node: n, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			l.add(k, "use a plain key name", "keys in %s must be plain names", what)
			continue
		}
		if !contains(allowed, k.Value) {
			fix := fmt.Sprintf("remove %q or rename it to one of the allowed keys", k.Value)
			if c := closest(k.Value, allowed); c != "" {
				fix = fmt.Sprintf("did you mean %q?", c)
			}
			l.add(k, fix, "unknown key %q in %s; allowed keys: %s", k.Value, what, strings.Join(allowed, ", "))
			continue
		}
		if prev, dup := o.keys[k.Value]; dup {
			l.add(k, "keep one of them", "key %q appears twice in %s (first at line %d)", k.Value, what, prev.Line)
			continue
		}
		o.keys[k.Value], o.vals[k.Value] = k, v
	}
	return o
}

// require reports missing keys at the section's position.
func (l *loader) require(o *obj, what string, keys ...string) {
	for _, k := range keys {
		if _, ok := o.vals[k]; !ok {
			l.add(o.node, fmt.Sprintf("add `%s: …` to %s", k, what), "missing required key %q in %s", k, what)
		}
	}
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// str reads a non-empty string scalar; ok is false (and an error recorded) otherwise.
func (l *loader) str(o *obj, key string) (string, *yaml.Node, bool) {
	n, present := o.vals[key]
	if !present {
		return "", nil, false
	}
	if n.Kind != yaml.ScalarNode {
		l.add(n, fmt.Sprintf("write %s as a single value", key), "%s must be a string", key)
		return "", n, false
	}
	if isNull(n) || strings.TrimSpace(n.Value) == "" {
		l.add(n, fmt.Sprintf("give %s a value or remove the key", key), "%s is empty", key)
		return "", n, false
	}
	if n.ShortTag() != "!!str" {
		l.add(n, fmt.Sprintf("quote it: %s: \"%s\"", key, n.Value), "%s must be a string, got %s %s", key, tagName(n), n.Value)
		return "", n, false
	}
	return n.Value, n, true
}

func (l *loader) integer(o *obj, key string) (int, *yaml.Node, bool) {
	n, present := o.vals[key]
	if !present {
		return 0, nil, false
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		if v, err := strconv.Atoi(n.Value); err == nil {
			return v, n, true
		}
	}
	l.add(n, fmt.Sprintf("write a whole number, e.g. %s: 2", key), "%s must be an integer, got %s", key, describe(n))
	return 0, n, false
}

func (l *loader) boolean(o *obj, key string) (bool, *yaml.Node, bool) {
	n, present := o.vals[key]
	if !present {
		return false, nil, false
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		return strings.EqualFold(n.Value, "true"), n, true
	}
	l.add(n, fmt.Sprintf("write %s: true or %s: false", key, key), "%s must be true or false, got %s", key, describe(n))
	return false, n, false
}

// enum reads a string that must be one of values; def is returned when the key is absent.
func (l *loader) enum(o *obj, key string, values []string, def string) string {
	s, n, ok := l.str(o, key)
	if n == nil {
		return def
	}
	if !ok {
		return ""
	}
	if !contains(values, s) {
		fix := "use one of: " + strings.Join(values, ", ")
		if c := closest(s, values); c != "" {
			fix = fmt.Sprintf("did you mean %q?", c)
		}
		l.add(n, fix, "%s %q is not valid; allowed: %s", key, s, strings.Join(values, ", "))
		return ""
	}
	return s
}

func tagName(n *yaml.Node) string {
	switch n.ShortTag() {
	case "!!int":
		return "integer"
	case "!!float":
		return "number"
	case "!!bool":
		return "boolean"
	case "!!null":
		return "null"
	case "!!str":
		return "string"
	}
	return n.ShortTag()
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if isNull(n) {
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (l *loader) mapping(m *Mapping, root *yaml.Node) {
	top := l.section(root, "the mapping file", topKeys)
	if top == nil {
		return
	}
	l.require(top, "the mapping file", "version", "pair", "salesforce", "jira", "fields")
	if n, ok := top.vals["version"]; ok {
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			l.add(n, "write version: 1", "version must be the integer 1, got %s", describe(n))
		} else if n.Value != "1" {
			l.add(n, "this sfjira reads mapping version 1; set version: 1 or upgrade sfjira", "unsupported mapping version %s", n.Value)
		}
	}
	if s, n, ok := l.str(top, "pair"); ok {
		m.Pair, m.pairLine, m.pairCol = s, n.Line, n.Column
		if !pairRE.MatchString(s) || len(s) > 63 {
			l.add(n, "use lowercase letters, digits and '-', e.g. opportunity-epic", "invalid pair name %q", s)
		}
	}
	if n, ok := top.vals["salesforce"]; ok {
		l.salesforce(m, n)
	}
	if n, ok := top.vals["jira"]; ok {
		l.jira(m, n)
	}
	if n, ok := top.vals["status"]; ok {
		l.status(m, n)
	}
	if n, ok := top.vals["fields"]; ok {
		l.fields(m, n)
	}
	if n, ok := top.vals["activities"]; ok {
		l.activities(m, n)
	}
	if n, ok := top.vals["triggers"]; ok {
		l.triggers(m, n)
	}
}

func (l *loader) salesforce(m *Mapping, n *yaml.Node) {
	o := l.section(n, "salesforce", salesforceKeys)
	if o == nil {
		return
	}
	l.require(o, "salesforce", "object", "external_id_field")
	m.Salesforce.lines = map[string][2]int{}
	for k, v := range o.vals {
		m.Salesforce.lines[k] = [2]int{v.Line, v.Column}
	}
	m.Salesforce.OnDelete = l.enum(o, "on_delete", []string{OnDeleteIgnore, OnDeleteMark, OnDeleteDelete}, OnDeleteMark)
	if s, n, ok := l.str(o, "object"); ok {
		if !apiNameRE.MatchString(s) {
			l.add(n, "use the object's API name, e.g. Opportunity or Feature_Request__c", "invalid Salesforce object name %q", s)
		}
		m.Salesforce.Object = s
	}
	for _, k := range []string{"external_id_field", "key_field"} {
		if s, n, ok := l.str(o, k); ok {
			if !apiNameRE.MatchString(s) {
				l.add(n, "use the field's API name, e.g. Jira_Issue_Id__c", "invalid Salesforce field name %q in %s", s, k)
			}
			if k == "key_field" {
				m.Salesforce.KeyField = s
			} else {
				m.Salesforce.ExternalIDField = s
			}
		}
	}
	if n, ok := o.vals["where"]; ok {
		if isNull(n) || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && strings.TrimSpace(n.Value) == "") {
			return // empty scope = all records
		}
		if s, n, ok := l.str(o, "where"); ok {
			if msg, fix := checkWhere(s); msg != "" {
				l.add(n, fix, "%s", msg)
			}
			m.Salesforce.Where = strings.TrimSpace(s)
		}
	}
}

// checkWhere rejects scopes that are not a single SOQL condition; it is a guard against
// mistakes, not a SOQL parser (Salesforce has the final word).
func checkWhere(s string) (msg, fix string) {
	t := strings.TrimSpace(s)
	up := strings.ToUpper(t)
	if strings.Contains(t, ";") {
		return "where must be one SOQL condition and must not contain ';'", "remove the ';' and anything after it"
	}
	for _, kw := range []string{"WHERE ", "SELECT ", "FROM "} {
		if strings.HasPrefix(up, kw) {
			return fmt.Sprintf("where must be only the condition, not start with %s", strings.TrimSpace(kw)),
				"write just the condition, e.g. where: \"IsDeleted = false\""
		}
	}
	for _, kw := range []string{" ORDER BY ", " LIMIT ", " GROUP BY ", " OFFSET "} {
		if strings.Contains(" "+up+" ", kw) || strings.HasPrefix(up, strings.TrimSpace(kw)) {
			return fmt.Sprintf("where must be a condition; %s is not allowed here", strings.TrimSpace(kw)),
				"remove the " + strings.TrimSpace(kw) + " clause"
		}
	}
	depth, inQuote := 0, false
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case inQuote && c == '\\':
			i++
		case c == '\'':
			inQuote = !inQuote
		case !inQuote && c == '(':
			depth++
		case !inQuote && c == ')':
			depth--
			if depth < 0 {
				return "where has a ')' without a matching '('", "balance the parentheses"
			}
		}
	}
	if inQuote {
		return "where has an unterminated string literal", "close the quote: string literals use single quotes, e.g. Type = 'New Customer'"
	}
	if depth != 0 {
		return "where has an unclosed '('", "balance the parentheses"
	}
	hasOp := strings.ContainsAny(t, "=<>")
	for _, kw := range []string{" LIKE ", " IN ", " NOT IN ", " INCLUDES", " EXCLUDES"} {
		if strings.Contains(up, kw) {
			hasOp = true
		}
	}
	if !hasOp {
		return fmt.Sprintf("where %q does not look like a SOQL condition", t),
			"write a condition such as IsDeleted = false or StageName != 'Closed Lost'"
	}
	return "", ""
}

func (l *loader) jira(m *Mapping, n *yaml.Node) {
	o := l.section(n, "jira", jiraKeys)
	if o == nil {
		return
	}
	l.require(o, "jira", "project", "issue_type")
	if s, n, ok := l.str(o, "project"); ok {
		if !projectRE.MatchString(s) {
			l.add(n, "use the project key as shown in issue keys, e.g. SFJ for SFJ-12", "invalid Jira project key %q", s)
		}
		m.Jira.Project = s
	}
	if s, _, ok := l.str(o, "issue_type"); ok {
		m.Jira.IssueType = s
	}
	if v, _, ok := l.boolean(o, "create_in_salesforce"); ok {
		m.Jira.CreateInSalesforce = v
	}
	m.Jira.Property = "sfjira"
	if s, n, ok := l.str(o, "property"); ok {
		if !propertyRE.MatchString(s) {
			l.add(n, "use letters, digits, '.', '_' or '-', e.g. sfjira", "invalid issue property key %q", s)
		}
		m.Jira.Property = s
	}
}

func (l *loader) status(m *Mapping, n *yaml.Node) {
	o := l.section(n, "status", statusKeys)
	if o == nil {
		return
	}
	l.require(o, "status", "sf", "values")
	st := &StatusMap{Line: o.node.Line, Values: map[string]StatusTarget{}, ValueLines: map[string]int{}}
	if k, ok := o.keys["sf"]; ok {
		st.Line = k.Line
	}
	if s, n, ok := l.str(o, "sf"); ok {
		if !sfPathRE.MatchString(s) {
			l.add(n, "use the field's API name, e.g. StageName", "invalid Salesforce field %q", s)
		}
		st.SF = s
	}
	st.Unmapped = l.enum(o, "unmapped", unmappedActions, UnmappedFail)
	if vn, ok := o.vals["values"]; ok {
		st.valuesLine = o.keys["values"].Line
		if vn.Kind != yaml.MappingNode {
			l.add(vn, "list each Salesforce value as `Value: { status: Jira Status }`", "status.values must be a mapping of Salesforce values to Jira statuses")
		} else {
			if len(vn.Content) == 0 {
				l.add(vn, "add at least one `Value: { status: Jira Status }` line", "status.values is empty")
			}
			for i := 0; i+1 < len(vn.Content); i += 2 {
				k, v := resolve(vn.Content[i]), resolve(vn.Content[i+1])
				if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
					l.add(k, fmt.Sprintf("quote the value: \"%s\": { status: … }", k.Value),
						"status.values keys must be strings (Salesforce picklist values), got %s %s", tagName(k), describe(k))
					continue
				}
				if _, dup := st.Values[k.Value]; dup {
					l.add(k, "keep one entry per Salesforce value", "status value %q is listed twice", k.Value)
					continue
				}
				vo := l.section(v, fmt.Sprintf("status value %q", k.Value), statusValKeys)
				if vo == nil {
					continue
				}
				l.require(vo, fmt.Sprintf("status value %q", k.Value), "status")
				var t StatusTarget
				t.Status, _, _ = l.str(vo, "status")
				t.Resolution, _, _ = l.str(vo, "resolution")
				t.Transition, _, _ = l.str(vo, "transition")
				if t.Transition != "" && t.Resolution == "" {
					l.add(vo.vals["transition"], "add `resolution: <the resolution the transition sets>` or remove transition:",
						"status value %q: transition %q names the transition that sets a resolution, but no resolution is given", k.Value, t.Transition)
				}
				st.Values[k.Value] = t
				st.Order = append(st.Order, k.Value)
				st.ValueLines[k.Value] = k.Line
			}
		}
	}
	m.Status = st
}

func (l *loader) fields(m *Mapping, n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		l.add(n, "write fields as a list of `- sf: … jira: … type: …` entries", "fields must be a list")
		return
	}
	if len(n.Content) == 0 {
		l.add(n, "map at least one field, e.g. `- { sf: Name, jira: summary, type: text }`", "fields is empty")
	}
	jiraTargets := map[string]int{}
	sfTargets := map[string]int{}
	linkLookups := map[string]FieldMap{}
	for _, item := range n.Content {
		o := l.section(item, "field mapping", fieldKeys)
		if o == nil {
			continue
		}
		f, ok := l.field(m, o)
		if !ok {
			continue
		}
		if f.LinkType != "" {
			// Every issue-link lookup reads and writes the one issuelinks field, whatever its
			// direction, so a second one (even of another link type) would share its key.
			if prev, dup := linkLookups[IssueLinksField]; dup {
				l.add(o.vals["jira"], fmt.Sprintf("keep one issue-link lookup in this mapping (link_type %s at line %d) and remove this one, or map this relation as the issue's parent (jira: parent)", prev.LinkType, prev.Line),
					"a second issue-link lookup (link_type %s): version 1 syncs one issue-link lookup per mapping", f.LinkType)
				continue
			}
			linkLookups[IssueLinksField] = f
		}
		if f.FlowsToJira() {
			k := strings.ToLower(f.Jira)
			if k == "status" || k == "resolution" {
				l.add(o.vals["jira"], "map Salesforce values to Jira statuses in the status: section (transitions), or set direction: jira_to_sf",
					"jira field %q cannot be written from Salesforce as a field", f.Jira)
			} else if prev, dup := jiraTargets[k]; dup {
				l.add(o.vals["jira"], "write each Jira field from one Salesforce field; remove one of the entries",
					"duplicate jira target %q (already mapped at line %d)", f.Jira, prev)
			} else {
				jiraTargets[k] = f.Line
			}
		}
		if f.FlowsToSF() {
			k := strings.ToLower(f.SF)
			if lf := f.LookupField(); lf != "" {
				k = strings.ToLower(lf) // the field a lookup writes is its lookup field
			}
			if prev, dup := sfTargets[k]; dup {
				l.add(o.vals["sf"], "write each Salesforce field from one Jira field; remove one of the entries",
					"duplicate Salesforce target %q (already mapped at line %d)", f.SF, prev)
			} else {
				sfTargets[k] = f.Line
			}
		}
		m.Fields = append(m.Fields, f)
	}
}

func isNumeric(t string) bool { return t == TypeNumber || t == TypeCurrency || t == TypePercent }

func (l *loader) field(m *Mapping, o *obj) (FieldMap, bool) {
	errsBefore := len(l.errs)
	f := FieldMap{Line: o.node.Line, col: o.node.Column, Precision: NoPrecision}
	if _, hasExpr := o.vals["expr"]; hasExpr {
		l.require(o, "field mapping", "jira", "type")
		if k, both := o.keys["sf"]; both {
			l.add(k, "keep expr: and remove sf: (the expression names the fields it reads)", "a field mapping has either sf: or expr:, not both")
		}
		l.expr(&f, o)
	} else {
		l.require(o, "field mapping", "sf", "jira", "type")
	}
	if s, n, ok := l.str(o, "sf"); ok && f.Expr == nil {
		if !sfPathRE.MatchString(s) {
			l.add(n, "use the field's API name or a relationship path, e.g. Amount or Account.Name", "invalid Salesforce field %q", s)
		} else if strings.Count(s, ".") > 5 {
			l.add(n, "SOQL allows at most 5 levels of parent relationships", "Salesforce path %q is too deep", s)
		}
		f.SF = s
	}
	if s, n, ok := l.str(o, "jira"); ok {
		f.Jira, f.jiraLine, f.jiraCol = strings.TrimSpace(s), n.Line, n.Column
	}
	if s, n, ok := l.str(o, "type"); ok {
		switch {
		case contains(fieldTypes, s):
			f.Type = s
		case s == "multi_picklist":
			l.add(n, `did you mean "multipicklist"?`, "unknown type %q; allowed: %s", s, strings.Join(fieldTypes, ", "))
		case contains(laterTypes, s):
			l.add(n, "map it as text for now, or leave the field out", "type %q is not supported yet in version 1", s)
		default:
			fix := "use one of: " + strings.Join(fieldTypes, ", ")
			if c := closest(s, append(append([]string{}, fieldTypes...), laterTypes...)); c != "" && contains(fieldTypes, c) {
				fix = fmt.Sprintf("did you mean %q?", c)
			}
			l.add(n, fix, "unknown type %q; allowed: %s", s, strings.Join(fieldTypes, ", "))
		}
	}
	f.Direction = l.enum(o, "direction", directions, DirSFToJira)
	if f.Expr != nil && f.Direction != DirSFToJira && f.Direction != "" {
		l.add(o.vals["direction"], "remove direction (expressions flow sf_to_jira), or map a single field with sf:",
			"an expression cannot be written back to Salesforce (direction: %s)", f.Direction)
	}
	if f.Type == TypeLookup && f.FlowsToSF() && f.Expr == nil && f.SF != "" && strings.Count(f.SF, ".") != 1 {
		// Jira → Salesforce, the lookup field itself is written (Opportunity__c for
		// Opportunity__r.…), so the path must go through exactly one relationship.
		l.add(o.vals["sf"], "point sf: at the related record's back-link through the lookup's own relationship, e.g. Opportunity__r.Jira_Issue_Id__c, or use direction: sf_to_jira",
			"a lookup written back to Salesforce (direction %s) needs a path through one relationship, got %q", f.Direction, f.SF)
	}
	f.Sync = l.enum(o, "sync", syncModes, SyncRealtime)
	defOwner := OwnerSF
	if f.Direction == DirJiraToSF {
		defOwner = OwnerJira
	}
	f.Owner = l.enum(o, "owner", owners, defOwner)
	defConflict := ConflictOwnerWins
	if f.Owner == OwnerBoth {
		defConflict = ConflictLastWriterWins
	}
	f.Conflict = l.enum(o, "conflict", conflicts, defConflict)
	if f.Owner == OwnerBoth && f.Conflict == ConflictOwnerWins {
		l.add(o.vals["conflict"], "use conflict: last_writer_wins or manual, or name one owner side",
			"conflict: owner_wins needs a single owner, but owner is both")
	}
	if (f.Direction == DirJiraToSF || f.Direction == DirBoth) && f.Expr == nil && f.Type != TypeLookup {
		if strings.Contains(f.SF, ".") {
			l.add(o.vals["sf"], "write to a field of the record itself, or use direction: sf_to_jira",
				"cannot write Jira values into parent record field %q", f.SF)
		}
		if f.SF != "" && (strings.EqualFold(f.SF, m.Salesforce.ExternalIDField) || strings.EqualFold(f.SF, m.Salesforce.KeyField)) {
			l.add(o.vals["sf"], "pick another Salesforce field; the connector maintains the back-link fields itself",
				"field %q is the link field and cannot be a sync target", f.SF)
		}
	}
	if v, n, ok := l.boolean(o, "required"); ok {
		f.Required = v
		_ = n
	}
	if v, _, ok := l.boolean(o, "pii"); ok {
		f.PII = v
	}
	if v, n, ok := l.integer(o, "precision"); ok {
		switch {
		case f.Type != "" && !isNumeric(f.Type):
			l.add(o.keys["precision"], "remove precision, or use type number, currency or percent", "precision applies only to number, currency and percent fields")
		case v < 0 || v > 18:
			l.add(n, "use a value from 0 to 18", "precision %d is outside 0..18", v)
		default:
			f.Precision = v
		}
	} else if n == nil {
		switch f.Type {
		case TypeCurrency:
			f.Precision = 2
		case TypePercent:
			f.Precision = 0
		}
	}
	if v, n, ok := l.integer(o, "max_length"); ok {
		switch {
		case f.Type != "" && f.Type != TypeText && f.Type != TypeRichText:
			l.add(o.keys["max_length"], "remove max_length, or use type text or rich_text", "max_length applies only to text and rich_text fields")
		case v < 1:
			l.add(n, "use a positive number of characters, e.g. 255", "max_length must be at least 1, got %d", v)
		default:
			f.MaxLength = v
		}
	}
	f.OnOverflow = l.enum(o, "on_overflow", overflows, OverflowFail)
	if _, has := o.vals["on_overflow"]; has {
		if _, hasMax := o.vals["max_length"]; !hasMax {
			l.add(o.keys["on_overflow"], "add max_length: N or remove on_overflow", "on_overflow has no effect without max_length")
		}
	}
	l.valueMap(&f, o)
	l.fallback(&f, o)
	l.linkType(&f, o)
	l.transform(&f, o)
	if n, has := o.vals["default"]; has {
		if f.Required {
			l.add(o.keys["default"], "remove required: true (the default already fills empty values) or remove default",
				"required and default cannot be combined")
		} else if v, msg := defaultValue(f.Type, n); msg != "" {
			l.add(n, fmt.Sprintf("write a %s constant", f.Type), "%s", msg)
		} else {
			f.Default = v
		}
	}
	return f, len(l.errs) == errsBefore
}

// defaultValue converts a `default:` scalar into the JSON-like value a Salesforce record
// would carry for the field's type, so it goes through the same transform.
func defaultValue(typ string, n *yaml.Node) (any, string) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return nil, fmt.Sprintf("default must be a single %s value, got %s", typ, describe(n))
	}
	tag := n.ShortTag()
	switch typ {
	case TypeText, TypeRichText, TypePicklist, TypeMultiPicklist, TypeUser, TypeHTML:
		return n.Value, ""
	case TypeNumber, TypeCurrency, TypePercent:
		if tag == "!!int" || tag == "!!float" {
			if v, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return v, ""
			}
		}
		return nil, fmt.Sprintf("default for a %s field must be a number, got %s", typ, describe(n))
	case TypeCheckbox:
		if tag == "!!bool" {
			return strings.EqualFold(n.Value, "true"), ""
		}
		return nil, fmt.Sprintf("default for a checkbox field must be true or false, got %s", describe(n))
	case TypeDate:
		if _, err := parseDate(n.Value); err != nil {
			return nil, fmt.Sprintf("default for a date field must be YYYY-MM-DD, got %s", describe(n))
		}
		return n.Value, ""
	case TypeDateTime:
		if _, err := parseDateTime(n.Value); err != nil {
			return nil, fmt.Sprintf("default for a datetime field must be ISO 8601, e.g. 2024-01-31T10:00:00Z, got %s", describe(n))
		}
		return n.Value, ""
	}
	return n.Value, "" // unknown type is reported elsewhere
}

func isPicklist(t string) bool { return t == TypePicklist || t == TypeMultiPicklist }

// valueMap reads `values:` and `unmapped:` of a picklist field: a mapping of Salesforce values
// to Jira values, unique ignoring case, and reversible when Jira values flow back.
func (l *loader) valueMap(f *FieldMap, o *obj) {
	vn, hasValues := o.vals["values"]
	_, hasUnmapped := o.vals["unmapped"]
	if f.Type != "" && !isPicklist(f.Type) {
		for _, k := range []string{"values", "unmapped"} {
			if key, ok := o.keys[k]; ok {
				l.add(key, "remove it, or use type picklist or multipicklist", "%s applies only to picklist and multipicklist fields", k)
			}
		}
		return
	}
	if !isPicklist(f.Type) {
		return
	}
	vm := newValueMap(l.enum(o, "unmapped", []string{UnmappedFail, UnmappedPass}, UnmappedFail))
	f.ValueMap = vm
	if !hasValues {
		if !hasUnmapped || vm.Unmapped != UnmappedPass {
			l.add(o.node, "add `values: { Salesforce value: Jira value, … }`, or `unmapped: pass` when both sides use the same values",
				"picklist field %s has no values map", f.SF)
		}
		return
	}
	if vn.Kind != yaml.MappingNode || len(vn.Content) == 0 {
		l.add(vn, "write values as `Salesforce value: Jira value` lines", "values must be a non-empty mapping of Salesforce values to Jira values")
		return
	}
	firstSF := map[string]int{}
	firstJira := map[string]string{}
	for i := 0; i+1 < len(vn.Content); i += 2 {
		k, v := resolve(vn.Content[i]), resolve(vn.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			l.add(k, fmt.Sprintf("quote the value: \"%s\": …", k.Value), "values keys must be strings (Salesforce picklist values), got %s %s", tagName(k), describe(k))
			continue
		}
		if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" || strings.TrimSpace(v.Value) == "" {
			fix := fmt.Sprintf("write the Jira value as text, quoted: %s: \"%s\"", yamlKey(k.Value), v.Value)
			if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
				fix = fmt.Sprintf("give %s the Jira value it stands for, or remove the line", yamlKey(k.Value))
			}
			l.add(v, fix, "Jira value for %q must be a non-empty string, got %s", k.Value, describe(v))
			continue
		}
		fk := foldValue(k.Value)
		if prev, dup := firstSF[fk]; dup {
			l.add(k, "keep one entry; values match ignoring case and surrounding spaces", "Salesforce value %q is already mapped at line %d", k.Value, prev)
			continue
		}
		firstSF[fk] = k.Line
		j := strings.TrimSpace(v.Value)
		if f.Type == TypeMultiPicklist && strings.Contains(j, ";") {
			l.add(v, "remove the ';' (it separates multi-picklist values)", "Jira value %q contains ';'", j)
			continue
		}
		fj := foldValue(j)
		if prevSF, dup := firstJira[fj]; dup && f.FlowsToSF() {
			l.add(v, "map each Salesforce value to its own Jira value, or use direction: sf_to_jira",
				"Jira value %q is the target of both %q and %q, so it cannot be mapped back to Salesforce", j, prevSF, k.Value)
			continue
		} else if !dup {
			firstJira[fj] = k.Value
			vm.toSF[fj] = k.Value
		}
		vm.Order = append(vm.Order, k.Value)
		vm.Pairs[k.Value] = j
		vm.toJira[fk] = j
	}
}

// expr reads `expr:`: an expression computing the value (see expr.go). Errors point at the
// column of the problem inside the expression when it is written on the key's line.
func (l *loader) expr(f *FieldMap, o *obj) { l.exprKey(f, o, "expr") }

func (l *loader) exprKey(f *FieldMap, o *obj, key string) {
	src, n, ok := l.str(o, key)
	if !ok {
		return
	}
	e, err := ParseExpr(src)
	if err != nil {
		pe := err.(*ExprError)
		pos := *n
		if n.Style == 0 || n.Style == yaml.DoubleQuotedStyle || n.Style == yaml.SingleQuotedStyle {
			col := utf8.RuneCountInString(src[:min(pe.Offset, len(src))])
			if n.Style != 0 {
				col++ // the opening quote
			}
			pos.Column += col
		}
		l.add(&pos, pe.Fix, "%s: %s", key, pe.Msg)
		return
	}
	f.Expr = e
	f.SF = e.Source
}

// fallback reads `fallback:` of a user field: the Jira text field that takes the Salesforce
// value when no Jira user has the e-mail.
func (l *loader) fallback(f *FieldMap, o *obj) {
	key, has := o.keys["fallback"]
	if !has {
		return
	}
	if f.Type != "" && f.Type != TypeUser {
		l.add(key, "remove fallback, or use type user", "fallback applies only to user fields")
		return
	}
	if f.Direction != "" && f.Direction != DirSFToJira {
		l.add(key, "remove fallback, or use direction: sf_to_jira", "fallback works only for sf_to_jira user fields")
		return
	}
	if s, n, ok := l.str(o, "fallback"); ok {
		f.Fallback, f.fallbackLine, f.fallbackCol = strings.TrimSpace(s), n.Line, n.Column
		if strings.EqualFold(f.Fallback, f.Jira) {
			l.add(n, "name a Jira text field other than the user field", "fallback %q is the user field itself", s)
		}
	}
}
