package salesforce

import (
	"net/http"
	"strings"
)

type picklistJSON struct {
	Active       bool    `json:"active"`
	DefaultValue bool    `json:"defaultValue"`
	Label        string  `json:"label"`
	ValidFor     *string `json:"validFor"`
	Value        string  `json:"value"`
}

type fieldJSON struct {
	Aggregatable          bool           `json:"aggregatable"`
	AutoNumber            bool           `json:"autoNumber"`
	ByteLength            int            `json:"byteLength"`
	Calculated            bool           `json:"calculated"`
	CaseSensitive         bool           `json:"caseSensitive"`
	Createable            bool           `json:"createable"`
	Custom                bool           `json:"custom"`
	DefaultValue          any            `json:"defaultValue"`
	DefaultedOnCreate     bool           `json:"defaultedOnCreate"`
	DependentPicklist     bool           `json:"dependentPicklist"`
	DeprecatedAndHidden   bool           `json:"deprecatedAndHidden"`
	Digits                int            `json:"digits"`
	ExternalID            bool           `json:"externalId"`
	Filterable            bool           `json:"filterable"`
	Groupable             bool           `json:"groupable"`
	HTMLFormatted         bool           `json:"htmlFormatted"`
	IDLookup              bool           `json:"idLookup"`
	Label                 string         `json:"label"`
	Length                int            `json:"length"`
	Name                  string         `json:"name"`
	NameField             bool           `json:"nameField"`
	NamePointing          bool           `json:"namePointing"`
	Nillable              bool           `json:"nillable"`
	PicklistValues        []picklistJSON `json:"picklistValues"`
	PolymorphicForeignKey bool           `json:"polymorphicForeignKey"`
	Precision             int            `json:"precision"`
	ReferenceTo           []string       `json:"referenceTo"`
	RelationshipName      *string        `json:"relationshipName"`
	RestrictedPicklist    bool           `json:"restrictedPicklist"`
	Scale                 int            `json:"scale"`
	SoapType              string         `json:"soapType"`
	Sortable              bool           `json:"sortable"`
	Type                  string         `json:"type"`
	Unique                bool           `json:"unique"`
	Updateable            bool           `json:"updateable"`
}

type childRelJSON struct {
	CascadeDelete    bool   `json:"cascadeDelete"`
	ChildSObject     string `json:"childSObject"`
	Field            string `json:"field"`
	RelationshipName string `json:"relationshipName"`
}

func objectURLs(o *objectDef, version string) map[string]string {
	base := "/services/data/" + version + "/sobjects/" + o.Name
	return map[string]string{"sobject": base, "describe": base + "/describe", "rowTemplate": base + "/{ID}"}
}

func describeGlobalEntry(o *objectDef, version string) map[string]any {
	return map[string]any{
		"name": o.Name, "label": o.Label, "labelPlural": o.LabelPlural, "keyPrefix": o.KeyPrefix,
		"custom": strings.HasSuffix(o.Name, "__c"), "customSetting": false, "createable": true, "updateable": true, "deletable": o.Name != "User",
		"queryable": true, "retrieveable": true, "searchable": true, "layoutable": true, "replicateable": true,
		"triggerable": true, "undeletable": o.Name != "User", "mergeable": o.Name != "Opportunity" && o.Name != "FeedItem",
		"activateable": false, "feedEnabled": o.Name != "FeedItem", "deprecatedAndHidden": false, "urls": objectURLs(o, version),
	}
}

func (s *Server) handleDescribeGlobal(w http.ResponseWriter, version string) {
	list := make([]map[string]any, len(s.schema.objects))
	for i, o := range s.schema.objects {
		list[i] = s.applyObjectPermissions(describeGlobalEntry(o, version), o)
	}
	writeJSON(w, 200, map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list})
}

func describeField(f *fieldDef) fieldJSON {
	j := fieldJSON{
		Aggregatable: f.Type != "textarea", Calculated: f.Calculated, Createable: f.Createable, Custom: f.Custom,
		DefaultedOnCreate: f.DefaultedOnCreate, ExternalID: f.ExternalID, Filterable: f.Type != "textarea",
		Groupable: f.Type != "textarea" && !f.isNumber() && f.Type != "datetime", IDLookup: f.IDLookup,
		Label: f.Label, Length: f.Length, Name: f.Name, NameField: f.NameField, Nillable: f.Nillable,
		PicklistValues: []picklistJSON{}, Precision: f.Precision, ReferenceTo: []string{},
		RestrictedPicklist: f.RestrictedPicklist, Scale: f.Scale, SoapType: f.soapType(),
		Sortable: f.Type != "textarea", Type: f.Type, Unique: f.Unique, Updateable: f.Updateable, Digits: f.Digits,
	}
	if f.Type == "boolean" {
		j.DefaultValue = false
	}
	if f.PicklistDefault != "" {
		j.DefaultValue = f.PicklistDefault
	}
	if len(f.ReferenceTo) > 1 {
		j.PolymorphicForeignKey = true
	}
	if f.isText() || f.Type == "id" || f.Type == "reference" {
		j.ByteLength = 3 * f.Length
	}
	for _, v := range f.Picklist {
		j.PicklistValues = append(j.PicklistValues, picklistJSON{Active: true, DefaultValue: v == f.PicklistDefault, Label: v, Value: v})
	}
	if len(f.ReferenceTo) > 0 {
		j.ReferenceTo = f.ReferenceTo
		rn := f.RelationshipName
		j.RelationshipName = &rn
	}
	return j
}

func describe(o *objectDef, version string) map[string]any {
	d := describeGlobalEntry(o, version)
	fields := make([]fieldJSON, len(o.Fields))
	for i, f := range o.Fields {
		fields[i] = describeField(f)
	}
	children := []childRelJSON{}
	if o.Name == "Account" {
		children = append(children,
			childRelJSON{ChildSObject: "Contact", Field: "AccountId", RelationshipName: "Contacts"},
			childRelJSON{ChildSObject: "Opportunity", Field: "AccountId", RelationshipName: "Opportunities"})
	}
	for _, p := range feedParentTypes {
		if p == o.Name {
			children = append(children, childRelJSON{CascadeDelete: true, ChildSObject: "FeedItem", Field: "ParentId", RelationshipName: "Feeds"})
		}
	}
	d["fields"] = fields
	d["childRelationships"] = children
	d["recordTypeInfos"] = []any{}
	d["compactLayoutable"] = true
	d["listviewable"] = nil
	d["lookupLayoutable"] = nil
	d["searchLayoutable"] = true
	d["supportedScopes"] = []map[string]string{{"label": "All " + strings.ToLower(o.LabelPlural), "name": "everything"}}
	return d
}
