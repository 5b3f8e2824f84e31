package salesforce

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

const sfDateTime = "2006-01-02T15:04:05.000-0700"

// apiError is a Salesforce REST error in the emulator, rendered as [{"message","errorCode","fields"}].
type apiError struct {
	Status  int
	Code    string
	Message string
	Fields  []string // nil: key omitted
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errf(status int, code string, fields []string, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...), Fields: fields}
}

func notFound() *apiError {
	return errf(404, "NOT_FOUND", nil, "The requested resource does not exist")
}

// record is one stored row; vals is keyed by canonical field name.
type record struct {
	id      string
	obj     *objectDef
	vals    map[string]any
	deleted bool
	seq     int // insertion order, for index lookups that must keep scan order
}

// table holds the rows of one sObject type in insertion order plus lookup indexes.
type table struct {
	obj  *objectDef
	rows []*record
	byID map[string]*record
	ext  map[string]map[string][]*record // field name → lower-cased value → live records
	live int

	orderMu   sync.Mutex
	byIDOrder []*record // rows in ORDER BY Id order, built on demand (index.go)
	seq       int
}

func (t *table) index(r *record, f *fieldDef, add bool) {
	idx := t.ext[f.Name]
	if idx == nil {
		return
	}
	v, ok := r.vals[f.Name].(string)
	if !ok || v == "" {
		return
	}
	k := strings.ToLower(v)
	if add {
		idx[k] = append(idx[k], r)
		return
	}
	list := idx[k]
	for i, x := range list {
		if x == r {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(idx, k)
	} else {
		idx[k] = list
	}
}

// store is the in-memory org. Callers hold Server.mu.
type store struct {
	changes []*record // records created or updated by the current request (outbound messages)
	schema  *schema
	tables  map[string]*table
	nextID  uint64
	userID  string
	// perms is the integration user's object and field permissions (writes check them).
	perms *permissionSet
}

func newStore(sc *schema) *store {
	st := &store{schema: sc, tables: map[string]*table{}, nextID: idCounterStart}
	for _, o := range sc.objects {
		t := &table{obj: o, byID: map[string]*record{}, ext: map[string]map[string][]*record{}}
		for _, f := range o.Fields {
			if f.ExternalID || f.Unique {
				t.ext[f.Name] = map[string][]*record{}
			}
		}
		st.tables[o.Name] = t
	}
	return st
}

func (st *store) newID(prefix string) string {
	st.nextID++
	return makeID(prefix, st.nextID)
}

// get returns a record by (already normalized) id, including deleted ones.
func (st *store) get(id string) *record {
	o := st.schema.byPref[id[:3]]
	if o == nil {
		return nil
	}
	return st.tables[o.Name].byID[id]
}

// insertRaw stores already-validated values, filling system fields. Used by seeding and writes.
func (st *store) insertRaw(o *objectDef, vals map[string]any, now time.Time) *record {
	t := st.tables[o.Name]
	r := &record{id: st.newID(o.KeyPrefix), obj: o, vals: vals}
	ts := now.UTC().Format(sfDateTime)
	vals["Id"] = r.id
	vals["IsDeleted"] = false
	vals["CreatedDate"], vals["LastModifiedDate"], vals["SystemModstamp"] = ts, ts, ts
	vals["CreatedById"], vals["LastModifiedById"] = st.userID, st.userID
	if f := o.field("OwnerId"); f != nil {
		if v, _ := vals["OwnerId"].(string); v == "" {
			vals["OwnerId"] = st.userID
		}
	}
	derive(o, vals, nil)
	t.seq++
	r.seq = t.seq
	if f := o.field("CaseNumber"); f != nil {
		// An auto-number field: Salesforce assigns it on insert (seeded Cases bring theirs).
		if v, _ := vals["CaseNumber"].(string); v == "" {
			vals["CaseNumber"] = fmt.Sprintf("%08d", 1000+t.seq)
		}
	}
	t.rows = append(t.rows, r)
	t.invalidateOrder()
	t.byID[r.id] = r
	t.live++
	for _, f := range o.Fields {
		if t.ext[f.Name] != nil {
			t.index(r, f, true)
		}
	}
	return r
}

// derive computes fields Salesforce sets from others. sent is the set of fields the client
// wrote (nil when seeding or inserting, where only missing values are defaulted).
func derive(o *objectDef, vals map[string]any, sent map[string]any) {
	switch o.Name {
	case "Opportunity":
		stage, _ := vals["StageName"].(string)
		si, known := stageByName(stage)
		_, stageSent := sent["StageName"]
		_, probSent := sent["Probability"]
		_, fcSent := sent["ForecastCategoryName"]
		if sent == nil || stageSent {
			if known && ((sent == nil && vals["Probability"] == nil) || (sent != nil && !probSent)) {
				vals["Probability"] = si.Probability
			}
			if (sent == nil && vals["ForecastCategoryName"] == nil) || (sent != nil && !fcSent) {
				if known {
					vals["ForecastCategoryName"] = si.Forecast
				} else if vals["ForecastCategoryName"] == nil {
					vals["ForecastCategoryName"] = "Pipeline"
				}
			}
		}
		vals["IsClosed"], vals["IsWon"] = si.Closed, si.Won
	case "FeedItem":
		if vals["Type"] == nil {
			vals["Type"] = "TextPost"
		}
		for _, k := range []string{"IsRichText"} {
			if vals[k] == nil {
				vals[k] = false
			}
		}
		for _, k := range []string{"CommentCount", "LikeCount"} {
			if vals[k] == nil {
				vals[k] = float64(0)
			}
		}
	case "Contact", "User":
		first, _ := vals["FirstName"].(string)
		last, _ := vals["LastName"].(string)
		vals["Name"] = strings.TrimSpace(first + " " + last)
	}
}

// coerce converts one decoded JSON value to the stored form for field f.
func coerce(o *objectDef, f *fieldDef, raw any) (any, *apiError) {
	if raw == nil {
		return nil, nil
	}
	fieldList := []string{f.Name}
	switch {
	case f.isText():
		var s string
		switch v := raw.(type) {
		case string:
			s = v
		case json.Number:
			s = v.String()
		case bool:
			s = strconv.FormatBool(v)
		default:
			return nil, errf(400, "JSON_PARSER_ERROR", nil, "Cannot deserialize instance of string from %s value %s or request may be missing a required field", jsonTokenName(raw), jsonStart(raw))
		}
		if s == "" {
			return nil, nil // Salesforce stores empty strings as null
		}
		if n := utf8.RuneCountInString(s); f.Length > 0 && n > f.Length {
			return nil, errf(400, "STRING_TOO_LONG", fieldList, "%s: data value too large: %s (max length=%d)", f.Label, s, f.Length)
		}
		if f.Type == "picklist" && f.RestrictedPicklist {
			for _, p := range f.Picklist {
				if strings.EqualFold(p, s) {
					return p, nil
				}
			}
			return nil, errf(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", fieldList, "%s: bad value for restricted picklist field: %s", f.Label, s)
		}
		if f.Type == "email" && !validEmail(s) {
			return nil, errf(400, "INVALID_EMAIL_ADDRESS", fieldList, "%s: invalid email address: %s", f.Label, s)
		}
		return s, nil
	case f.isNumber():
		var x float64
		var err error
		switch v := raw.(type) {
		case json.Number:
			x, err = v.Float64()
		case string:
			x, err = strconv.ParseFloat(strings.TrimSpace(v), 64)
		default:
			err = fmt.Errorf("bad type")
		}
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, errf(400, "JSON_PARSER_ERROR", nil, "Cannot deserialize instance of double from %s value %s or request may be missing a required field", jsonTokenName(raw), jsonStart(raw))
		}
		scale, intDigits := f.Scale, f.Precision-f.Scale
		if f.Type == "int" {
			scale, intDigits = 0, f.Digits
		}
		p := math.Pow10(scale)
		x = math.Round(x*p) / p
		if intDigits > 0 && math.Abs(x) >= math.Pow10(intDigits) {
			return nil, errf(400, "NUMBER_OUTSIDE_VALID_RANGE", fieldList, "%s: value outside of valid range on numeric field: %v", f.Label, x)
		}
		return x, nil
	case f.Type == "boolean":
		switch v := raw.(type) {
		case bool:
			return v, nil
		case string:
			if b, err := strconv.ParseBool(v); err == nil {
				return b, nil
			}
		}
		return nil, errf(400, "INVALID_TYPE_ON_FIELD_IN_RECORD", fieldList, "%s: value not of required type: %v", f.Label, raw)
	case f.Type == "date":
		s, ok := raw.(string)
		if ok {
			if t, err := time.Parse("2006-01-02", s); err == nil {
				return t.Format("2006-01-02"), nil
			}
			if t, ok := parseDateTime(s); ok {
				return t.UTC().Format("2006-01-02"), nil
			}
		}
		return nil, errf(400, "JSON_PARSER_ERROR", nil, "Cannot deserialize value of type `java.util.Date` from %s %s: expected format yyyy-MM-dd", jsonTokenName(raw), jsonStart(raw))
	case f.Type == "datetime":
		if s, ok := raw.(string); ok {
			if t, ok := parseDateTime(s); ok {
				return t.UTC().Format(sfDateTime), nil
			}
		}
		return nil, errf(400, "JSON_PARSER_ERROR", nil, "Cannot deserialize value of type `java.util.Calendar` from %s %s: expected ISO 8601 date-time", jsonTokenName(raw), jsonStart(raw))
	case f.Type == "reference" || f.Type == "id":
		s, ok := raw.(string)
		if !ok {
			return nil, errf(400, "INVALID_TYPE_ON_FIELD_IN_RECORD", fieldList, "%s: value not of required type: %v", f.Label, raw)
		}
		if s == "" {
			return nil, nil
		}
		id, ok := NormalizeID(s)
		if !ok {
			return nil, errf(400, "MALFORMED_ID", fieldList, "%s: id value of incorrect type: %s", f.Label, s)
		}
		if len(f.ReferenceTo) > 0 && !prefixMatchesAny(id, f.ReferenceTo) {
			return nil, errf(400, "FIELD_INTEGRITY_EXCEPTION", fieldList, "%s: id value of incorrect type: %s", f.Label, s)
		}
		return id, nil
	}
	return raw, nil
}

var prefixOf = map[string]string{"Account": "001", "Contact": "003", "User": "005", "Opportunity": "006"}

func prefixMatches(id, object string) bool { return strings.HasPrefix(id, prefixOf[object]) }

func prefixMatchesAny(id string, objects []string) bool {
	for _, o := range objects {
		if prefixMatches(id, o) {
			return true
		}
	}
	return false
}

func validEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') || strings.ContainsAny(s, " \t\r\n,;") {
		return false
	}
	dom := s[at+1:]
	dot := strings.LastIndexByte(dom, '.')
	return dot > 0 && dot < len(dom)-1
}

func jsonTokenName(v any) string {
	switch v.(type) {
	case string:
		return "VALUE_STRING"
	case json.Number:
		return "VALUE_NUMBER_INT"
	case bool:
		return "VALUE_TRUE"
	case map[string]any:
		return "START_OBJECT"
	case []any:
		return "START_ARRAY"
	}
	return "VALUE_NULL"
}

func jsonStart(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "{"
	case []any:
		return "["
	default:
		return fmt.Sprint(x)
	}
}

var dateTimeLayouts = []string{
	"2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05.000Z07:00",
	"2006-01-02T15:04:05Z07:00", time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700",
}

func parseDateTime(s string) (time.Time, bool) {
	for _, l := range dateTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// prepareWrite validates a request body for create (existing == nil) or update and returns the
// coerced values to apply.
func (st *store) prepareWrite(o *objectDef, body map[string]any, existing *record) (map[string]any, *apiError) {
	if st.perms != nil {
		op := "createable"
		if existing != nil {
			op = "updateable"
		}
		if !st.perms.get().objectFlag(o.Name, op, true) {
			return nil, errf(400, "INSUFFICIENT_ACCESS_OR_READONLY", []string{}, "insufficient access rights on object id")
		}
	}
	keys := make([]string, 0, len(body))
	for k := range body {
		if k == "attributes" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var readonly []string
	out := make(map[string]any, len(keys))
	for _, k := range keys {
		f := o.field(k)
		if f == nil {
			return nil, errf(400, "INVALID_FIELD", nil, "No such column '%s' on sobject of type %s", k, o.Name)
		}
		if f.Name == "Id" && existing != nil {
			if s, _ := body[k].(string); s != "" {
				if id, ok := NormalizeID(s); ok && id == existing.id {
					continue
				}
			}
		}
		if (existing == nil && !f.Createable) || (existing != nil && !f.Updateable) || (st.perms != nil && st.perms.get().readOnly(o.Name, f.Name)) {
			readonly = append(readonly, f.Name)
			continue
		}
		out[f.Name] = body[k]
	}
	if len(readonly) > 0 {
		return nil, errf(400, "INVALID_FIELD_FOR_INSERT_UPDATE", readonly,
			"Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
			strings.Join(readonly, ", "))
	}
	var missing []string
	for _, f := range o.Fields {
		raw, sent := out[f.Name]
		if sent {
			v, err := coerce(o, f, raw)
			if err != nil {
				return nil, err
			}
			out[f.Name] = v
			if v != nil && f.Type == "reference" {
				target := st.get(v.(string))
				if target == nil {
					return nil, errf(400, "INVALID_CROSS_REFERENCE_KEY", []string{f.Name}, "invalid cross reference id")
				}
				if target.deleted {
					return nil, errf(400, "ENTITY_IS_DELETED", []string{f.Name}, "entity is deleted")
				}
			}
		}
		if f.required() && out[f.Name] == nil && (sent || existing == nil) {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return nil, errf(400, "REQUIRED_FIELD_MISSING", missing, "Required fields are missing: [%s]", strings.Join(missing, ", "))
	}
	t := st.tables[o.Name]
	for _, f := range o.Fields {
		if !f.Unique {
			continue
		}
		v, ok := out[f.Name].(string)
		if !ok {
			continue
		}
		for _, other := range t.ext[f.Name][strings.ToLower(v)] {
			if other != existing {
				return nil, errf(400, "DUPLICATE_VALUE", []string{},
					"duplicate value found: %s duplicates value on record with id: %s", f.Name, other.id)
			}
		}
	}
	return out, nil
}

func (st *store) create(o *objectDef, body map[string]any, now time.Time) (*record, *apiError) {
	vals, err := st.prepareWrite(o, body, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range vals {
		if v == nil {
			delete(vals, k)
		}
	}
	r := st.insertRaw(o, vals, now)
	st.changes = append(st.changes, r)
	return r, nil
}

func (st *store) update(r *record, body map[string]any, now time.Time) *apiError {
	vals, err := st.prepareWrite(r.obj, body, r)
	if err != nil {
		return err
	}
	t := st.tables[r.obj.Name]
	for name, v := range vals {
		f := r.obj.field(name)
		if t.ext[name] != nil {
			t.index(r, f, false)
		}
		r.vals[name] = v
		if t.ext[name] != nil {
			t.index(r, f, true)
		}
	}
	derive(r.obj, r.vals, vals)
	ts := now.UTC().Format(sfDateTime)
	r.vals["LastModifiedDate"], r.vals["SystemModstamp"], r.vals["LastModifiedById"] = ts, ts, st.userID
	st.changes = append(st.changes, r)
	return nil
}

func (st *store) remove(r *record, now time.Time) {
	t := st.tables[r.obj.Name]
	for _, f := range r.obj.Fields {
		if t.ext[f.Name] != nil {
			t.index(r, f, false)
		}
	}
	r.deleted = true
	r.vals["IsDeleted"] = true
	ts := now.UTC().Format(sfDateTime)
	r.vals["LastModifiedDate"], r.vals["SystemModstamp"] = ts, ts
	t.live--
}

// lookupRecord resolves an id from a URL path for object o.
func (st *store) lookupRecord(o *objectDef, raw string) (*record, *apiError) {
	id, ok := NormalizeID(raw)
	if !ok {
		return nil, errf(404, "NOT_FOUND", nil, "Provided external ID field does not exist or is not accessible: %s", raw)
	}
	if !strings.HasPrefix(id, o.KeyPrefix) {
		return nil, errf(400, "MALFORMED_ID", nil, "%s ID: id value of incorrect type: %s", o.Name, raw)
	}
	r := st.tables[o.Name].byID[id]
	if r == nil {
		return nil, notFound()
	}
	if r.deleted {
		return nil, errf(404, "ENTITY_IS_DELETED", []string{}, "entity is deleted")
	}
	return r, nil
}

// findByExternal returns the live records whose external-id field equals value.
func (st *store) findByExternal(o *objectDef, fieldName, value string) (*fieldDef, []*record, *apiError) {
	f := o.field(fieldName)
	if f != nil && f.Name == "Id" {
		id, ok := NormalizeID(value)
		if !ok || !strings.HasPrefix(id, o.KeyPrefix) {
			return f, nil, errf(400, "MALFORMED_ID", nil, "%s ID: id value of incorrect type: %s", o.Name, value)
		}
		if r := st.tables[o.Name].byID[id]; r != nil && !r.deleted {
			return f, []*record{r}, nil
		}
		return f, nil, nil
	}
	if f == nil || !f.ExternalID {
		return nil, nil, errf(404, "NOT_FOUND", nil, "Provided external ID field does not exist or is not accessible: %s", fieldName)
	}
	return f, st.tables[o.Name].ext[f.Name][strings.ToLower(value)], nil
}

// --- JSON output of records -------------------------------------------------------------

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendJSONValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendJSONString(b, x)
	case float64:
		return strconv.AppendFloat(b, x, 'f', -1, 64)
	case bool:
		return strconv.AppendBool(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	}
	j, _ := json.Marshal(v)
	return append(b, j...)
}

func appendAttributes(b []byte, objName, id, version string) []byte {
	b = append(b, `{"attributes":{"type":`...)
	b = appendJSONString(b, objName)
	b = append(b, `,"url":"/services/data/`...)
	b = append(b, version...)
	b = append(b, "/sobjects/"...)
	b = append(b, objName...)
	b = append(b, '/')
	b = append(b, id...)
	return append(b, `"}`...)
}

// appendRecord renders r with the given fields (all fields when nil).
func appendRecord(b []byte, r *record, fields []*fieldDef, version string) []byte {
	if fields == nil {
		fields = r.obj.Fields
	}
	b = appendAttributes(b, r.obj.Name, r.id, version)
	for _, f := range fields {
		b = append(b, ',')
		b = appendJSONString(b, f.Name)
		b = append(b, ':')
		b = appendJSONValue(b, r.vals[f.Name])
	}
	return append(b, '}')
}
