package activities

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"

	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
)

// PII governance (design §4.10): values of mapping fields marked `pii: true` never reach logs,
// error messages or Temporal failures in clear, and the audit trail keeps a keyed hash of them
// (audit.pii: hash, the default) instead of the value.

// PIIHashPrefix starts an audit value that is a keyed hash: pii:hmac-sha256:<key id>:<hex>.
const PIIHashPrefix = "pii:hmac-sha256:"

// PIIRedactedValue is what the audit keeps for a PII value when hashing is asked for but no
// keyring is configured: an unkeyed hash of an e-mail can be reversed by guessing, so nothing of
// the value is kept.
const PIIRedactedValue = "pii:redacted"

// IsPIIProtected reports whether an audit value is a hash or a redaction rather than a value, so
// rollback and reports do not treat it as something they can write back.
func IsPIIProtected(v *string) bool {
	return v != nil && (strings.HasPrefix(*v, PIIHashPrefix) || *v == PIIRedactedValue)
}

// piiKeys returns the field keys under which the pair's PII values travel: the Salesforce
// fields, the Jira fields as written in the file and, once the pair is bound, their Jira ids
// (user fields' fallback text fields included). Nil when the pair has no PII field.
func (s *MappingSet) piiKeys(ctx context.Context, pair string) (map[string]bool, error) {
	m, err := s.Mapping(pair)
	if err != nil {
		return nil, err
	}
	names := m.PIIFields()
	if len(names) == 0 {
		return nil, nil
	}
	keys := map[string]bool{}
	for _, n := range names {
		keys[n] = true
	}
	b, err := s.Bound(ctx, pair)
	if err != nil {
		return nil, err
	}
	for _, f := range b.Fields {
		if f.PII {
			keys[f.JiraID] = true
			if f.FallbackID != "" {
				keys[f.FallbackID] = true
			}
		}
	}
	delete(keys, "")
	return keys, nil
}

// allPIIKeys is the union of every pair's PII keys, from the bindings made so far (it never
// calls Jira: the redaction of an error must not fail). Unbound pairs contribute their names.
func (s *MappingSet) allPIIKeys() map[string]bool {
	keys := map[string]bool{}
	for _, p := range s.Pairs() {
		m := s.byPair[p]
		for _, n := range m.PIIFields() {
			keys[n] = true
		}
	}
	s.mu.Lock()
	for _, b := range s.bound {
		for _, f := range b.Fields {
			if f.PII {
				keys[f.JiraID] = true
				if f.FallbackID != "" {
					keys[f.FallbackID] = true
				}
			}
		}
	}
	s.mu.Unlock()
	delete(keys, "")
	return keys
}

// protectAudit replaces the before/after values of PII fields in audit rows by keyed hashes
// (or PIIRedactedValue without a keyring), unless audit.pii is clear. The raw before-image goes
// the same way. Rows of pairs without PII fields are returned untouched.
func (a *Activities) protectAudit(ctx context.Context, rows []store.AuditEntry) ([]store.AuditEntry, error) {
	if a.AuditPII == config.AuditPIIClear || len(rows) == 0 || a.Mappings == nil {
		return rows, nil
	}
	byPair := map[string]map[string]bool{}
	for i := range rows {
		r := &rows[i]
		keys, ok := byPair[r.Pair]
		if !ok {
			var err error
			if keys, err = a.Mappings.piiKeys(ctx, r.Pair); err != nil {
				var app *temporal.ApplicationError
				if errors.As(err, &app) && app.Type() == "MAPPING_UNKNOWN_PAIR" {
					keys = nil // a pair no longer loaded: nothing known to protect
				} else {
					return nil, err
				}
			}
			byPair[r.Pair] = keys
		}
		if !keys[r.Field] {
			continue
		}
		r.Before, r.After = a.piiHash(r.Before), a.piiHash(r.After)
		if len(r.BeforeRaw) > 0 {
			raw := string(r.BeforeRaw)
			h, _ := json.Marshal(*a.piiHash(&raw))
			r.BeforeRaw = h
		}
	}
	return rows, nil
}

// piiHash is the audit form of one PII value; nil and empty stay as they are (an empty value
// reveals nothing, and keeps "cleared" visible in the trail).
func (a *Activities) piiHash(v *string) *string {
	if v == nil || *v == "" || IsPIIProtected(v) {
		return v
	}
	if a.Keyring == nil {
		s := PIIRedactedValue
		return &s
	}
	id, sum := a.Keyring.MAC([]byte(*v))
	s := PIIHashPrefix + id + ":" + hex.EncodeToString(sum)
	return &s
}

// PIIRedaction is the worker interceptor that keeps PII values out of activity errors. Before an
// activity's error leaves the worker (to the SDK's log line, the Temporal failure and the dead
// letter) it looks for the PII values in the activity's own input — the values under PII field
// keys, in field maps and field-change lists — and replaces each occurrence in the message by
// mappings.HiddenPII. It catches what the mapping layer cannot: a Salesforce or Jira API error
// that echoes the value it refused.
type PIIRedaction struct {
	interceptor.WorkerInterceptorBase
	Mappings *MappingSet
}

// InterceptActivity wraps one activity execution.
func (p *PIIRedaction) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &piiInbound{set: p.Mappings}
	i.Next = next
	return i
}

type piiInbound struct {
	interceptor.ActivityInboundInterceptorBase
	set *MappingSet
}

func (i *piiInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := i.Next.ExecuteActivity(ctx, in)
	if err == nil || i.set == nil {
		return res, err
	}
	keys := i.set.allPIIKeys()
	if len(keys) == 0 {
		return res, err
	}
	return res, RedactPII(err, PIIValuesIn(keys, in.Args...))
}

// PIIValuesIn collects the string values found under PII keys in args: map members whose name is
// a key (every string beneath them), and objects whose "Field"/"Key" member names a key (their
// other string members: before, after, values).
func PIIValuesIn(keys map[string]bool, args ...any) []string {
	seen := map[string]bool{}
	var out []string
	var leaves func(v any)
	leaves = func(v any) {
		switch x := v.(type) {
		case string:
			if s := strings.TrimSpace(x); s != "" && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		case map[string]any:
			for _, e := range x {
				leaves(e)
			}
		case []any:
			for _, e := range x {
				leaves(e)
			}
		}
	}
	// path is the dotted path of parent map keys, so nested records ({"Contact": {"Email": …}})
	// match the mapping's Contact.Email as flattened ones do.
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case map[string]any:
			named := false
			for _, k := range []string{"Field", "field", "Key", "key"} {
				if f, ok := x[k].(string); ok && keys[f] {
					named = true
				}
			}
			for k, e := range x {
				full := k
				if path != "" {
					full = path + "." + k
				}
				switch {
				case keys[k] || suffixIn(keys, full):
					leaves(e)
				case named && k != "Field" && k != "field" && k != "Key" && k != "key" && k != "Label" && k != "Action":
					leaves(e)
				default:
					walk(e, full)
				}
			}
		case []any:
			for _, e := range x {
				walk(e, path)
			}
		}
	}
	for _, a := range args {
		raw, err := json.Marshal(a)
		if err != nil {
			continue
		}
		var v any
		if json.Unmarshal(raw, &v) == nil {
			walk(v, "")
		}
	}
	return out
}

// suffixIn reports whether a dotted path, or a tail of it (SF.Values.Contact.Email →
// Values.Contact.Email → Contact.Email), is one of keys.
func suffixIn(keys map[string]bool, path string) bool {
	for {
		if keys[path] {
			return true
		}
		_, rest, ok := strings.Cut(path, ".")
		if !ok {
			return false
		}
		path = rest
	}
}

// RedactPII returns err with every occurrence of values (ignoring case) in its message replaced
// by mappings.HiddenPII; application errors keep their type, retryability and retry delay (the
// cause chain is dropped: it holds the same text). Values shorter than 3 characters are left
// alone: they identify nobody and would blank ordinary words.
func RedactPII(err error, values []string) error {
	if err == nil || len(values) == 0 {
		return err
	}
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	msg := err.Error()
	var app *temporal.ApplicationError
	isApp := errors.As(err, &app) && app == err
	if isApp {
		msg = app.Message()
	}
	clean, changed := scrubValues(msg, values)
	if !changed {
		if isApp {
			if _, causeChanged := scrubValues(err.Error(), values); !causeChanged {
				return err
			}
		} else {
			return err
		}
	}
	if !isApp {
		return errors.New(clean)
	}
	return temporal.NewApplicationErrorWithOptions(clean, app.Type(), temporal.ApplicationErrorOptions{
		NonRetryable: app.NonRetryable(), NextRetryDelay: app.NextRetryDelay(), Category: app.Category(),
	})
}

func scrubValues(s string, values []string) (string, bool) {
	changed := false
	for _, v := range values {
		if len(v) < 3 {
			continue
		}
		// The value as written, and as it appears inside URLs (a transport error quotes the
		// request URL, e.g. user/search?query=ana%40example.com) and JSON strings.
		forms := []string{v, url.QueryEscape(v), url.PathEscape(v)}
		if q, err := json.Marshal(v); err == nil {
			forms = append(forms, strings.Trim(string(q), `"`))
		}
		for _, f := range forms {
			re := regexp.MustCompile("(?i)" + regexp.QuoteMeta(f))
			if re.MatchString(s) {
				s = re.ReplaceAllLiteralString(s, mappings.HiddenPII)
				changed = true
			}
		}
	}
	return s, changed
}
