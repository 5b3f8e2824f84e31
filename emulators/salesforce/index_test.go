package salesforce

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func queryIDs(t testing.TB, s *Server, q string) []string {
	t.Helper()
	s.mu.RLock()
	res, err := s.st.runQuery(q, "v62.0", false)
	s.mu.RUnlock()
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out := make([]string, 0, len(res.rows))
	for _, row := range res.rows {
		var m map[string]any
		if err := json.Unmarshal(row, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m["Id"].(string))
	}
	return out
}

// Keyset paging and Id IN lookups go through the id index and must answer exactly what the
// full scan answers, in time proportional to the page.
func TestIndexedIDPathsMatchScan(t *testing.T) {
	s := New(DemoOptions())
	s.Seed(SeedOptions{Accounts: 20, Opportunities: 5000})
	all := queryIDs(t, s, "SELECT Id FROM Opportunity WHERE IsDeleted = false ORDER BY Id")
	// The reference order: a sort the index does not touch (ORDER BY Id DESC, reversed).
	desc := queryIDs(t, s, "SELECT Id FROM Opportunity WHERE IsDeleted = false ORDER BY Id DESC")
	if len(all) != 5000 || len(desc) != 5000 {
		t.Fatalf("rows: %d %d", len(all), len(desc))
	}
	for i := range all {
		if all[i] != desc[len(desc)-1-i] {
			t.Fatalf("order differs at %d: %s vs %s", i, all[i], desc[len(desc)-1-i])
		}
	}
	var paged []string
	last := ""
	start := time.Now()
	for {
		q := "SELECT Id FROM Opportunity WHERE IsDeleted = false"
		if last != "" {
			q += " AND Id > '" + last + "'"
		}
		page := queryIDs(t, s, q+" ORDER BY Id LIMIT 700")
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		last = page[len(page)-1]
	}
	if strings.Join(paged, ",") != strings.Join(all, ",") {
		t.Fatalf("keyset pages differ from the full order (%d vs %d rows)", len(paged), len(all))
	}
	t.Logf("keyset paging over 5,000 rows: %s", time.Since(start))
	// Id IN with other conditions: same rows as the scan (a trailing OR defeats the index path).
	pick := []string{all[10], all[4000], all[77], "006000000000000AAA"}
	in := "('" + strings.Join(pick, "','") + "')"
	got := queryIDs(t, s, "SELECT Id FROM Opportunity WHERE Id IN "+in+" AND IsDeleted = false")
	want := queryIDs(t, s, "SELECT Id FROM Opportunity WHERE (Id IN "+in+" AND IsDeleted = false) OR Name = 'no such name'")
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != 3 {
		t.Fatalf("Id IN: %v vs scan %v", got, want)
	}
}
