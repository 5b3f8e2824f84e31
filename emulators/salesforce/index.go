package salesforce

import (
	"sort"
	"strings"
)

// Query planning for the two access paths bulk sync leans on, so the emulator answers them in
// time proportional to the page rather than to the table (Salesforce itself serves both from
// the primary-key index):
//   - WHERE … Id IN (…) / Id = '…' (a top-level conjunct): the candidates come from the id map;
//   - ORDER BY Id [ASC] with an optional Id > / >= '…' conjunct (keyset paging) and LIMIT: rows
//     are walked in id order from the bound and the walk stops once the page is full.
// Results are the same as a full scan: the remaining conditions are still evaluated per row.

// sortedByID returns the table's rows ordered as ORDER BY Id orders them (case-insensitive),
// building the order on first use after a change. Callers hold the server's read lock at least;
// the table's own lock guards the cache.
func (t *table) sortedByID() []*record {
	t.orderMu.Lock()
	defer t.orderMu.Unlock()
	if t.byIDOrder == nil || len(t.byIDOrder) != len(t.rows) {
		type keyed struct {
			k string
			r *record
		}
		ks := make([]keyed, len(t.rows))
		for i, r := range t.rows {
			ks[i] = keyed{strings.ToLower(r.id), r}
		}
		sort.Slice(ks, func(i, j int) bool { return ks[i].k < ks[j].k })
		out := make([]*record, len(ks))
		for i := range ks {
			out[i] = ks[i].r
		}
		t.byIDOrder = out
	}
	return t.byIDOrder
}

// invalidateOrder drops the cached id order after rows were added or removed.
func (t *table) invalidateOrder() {
	t.orderMu.Lock()
	t.byIDOrder = nil
	t.orderMu.Unlock()
}

// isOwnID reports whether a condition's field is the queried object's own Id.
func isOwnID(c *cond) bool {
	return c != nil && c.ref != nil && len(c.ref.rels) == 0 && c.ref.field != nil && c.ref.field.Name == "Id"
}

// conjuncts lists the top-level AND terms of a WHERE clause.
func conjuncts(w *cond) []*cond {
	if w == nil {
		return nil
	}
	if w.kind == cAnd {
		return w.kids
	}
	return []*cond{w}
}

// idCandidates returns the rows named by a top-level Id IN (…) or Id = '…' conjunct, in table
// order, or ok=false when the clause has none.
func (t *table) idCandidates(w *cond) (rows []*record, ok bool) {
	for _, c := range conjuncts(w) {
		if !isOwnID(c) || c.neg {
			continue
		}
		if !(c.kind == cIn || (c.kind == cCmp && c.op == "=")) {
			continue
		}
		seen := map[*record]bool{}
		for _, v := range c.vals {
			s, _ := v.(string)
			if r := t.byID[s]; r != nil && !seen[r] {
				seen[r] = true
				rows = append(rows, r)
			}
		}
		// Keep insertion order, as the scan would.
		pos := make(map[*record]int, len(rows))
		for _, r := range rows {
			pos[r] = r.seq
		}
		sort.Slice(rows, func(i, j int) bool { return pos[rows[i]] < pos[rows[j]] })
		return rows, true
	}
	return nil, false
}

// idOrderStart returns where a walk in id order may start: past the bound of a top-level
// Id > '…' or Id >= '…' conjunct, or at 0.
func idOrderStart(sorted []*record, w *cond) int {
	start := 0
	for _, c := range conjuncts(w) {
		if !isOwnID(c) || c.kind != cCmp || (c.op != ">" && c.op != ">=") || len(c.vals) != 1 {
			continue
		}
		b, _ := c.vals[0].(string)
		if b == "" {
			continue
		}
		lb := strings.ToLower(b)
		i := sort.Search(len(sorted), func(i int) bool {
			id := strings.ToLower(sorted[i].id)
			if c.op == ">" {
				return id > lb
			}
			return id >= lb
		})
		start = max(start, i)
	}
	return start
}
