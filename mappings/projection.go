package mappings

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
)

// Projection is the canonical, comparable form of a record's mapped values keyed by Jira
// field id (plus "status" and "resolution"): the unit of echo suppression, three-way merge
// and verification. Empty values are "".
type Projection map[string]string

// FieldDiff is one changed field between two projections, as stored in audit rows.
type FieldDiff struct {
	Field, Before, After string
}

// Hash is a stable sha256 (hex) over the sorted keys and values, cheap to store per pair
// and to compare for "already in sync".
func (p Projection) Hash() string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		// length-prefixed so no two different projections share an encoding
		h.Write([]byte(strconv.Itoa(len(k)) + ":" + k + strconv.Itoa(len(p[k])) + ":" + p[k]))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Diff lists fields whose values differ from p (Before) to other (After), over the keys of
// either map (a missing key counts as ""), sorted by field.
func (p Projection) Diff(other Projection) []FieldDiff {
	keys := map[string]bool{}
	for k := range p {
		keys[k] = true
	}
	for k := range other {
		keys[k] = true
	}
	var out []FieldDiff
	for k := range keys {
		if p[k] != other[k] {
			out = append(out, FieldDiff{Field: k, Before: p[k], After: other[k]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}
