package mappings

import (
	"fmt"
	"strings"
)

// SFField is what a mapping check needs to know about one Salesforce field (from describe).
type SFField struct {
	Name, Type       string
	Length           int
	ExternalID       bool
	Createable       bool
	Updateable       bool
	ReferenceTo      []string
	RelationshipName string
	// PicklistValues are the active values of a picklist (preflight checks the status map
	// covers them).
	PicklistValues []string
}

// SFObject is one Salesforce object's describe, reduced to its fields.
type SFObject struct {
	Name   string
	Fields []SFField
}

func (o *SFObject) field(name string) *SFField {
	for i := range o.Fields {
		if strings.EqualFold(o.Fields[i].Name, name) {
			return &o.Fields[i]
		}
	}
	return nil
}

func (o *SFObject) relationship(name string) *SFField {
	for i := range o.Fields {
		if strings.EqualFold(o.Fields[i].RelationshipName, name) {
			return &o.Fields[i]
		}
	}
	return nil
}

// sfTypesFor lists the Salesforce field types a mapping type can read from or write to.
var sfTypesFor = map[string][]string{
	TypeText:          {"string", "textarea", "picklist", "email", "url", "phone", "id", "reference", "combobox", "encryptedstring"},
	TypeRichText:      {"textarea", "string"},
	TypeDate:          {"date", "datetime"},
	TypeDateTime:      {"datetime"},
	TypeNumber:        {"double", "int", "long", "currency", "percent"},
	TypeCurrency:      {"currency", "double"},
	TypePercent:       {"percent", "double"},
	TypeCheckbox:      {"boolean"},
	TypePicklist:      {"picklist", "string", "combobox"},
	TypeMultiPicklist: {"multipicklist"},
	TypeUser:          {"email", "string"},
	TypeLookup:        {"string", "id", "reference"},
	TypeHTML:          {"textarea", "string"},
}

// CheckSalesforce checks every Salesforce field the mapping names against the org's live
// schema: the object and fields exist (parent paths such as Account.Name through their
// relationship), types fit the mapping type, fields written by Jira → Salesforce flows are
// updateable, and the back-link field is an external id. describe returns an object's schema.
func (m *Mapping) CheckSalesforce(describe func(object string) (*SFObject, error)) error {
	var errs ErrorList
	at := func(key string) (int, int) {
		p := m.Salesforce.lines[key]
		return p[0], p[1]
	}
	add := func(line, col int, fix, format string, args ...any) {
		errs = append(errs, &Error{File: m.File, Line: line, Column: col, Msg: fmt.Sprintf(format, args...), Fix: fix})
	}
	obj, err := describe(m.Salesforce.Object)
	if err != nil {
		l, c := at("object")
		add(l, c, "check the object's API name in Setup → Object Manager, and that the integration user can read it", "Salesforce object %q: %v", m.Salesforce.Object, err)
		return errs
	}
	cache := map[string]*SFObject{strings.ToLower(obj.Name): obj}
	lookup := func(path string) (*SFField, string) {
		parts := strings.Split(path, ".")
		cur := obj
		for i, p := range parts {
			if i == len(parts)-1 {
				f := cur.field(p)
				if f == nil {
					return nil, fmt.Sprintf("no field %q on %s", p, cur.Name)
				}
				return f, ""
			}
			rel := cur.relationship(p)
			if rel == nil || len(rel.ReferenceTo) == 0 {
				return nil, fmt.Sprintf("no relationship %q on %s", p, cur.Name)
			}
			target := rel.ReferenceTo[0]
			next, ok := cache[strings.ToLower(target)]
			if !ok {
				d, err := describe(target)
				if err != nil {
					return nil, fmt.Sprintf("describe %s: %v", target, err)
				}
				next = d
				cache[strings.ToLower(target)] = d
			}
			cur = next
		}
		return nil, "empty field path"
	}
	for _, fm := range m.Fields {
		if fm.Expr != nil {
			for _, p := range fm.Expr.Paths {
				if f, problem := lookup(p); f == nil {
					add(fm.Line, fm.col, "use the field's API name in the expression (custom fields end in __c; parent fields go through the relationship, e.g. Account.Name)",
						"Salesforce field %q (in expr) does not exist: %s", p, problem)
				}
			}
			continue
		}
		f, problem := lookup(fm.SF)
		if f == nil {
			add(fm.Line, fm.col, "use the field's API name (custom fields end in __c; parent fields go through the relationship, e.g. Account.Name)",
				"Salesforce field %q does not exist: %s", fm.SF, problem)
			continue
		}
		if ok := contains(sfTypesFor[fm.Type], strings.ToLower(f.Type)); !ok {
			add(fm.Line, fm.col, fmt.Sprintf("use a type that fits a Salesforce %s field (%s)", f.Type, suggestFor(f.Type)),
				"type %s does not fit Salesforce field %s of type %s", fm.Type, fm.SF, f.Type)
		}
		if lf := fm.LookupField(); lf != "" && fm.FlowsToSF() {
			// Jira → Salesforce a lookup writes its lookup field, not the path it reads.
			switch lfield := obj.field(lf); {
			case lfield == nil:
				add(fm.Line, fm.col, fmt.Sprintf("point sf: through the relationship of the lookup field to write (%s does not exist), or use direction: sf_to_jira", lf),
					"lookup field %s (written when the Jira %s moves) does not exist on %s", lf, lookupRelation(fm), obj.Name)
			case !strings.EqualFold(lfield.Type, "reference"):
				add(fm.Line, fm.col, "point sf: through a lookup relationship, or use direction: sf_to_jira",
					"field %s.%s is a %s field, not a lookup, so the Jira %s cannot be written to it", obj.Name, lf, lfield.Type, lookupRelation(fm))
			case !lfield.Updateable:
				add(fm.Line, fm.col, "give the integration user edit access to the lookup field, or use direction: sf_to_jira",
					"lookup field %s.%s is not updateable but the mapping writes it (direction %s)", obj.Name, lf, fm.Direction)
			}
			continue
		}
		if fm.FlowsToSF() && !f.Updateable {
			add(fm.Line, fm.col, "give the integration user edit access to the field, or make the field sf_to_jira",
				"Salesforce field %s is not updateable but the mapping writes it (direction %s)", fm.SF, fm.Direction)
		}
	}
	for _, r := range m.Activities {
		act, err := describe(r.Object)
		if err != nil {
			add(r.Line, 5, "check the activity object's API name (Task, Event) and that the integration user can read it", "activity object %q: %v", r.Object, err)
			continue
		}
		for _, p := range append(r.Fields(), r.LinkField) {
			if strings.Contains(p, ".") {
				continue // parent paths of activities are checked by Salesforce when queried
			}
			if act.field(p) == nil {
				add(r.Line, 5, "use a field of the activity object (Setup → Object Manager → "+r.Object+" → Fields)", "activity field %s.%s does not exist", r.Object, p)
			}
		}
	}
	for _, t := range m.Triggers {
		seen := map[string]bool{}
		for _, p := range t.Paths() {
			if seen[strings.ToLower(p)] {
				continue
			}
			seen[strings.ToLower(p)] = true
			if f, problem := lookup(p); f == nil {
				add(t.Line, 5, "use the field's API name in the trigger's expressions (custom fields end in __c; parent fields go through the relationship, e.g. Account.Name)",
					"Salesforce field %q (in trigger %s) does not exist: %s", p, t.Name, problem)
			}
		}
	}
	if m.Status != nil {
		if f, problem := lookup(m.Status.SF); f == nil {
			add(m.Status.Line, 1, "use the picklist's API name, e.g. StageName", "status field %q does not exist: %s", m.Status.SF, problem)
		}
	}
	if f, problem := lookup(m.Salesforce.ExternalIDField); f == nil {
		l, c := at("external_id_field")
		add(l, c, "create a Text(20) field marked External ID and Unique, e.g. Jira_Issue_Id__c", "back-link field %q does not exist: %s", m.Salesforce.ExternalIDField, problem)
	} else if !f.ExternalID || !f.Updateable {
		l, c := at("external_id_field")
		add(l, c, "mark the field External ID (and Unique) and give the integration user edit access", "back-link field %s must be an updateable external id", f.Name)
	}
	if m.Salesforce.KeyField != "" {
		if f, problem := lookup(m.Salesforce.KeyField); f == nil {
			l, c := at("key_field")
			add(l, c, "create a Text(32) field for the Jira key, e.g. Jira_Issue_Key__c", "key field %q does not exist: %s", m.Salesforce.KeyField, problem)
		} else if !f.Updateable {
			l, c := at("key_field")
			add(l, c, "give the integration user edit access to the field", "key field %s is not updateable", f.Name)
		}
	}
	errs.sort()
	return errs.errOrNil()
}

func suggestFor(sfType string) string {
	var out []string
	for _, t := range fieldTypes {
		if contains(sfTypesFor[t], strings.ToLower(sfType)) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return "none in version 1"
	}
	return strings.Join(out, ", ")
}

// lookupRelation names what a lookup follows in Jira, for messages.
func lookupRelation(fm FieldMap) string {
	if fm.LinkType != "" {
		return fmt.Sprintf("%q issue link", fm.LinkType)
	}
	return "parent"
}
