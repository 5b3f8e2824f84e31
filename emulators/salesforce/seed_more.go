package salesforce

import (
	"fmt"
	"math/rand"
	"time"
)

var (
	seedCaseSubjects = []string{"Login fails after password reset", "Export to CSV drops accented characters (é, ü, ß)",
		"Dashboard slow with more than 10,000 rows", "Webhook retries flood the endpoint", "Invoice PDF shows wrong currency",
		"SSO redirect loop on Safari", "Mobile app crashes on 日本語 input"}
	seedFeatureNames = []string{"SAML single sign-on", "Bulk export API", "Audit log retention settings", "Custom fields on invoices",
		"Data residency in the EU", "Slack notifications", "Offline mode for the mobile app"}
	seedCallSubjects    = []string{"Call: pricing questions", "Call: technical deep-dive", "Call: renewal check-in"}
	seedEmailSubjects   = []string{"Email: revised quote sent", "Email: security questionnaire", "Email: follow-up on demo"}
	seedMeetingSubjects = []string{"Meeting: onsite workshop", "Meeting: executive sponsor", "Meeting: kickoff"}
)

// seedMore adds the Cases, Feature Requests, Tasks and Events of o. It draws from its own random
// source so the Opportunities and Contacts of a seed stay the same whether or not these are added.
func (s *Server) seedMore(o SeedOptions, created *SeedOptions, accounts []*record, now time.Time) {
	if o.Cases <= 0 && o.FeatureRequests <= 0 && o.Activities <= 0 {
		return
	}
	rng := rand.New(rand.NewSource(7))
	contactsOf := map[string][]*record{}
	for _, c := range s.st.tables["Contact"].rows {
		if !c.deleted {
			acc, _ := c.vals["AccountId"].(string)
			contactsOf[acc] = append(contactsOf[acc], c)
		}
	}
	var opps []*record
	for _, r := range s.st.tables["Opportunity"].rows {
		if !r.deleted {
			opps = append(opps, r)
		}
	}
	caseObj := s.schema.object("Case")
	for i := 0; i < o.Cases && len(accounts) > 0; i++ {
		n := len(s.st.tables["Case"].rows)
		a := accounts[n%len(accounts)]
		vals := map[string]any{
			"CaseNumber": fmt.Sprintf("%08d", 1001+n), "Subject": seedCaseSubjects[n%len(seedCaseSubjects)],
			"Description": fmt.Sprintf("Reported by the customer.\n\nSteps:\n- open the app\n- try again (case #%d)", n+1),
			"Status":      CaseStatuses[n%len(CaseStatuses)], "Priority": []string{"High", "Medium", "Low"}[rng.Intn(3)],
			"Origin": []string{"Phone", "Email", "Web"}[rng.Intn(3)], "Type": "Problem", "AccountId": a.id,
			"IsClosed": CaseStatuses[n%len(CaseStatuses)] == "Closed",
		}
		if cs := contactsOf[a.id]; len(cs) > 0 && n%5 != 4 { // every 5th Case has no contact
			vals["ContactId"] = cs[n%len(cs)].id
		}
		s.st.insertRaw(caseObj, vals, now)
		created.Cases++
	}
	fr := s.schema.object("Feature_Request__c")
	for i := 0; i < o.FeatureRequests && len(opps) > 0; i++ {
		n := len(s.st.tables["Feature_Request__c"].rows)
		op := opps[n%len(opps)]
		vals := map[string]any{
			"Name":           seedFeatureNames[n%len(seedFeatureNames)],
			"Description__c": fmt.Sprintf("Asked for by the customer of %v.\nNeeded before go-live.", op.vals["Name"]),
			"Opportunity__c": op.id, "Priority__c": []string{"High", "Medium", "Low"}[rng.Intn(3)],
			"Status__c":        FeatureRequestStatuses[n%len(FeatureRequestStatuses)],
			"Estimate_Days__c": float64(rng.Intn(40)+1) / 2,
		}
		s.st.insertRaw(fr, vals, now)
		created.FeatureRequests++
	}
	task, event := s.schema.object("Task"), s.schema.object("Event")
	var cases []*record
	for _, r := range s.st.tables["Case"].rows {
		if !r.deleted {
			cases = append(cases, r)
		}
	}
	for i := 0; i < o.Activities && (len(opps) > 0 || len(cases) > 0); i++ {
		n := len(s.st.tables["Task"].rows) + len(s.st.tables["Event"].rows)
		parent := func() *record {
			if len(cases) > 0 && (n%4 == 3 || len(opps) == 0) {
				return cases[n%len(cases)]
			}
			return opps[n%len(opps)]
		}()
		day := seedBaseDate.AddDate(0, 0, n%300)
		switch n % 3 {
		case 0: // a logged call
			s.st.insertRaw(task, map[string]any{"Subject": seedCallSubjects[n%len(seedCallSubjects)], "TaskSubtype": "Call", "Status": "Completed",
				"Description": "Discussed timeline and pricing; customer wants a pilot.", "ActivityDate": day.Format("2006-01-02"),
				"CallDurationInSeconds": float64(300 + rng.Intn(1800)), "WhatId": parent.id}, now)
		case 1: // an e-mail
			s.st.insertRaw(task, map[string]any{"Subject": seedEmailSubjects[n%len(seedEmailSubjects)], "TaskSubtype": "Email", "Status": "Completed",
				"Description": "Hello,\n\nplease find the revised quote attached.\n\nBest regards", "ActivityDate": day.Format("2006-01-02"), "WhatId": parent.id}, now)
		default: // a meeting with a duration (every third one without: an all-day note)
			start := day.Add(time.Duration(9+rng.Intn(8)) * time.Hour)
			mins := 30 * (1 + rng.Intn(4))
			vals := map[string]any{"Subject": seedMeetingSubjects[n%len(seedMeetingSubjects)], "EventSubtype": "Event",
				"Description": "Agenda: demo, open questions, next steps.", "Location": "Video call",
				"StartDateTime": start.Format("2006-01-02T15:04:05.000+0000"), "EndDateTime": start.Add(time.Duration(mins) * time.Minute).Format("2006-01-02T15:04:05.000+0000"),
				"DurationInMinutes": float64(mins), "WhatId": parent.id}
			if n%9 == 8 {
				delete(vals, "EndDateTime")
				delete(vals, "DurationInMinutes")
				delete(vals, "Location")
			}
			s.st.insertRaw(event, vals, now)
		}
		created.Activities++
	}
}
