package salesforce

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const collectionMax = 200

// collError is one error of an sObject Collections result; note "statusCode", not "errorCode".
type collError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// collResult is one per-record result of an sObject Collections call.
type collResult struct {
	ID      *string     `json:"id"`
	Success bool        `json:"success"`
	Errors  []collError `json:"errors"`
	Created *bool       `json:"created,omitempty"`
}

func toCollError(e *apiError) collError {
	f := e.Fields
	if f == nil {
		f = []string{}
	}
	return collError{StatusCode: e.Code, Message: e.Message, Fields: f}
}

// undo restores the state of one record written in an allOrNone batch.
type undo struct {
	rec     *record
	created bool
	prev    map[string]any
	deleted bool // prev.deleted
}

func (st *store) snapshot(r *record) undo {
	return undo{rec: r, prev: maps.Clone(r.vals), deleted: r.deleted}
}

// rollback reverts the writes in reverse order.
func (st *store) rollback(us []undo) {
	for i := len(us) - 1; i >= 0; i-- {
		u := us[i]
		r := u.rec
		t := st.tables[r.obj.Name]
		if !r.deleted {
			for _, f := range r.obj.Fields {
				if t.ext[f.Name] != nil {
					t.index(r, f, false)
				}
			}
		}
		if u.created {
			for j := len(t.rows) - 1; j >= 0; j-- {
				if t.rows[j] == r {
					t.rows = append(t.rows[:j], t.rows[j+1:]...)
					t.invalidateOrder()
					break
				}
			}
			delete(t.byID, r.id)
			t.live--
			continue
		}
		if r.deleted && !u.deleted {
			t.live++
		}
		r.vals, r.deleted = u.prev, u.deleted
		if !r.deleted {
			for _, f := range r.obj.Fields {
				if t.ext[f.Name] != nil {
					t.index(r, f, true)
				}
			}
		}
	}
}

type collBody struct {
	AllOrNone bool             `json:"allOrNone"`
	Records   []map[string]any `json:"records"`
}

func decodeCollection(r *http.Request) (*collBody, *apiError) {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<20))
	dec.UseNumber()
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if err == io.EOF {
			return nil, errf(400, "JSON_PARSER_ERROR", nil, "No content to map due to end-of-input at [line:1, column:0]")
		}
		return nil, errf(400, "JSON_PARSER_ERROR", nil, "Unexpected character: %s at [line:1, column:%d]", err.Error(), dec.InputOffset()+1)
	}
	var b collBody
	if v, ok := raw["allOrNone"]; ok {
		if err := json.Unmarshal(v, &b.AllOrNone); err != nil {
			return nil, errf(400, "JSON_PARSER_ERROR", nil, "Cannot deserialize instance of boolean from %s value", strings.TrimSpace(string(v)))
		}
	}
	if v, ok := raw["records"]; ok {
		d := json.NewDecoder(strings.NewReader(string(v)))
		d.UseNumber()
		var list []any
		if err := d.Decode(&list); err != nil {
			return nil, errf(400, "JSON_PARSER_ERROR", nil, "Cannot deserialize instance of List<SObject> from %s", strings.TrimSpace(truncateRunes(string(v), 40)))
		}
		for i, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				return nil, errf(400, "JSON_PARSER_ERROR", nil, "Cannot deserialize instance of SObject from %s value %s at records[%d]", jsonTokenName(item), jsonStart(item), i)
			}
			b.Records = append(b.Records, m)
		}
	}
	if len(b.Records) == 0 {
		return nil, errf(400, "REQUIRED_FIELD_MISSING", nil, "At least 1 record is required.")
	}
	if len(b.Records) > collectionMax {
		return nil, errf(400, "EXCEEDED_ID_LIMIT", nil, "record limit reached. cannot submit more than %d records into this call", collectionMax)
	}
	return &b, nil
}

// recordType returns the sObject named in a record's attributes.type.
func (s *Server) recordType(rec map[string]any) (*objectDef, *apiError) {
	attrs, _ := rec["attributes"].(map[string]any)
	typ, _ := attrs["type"].(string)
	if typ == "" {
		return nil, errf(400, "INVALID_TYPE", []string{}, "Must specify a type in the attributes property of each record")
	}
	o := s.schema.object(typ)
	if o == nil {
		return nil, errf(400, "INVALID_TYPE", []string{}, "sObject type '%s' is not supported.", typ)
	}
	return o, nil
}

func fieldValue(rec map[string]any, name string) (any, bool) {
	for k, v := range rec {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

func (s *Server) routeComposite(w http.ResponseWriter, r *http.Request, version string, segs []string) {
	if len(segs) == 0 || segs[0] != "sobjects" {
		writeErr(w, notFound())
		return
	}
	switch len(segs) {
	case 1:
		switch r.Method {
		case http.MethodPost:
			s.collectionWrite(w, r, "create", nil, nil)
		case http.MethodPatch:
			s.collectionWrite(w, r, "update", nil, nil)
		case http.MethodDelete:
			s.collectionDelete(w, r)
		default:
			writeErr(w, methodNotAllowed(r.Method, "POST,PATCH,DELETE"))
		}
	case 2:
		o := s.schema.object(segs[1])
		if o == nil {
			writeErr(w, notFound())
			return
		}
		if r.Method != http.MethodGet {
			writeErr(w, methodNotAllowed(r.Method, "GET"))
			return
		}
		s.collectionRetrieve(w, r, o, version)
	case 3:
		o := s.schema.object(segs[1])
		if o == nil {
			writeErr(w, notFound())
			return
		}
		if r.Method != http.MethodPatch {
			writeErr(w, methodNotAllowed(r.Method, "PATCH"))
			return
		}
		f := o.field(segs[2])
		if f == nil || (!f.ExternalID && f.Name != "Id") {
			writeErr(w, errf(400, "INVALID_FIELD", nil, "Field name provided, %s is not an External ID or indexed field for %s", segs[2], o.Name))
			return
		}
		s.collectionWrite(w, r, "upsert", o, f)
	default:
		writeErr(w, notFound())
	}
}

// collectionWrite runs a create, update or upsert collection (op), all records under one lock.
func (s *Server) collectionWrite(w http.ResponseWriter, r *http.Request, op string, upObj *objectDef, extField *fieldDef) {
	body, err := decodeCollection(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	results := make([]collResult, len(body.Records))
	var undos []undo
	failed := false
	s.mu.Lock()
	mark := len(s.st.changes)
	now := s.now()
	for i, rec := range body.Records {
		res, u := s.collectionOne(op, upObj, extField, rec, now)
		results[i] = res
		undos = append(undos, u...)
		if !res.Success {
			failed = true
		}
	}
	if body.AllOrNone && failed {
		s.st.rollback(undos)
		s.st.changes = s.st.changes[:mark]
		for i := range results {
			if results[i].Success {
				results[i].Success = false
				if op == "create" || (results[i].Created != nil && *results[i].Created) {
					results[i].ID = nil
				}
				results[i].Errors = []collError{{StatusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK",
					Message: "Record rolled back because not all records were valid and the request was using AllOrNone header", Fields: []string{}}}
				if results[i].Created != nil {
					f := false
					results[i].Created = &f
				}
			}
		}
	}
	s.commitLocked()
	s.mu.Unlock()
	writeJSON(w, 200, results)
}

func strPtr(s string) *string { return &s }

func (s *Server) collectionOne(op string, upObj *objectDef, extField *fieldDef, rec map[string]any, now time.Time) (collResult, []undo) {
	fail := func(id *string, e *apiError) (collResult, []undo) {
		res := collResult{ID: id, Errors: []collError{toCollError(e)}}
		if op == "upsert" {
			f := false
			res.Created = &f
		}
		return res, nil
	}
	o, err := s.recordType(rec)
	if op == "upsert" && err == nil && o != upObj {
		err = errf(400, "INVALID_TYPE", []string{}, "Record type %s does not match the URL's sObject type %s", o.Name, upObj.Name)
	}
	if err != nil {
		return fail(nil, err)
	}
	switch op {
	case "create":
		if v, ok := fieldValue(rec, "Id"); ok && v != nil && v != "" {
			return fail(nil, errf(400, "INVALID_FIELD_FOR_INSERT_UPDATE", []string{"Id"}, "cannot specify Id in an insert call"))
		}
		r, err := s.st.create(o, rec, now)
		if err != nil {
			return fail(nil, err)
		}
		return collResult{ID: strPtr(r.id), Success: true, Errors: []collError{}}, []undo{{rec: r, created: true}}
	case "update":
		v, _ := fieldValue(rec, "Id")
		raw, _ := v.(string)
		if raw == "" {
			return fail(nil, errf(400, "MISSING_ARGUMENT", []string{}, "Id not specified in an update call"))
		}
		id, ok := NormalizeID(raw)
		if !ok || !strings.HasPrefix(id, o.KeyPrefix) {
			return fail(strPtr(raw), errf(400, "MALFORMED_ID", []string{"Id"}, "%s ID: id value of incorrect type: %s", o.Name, raw))
		}
		target := s.st.tables[o.Name].byID[id]
		if target == nil {
			return fail(strPtr(id), errf(400, "INVALID_CROSS_REFERENCE_KEY", []string{}, "invalid cross reference id"))
		}
		if target.deleted {
			return fail(strPtr(id), errf(400, "ENTITY_IS_DELETED", []string{}, "entity is deleted"))
		}
		u := s.st.snapshot(target)
		if err := s.st.update(target, rec, now); err != nil {
			return fail(strPtr(id), err)
		}
		return collResult{ID: strPtr(id), Success: true, Errors: []collError{}}, []undo{u}
	}
	// upsert
	v, _ := fieldValue(rec, extField.Name)
	var value string
	switch x := v.(type) {
	case string:
		value = x
	case json.Number:
		value = x.String()
	}
	created := func(b bool) *bool { return &b }
	if value == "" && extField.Name != "Id" {
		return fail(nil, errf(400, "MISSING_ARGUMENT", []string{}, "%s not specified", extField.Name))
	}
	var matches []*record
	if value != "" {
		var err *apiError
		_, matches, err = s.st.findByExternal(o, extField.Name, value)
		if err != nil {
			return fail(nil, err)
		}
	}
	switch len(matches) {
	case 0:
		if extField.Name == "Id" {
			if value != "" {
				return fail(nil, errf(400, "INVALID_CROSS_REFERENCE_KEY", []string{}, "invalid cross reference id"))
			}
			delete(rec, "Id")
		}
		r, err := s.st.create(o, rec, now)
		if err != nil {
			return fail(nil, err)
		}
		return collResult{ID: strPtr(r.id), Success: true, Errors: []collError{}, Created: created(true)}, []undo{{rec: r, created: true}}
	case 1:
		target := matches[0]
		u := s.st.snapshot(target)
		if err := s.st.update(target, rec, now); err != nil {
			return fail(strPtr(target.id), err)
		}
		return collResult{ID: strPtr(target.id), Success: true, Errors: []collError{}, Created: created(false)}, []undo{u}
	default:
		ids := make([]string, len(matches))
		for i, m := range matches {
			ids[i] = m.id
		}
		return fail(nil, errf(300, "DUPLICATE_EXTERNAL_ID", []string{}, "%s: more than one record found for external id field: [%s]", extField.Name, strings.Join(ids, ", ")))
	}
}

func (s *Server) collectionDelete(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var ids []string
	for _, part := range strings.Split(q.Get("ids"), ",") {
		if p := strings.TrimSpace(part); p != "" {
			ids = append(ids, p)
		}
	}
	if len(ids) == 0 {
		writeErr(w, errf(400, "REQUIRED_FIELD_MISSING", nil, "At least 1 Id is required."))
		return
	}
	if len(ids) > collectionMax {
		writeErr(w, errf(400, "EXCEEDED_ID_LIMIT", nil, "record limit reached. cannot submit more than %d records into this call", collectionMax))
		return
	}
	allOrNone := false
	if v := q.Get("allOrNone"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeErr(w, errf(400, "INVALID_QUERY_PARAMETER_VALUE", nil, "allOrNone: invalid boolean value: %s", v))
			return
		}
		allOrNone = b
	}
	results := make([]collResult, len(ids))
	var undos []undo
	failed := false
	s.mu.Lock()
	now := s.now()
	for i, raw := range ids {
		id, ok := NormalizeID(raw)
		var rec *record
		var e *apiError
		switch {
		case !ok:
			e = errf(400, "MALFORMED_ID", []string{}, "malformed id %s", raw)
		default:
			rec = s.st.get(id)
			if rec == nil {
				e = errf(400, "INVALID_CROSS_REFERENCE_KEY", []string{}, "invalid cross reference id")
			} else if rec.deleted {
				e = errf(400, "ENTITY_IS_DELETED", []string{}, "entity is deleted")
			}
		}
		if e != nil {
			failed = true
			results[i] = collResult{ID: strPtr(raw), Errors: []collError{toCollError(e)}}
			if ok {
				results[i].ID = strPtr(id)
			}
			continue
		}
		undos = append(undos, s.st.snapshot(rec))
		s.st.remove(rec, now)
		results[i] = collResult{ID: strPtr(id), Success: true, Errors: []collError{}}
	}
	if allOrNone && failed {
		s.st.rollback(undos)
		for i := range results {
			if results[i].Success {
				results[i].Success = false
				results[i].Errors = []collError{{StatusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK",
					Message: "Record rolled back because not all records were valid and the request was using AllOrNone header", Fields: []string{}}}
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, 200, results)
}

// collectionRetrieve answers GET /composite/sobjects/{Object}?ids=…&fields=… (null for unknown ids).
func (s *Server) collectionRetrieve(w http.ResponseWriter, r *http.Request, o *objectDef, version string) {
	q := r.URL.Query()
	if strings.TrimSpace(q.Get("ids")) == "" {
		writeErr(w, errf(400, "REQUIRED_FIELD_MISSING", nil, "At least 1 Id is required."))
		return
	}
	if strings.TrimSpace(q.Get("fields")) == "" {
		writeErr(w, errf(400, "REQUIRED_FIELD_MISSING", nil, "The fields parameter is required."))
		return
	}
	fields, err := s.selectFields(o, q.Get("fields"))
	if err != nil {
		writeErr(w, err)
		return
	}
	ids := strings.Split(q.Get("ids"), ",")
	if len(ids) > 2000 {
		writeErr(w, errf(400, "EXCEEDED_ID_LIMIT", nil, "record limit reached. cannot submit more than 2000 records into this call"))
		return
	}
	b := []byte{'['}
	s.mu.RLock()
	for i, raw := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		id, ok := NormalizeID(strings.TrimSpace(raw))
		var rec *record
		if ok && strings.HasPrefix(id, o.KeyPrefix) {
			rec = s.st.tables[o.Name].byID[id]
		}
		if rec == nil || rec.deleted {
			b = append(b, "null"...)
			continue
		}
		b = appendRecord(b, rec, fields, version)
	}
	s.mu.RUnlock()
	writeRaw(w, 200, append(b, ']'))
}
