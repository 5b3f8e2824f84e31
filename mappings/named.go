package mappings

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Named transforms are the extension point for rules the mapping language does not cover (phone
// formats, country codes, site conventions): small Go functions registered by name with the
// processes that load mappings, and referenced from YAML with `transform: <name>`. Keeping them
// in Go, reviewed and tested like the rest of the connector, is what keeps scripting out of the
// mapping files.

// FieldContext tells a named transform which field of which record it is converting, so its
// errors can name them and it can read sibling fields of the same record when a rule needs them.
type FieldContext struct {
	// Pair, File and Line locate the field entry in the mapping files.
	Pair, File string
	Line       int
	// Record names the record, e.g. "Account 001…".
	Record string
	// SF is the Salesforce field (or expression text), Jira the Jira field, Type the mapping type
	// the transform's result is then converted with.
	SF, Jira, Type string
	// Get reads other fields of the same record (only fields the mapping already queries).
	Get Getter
}

// TransformError is how a named transform rejects a value: Code is one of the mapping record
// codes of the error catalog (CodeTransformFailed when empty or unknown), Msg says what is wrong
// with the value and Fix what the admin should do about it.
type TransformError struct {
	Code, Msg, Fix string
}

func (e *TransformError) Error() string {
	s := e.Msg
	if e.Fix != "" {
		s += " (fix: " + e.Fix + ")"
	}
	return s
}

// Reject is the usual way for a transform to refuse a value: a TransformError with
// CodeTransformFailed.
func Reject(fix, format string, args ...any) *TransformError {
	return &TransformError{Code: CodeTransformFailed, Msg: fmt.Sprintf(format, args...), Fix: fix}
}

// TransformFunc is a named transform: it receives a non-empty Salesforce value (string, float64,
// bool or json.Number, as read from the record) and returns the value to convert with the field's
// type, or a *TransformError. It must be deterministic and must not call out to other systems:
// syncs, dry runs, reconcile and `preflight --data` all rely on the same value giving the same
// result. An empty result (nil or "") is treated like an empty source value (default, required).
type TransformFunc func(fc FieldContext, value any) (any, error)

// CodeTransformFailed: a named transform rejected the value.
const CodeTransformFailed = "MAPPING_TRANSFORM_FAILED"

var transformNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

var registry = struct {
	sync.RWMutex
	fns map[string]TransformFunc
}{fns: map[string]TransformFunc{}}

// Register adds a named transform. Call it before mappings are loaded (at process start, before
// activities.New in the worker); loading checks every `transform:` name against the registry.
// Names are lower_snake_case; registering a name twice is an error, so two packages cannot
// silently replace each other's rule.
func Register(name string, fn TransformFunc) error {
	if !transformNameRE.MatchString(name) {
		return fmt.Errorf("mappings: transform name %q must be lower_snake_case (a-z, 0-9, _), at most 63 characters", name)
	}
	if fn == nil {
		return fmt.Errorf("mappings: transform %q has no function", name)
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.fns[name]; dup {
		return fmt.Errorf("mappings: transform %q is already registered", name)
	}
	registry.fns[name] = fn
	return nil
}

// MustRegister is Register for process start-up code, where a bad name is a programming error.
func MustRegister(name string, fn TransformFunc) {
	if err := Register(name, fn); err != nil {
		panic(err)
	}
}

// RegisterOnce registers fn unless the name is already registered (by this or another call), for
// start-up code that may run more than once in one process (tests that start several workers).
func RegisterOnce(name string, fn TransformFunc) error {
	if _, ok := LookupTransform(name); ok {
		return nil
	}
	return Register(name, fn)
}

// LookupTransform returns the transform registered under name.
func LookupTransform(name string) (TransformFunc, bool) {
	registry.RLock()
	defer registry.RUnlock()
	fn, ok := registry.fns[name]
	return fn, ok
}

// TransformNames lists the registered transforms, sorted (for messages and docs).
func TransformNames() []string {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]string, 0, len(registry.fns))
	for n := range registry.fns {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// NamedTransform is a field's resolved `transform:`.
type NamedTransform struct {
	Name string
	fn   TransformFunc
}

// transform reads `transform:` of a field entry: a registered name, on a field that flows
// Salesforce → Jira only (a transform has no inverse to write Jira values back with).
func (l *loader) transform(f *FieldMap, o *obj) {
	key, has := o.keys["transform"]
	if !has {
		return
	}
	name, n, ok := l.str(o, "transform")
	if !ok {
		return
	}
	name = strings.TrimSpace(name)
	fn, found := LookupTransform(name)
	if !found {
		names := TransformNames()
		fix := "use a registered name, or write the transform in Go and register it with mappings.Register in transforms.Register (see mappings/README.md)"
		if c := closest(name, names); c != "" {
			fix = fmt.Sprintf("did you mean %q? ", c) + fix
		}
		listed := strings.Join(names, ", ")
		if listed == "" {
			listed = "none"
		}
		l.add(n, fix, "unknown transform %q; registered transforms: %s", name, listed)
		return
	}
	if f.Direction != "" && f.Direction != DirSFToJira {
		l.add(key, "remove direction (named transforms run Salesforce → Jira), or map the field without transform:",
			"a named transform cannot write Jira values back to Salesforce (direction: %s)", f.Direction)
		return
	}
	if f.Type == TypeLookup {
		l.add(key, "remove transform: lookups carry the related record's Jira issue id unchanged", "transform does not apply to lookup fields")
		return
	}
	f.Transform = &NamedTransform{Name: name, fn: fn}
}

// recordCodes are the catalog codes a transform may raise for a record.
var recordCodes = map[string]bool{CodeTransformFailed: true, CodeTypeMismatch: true, CodeValueUnmapped: true,
	CodeValueTooLong: true, CodeRequiredValueMissing: true}

// applyTransform runs a field's named transform on a non-empty value. A panicking transform is
// reported as a record error rather than crashing the worker.
func (b *Bound) applyTransform(bf BoundField, rec string, val any, get Getter) (out any, err error) {
	t := bf.Transform
	fc := FieldContext{Pair: b.Mapping.Pair, File: b.Mapping.File, Line: bf.Line, Record: rec,
		SF: bf.SF, Jira: bf.Jira, Type: bf.Type, Get: get}
	fail := func(code, msg, fix string) error {
		if !recordCodes[code] {
			code = CodeTransformFailed
		}
		if fix == "" {
			fix = fmt.Sprintf("correct %s in Salesforce, or change the transform in %s", bf.SF, b.at(bf.Line))
		}
		return &RecordError{Code: code, Field: bf.SF, Record: rec,
			Msg: fmt.Sprintf("%s: transform %s: %s", b.label(bf), t.Name, msg), Fix: fix}
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fail(CodeTransformFailed, fmt.Sprintf("panicked on %s: %v", shortValue(val), p),
				fmt.Sprintf("fix the Go transform %s (it must return an error, not panic)", t.Name))
		}
	}()
	v, e := t.fn(fc, val)
	if e != nil {
		if te, ok := e.(*TransformError); ok {
			return nil, fail(te.Code, te.Msg, te.Fix)
		}
		return nil, fail(CodeTransformFailed, e.Error(), "")
	}
	return v, nil
}
