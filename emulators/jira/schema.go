package jira

// Static configuration of the emulated Jira site: project, issue types, fields,
// statuses, workflow transitions, resolutions, priorities and sprints.
//
// Identifiers (stable, documented for other packages and tests):
//
//	Custom fields:
//	  customfield_10015 "Start date"      date    com.atlassian.jira.plugin.system.customfieldtypes:datepicker
//	  customfield_10020 "Sprint"          array   com.pyxis.greenhopper.jira:gh-sprint (items json)
//	  customfield_10050 "Deal Amount"     number  com.atlassian.jira.plugin.system.customfieldtypes:float
//	  customfield_10051 "Probability"     number  com.atlassian.jira.plugin.system.customfieldtypes:float
//	  customfield_10052 "Customer"        string  com.atlassian.jira.plugin.system.customfieldtypes:textfield
//	  customfield_10053 "Salesforce URL"  string  com.atlassian.jira.plugin.system.customfieldtypes:url
//	  customfield_10054 "Industry"        string  textfield     customfield_10055 "Customer Contact" user  userpicker
//	  customfield_10056 "Contact Email"   string  textfield     customfield_10057 "Account Type"     string textfield
//	  customfield_10058 "Estimate (days)" number  float
//
//	Issue types: Epic 10000 (level 1), Story 10001, Task 10002, Bug 10003 (level 0), Subtask 10004 (level -1)
//	Statuses:    To Do 10000 (new), In Progress 3 (indeterminate), In Review 10001 (indeterminate), Done 10002 (done)
//	Transitions: 11 Start progress (To Do→In Progress), 21 Stop progress (In Progress→To Do),
//	             31 Request review (In Progress→In Review), 41 Done (In Progress→Done),
//	             51 Back to in progress (In Review→In Progress), 61 Approve (In Review→Done),
//	             71 Reopen (Done→To Do, clears resolution)
//	Resolutions: Done 10000, Won't Do 10001, Duplicate 10002, Cannot Reproduce 10003
//	Priorities:  Highest 1, High 2, Medium 3 (default), Low 4, Lowest 5
//	Sprints:     1 "SFJ Sprint 1" closed, 2 "SFJ Sprint 2" active, 3 "SFJ Sprint 3" future

// Exported field ids so tests, seeders and the demo do not hard-code magic strings.
const (
	// FieldStartDate is the "Start date" date-picker custom field.
	FieldStartDate = "customfield_10015"
	// FieldSprint is the Jira Software "Sprint" custom field.
	FieldSprint = "customfield_10020"
	// FieldDealAmount is the "Deal Amount" number custom field (Opportunity.Amount).
	FieldDealAmount = "customfield_10050"
	// FieldProbability is the "Probability" number custom field (Opportunity.Probability).
	FieldProbability = "customfield_10051"
	// FieldCustomer is the "Customer" single-line text custom field (Account.Name).
	FieldCustomer = "customfield_10052"
	// FieldSalesforceURL is the "Salesforce URL" URL custom field linking back to the record.
	FieldSalesforceURL = "customfield_10053"
	// FieldIndustry is the "Industry" text field (the Account's industry, denormalised).
	FieldIndustry = "customfield_10054"
	// FieldCustomerContact is the "Customer Contact" user picker (a Case's Contact as a Jira user).
	FieldCustomerContact = "customfield_10055"
	// FieldContactEmail is the "Contact Email" text field: the Contact when no Jira user has the e-mail.
	FieldContactEmail = "customfield_10056"
	// FieldAccountType is the "Account Type" text field (the Account's type, denormalised).
	FieldAccountType = "customfield_10057"
	// FieldEstimateDays is the "Estimate (days)" number field (a Feature Request's estimate).
	FieldEstimateDays = "customfield_10058"
)

const (
	statusToDo       = "10000"
	statusInProgress = "3"
	statusInReview   = "10001"
	statusDone       = "10002"

	resolutionDone = "10000"

	typeEpic    = "10000"
	typeSubtask = "10004"
)

type statusCategory struct {
	ID                   int
	Key, ColorName, Name string
}

var (
	catNew           = statusCategory{2, "new", "blue-gray", "To Do"}
	catIndeterminate = statusCategory{4, "indeterminate", "yellow", "In Progress"}
	catDone          = statusCategory{3, "done", "green", "Done"}
)

type statusDef struct {
	ID, Name, Description string
	Category              statusCategory
}

var statuses = []statusDef{
	{statusToDo, "To Do", "", catNew},
	{statusInProgress, "In Progress", "This issue is being actively worked on at the moment by the assignee.", catIndeterminate},
	{statusInReview, "In Review", "", catIndeterminate},
	{statusDone, "Done", "", catDone},
}

type transitionDef struct {
	ID, Name, From, To string
}

var transitions = []transitionDef{
	{"11", "Start progress", statusToDo, statusInProgress},
	{"21", "Stop progress", statusInProgress, statusToDo},
	{"31", "Request review", statusInProgress, statusInReview},
	{"41", "Done", statusInProgress, statusDone},
	{"51", "Back to in progress", statusInReview, statusInProgress},
	{"61", "Approve", statusInReview, statusDone},
	{"71", "Reopen", statusDone, statusToDo},
}

type namedDef struct {
	ID, Name, Description string
}

var resolutions = []namedDef{
	{"10000", "Done", "Work has been completed on this issue."},
	{"10001", "Won't Do", "This issue won't be actioned."},
	{"10002", "Duplicate", "The problem is a duplicate of an existing issue."},
	{"10003", "Cannot Reproduce", "All attempts at reproducing this issue failed, or not enough information was available to reproduce the issue."},
}

var priorities = []namedDef{
	{"1", "Highest", "This problem will block progress."},
	{"2", "High", "Serious problem that could block progress."},
	{"3", "Medium", "Has the potential to affect progress."},
	{"4", "Low", "Minor problem or easily worked around."},
	{"5", "Lowest", "Trivial problem with little or no impact on progress."},
}

const defaultPriority = "3"

type issueTypeDef struct {
	ID, Name, Description, Icon string
	Level                       int
}

var issueTypes = []issueTypeDef{
	{"10000", "Epic", "A big user story that needs to be broken down.", "epic", 1},
	{"10001", "Story", "Functionality or a feature expressed as a user goal.", "story", 0},
	{"10002", "Task", "A small, distinct piece of work.", "task", 0},
	{"10003", "Bug", "A problem or error.", "bug", 0},
	{"10004", "Subtask", "A small piece of work that's part of a larger task.", "subtask", -1},
}

type sprintDef struct {
	ID          int64
	Name, State string
	Start, End  string
}

var sprints = []sprintDef{
	{1, "SFJ Sprint 1", "closed", "2024-01-01T09:00:00.000Z", "2024-01-15T09:00:00.000Z"},
	{2, "SFJ Sprint 2", "active", "2024-01-15T09:00:00.000Z", "2024-01-29T09:00:00.000Z"},
	{3, "SFJ Sprint 3", "future", "2024-01-29T09:00:00.000Z", "2024-02-12T09:00:00.000Z"},
}

// fieldKind drives validation and rendering of a field value.
type fieldKind int

const (
	kindReadOnly   fieldKind = iota
	kindString               // summary
	kindADF                  // description
	kindDate                 // duedate, datepicker
	kindLabels               // labels
	kindPriority             // priority
	kindUser                 // assignee, reporter
	kindParent               // parent
	kindProject              // project (create only)
	kindIssueType            // issuetype
	kindNumber               // float custom field
	kindText                 // textfield custom field (255)
	kindURL                  // url custom field
	kindSprint               // gh-sprint
	kindResolution           // resolution (transition screen only)
	kindUserPicker           // single user picker custom field
)

type fieldDef struct {
	ID, Name                         string
	Custom                           bool
	Type, Items, System, CustomType  string
	CustomID                         int64
	Kind                             fieldKind
	Orderable, Navigable, Searchable bool
	Clauses                          []string
	// OnScreen says whether create/edit screens include the field.
	OnScreen bool
}

var fieldDefs = []fieldDef{
	{ID: "summary", Name: "Summary", Type: "string", System: "summary", Kind: kindString, OnScreen: true},
	{ID: "description", Name: "Description", Type: "string", System: "description", Kind: kindADF, OnScreen: true},
	{ID: "issuetype", Name: "Issue Type", Type: "issuetype", System: "issuetype", Kind: kindIssueType, OnScreen: true, Clauses: []string{"issuetype", "type"}},
	{ID: "project", Name: "Project", Type: "project", System: "project", Kind: kindProject, OnScreen: true},
	{ID: "parent", Name: "Parent", Type: "issuelink", System: "parent", Kind: kindParent, OnScreen: true},
	{ID: "duedate", Name: "Due date", Type: "date", System: "duedate", Kind: kindDate, OnScreen: true, Clauses: []string{"due", "duedate"}},
	{ID: "labels", Name: "Labels", Type: "array", Items: "string", System: "labels", Kind: kindLabels, OnScreen: true},
	{ID: "priority", Name: "Priority", Type: "priority", System: "priority", Kind: kindPriority, OnScreen: true},
	{ID: "assignee", Name: "Assignee", Type: "user", System: "assignee", Kind: kindUser, OnScreen: true},
	{ID: "reporter", Name: "Reporter", Type: "user", System: "reporter", Kind: kindUser, OnScreen: true},
	{ID: "creator", Name: "Creator", Type: "user", System: "creator"},
	{ID: "status", Name: "Status", Type: "status", System: "status"},
	{ID: "statusCategory", Name: "Status Category", Type: "statusCategory", System: "statusCategory"},
	{ID: "resolution", Name: "Resolution", Type: "resolution", System: "resolution", Kind: kindResolution},
	{ID: "resolutiondate", Name: "Resolved", Type: "datetime", System: "resolutiondate", Clauses: []string{"resolutiondate", "resolved"}},
	{ID: "created", Name: "Created", Type: "datetime", System: "created", Clauses: []string{"created", "createdDate"}},
	{ID: "updated", Name: "Updated", Type: "datetime", System: "updated", Clauses: []string{"updated", "updatedDate"}},
	{ID: "statuscategorychangedate", Name: "Status Category Changed", Type: "datetime", System: "statuscategorychangedate"},
	{ID: "subtasks", Name: "Sub-tasks", Type: "array", Items: "issuelinks", System: "subtasks"},
	{ID: "issuelinks", Name: "Linked Issues", Type: "array", Items: "issuelinks", System: "issuelinks"},
	{ID: "comment", Name: "Comment", Type: "comments-page", System: "comment"},
	{ID: "worklog", Name: "Log Work", Type: "array", Items: "worklog", System: "worklog"},
	{ID: FieldStartDate, Name: "Start date", Custom: true, Type: "date", CustomType: "com.atlassian.jira.plugin.system.customfieldtypes:datepicker", CustomID: 10015, Kind: kindDate, OnScreen: true},
	{ID: FieldSprint, Name: "Sprint", Custom: true, Type: "array", Items: "json", CustomType: "com.pyxis.greenhopper.jira:gh-sprint", CustomID: 10020, Kind: kindSprint, OnScreen: true},
	{ID: FieldDealAmount, Name: "Deal Amount", Custom: true, Type: "number", CustomType: "com.atlassian.jira.plugin.system.customfieldtypes:float", CustomID: 10050, Kind: kindNumber, OnScreen: true},
	{ID: FieldProbability, Name: "Probability", Custom: true, Type: "number", CustomType: "com.atlassian.jira.plugin.system.customfieldtypes:float", CustomID: 10051, Kind: kindNumber, OnScreen: true},
	{ID: FieldCustomer, Name: "Customer", Custom: true, Type: "string", CustomType: "com.atlassian.jira.plugin.system.customfieldtypes:textfield", CustomID: 10052, Kind: kindText, OnScreen: true},
	{ID: FieldIndustry, Name: "Industry", Custom: true, Type: "string", CustomType: "com.atlassian.jira.plugin.system.customfieldtypes:textfield", CustomID: 10054, Kind: kindText, OnScreen: true},
	{ID: FieldCustomerContact, Name: "Customer Contact", Custom: true, Type: "user", CustomType: "com.atlassian.jira.plugin.system.customfieldtypes:userpicker", CustomID: 10055, Kind: kindUserPicker, OnScreen: true},
	{ID: FieldContactEmail, Name: "Contact Email", Custom: true, Type: "string", CustomType: "com.atlassian.jira.plugin.system.customfieldtypes:textfield", CustomID: 10056, Kind: kindText, OnScreen: true},
	{ID: FieldAccountType, Name: "Account Type", Custom: true, Type: "string", CustomType: "com.atlassian.jira.plugin.system.customfieldtypes:textfield", CustomID: 10057, Kind: kindText, OnScreen: true},
	{ID: FieldEstimateDays, Name: "Estimate (days)", Custom: true, Type: "number", CustomType: "com.atlassian.jira.plugin.system.customfieldtypes:float", CustomID: 10058, Kind: kindNumber, OnScreen: true},
	{ID: FieldSalesforceURL, Name: "Salesforce URL", Custom: true, Type: "string", CustomType: "com.atlassian.jira.plugin.system.customfieldtypes:url", CustomID: 10053, Kind: kindURL, OnScreen: true},
}

var fieldByID = func() map[string]*fieldDef {
	m := make(map[string]*fieldDef, len(fieldDefs))
	for i := range fieldDefs {
		f := &fieldDefs[i]
		f.Orderable = f.OnScreen || f.ID == "resolution"
		f.Navigable = true
		f.Searchable = true
		if len(f.Clauses) == 0 {
			if f.Custom {
				f.Clauses = []string{"cf[" + itoa(f.CustomID) + "]", f.Name}
			} else {
				f.Clauses = []string{f.ID}
			}
		}
		m[f.ID] = f
	}
	return m
}()

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

func findStatus(id string) *statusDef {
	for i := range statuses {
		if statuses[i].ID == id {
			return &statuses[i]
		}
	}
	return nil
}

func findIssueType(id string) *issueTypeDef {
	for i := range issueTypes {
		if issueTypes[i].ID == id {
			return &issueTypes[i]
		}
	}
	return nil
}

func findNamed(list []namedDef, idOrName string, byName bool) *namedDef {
	for i := range list {
		if (!byName && list[i].ID == idOrName) || (byName && equalFold(list[i].Name, idOrName)) {
			return &list[i]
		}
	}
	return nil
}

func findSprint(id int64) *sprintDef {
	for i := range sprints {
		if sprints[i].ID == id {
			return &sprints[i]
		}
	}
	return nil
}
