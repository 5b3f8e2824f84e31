package salesforce

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// SeedOptions says how many sample records Seed adds; Opportunities and Contacts are spread over
// the Accounts (some are created when none exist).
type SeedOptions struct {
	Accounts      int `json:"accounts"`
	Contacts      int `json:"contacts"`
	Opportunities int `json:"opportunities"`
	// Cases, FeatureRequests (one per Opportunity up to this count) and Activities (Tasks and
	// Events: calls, e-mails and meetings on Opportunities and Cases) feed the rest of the default
	// mapping pack; they are seeded after the Opportunities and do not change them.
	Cases           int `json:"cases,omitempty"`
	FeatureRequests int `json:"feature_requests,omitempty"`
	Activities      int `json:"activities,omitempty"`
}

type seedAccount struct{ name, domain, city, country, industry, phone string }

var seedAccounts = []seedAccount{
	{"Müller & Söhne GmbH", "mueller-soehne.de", "München", "Germany", "Manufacturing", "+49 89 2190 4410"},
	{"株式会社サクラ", "sakura.co.jp", "東京", "Japan", "Electronics", "+81 3-5412-7788"},
	{"Ñandú Logística S.A.", "nandu-logistica.com.ar", "Buenos Aires", "Argentina", "Transportation", "+54 11 4312-9900"},
	{"Zoë's Café", "zoes-cafe.co.uk", "London", "United Kingdom", "Food & Beverage", "+44 20 7946 0321"},
	{"Acme Corporation", "acme.com", "San Francisco", "United States", "Technology", "+1 415-555-0142"},
	{"Nordlys Energi AS", "nordlys-energi.no", "Tromsø", "Norway", "Energy", "+47 77 61 20 00"},
	{"Société Générale d'Électricité", "sge-electricite.fr", "Lyon", "France", "Utilities", "+33 4 72 10 30 30"},
	{"Åkerberg & Co AB", "akerberg.se", "Göteborg", "Sweden", "Consulting", "+46 31 711 22 00"},
	{"Παπαδόπουλος Ναυτιλιακή", "papadopoulos-shipping.gr", "Πειραιάς", "Greece", "Shipping", "+30 210 412 5000"},
	{"Çelik Yapı A.Ş.", "celikyapi.com.tr", "İstanbul", "Turkey", "Construction", "+90 212 555 01 01"},
	{"北京星辰科技有限公司", "xingchen-tech.cn", "北京", "China", "Technology", "+86 10 6552 8800"},
	{"Kowalski i Synowie Sp. z o.o.", "kowalski-synowie.pl", "Kraków", "Poland", "Machinery", "+48 12 345 67 89"},
	{"O'Brien Healthcare Ltd", "obrien-health.ie", "Dublin", "Ireland", "Healthcare", "+353 1 555 0199"},
	{"Globex Financial", "globex.com", "New York", "United States", "Finance", "+1 212-555-0187"},
	{"Initech Software", "initech.io", "Austin", "United States", "Technology", "+1 512-555-0110"},
	{"São Paulo Telecom", "sptelecom.com.br", "São Paulo", "Brazil", "Telecommunications", "+55 11 3003-4000"},
	{"Dvořák Strojírny s.r.o.", "dvorak-strojirny.cz", "Brno", "Czech Republic", "Manufacturing", "+420 541 000 111"},
	{"한빛 바이오", "hanbit-bio.kr", "서울", "South Korea", "Biotechnology", "+82 2-555-0173"},
	{"Nguyễn Trading Co.", "nguyen-trading.vn", "Hà Nội", "Vietnam", "Retail", "+84 24 3825 1234"},
	{"Umbrella Insurance Group", "umbrella-ins.com", "Chicago", "United States", "Insurance", "+1 312-555-0155"},
}

var (
	seedFirst = [][2]string{{"José", "jose"}, {"François", "francois"}, {"Søren", "soren"}, {"Zoë", "zoe"},
		{"Jürgen", "juergen"}, {"Łukasz", "lukasz"}, {"Siobhán", "siobhan"}, {"Hiroshi", "hiroshi"},
		{"Ana", "ana"}, {"Mei", "mei"}, {"Priya", "priya"}, {"Oluwaseun", "oluwaseun"}, {"Chloé", "chloe"},
		{"Mateo", "mateo"}, {"Ingrid", "ingrid"}, {"Dmitri", "dmitri"}}
	seedLast = [][2]string{{"García", "garcia"}, {"Müller", "mueller"}, {"Nakamura", "nakamura"},
		{"O'Connor", "oconnor"}, {"Dubois", "dubois"}, {"Nowak", "nowak"}, {"Kim", "kim"}, {"Rossi", "rossi"},
		{"Andersson", "andersson"}, {"Silva", "silva"}, {"Yılmaz", "yilmaz"}, {"Papadopoulos", "papadopoulos"},
		{"Nguyễn", "nguyen"}, {"Smith", "smith"}}
	seedTitles   = []string{"CTO", "VP Engineering", "Head of Procurement", "IT Manager", "CFO", "Operations Director", "Project Lead", "Einkaufsleiterin"}
	seedProducts = []string{"Platform Subscription", "Implementation Services", "Enterprise Licence Renewal",
		"Data Migration", "Premium Support", "Analytics Add-on", "Fleet Expansion", "Pilot Project", "Integration Bundle"}
	seedOppTypes   = []string{"New Customer", "Existing Customer - Upgrade", "Existing Customer - Replacement", "Existing Customer - Downgrade"}
	seedSources    = []string{"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"}
	seedNextSteps  = []string{"Schedule technical deep-dive", "Send revised quote", "Security questionnaire", "Legal review of MSA", "Executive sponsor call"}
	seedBaseDate   = time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	seedAcctTypes  = []string{"Prospect", "Customer - Direct", "Customer - Channel", "Technology Partner"}
	seedDescIntros = []string{"Customer evaluates a replacement for their legacy system.", "Expansion into two new regions — needs localisation (ä, é, ß, 日本語).", "Renewal with upsell; champion changed roles last quarter.", "Competitive deal against an incumbent vendor."}
)

// Seed adds deterministic, realistic sample data (unicode account names, contacts with e-mails
// under the account's domain, opportunities spread round-robin over every default stage) with
// edge cases at fixed positions: every 10th Opportunity from #4 has quotes, ampersands and angle
// brackets in Name/NextStep, from #6 emoji and mixed scripts, from #10 no Amount, Description or
// NextStep; every 100th from #8 a Description of ~31,990 characters.
func (s *Server) Seed(o SeedOptions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seed(o)
}

// seed does the work of Seed and returns what it created. Caller holds s.mu.
func (s *Server) seed(o SeedOptions) SeedOptions {
	now := s.now()
	rng := s.seedRand
	created := SeedOptions{}
	acc := s.schema.object("Account")
	con := s.schema.object("Contact")
	opp := s.schema.object("Opportunity")
	accounts := s.st.tables["Account"]
	nAcc := o.Accounts
	if nAcc <= 0 && accounts.live == 0 && (o.Contacts > 0 || o.Opportunities > 0) {
		nAcc = min(max(1, (o.Contacts+o.Opportunities)/20), 500)
	}
	for i := 0; i < nAcc; i++ {
		k := len(accounts.rows)
		base := seedAccounts[k%len(seedAccounts)]
		name, domain := base.name, base.domain
		if div := k / len(seedAccounts); div > 0 {
			name = fmt.Sprintf("%s – Division %d", base.name, div+1)
			domain = fmt.Sprintf("div%d.%s", div+1, base.domain)
		}
		s.st.insertRaw(acc, map[string]any{
			"Name": name, "Industry": base.industry, "Type": seedAcctTypes[rng.Intn(len(seedAcctTypes))],
			"BillingCity": base.city, "BillingCountry": base.country, "Website": "https://www." + domain,
			"Phone": base.phone, "AnnualRevenue": float64((rng.Intn(5000) + 10) * 100000),
			"NumberOfEmployees": float64(rng.Intn(20000) + 12),
			"Description":       base.name + " — " + base.industry + " customer based in " + base.city + ".\nPrimary domain: " + domain,
		}, now)
		created.Accounts++
	}
	live := make([]*record, 0, accounts.live)
	for _, r := range accounts.rows {
		if !r.deleted {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return created
	}
	domainOf := func(r *record) string {
		w, _ := r.vals["Website"].(string)
		return strings.TrimPrefix(w, "https://www.")
	}
	for i := 0; i < o.Contacts; i++ {
		a := live[(i+len(s.st.tables["Contact"].rows))%len(live)]
		f := seedFirst[rng.Intn(len(seedFirst))]
		l := seedLast[rng.Intn(len(seedLast))]
		n := len(s.st.tables["Contact"].rows)
		email := fmt.Sprintf("%s.%s@%s", f[1], l[1], domainOf(a))
		if n >= len(seedFirst)*len(seedLast) {
			email = fmt.Sprintf("%s.%s%d@%s", f[1], l[1], n, domainOf(a))
		}
		s.st.insertRaw(con, map[string]any{
			"FirstName": f[0], "LastName": l[0], "Email": email, "AccountId": a.id,
			"Title": seedTitles[rng.Intn(len(seedTitles))], "Phone": a.vals["Phone"],
		}, now)
		created.Contacts++
	}
	opps := s.st.tables["Opportunity"]
	for i := 0; i < o.Opportunities; i++ {
		n := len(opps.rows)
		a := live[n%len(live)]
		stage := defaultStages[n%len(defaultStages)]
		product := seedProducts[rng.Intn(len(seedProducts))]
		close := seedBaseDate.AddDate(0, 0, rng.Intn(540))
		accName, _ := a.vals["Name"].(string)
		name := truncateRunes(fmt.Sprintf("%s – %s %d", accName, product, close.Year()), 120)
		vals := map[string]any{
			"Name": name, "AccountId": a.id, "StageName": stage.Name, "CloseDate": close.Format("2006-01-02"),
			"Amount":      float64(rng.Intn(1990)+10)*500 + float64(rng.Intn(100))/100,
			"Type":        seedOppTypes[rng.Intn(len(seedOppTypes))],
			"LeadSource":  seedSources[rng.Intn(len(seedSources))],
			"Description": fmt.Sprintf("%s\nScope: %s for %s.\n- Decision by %s\n- Opportunity #%d", seedDescIntros[rng.Intn(len(seedDescIntros))], product, accName, close.Format("2 Jan 2006"), n+1),
		}
		if !stage.Closed {
			vals["NextStep"] = seedNextSteps[rng.Intn(len(seedNextSteps))]
		}
		// Edge cases a connector must survive, at fixed positions so every seed of ≥10 has them.
		switch {
		case n%100 == 7:
			vals["Description"] = seedLongDescription
		case n%10 == 3:
			vals["Name"] = truncateRunes(fmt.Sprintf(`%s – "Platinum" Renewal & Expansion <Phase 2> 100%% O'Brien`, accName), 120)
			vals["NextStep"] = `Send "final" quote & SOW; check <T&Cs>`
		case n%10 == 5:
			vals["Name"] = truncateRunes(fmt.Sprintf("🚀 %s – Launch ✨ 日本語 Ünïcødé 👩‍💻", accName), 120)
			vals["Description"] = "Emoji 🎉🔥💯, RTL שלום مرحبا, CJK 中文 한국어, combining e\u0301 → é, math ∑∞≠, tab\tand\nnewline."
		case n%10 == 9:
			delete(vals, "Amount")
			delete(vals, "Description")
			delete(vals, "NextStep")
		}
		s.st.insertRaw(opp, vals, now)
		created.Opportunities++
	}
	s.seedMore(o, &created, live, now)
	return created
}

// seedLongDescription is just under Opportunity.Description's 32,000-character limit.
var seedLongDescription = func() string {
	const line = "Long requirements text – Anforderungen, exigences, 要件, требования; line "
	var b strings.Builder
	n := 0
	for i := 0; ; i++ {
		next := fmt.Sprintf("%s%04d.\n", line, i)
		if n+utf8.RuneCountInString(next) > 31990 {
			break
		}
		n += utf8.RuneCountInString(next)
		b.WriteString(next)
	}
	return b.String()
}()

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
