package salesforce

// The objects of the default mapping pack beyond Opportunity: Case (→ Bug), the custom
// Feature_Request__c (→ Story under the Opportunity's Epic), and the activities Task and Event
// (→ Jira comments and worklogs). Field names, types and lengths follow a standard org.

// CaseStatuses are the Case Status picklist values of a new org, in order.
var CaseStatuses = []string{"New", "Working", "Escalated", "Closed"}

// FeatureRequestStatuses are the Status__c values of the Feature_Request__c sample object.
var FeatureRequestStatuses = []string{"Submitted", "Planned", "In Development", "Delivered", "Declined"}

// backLinkFields are the connector's back-link fields every synced object carries.
func backLinkFields() []*fieldDef {
	jiraID := str("Jira_Issue_Id__c", "Jira Issue Id", 20)
	jiraID.ExternalID, jiraID.Unique, jiraID.Custom, jiraID.IDLookup = true, true, true, true
	jiraKey := str("Jira_Issue_Key__c", "Jira Issue Key", 32)
	jiraKey.ExternalID, jiraKey.Custom, jiraKey.IDLookup = true, true, true
	status := str("Jira_Status__c", "Jira Status", 64)
	status.Custom = true
	return []*fieldDef{jiraID, jiraKey, status}
}

func buildActivityObjects() (caseObj, featureRequest, task, event *objectDef) {
	custom := func(f *fieldDef) *fieldDef { f.Custom = true; return f }
	caseNumber := readOnly(str("CaseNumber", "Case Number", 30))
	caseNumber.NameField = true
	caseFields := []*fieldDef{
		caseNumber,
		str("Subject", "Subject", 255),
		typed("textarea", "Description", "Description", 32000),
		required(pick("Status", "Status", false, CaseStatuses...)),
		pick("Priority", "Priority", false, "High", "Medium", "Low"),
		pick("Origin", "Case Origin", false, "Phone", "Email", "Web"),
		pick("Type", "Case Type", false, "Problem", "Feature Request", "Question"),
		ref("AccountId", "Account ID", "Account", "Account", true),
		ref("ContactId", "Contact ID", "Contact", "Contact", true),
		readOnly(&fieldDef{Name: "IsClosed", Label: "Closed", Type: "boolean", DefaultedOnCreate: true}),
		owner(),
	}
	caseObj = newObject("Case", "Case", "Cases", "500", append(caseFields, backLinkFields()...)...)

	frName := required(str("Name", "Feature Request Name", 80))
	frName.NameField = true
	opp := ref("Opportunity__c", "Opportunity", "Opportunity", "Opportunity__r", true)
	opp.Custom = true
	frFields := []*fieldDef{
		frName,
		custom(typed("textarea", "Description__c", "Description", 32000)),
		opp,
		custom(pick("Priority__c", "Priority", false, "High", "Medium", "Low")),
		custom(pick("Status__c", "Status", false, FeatureRequestStatuses...)),
		custom(num("double", "Estimate_Days__c", "Estimate (days)", 6, 1)),
		owner(),
	}
	featureRequest = newObject("Feature_Request__c", "Feature Request", "Feature Requests", "a0F", append(frFields, backLinkFields()...)...)

	what := ref("WhatId", "Related To ID", "Opportunity", "What", true)
	what.ReferenceTo = []string{"Opportunity", "Case", "Account", "Feature_Request__c"}
	who := ref("WhoId", "Name ID", "Contact", "Who", true)
	task = newObject("Task", "Task", "Tasks", "00T",
		required(str("Subject", "Subject", 255)),
		typed("textarea", "Description", "Comments", 32000),
		pick("TaskSubtype", "Task Subtype", false, "Task", "Email", "Call"),
		pick("Status", "Status", false, "Not Started", "In Progress", "Completed"),
		&fieldDef{Name: "ActivityDate", Label: "Due Date Only", Type: "date", Nillable: true, Createable: true, Updateable: true},
		num("int", "CallDurationInSeconds", "Call Duration", 8, 0),
		what, who, owner(),
	)
	ewhat := ref("WhatId", "Related To ID", "Opportunity", "What", true)
	ewhat.ReferenceTo = what.ReferenceTo
	event = newObject("Event", "Event", "Events", "00U",
		required(str("Subject", "Subject", 255)),
		typed("textarea", "Description", "Description", 32000),
		pick("EventSubtype", "Event Subtype", false, "Event"),
		&fieldDef{Name: "StartDateTime", Label: "Start", Type: "datetime", Nillable: true, Createable: true, Updateable: true},
		&fieldDef{Name: "EndDateTime", Label: "End", Type: "datetime", Nillable: true, Createable: true, Updateable: true},
		num("int", "DurationInMinutes", "Duration", 8, 0),
		typed("string", "Location", "Location", 255),
		ewhat, ref("WhoId", "Name ID", "Contact", "Who", true), owner(),
	)
	return caseObj, featureRequest, task, event
}
