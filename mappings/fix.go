package mappings

import (
	"fmt"
	"html"
	"strings"
)

// `sfjira preflight --fix` turns the problems preflight can repair into a plan: Jira custom fields
// the mappings name but the site lacks, and select options the value maps need but the fields
// lack. Salesforce fields cannot be created through the REST data API, so for them the plan holds
// the metadata to deploy instead. Planning is pure; activities.ApplyJiraFixes carries it out.

// JiraFieldFix is a Jira custom field to create for a field entry of a mapping.
type JiraFieldFix struct {
	Name string `json:"name"`
	// Type and Searcher are the short custom field type and searcher keys (select,
	// multiselectsearcher); jira.CustomFieldTypePrefix makes them full keys.
	Type     string   `json:"type"`
	Searcher string   `json:"searcher"`
	Options  []string `json:"options,omitempty"`
	At       string   `json:"at"` // file:line of the field entry
}

// JiraOptionFix is a set of options to add to an existing select field.
type JiraOptionFix struct {
	FieldID   string   `json:"field_id"`
	FieldName string   `json:"field_name"`
	Options   []string `json:"options"`
	At        string   `json:"at"`
}

// SFFieldFix is a Salesforce custom field to create by hand or by a metadata deploy.
type SFFieldFix struct {
	Object   string `json:"object"`
	Field    string `json:"field"`
	Label    string `json:"label"`
	Metadata string `json:"metadata"` // CustomField metadata XML
	At       string `json:"at"`
}

// JiraScreenFix is an existing custom field to put on the default screen.
type JiraScreenFix struct {
	FieldID   string `json:"field_id"`
	FieldName string `json:"field_name"`
	At        string `json:"at"`
}

// FixPlan is everything `preflight --fix` would do; Manual lists what it cannot do with a reason.
type FixPlan struct {
	JiraFields  []JiraFieldFix  `json:"jira_fields,omitempty"`
	JiraOptions []JiraOptionFix `json:"jira_options,omitempty"`
	JiraScreens []JiraScreenFix `json:"jira_screens,omitempty"`
	SFFields    []SFFieldFix    `json:"salesforce_fields,omitempty"`
	Manual      []string        `json:"manual,omitempty"`
}

// Empty reports whether there is nothing to create in Jira.
func (p *FixPlan) Empty() bool {
	return len(p.JiraFields) == 0 && len(p.JiraOptions) == 0 && len(p.JiraScreens) == 0
}

// jiraCustomTypeFor is the Jira custom field type (and searcher) that holds a mapping type.
func jiraCustomTypeFor(f FieldMap) (typ, searcher string, ok bool) {
	switch f.Type {
	case TypeText:
		return "textfield", "textsearcher", true
	case TypeRichText, TypeHTML:
		return "textarea", "textsearcher", true
	case TypeDate:
		return "datepicker", "daterange", true
	case TypeDateTime:
		return "datetime", "datetimerange", true
	case TypeNumber, TypeCurrency, TypePercent, TypeCheckbox:
		return "float", "exactnumber", true
	case TypePicklist:
		return "select", "multiselectsearcher", true
	case TypeMultiPicklist:
		return "multiselect", "multiselectsearcher", true
	case TypeUser:
		return "userpicker", "userpickergroupsearcher", true
	}
	return "", "", false
}

// jiraValues lists the Jira values of a field's value map in file order, without duplicates.
func valueMapJiraValues(vm *ValueMap) []string {
	if vm == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, k := range vm.Order {
		j := vm.Pairs[k]
		if !seen[foldValue(j)] {
			seen[foldValue(j)] = true
			out = append(out, j)
		}
	}
	return out
}

// isSelect says whether a Jira field takes options of its context (select or multi-select).
func isSelect(f JiraField) bool {
	return f.SchemaType == "option" || (f.SchemaType == "array" && f.SchemaItems == "option")
}

// PlanJiraFixes finds the Jira custom fields the mappings name but the site lacks, the existing
// custom fields they write that are not on the create screen (onScreen: createmeta of the
// mapping's issue type; nil when unknown), and the select options their value maps need but the
// fields lack. options returns a field's option values; ok is false when they are unknown.
func PlanJiraFixes(ms []*Mapping, fields []JiraField, onScreen func(m *Mapping) map[string]bool, options func(m *Mapping, fieldID string) ([]string, bool)) *FixPlan {
	p := &FixPlan{}
	byID := map[string]JiraField{}
	byName := map[string][]JiraField{}
	for _, f := range fields {
		byID[f.ID] = f
		k := strings.ToLower(strings.TrimSpace(f.Name))
		byName[k] = append(byName[k], f)
	}
	planned := map[string]int{} // folded name → index in p.JiraFields
	optionsPlanned := map[string]map[string]bool{}
	screenPlanned := map[string]bool{}
	for _, m := range ms {
		for _, f := range m.Fields {
			at := fmt.Sprintf("%s:%d", m.File, f.Line)
			refs := []struct {
				name string
				fm   FieldMap
			}{{f.Jira, f}}
			if f.Fallback != "" {
				refs = append(refs, struct {
					name string
					fm   FieldMap
				}{f.Fallback, FieldMap{Type: TypeText, Direction: DirSFToJira}})
			}
			for _, ref := range refs {
				jf, found := byID[ref.name]
				if !found {
					switch c := byName[strings.ToLower(ref.name)]; len(c) {
					case 1:
						jf, found = c[0], true
					case 0:
					default:
						p.Manual = append(p.Manual, fmt.Sprintf("%s: Jira field name %q matches %d fields; write its id in the mapping", at, ref.name, len(c)))
						continue
					}
				}
				if !found {
					p.planField(m, ref.fm, ref.name, at, planned)
					continue
				}
				if screen := onScreen(m); screen != nil && ref.fm.FlowsToJira() && !screen[jf.ID] && !notOnScreenExempt[jf.ID] &&
					strings.HasPrefix(jf.ID, "customfield_") && !screenPlanned[jf.ID] {
					screenPlanned[jf.ID] = true
					p.JiraScreens = append(p.JiraScreens, JiraScreenFix{FieldID: jf.ID, FieldName: jf.Name, At: at})
				}
				if !isSelect(jf) || ref.fm.ValueMap == nil || !ref.fm.FlowsToJira() {
					continue
				}
				have, ok := options(m, jf.ID)
				if !ok {
					continue
				}
				got := map[string]bool{}
				for _, v := range have {
					got[foldValue(v)] = true
				}
				if optionsPlanned[jf.ID] == nil {
					optionsPlanned[jf.ID] = map[string]bool{}
				}
				var missing []string
				for _, v := range valueMapJiraValues(ref.fm.ValueMap) {
					if !got[foldValue(v)] && !optionsPlanned[jf.ID][foldValue(v)] {
						optionsPlanned[jf.ID][foldValue(v)] = true
						missing = append(missing, v)
					}
				}
				if len(missing) > 0 {
					p.JiraOptions = append(p.JiraOptions, JiraOptionFix{FieldID: jf.ID, FieldName: jf.Name, Options: missing, At: at})
				}
			}
		}
	}
	return p
}

func (p *FixPlan) planField(m *Mapping, f FieldMap, name, at string, planned map[string]int) {
	if strings.HasPrefix(strings.ToLower(name), "customfield_") {
		p.Manual = append(p.Manual, fmt.Sprintf("%s: Jira field id %s does not exist; a created field gets a new id, so name the field by its name (jira: Deal Type) and run --fix again", at, name))
		return
	}
	if !f.FlowsToJira() && f.Type != TypeText {
		p.Manual = append(p.Manual, fmt.Sprintf("%s: Jira field %q does not exist and is only read (direction %s); create it in Jira or map another field", at, name, f.Direction))
		return
	}
	typ, searcher, ok := jiraCustomTypeFor(f)
	if !ok {
		p.Manual = append(p.Manual, fmt.Sprintf("%s: Jira field %q does not exist and a %s field cannot be created as a custom field; map a system field (parent, issuelinks)", at, name, f.Type))
		return
	}
	if i, dup := planned[strings.ToLower(name)]; dup {
		existing := &p.JiraFields[i]
		if existing.Type != typ {
			p.Manual = append(p.Manual, fmt.Sprintf("%s: Jira field %q is also planned as a %s field (%s); give the entries one type", at, name, existing.Type, existing.At))
			return
		}
		for _, v := range valueMapJiraValues(f.ValueMap) {
			if !containsFold(existing.Options, v) {
				existing.Options = append(existing.Options, v)
			}
		}
		return
	}
	planned[strings.ToLower(name)] = len(p.JiraFields)
	p.JiraFields = append(p.JiraFields, JiraFieldFix{Name: name, Type: typ, Searcher: searcher, Options: valueMapJiraValues(f.ValueMap), At: at})
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if foldValue(x) == foldValue(v) {
			return true
		}
	}
	return false
}

// CheckJiraOptions reports, for picklist fields written to Jira select fields, every value-map
// value the field has no option for (Jira would reject the write). allowed holds the option
// values of each field on the issue type's create screen (createmeta allowedValues). It resolves
// the Jira fields itself, so it reports missing options even when another field does not bind.
func (m *Mapping) CheckJiraOptions(fields []JiraField, allowed map[string][]string) *PreflightReport {
	r := &PreflightReport{}
	resolve := jiraResolver(fields)
	for _, f := range m.Fields {
		jf, ok := resolve(f.Jira)
		if !ok {
			continue // reported by Bind
		}
		if f.ValueMap == nil || !f.FlowsToJira() || !isSelect(jf) {
			continue
		}
		have, ok := allowed[jf.ID]
		if !ok {
			continue
		}
		var missing []string
		for _, v := range valueMapJiraValues(f.ValueMap) {
			if !containsFold(have, v) {
				missing = append(missing, v)
			}
		}
		if len(missing) == 0 {
			continue
		}
		quoted := make([]string, len(missing))
		for i, v := range missing {
			quoted[i] = fmt.Sprintf("%q", v)
		}
		r.add(m, f.Line, fmt.Sprintf("add the option(s) to the field's context in Jira (Settings → Issues → Custom fields → %s → Contexts and default value), or run `sfjira preflight --fix`", jf.Name),
			"Jira field %q (%s) has no option %s, which the value map writes", jf.Name, jf.ID, strings.Join(quoted, ", "))
	}
	return r
}

// PlanSalesforceFields lists the Salesforce custom fields the mapping reads or writes on its own
// object that do not exist, with the CustomField metadata to deploy (Salesforce fields cannot be
// created through the REST data API). Standard fields and parent paths are reported by preflight
// as usual and not planned.
func (m *Mapping) PlanSalesforceFields(describe func(object string) (*SFObject, error), p *FixPlan) {
	obj, err := describe(m.Salesforce.Object)
	if err != nil {
		return
	}
	seen := map[string]bool{}
	add := func(name string, line int, meta func(label string) string) {
		if name == "" || strings.Contains(name, ".") || seen[strings.ToLower(name)] || obj.field(name) != nil {
			return
		}
		seen[strings.ToLower(name)] = true
		at := fmt.Sprintf("%s:%d", m.File, line)
		if !strings.HasSuffix(strings.ToLower(name), "__c") {
			p.Manual = append(p.Manual, fmt.Sprintf("%s: Salesforce field %s.%s does not exist and is not a custom field (__c); check the API name", at, m.Salesforce.Object, name))
			return
		}
		label := strings.ReplaceAll(strings.TrimSuffix(strings.TrimSuffix(name, "__c"), "__C"), "_", " ")
		p.SFFields = append(p.SFFields, SFFieldFix{Object: m.Salesforce.Object, Field: name, Label: label, At: at,
			Metadata: customFieldXML(name, label, meta(label))})
	}
	l := m.Salesforce.lines
	add(m.Salesforce.ExternalIDField, l["external_id_field"][0], func(string) string {
		return "    <type>Text</type>\n    <length>20</length>\n    <externalId>true</externalId>\n    <unique>true</unique>\n    <caseSensitive>false</caseSensitive>\n"
	})
	add(m.Salesforce.KeyField, l["key_field"][0], func(string) string {
		return "    <type>Text</type>\n    <length>32</length>\n    <externalId>true</externalId>\n"
	})
	for _, f := range m.Fields {
		if f.Expr != nil {
			continue
		}
		f := f
		add(f.SF, f.Line, func(string) string { return sfFieldBody(f) })
	}
	if st := m.Status; st != nil {
		add(st.SF, st.Line, func(string) string {
			return picklistBody("Picklist", st.Order, "")
		})
	}
}

func customFieldXML(name, label, body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>` + html.EscapeString(name) + `</fullName>
    <label>` + html.EscapeString(label) + `</label>
` + body + `</CustomField>
`
}

// sfFieldBody is the type-specific part of the CustomField metadata for a mapping entry.
func sfFieldBody(f FieldMap) string {
	switch f.Type {
	case TypeText, TypeLookup:
		n := 255
		if f.MaxLength > 0 && f.MaxLength < 255 {
			n = f.MaxLength
		}
		return fmt.Sprintf("    <type>Text</type>\n    <length>%d</length>\n", n)
	case TypeRichText:
		return "    <type>LongTextArea</type>\n    <length>32768</length>\n    <visibleLines>6</visibleLines>\n"
	case TypeHTML:
		return "    <type>Html</type>\n    <length>32768</length>\n    <visibleLines>10</visibleLines>\n"
	case TypeDate:
		return "    <type>Date</type>\n"
	case TypeDateTime:
		return "    <type>DateTime</type>\n"
	case TypeNumber, TypeCurrency, TypePercent:
		t := map[string]string{TypeNumber: "Number", TypeCurrency: "Currency", TypePercent: "Percent"}[f.Type]
		scale := f.Precision
		if scale < 0 {
			scale = 2
		}
		return fmt.Sprintf("    <type>%s</type>\n    <precision>18</precision>\n    <scale>%d</scale>\n", t, scale)
	case TypeCheckbox:
		return "    <type>Checkbox</type>\n    <defaultValue>false</defaultValue>\n"
	case TypePicklist:
		var vals []string
		if f.ValueMap != nil {
			vals = f.ValueMap.Order
		}
		return picklistBody("Picklist", vals, "")
	case TypeMultiPicklist:
		var vals []string
		if f.ValueMap != nil {
			vals = f.ValueMap.Order
		}
		return picklistBody("MultiselectPicklist", vals, "    <visibleLines>4</visibleLines>\n")
	case TypeUser:
		return "    <type>Email</type>\n"
	}
	return "    <type>Text</type>\n    <length>255</length>\n"
}

func picklistBody(typ string, values []string, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "    <type>%s</type>\n%s    <valueSet>\n        <restricted>true</restricted>\n        <valueSetDefinition>\n            <sorted>false</sorted>\n", typ, extra)
	for _, v := range values {
		fmt.Fprintf(&b, "            <value>\n                <fullName>%s</fullName>\n                <default>false</default>\n                <label>%s</label>\n            </value>\n",
			html.EscapeString(v), html.EscapeString(v))
	}
	b.WriteString("        </valueSetDefinition>\n    </valueSet>\n")
	return b.String()
}

// notOnScreenExempt are Jira fields written without the create screen: issue links have their
// own API, project and issue type are chosen by the connector.
var notOnScreenExempt = map[string]bool{IssueLinksField: true, "project": true, "issuetype": true}

// jiraResolver finds a Jira field by id, else by unique case-insensitive name, as Bind does.
func jiraResolver(fields []JiraField) func(ref string) (JiraField, bool) {
	byID := map[string]JiraField{}
	byName := map[string][]JiraField{}
	for _, f := range fields {
		byID[f.ID] = f
		k := strings.ToLower(strings.TrimSpace(f.Name))
		byName[k] = append(byName[k], f)
	}
	return func(ref string) (JiraField, bool) {
		if f, ok := byID[ref]; ok {
			return f, true
		}
		if c := byName[strings.ToLower(strings.TrimSpace(ref))]; len(c) == 1 {
			return c[0], true
		}
		return JiraField{}, false
	}
}

// CheckOnScreen reports fields the mapping writes to Jira that are not on the create screen of
// its issue type (createmeta): Jira rejects them on create ("cannot be set. It is not on the
// appropriate screen"). onScreen holds the field ids createmeta lists. Fields that do not
// resolve are left to Bind's report.
func (m *Mapping) CheckOnScreen(fields []JiraField, onScreen map[string]bool) *PreflightReport {
	r := &PreflightReport{}
	resolve := jiraResolver(fields)
	for _, f := range m.Fields {
		if !f.FlowsToJira() {
			continue
		}
		for _, ref := range []string{f.Jira, f.Fallback} {
			jf, ok := resolve(ref)
			if ref == "" || !ok || onScreen[jf.ID] || notOnScreenExempt[jf.ID] || jf.ID == "status" || jf.ID == "resolution" {
				continue
			}
			fix := fmt.Sprintf("add the field to the create and edit screens of %s in project %s", m.Jira.IssueType, m.Jira.Project)
			if strings.HasPrefix(jf.ID, "customfield_") {
				fix += ", or run `sfjira preflight --fix` to put it on the default screen"
			}
			r.add(m, f.Line, fix, "Jira field %q (%s) is not on the create screen of %s in %s, so Jira rejects it on create", jf.Name, jf.ID, m.Jira.IssueType, m.Jira.Project)
		}
	}
	return r
}
