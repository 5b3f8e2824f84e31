package jira

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// SeedOptions says what POST /__admin/seed (and Seed) creates.
type SeedOptions struct {
	// Issues is how many issues to create (1..100000).
	Issues int `json:"issues"`
	// Project must be the emulator's project key (default it).
	Project string `json:"project,omitempty"`
	// IssueType is an issue type name or id (default Epic). Sub-tasks get one Task parent
	// per 10 sub-tasks.
	IssueType string `json:"issue_type,omitempty"`
	// Seed makes the generated data reproducible (default 42).
	Seed int64 `json:"seed,omitempty"`
	// Comments is the maximum number of comments per issue (default 2; -1 for none).
	Comments int `json:"comments,omitempty"`
	// Webhooks makes seeding fire webhook events like REST creates do (default false).
	Webhooks bool `json:"webhooks,omitempty"`
}

// SeedResult reports what Seed created.
type SeedResult struct {
	Created  int      `json:"created"`
	Keys     []string `json:"keys"`
	Comments int      `json:"comments"`
}

var seedCustomers = []string{"Acme Corp", "Globex", "Initech", "Umbrella GmbH", "Société Générale d'Exemple", "Müller & Söhne KG", "株式会社サンプル", "Ωmega Labs", "Café Olé 🚀", "O'Reilly & Partners <EU>"}

var seedTopics = []string{"Renewal", "Expansion", "Pilot", "Migration", "Onboarding", "Upsell", "Integration", "Audit"}

var seedEdgeSummaries = []string{
	"Déjà vu: naïve café façade — Zürich rollout",
	"🚀 Launch 🎉 with emoji 👩‍💻 and flags 🇯🇵",
	"日本語の件名とテキスト",
	"Quotes \"double\" and 'single' & <angle> brackets",
	"Right-to-left: مرحبا بالعالم",
	"Combining: e\u0301 vs é, zero\u200bwidth",
}

func adfParagraphs(paras ...string) map[string]any {
	content := make([]any, 0, len(paras))
	for _, p := range paras {
		content = append(content, map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": p}}})
	}
	return map[string]any{"type": "doc", "version": json.Number("1"), "content": content}
}

// Seed creates realistic issues directly (no HTTP); it is the Go equivalent of
// POST /__admin/seed. Edge cases are mixed in deterministically: unicode and emoji,
// a 255-character summary, a ~30,000-character description, and issues with every
// optional field empty.
func (s *Server) Seed(o SeedOptions) (*SeedResult, error) {
	if o.Issues <= 0 || o.Issues > 100000 {
		return nil, fmt.Errorf("issues must be between 1 and 100000")
	}
	if o.Project != "" && !s.matchProject(o.Project) {
		return nil, fmt.Errorf("no project could be found with key '%s'", o.Project)
	}
	if o.IssueType == "" {
		o.IssueType = "Epic"
	}
	typ := s.resolveIssueType(map[string]any{"name": o.IssueType})
	if typ == nil {
		typ = s.resolveIssueType(map[string]any{"id": o.IssueType})
	}
	if typ == nil {
		return nil, fmt.Errorf("issue type '%s' does not exist", o.IssueType)
	}
	if o.Seed == 0 {
		o.Seed = 42
	}
	if o.Comments == 0 {
		o.Comments = 2
	}
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x5EED))
	base := "http://" + "localhost"
	lag := s.searchLag()
	res := &SeedResult{Keys: make([]string, 0, o.Issues)}

	s.mu.Lock()
	defer s.mu.Unlock()
	if !o.Webhooks {
		s.muteEvents = true
		defer func() { s.muteEvents = false }()
	}
	var users []string
	for _, id := range s.userOrder {
		if u := s.users[id]; u.Active && u.AccountType == "atlassian" {
			users = append(users, id)
		}
	}
	var parentKey string
	wfd := s.wf().forType(typ.ID)
	for i := 0; i < o.Issues; i++ {
		if typ.Level < 0 && i%10 == 0 {
			pr, errs := s.createLocked(base, &issueUpdate{Fields: map[string]any{
				"project": map[string]any{"key": s.projectKey}, "issuetype": map[string]any{"name": "Task"},
				"summary": fmt.Sprintf("Parent task %d for seeded sub-tasks", i/10+1)}}, lag)
			if errs != nil {
				return nil, fmt.Errorf("seed parent: %v", errs)
			}
			parentKey = pr.Key
		}
		cust := seedCustomers[rng.IntN(len(seedCustomers))]
		fields := map[string]any{
			"project":   map[string]any{"key": s.projectKey},
			"issuetype": map[string]any{"id": typ.ID},
			"summary":   fmt.Sprintf("%s – %s %d", cust, seedTopics[rng.IntN(len(seedTopics))], i+1),
		}
		if parentKey != "" {
			fields["parent"] = map[string]any{"key": parentKey}
		}
		switch {
		case i%50 == 7: // every optional field empty
		case i%50 == 13:
			fields["summary"] = strings.Repeat("Long summary ", 30)[:255]
			fields["description"] = adfParagraphs(strings.Repeat("Very long description text with ünïcødé and emoji 🧪. ", 540))
		default:
			if i%50 < len(seedEdgeSummaries) {
				fields["summary"] = seedEdgeSummaries[i%50]
			}
			fields["description"] = adfParagraphs(
				fmt.Sprintf("Opportunity for %s. Expected close in Q%d.", cust, rng.IntN(4)+1),
				"Next steps: demo, security review, order form ✅")
			fields[FieldCustomer] = cust
			fields[FieldDealAmount] = json.Number(fmt.Sprintf("%d.%02d", rng.IntN(500000)+1000, rng.IntN(100)))
			fields[FieldProbability] = json.Number(fmt.Sprint(rng.IntN(11) * 10))
			fields["duedate"] = time.Date(2025, time.Month(rng.IntN(12)+1), rng.IntN(28)+1, 0, 0, 0, 0, time.UTC).Format(jiraDate)
			fields["labels"] = []any{"seeded", []string{"enterprise", "smb", "mid-market"}[rng.IntN(3)]}
			fields["priority"] = map[string]any{"id": priorities[rng.IntN(len(priorities))].ID}
			if len(users) > 0 && rng.IntN(4) != 0 {
				fields["assignee"] = map[string]any{"accountId": users[rng.IntN(len(users))]}
			}
		}
		cr, errs := s.createLocked(base, &issueUpdate{Fields: fields}, lag)
		if errs != nil {
			return nil, fmt.Errorf("seed issue %d: %v %v", i, errs.ErrorMessages, errs.Errors)
		}
		is := s.byKey[cr.Key]
		// walk a few transitions so statuses are spread over the workflow
		for steps := rng.IntN(3); steps > 0; steps-- {
			av := wfd.available(is.d.StatusID)
			if len(av) == 0 {
				break
			}
			before := is.d
			s.applyTransition(is, av[rng.IntN(len(av))], "", is.updated)
			s.issueChangedLocked(base, before, is, evTransition)
		}
		if o.Comments > 0 && i%50 != 7 {
			for c := rng.IntN(o.Comments + 1); c > 0; c-- {
				s.addCommentLocked(base, is, adfParagraphs(fmt.Sprintf("Call notes %d: customer asked about pricing — «tiered» 💬", c)), nil, is.updated)
				res.Comments++
			}
		}
		res.Keys = append(res.Keys, cr.Key)
	}
	res.Created = len(res.Keys)
	return res, nil
}

func (s *Server) handleAdminSeed(w http.ResponseWriter, r *http.Request) {
	var o SeedOptions
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		writeMsg(w, 400, "invalid seed document: "+err.Error())
		return
	}
	res, err := s.Seed(o)
	if err != nil {
		writeMsg(w, 400, "invalid seed document: "+err.Error())
		return
	}
	if len(res.Keys) > 100 {
		res.Keys = append(res.Keys[:50], res.Keys[len(res.Keys)-50:]...)
	}
	writeJSON(w, 201, res)
}
