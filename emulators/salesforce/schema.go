package salesforce

import "strings"

// fieldDef describes one sObject field; it drives validation, SOQL and describe output.
type fieldDef struct {
	Name, Label, Type  string
	Length             int
	Precision, Scale   int
	Digits             int
	Nillable           bool
	Createable         bool
	Updateable         bool
	ExternalID         bool
	Unique             bool
	RestrictedPicklist bool
	Calculated         bool
	DefaultedOnCreate  bool
	NameField          bool
	IDLookup           bool
	Custom             bool
	Picklist           []string
	PicklistDefault    string
	ReferenceTo        []string
	RelationshipName   string
}

// required reports whether a create must supply the field.
func (f *fieldDef) required() bool {
	return f.Createable && !f.Nillable && !f.DefaultedOnCreate && f.Type != "boolean"
}

func (f *fieldDef) isText() bool {
	switch f.Type {
	case "string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox":
		return true
	}
	return false
}

func (f *fieldDef) isNumber() bool {
	switch f.Type {
	case "currency", "percent", "double", "int":
		return true
	}
	return false
}

func (f *fieldDef) soapType() string {
	switch f.Type {
	case "id", "reference":
		return "tns:ID"
	case "currency", "percent", "double":
		return "xsd:double"
	case "int":
		return "xsd:int"
	case "boolean":
		return "xsd:boolean"
	case "date":
		return "xsd:date"
	case "datetime":
		return "xsd:dateTime"
	}
	return "xsd:string"
}

// objectDef describes an sObject type.
type objectDef struct {
	Name, Label, LabelPlural, KeyPrefix string
	Fields                              []*fieldDef
	byLower                             map[string]*fieldDef
	relByLower                          map[string]*fieldDef
}

func (o *objectDef) field(name string) *fieldDef { return o.byLower[strings.ToLower(name)] }

func (o *objectDef) relationship(name string) *fieldDef { return o.relByLower[strings.ToLower(name)] }

func newObject(name, label, plural, prefix string, fields ...*fieldDef) *objectDef {
	o := &objectDef{Name: name, Label: label, LabelPlural: plural, KeyPrefix: prefix,
		byLower: map[string]*fieldDef{}, relByLower: map[string]*fieldDef{}}
	all := append([]*fieldDef{
		{Name: "Id", Label: label + " ID", Type: "id", Length: 18, IDLookup: true, DefaultedOnCreate: true},
		{Name: "IsDeleted", Label: "Deleted", Type: "boolean", DefaultedOnCreate: true},
	}, fields...)
	all = append(all,
		ref("CreatedById", "Created By ID", "User", "CreatedBy", false),
		&fieldDef{Name: "CreatedDate", Label: "Created Date", Type: "datetime", DefaultedOnCreate: true},
		ref("LastModifiedById", "Last Modified By ID", "User", "LastModifiedBy", false),
		&fieldDef{Name: "LastModifiedDate", Label: "Last Modified Date", Type: "datetime", DefaultedOnCreate: true},
		&fieldDef{Name: "SystemModstamp", Label: "System Modstamp", Type: "datetime", DefaultedOnCreate: true},
	)
	for _, f := range all {
		o.Fields = append(o.Fields, f)
		o.byLower[strings.ToLower(f.Name)] = f
		if f.RelationshipName != "" {
			o.relByLower[strings.ToLower(f.RelationshipName)] = f
		}
	}
	return o
}

func str(name, label string, length int) *fieldDef {
	return &fieldDef{Name: name, Label: label, Type: "string", Length: length, Nillable: true, Createable: true, Updateable: true}
}

func typed(typ, name, label string, length int) *fieldDef {
	f := str(name, label, length)
	f.Type = typ
	return f
}

func num(typ, name, label string, precision, scale int) *fieldDef {
	f := &fieldDef{Name: name, Label: label, Type: typ, Precision: precision, Scale: scale, Nillable: true, Createable: true, Updateable: true}
	if typ == "int" {
		f.Precision, f.Scale, f.Digits = 0, 0, precision
	}
	return f
}

func pick(name, label string, restricted bool, values ...string) *fieldDef {
	f := typed("picklist", name, label, 255)
	f.RestrictedPicklist = restricted
	f.Picklist = values
	return f
}

func ref(name, label, to, rel string, writable bool) *fieldDef {
	return &fieldDef{Name: name, Label: label, Type: "reference", Length: 18, Nillable: true,
		Createable: writable, Updateable: writable, DefaultedOnCreate: !writable,
		ReferenceTo: []string{to}, RelationshipName: rel}
}

func required(f *fieldDef) *fieldDef { f.Nillable = false; return f }

func readOnly(f *fieldDef) *fieldDef {
	f.Createable, f.Updateable, f.Calculated = false, false, true
	return f
}

func owner() *fieldDef {
	f := ref("OwnerId", "Owner ID", "User", "Owner", true)
	f.Nillable, f.DefaultedOnCreate = false, true
	return f
}

// stageInfo is one default Opportunity stage with the values Salesforce derives from it.
type stageInfo struct {
	Name        string
	Probability float64
	Forecast    string
	Closed, Won bool
}

// defaultStages are the ten stages of a new org, in sort order.
var defaultStages = []stageInfo{
	{"Prospecting", 10, "Pipeline", false, false},
	{"Qualification", 10, "Pipeline", false, false},
	{"Needs Analysis", 20, "Pipeline", false, false},
	{"Value Proposition", 50, "Pipeline", false, false},
	{"Id. Decision Makers", 60, "Pipeline", false, false},
	{"Perception Analysis", 70, "Pipeline", false, false},
	{"Proposal/Price Quote", 75, "Pipeline", false, false},
	{"Negotiation/Review", 90, "Pipeline", false, false},
	{"Closed Won", 100, "Closed", true, true},
	{"Closed Lost", 0, "Omitted", true, false},
}

func stageByName(name string) (stageInfo, bool) {
	for _, s := range defaultStages {
		if strings.EqualFold(s.Name, name) {
			return s, true
		}
	}
	return stageInfo{}, false
}

// feedParentTypes are the objects a FeedItem's polymorphic ParentId may point to.
var feedParentTypes = []string{"Account", "Contact", "Opportunity", "User", "Case", "Feature_Request__c"}

// schema is the fixed set of sObjects the emulator knows.
type schema struct {
	objects []*objectDef
	byLower map[string]*objectDef
	byPref  map[string]*objectDef
}

func (s *schema) object(name string) *objectDef { return s.byLower[strings.ToLower(name)] }

func buildSchema() *schema {
	stageNames := make([]string, len(defaultStages))
	for i, st := range defaultStages {
		stageNames[i] = st.Name
	}
	industries := []string{"Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
		"Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment",
		"Environmental", "Finance", "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance",
		"Machinery", "Manufacturing", "Media", "Not For Profit", "Recreation", "Retail", "Shipping",
		"Technology", "Telecommunications", "Transportation", "Utilities", "Other"}

	userName := readOnly(str("Name", "Full Name", 121))
	userName.NameField = true
	user := newObject("User", "User", "Users", "005",
		required(str("Username", "Username", 80)),
		str("FirstName", "First Name", 40),
		required(str("LastName", "Last Name", 80)),
		userName,
		required(typed("email", "Email", "Email", 128)),
		required(str("Alias", "Alias", 8)),
		&fieldDef{Name: "IsActive", Label: "Active", Type: "boolean", Createable: true, Updateable: true, DefaultedOnCreate: true},
	)

	accName := required(str("Name", "Account Name", 255))
	accName.NameField = true
	account := newObject("Account", "Account", "Accounts", "001",
		accName,
		pick("Type", "Account Type", false, "Prospect", "Customer - Direct", "Customer - Channel",
			"Channel Partner / Reseller", "Installation Partner", "Technology Partner", "Other"),
		pick("Industry", "Industry", false, industries...),
		str("BillingCity", "Billing City", 40),
		str("BillingCountry", "Billing Country", 80),
		typed("url", "Website", "Website", 255),
		typed("phone", "Phone", "Account Phone", 40),
		num("currency", "AnnualRevenue", "Annual Revenue", 18, 0),
		num("int", "NumberOfEmployees", "Employees", 8, 0),
		typed("textarea", "Description", "Account Description", 32000),
		owner(),
	)

	conName := readOnly(str("Name", "Full Name", 121))
	conName.NameField = true
	contact := newObject("Contact", "Contact", "Contacts", "003",
		str("FirstName", "First Name", 40),
		required(str("LastName", "Last Name", 80)),
		conName,
		typed("email", "Email", "Email", 80),
		typed("phone", "Phone", "Business Phone", 40),
		str("Title", "Title", 128),
		ref("AccountId", "Account ID", "Account", "Account", true),
		owner(),
	)

	oppName := required(str("Name", "Name", 120))
	oppName.NameField = true
	stage := required(pick("StageName", "Stage", false, stageNames...))
	probability := num("percent", "Probability", "Probability (%)", 3, 0)
	probability.DefaultedOnCreate = true
	forecast := pick("ForecastCategoryName", "Forecast Category", true, "Omitted", "Pipeline", "Best Case", "Commit", "Closed")
	forecast.DefaultedOnCreate = true
	jiraID := str("Jira_Issue_Id__c", "Jira Issue Id", 20)
	jiraID.ExternalID, jiraID.Unique, jiraID.Custom, jiraID.IDLookup = true, true, true, true
	jiraKey := str("Jira_Issue_Key__c", "Jira Issue Key", 32)
	jiraKey.ExternalID, jiraKey.Custom, jiraKey.IDLookup = true, true, true
	custom := func(f *fieldDef) *fieldDef { f.Custom = true; return f }
	opportunity := newObject("Opportunity", "Opportunity", "Opportunities", "006",
		oppName,
		ref("AccountId", "Account ID", "Account", "Account", true),
		stage,
		required(&fieldDef{Name: "CloseDate", Label: "Close Date", Type: "date", Createable: true, Updateable: true}),
		num("currency", "Amount", "Amount", 18, 2),
		probability,
		typed("textarea", "Description", "Description", 32000),
		pick("Type", "Opportunity Type", false, "Existing Customer - Upgrade", "Existing Customer - Replacement",
			"Existing Customer - Downgrade", "New Customer"),
		pick("LeadSource", "Lead Source", false, "Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"),
		str("NextStep", "Next Step", 255),
		forecast,
		readOnly(&fieldDef{Name: "IsClosed", Label: "Closed", Type: "boolean", DefaultedOnCreate: true}),
		readOnly(&fieldDef{Name: "IsWon", Label: "Won", Type: "boolean", DefaultedOnCreate: true}),
		owner(),
		jiraID,
		jiraKey,
		custom(str("Jira_Status__c", "Jira Status", 64)),
		custom(str("Jira_Resolution__c", "Jira Resolution", 64)),
		custom(str("Jira_Sprint__c", "Jira Sprint", 128)),
	)

	feedParent := ref("ParentId", "Parent ID", "Account", "Parent", true)
	feedParent.ReferenceTo = feedParentTypes
	feedParent.Nillable, feedParent.Updateable = false, false
	feedBody := required(typed("textarea", "Body", "Body", 10000))
	feedType := pick("Type", "Feed Item Type", true, "TextPost", "LinkPost", "ContentPost", "QuestionPost", "PollPost")
	feedType.DefaultedOnCreate, feedType.Updateable, feedType.PicklistDefault = true, false, "TextPost"
	feedItem := newObject("FeedItem", "Feed Item", "Feed Items", "0D5",
		feedParent,
		feedType,
		feedBody,
		str("Title", "Title", 255),
		typed("url", "LinkUrl", "Link URL", 1000),
		&fieldDef{Name: "IsRichText", Label: "Is Rich Text", Type: "boolean", Createable: true, Updateable: true, DefaultedOnCreate: true},
		readOnly(num("int", "CommentCount", "Comment Count", 9, 0)),
		readOnly(num("int", "LikeCount", "Like Count", 9, 0)),
	)

	caseObj, featureRequest, task, event := buildActivityObjects()

	s := &schema{byLower: map[string]*objectDef{}, byPref: map[string]*objectDef{}}
	for _, o := range []*objectDef{account, contact, opportunity, user, feedItem, caseObj, featureRequest, task, event} {
		s.objects = append(s.objects, o)
		s.byLower[strings.ToLower(o.Name)] = o
		s.byPref[o.KeyPrefix] = o
	}
	return s
}
