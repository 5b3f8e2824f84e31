package mappings

import (
	"fmt"
	"sort"
	"strings"
)

// JiraField is one entry of Jira's GET /rest/api/3/field, reduced to what binding needs;
// field names are site-specific, so mappings are resolved against it once per worker.
type JiraField struct {
	ID, Name, SchemaType, SchemaItems, SchemaCustom string
}

// Bound is a mapping whose Jira references are resolved to field ids and checked for
// type compatibility against one Jira site; all transforms hang off it.
type Bound struct {
	Mapping *Mapping
	Fields  []BoundField
	// Users resolves e-mails and Jira account ids for user fields; the caller sets it (the
	// worker uses the Jira site's users). Nil makes every non-empty user value an error.
	Users UserDirectory
}

// UserDirectory looks Jira users up by e-mail and by account id, so user fields map a
// Salesforce e-mail to an accountId and back. Lookups ignore case of the e-mail.
type UserDirectory interface {
	AccountID(email string) (accountID string, ok bool, err error)
	Email(accountID string) (email string, ok bool, err error)
}

// HasUserFields reports whether any field needs a UserDirectory.
func (b *Bound) HasUserFields() bool {
	for _, f := range b.Fields {
		if f.Type == TypeUser {
			return true
		}
	}
	return false
}

// BoundField is a FieldMap plus the Jira field it resolved to.
type BoundField struct {
	FieldMap
	JiraID, JiraName                      string
	SchemaType, SchemaItems, SchemaCustom string
	// ADF is true when the Jira field takes Atlassian Document Format (description,
	// environment, multi-line text custom fields).
	ADF bool
	// FallbackID is the Jira field id of Fallback (user fields), "" when none.
	FallbackID, FallbackName string
}

// Bind resolves every `jira:` reference (exact id first, then a unique case-insensitive
// name) and checks the field types; problems come back as an ErrorList positioned in the
// mapping file.
func (m *Mapping) Bind(fields []JiraField) (*Bound, error) {
	byID := map[string]JiraField{}
	byName := map[string][]JiraField{}
	var names []string
	for _, f := range fields {
		byID[f.ID] = f
		k := strings.ToLower(strings.TrimSpace(f.Name))
		if len(byName[k]) == 0 {
			names = append(names, f.Name)
		}
		byName[k] = append(byName[k], f)
	}
	var errs ErrorList
	b := &Bound{Mapping: m}
	seen := map[string]int{}
	for _, f := range m.Fields {
		line, col := f.jiraLine, f.jiraCol
		if line == 0 {
			line, col = f.Line, f.col
		}
		fail := func(fix, format string, args ...any) {
			errs = append(errs, &Error{File: m.File, Line: line, Column: col, Msg: fmt.Sprintf(format, args...), Fix: fix})
		}
		jf, ok := byID[f.Jira]
		if !ok {
			cands := byName[strings.ToLower(f.Jira)]
			switch len(cands) {
			case 0:
				msg := fmt.Sprintf("jira field %q not found in Jira", f.Jira)
				if c := closest(f.Jira, names); c != "" {
					msg += fmt.Sprintf("; did you mean %q?", c)
				}
				fail("use a field name or id listed by GET /rest/api/3/field, or create the field with `sfjira preflight --fix`", "%s", msg)
				continue
			case 1:
				jf = cands[0]
			default:
				ids := make([]string, len(cands))
				for i, c := range cands {
					ids[i] = c.ID
				}
				sort.Strings(ids)
				fail(fmt.Sprintf("use the field id instead of the name, e.g. jira: %s", ids[0]),
					"jira field name %q matches %d fields: %s", f.Jira, len(cands), strings.Join(ids, ", "))
				continue
			}
		}
		bf := BoundField{FieldMap: f, JiraID: jf.ID, JiraName: jf.Name, SchemaType: jf.SchemaType,
			SchemaItems: jf.SchemaItems, SchemaCustom: jf.SchemaCustom, ADF: takesADF(jf)}
		if f.Fallback != "" {
			fb, ok := byID[f.Fallback]
			if !ok {
				cands := byName[strings.ToLower(f.Fallback)]
				if len(cands) != 1 {
					msg := fmt.Sprintf("fallback field %q not found in Jira", f.Fallback)
					if len(cands) > 1 {
						msg = fmt.Sprintf("fallback field name %q matches %d fields", f.Fallback, len(cands))
					} else if c := closest(f.Fallback, names); c != "" {
						msg += fmt.Sprintf("; did you mean %q?", c)
					}
					errs = append(errs, &Error{File: m.File, Line: f.fallbackLine, Column: f.fallbackCol, Msg: msg,
						Fix: "name a single-line Jira text field (id or unique name) listed by GET /rest/api/3/field"})
					continue
				}
				fb = cands[0]
			}
			if fb.SchemaType != "string" || takesADF(fb) {
				errs = append(errs, &Error{File: m.File, Line: f.fallbackLine, Column: f.fallbackCol,
					Msg: fmt.Sprintf("fallback field %q (%s) is %s, not a single-line text field", f.Fallback, fb.ID, schemaLabel(BoundField{SchemaType: fb.SchemaType, SchemaItems: fb.SchemaItems, ADF: takesADF(fb)})),
					Fix: "name a single-line Jira text field"})
				continue
			}
			if prev, dup := seen[fb.ID]; dup {
				errs = append(errs, &Error{File: m.File, Line: f.fallbackLine, Column: f.fallbackCol,
					Msg: fmt.Sprintf("fallback field %q (%s) is already mapped at line %d", f.Fallback, fb.ID, prev), Fix: "use a Jira field no other entry writes"})
				continue
			}
			seen[fb.ID] = f.Line
			bf.FallbackID, bf.FallbackName = fb.ID, fb.Name
		}
		if f.FlowsToJira() {
			if jf.ID == "status" || jf.ID == "resolution" {
				fail("map Salesforce values to Jira statuses in the status: section, or set direction: jira_to_sf",
					"jira field %q cannot be written from Salesforce as a field", f.Jira)
				continue
			}
			if prev, dup := seen[jf.ID]; dup {
				fail("write each Jira field from one Salesforce field; remove one of the entries",
					"jira field %q (%s) is already mapped at line %d", f.Jira, jf.ID, prev)
				continue
			}
			seen[jf.ID] = f.Line
		}
		if msg := compatible(bf); msg != "" {
			fix := "change type: or map a different Jira field"
			if s := suggestType(bf); s != "" && s != f.Type {
				fix = fmt.Sprintf("use type: %s, or map a different Jira field", s)
			}
			fail(fix, "jira field %q (%s) %s", f.Jira, jf.ID, msg)
			continue
		}
		b.Fields = append(b.Fields, bf)
	}
	if err := errs.errOrNil(); err != nil {
		return nil, err
	}
	return b, nil
}

func takesADF(f JiraField) bool {
	return f.ID == "description" || f.ID == "environment" || strings.HasSuffix(f.SchemaCustom, ":textarea")
}

func schemaLabel(bf BoundField) string {
	switch {
	case bf.ADF:
		return "a rich text (ADF) field"
	case bf.SchemaType == "array":
		return fmt.Sprintf("a list field (of %s)", bf.SchemaItems)
	case bf.SchemaType == "":
		return "a field of unknown type"
	}
	return fmt.Sprintf("a %s field", bf.SchemaType)
}

// compatible returns "" when the mapping type can be carried by the Jira field.
func compatible(bf BoundField) string {
	st := bf.SchemaType
	ok := false
	if bf.FlowsToJira() {
		switch bf.Type {
		case TypeText:
			ok = st == "string" && !bf.ADF
		case TypeRichText, TypeHTML:
			ok = bf.ADF
		case TypeDate:
			ok = st == "date"
		case TypeDateTime:
			ok = st == "datetime"
		case TypeNumber, TypeCurrency, TypePercent:
			ok = st == "number"
		case TypeCheckbox:
			ok = st == "number" || (st == "string" && !bf.ADF)
		case TypePicklist:
			ok = st == "option" || st == "priority" || (st == "string" && !bf.ADF)
		case TypeMultiPicklist:
			ok = st == "array" && (bf.SchemaItems == "option" || bf.SchemaItems == "string")
		case TypeUser:
			ok = st == "user"
		case TypeLookup:
			if bf.LinkType != "" {
				ok = bf.JiraID == IssueLinksField
			} else {
				ok = bf.JiraID == "parent" || st == "issuelink"
			}
		}
	} else { // jira_to_sf: Jira values are read and converted, so accept more shapes
		switch bf.Type {
		case TypeText:
			ok = true
		case TypeRichText, TypeHTML:
			ok = bf.ADF || st == "string"
		case TypeDate:
			ok = st == "date" || st == "datetime"
		case TypeDateTime:
			ok = st == "datetime"
		case TypeNumber, TypeCurrency, TypePercent:
			ok = st == "number"
		case TypeCheckbox:
			ok = st == "number" || st == "string"
		case TypePicklist:
			ok = contains([]string{"option", "priority", "string", "status", "resolution", "issuetype"}, st) && !bf.ADF
		case TypeMultiPicklist:
			ok = st == "array" && (bf.SchemaItems == "option" || bf.SchemaItems == "string")
		case TypeUser:
			ok = st == "user"
		case TypeLookup: // the parent, or the issue links of the link type, as written
			if bf.LinkType != "" {
				ok = bf.JiraID == IssueLinksField
			} else {
				ok = bf.JiraID == "parent" || st == "issuelink"
			}
		}
	}
	if ok {
		return ""
	}
	return fmt.Sprintf("is %s, which cannot hold type %s", schemaLabel(bf), bf.Type)
}

func suggestType(bf BoundField) string {
	switch {
	case bf.ADF:
		return TypeRichText
	case bf.SchemaType == "string":
		return TypeText
	case bf.SchemaType == "date":
		return TypeDate
	case bf.SchemaType == "datetime":
		return TypeDateTime
	case bf.SchemaType == "number":
		return TypeNumber
	case bf.SchemaType == "option" || bf.SchemaType == "priority":
		return TypePicklist
	case bf.SchemaType == "array" && (bf.SchemaItems == "option" || bf.SchemaItems == "string"):
		return TypeMultiPicklist
	case bf.SchemaType == "user":
		return TypeUser
	}
	return ""
}

// JiraFieldIDs lists every Jira field id to request on GET issue (mapped fields of both
// directions, then status and resolution), so one read serves projection and write-back.
func (b *Bound) JiraFieldIDs() []string {
	var out []string
	seen := map[string]bool{}
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, f := range b.Fields {
		add(f.JiraID)
		if f.FallbackID != "" {
			add(f.FallbackID)
		}
	}
	add("status")
	add("resolution")
	return out
}
