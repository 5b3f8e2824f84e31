// Package transforms holds this installation's named transforms: Go rules for the odd field a
// mapping file cannot express, referenced from YAML as `transform: <name>`. The generic ones
// (phone_e164, country_code, sales_region) ship inside the mappings package; rules specific to a
// site belong here, so the worker and the CLI (mapping validate, preflight --data, dry runs)
// register exactly the same set by calling Register once at start-up.
package transforms

import (
	"fmt"
	"strings"
	"sync"

	"github.com/sfjira/sfjira/mappings"
)

// site lists this installation's transforms by name; add yours here.
var site = map[string]mappings.TransformFunc{
	"salesforce_id18": SalesforceID18,
}

var (
	registerOnce sync.Once
	registerErr  error
)

// Register adds the transforms of this package to the mappings registry. It must run before any
// mapping is loaded. It registers once per process (a second call returns the first result), and
// a name that is already taken (a built-in) is an error rather than silently ignored.
func Register() error {
	registerOnce.Do(func() {
		for name, fn := range site {
			if err := mappings.Register(name, fn); err != nil {
				registerErr = err
				return
			}
		}
	})
	return registerErr
}

const id18Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// SalesforceID18 turns a 15-character, case-sensitive Salesforce id (as reports, exports and
// people copy it) into the 18-character case-insensitive form the API returns, so Jira fields
// holding record ids compare equal whatever form was pasted. An 18-character id is checked and
// returned unchanged; anything else is rejected.
func SalesforceID18(fc mappings.FieldContext, v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, &mappings.TransformError{Code: mappings.CodeTypeMismatch,
			Msg: fmt.Sprintf("a Salesforce id must be text, got %v", v), Fix: "map an id, lookup or text field"}
	}
	id := strings.TrimSpace(s)
	if len(id) != 15 && len(id) != 18 {
		return nil, mappings.Reject(fmt.Sprintf("put a 15- or 18-character record id in %s", fc.SF),
			"%q is not a Salesforce id (%d characters)", id, len(id))
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return nil, mappings.Reject(fmt.Sprintf("put a record id in %s (letters and digits only)", fc.SF), "%q is not a Salesforce id", id)
		}
	}
	// Each 5-character chunk contributes one suffix letter: bit i is set when its i-th
	// character is an upper-case letter.
	var suffix [3]byte
	for chunk := 0; chunk < 3; chunk++ {
		n := 0
		for i := 0; i < 5; i++ {
			if c := id[chunk*5+i]; c >= 'A' && c <= 'Z' {
				n |= 1 << i
			}
		}
		suffix[chunk] = id18Alphabet[n]
	}
	if len(id) == 18 {
		if !strings.EqualFold(id[15:], string(suffix[:])) {
			return nil, mappings.Reject(fmt.Sprintf("copy the id again into %s; its last three characters do not match the first fifteen", fc.SF),
				"%q has a wrong checksum suffix (want %s)", id, suffix[:])
		}
		return id[:15] + string(suffix[:]), nil
	}
	return id + string(suffix[:]), nil
}
