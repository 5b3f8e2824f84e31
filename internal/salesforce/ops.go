package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Record is one sObject row as Salesforce returns it (including "attributes" and nested parent
// relationship objects); values are JSON-decoded (string, float64, bool, nil, map[string]any).
type Record map[string]any

// Value looks up a field by API name or relationship path ("Account.Name"), case-insensitively,
// because SOQL is case-insensitive but JSON keys are not. A null parent yields (nil, true).
func (r Record) Value(path string) (any, bool) {
	var cur map[string]any = r
	for {
		seg, rest, more := strings.Cut(path, ".")
		v, ok := lookupFold(cur, seg)
		if !ok {
			return nil, false
		}
		if !more {
			return v, true
		}
		switch next := v.(type) {
		case nil:
			return nil, true
		case map[string]any:
			cur = next
		case Record:
			cur = next
		default:
			return nil, false
		}
		path = rest
	}
}

func lookupFold(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// ID returns the record's Id (always 18 characters from the API), falling back to the id at the
// end of attributes.url; "" if neither is present.
func (r Record) ID() string {
	if v, ok := r.Value("Id"); ok {
		if s, ok := v.(string); ok && s != "" {
			return s
		}
	}
	if v, ok := r.Value("attributes.url"); ok {
		if s, ok := v.(string); ok {
			if i := strings.LastIndexByte(s, '/'); i >= 0 && len(s)-i-1 == 18 {
				return s[i+1:]
			}
		}
	}
	return ""
}

// QueryResult is one page of a SOQL query; NextRecordsURL is empty on the last page.
type QueryResult struct {
	TotalSize      int      `json:"totalSize"`
	Done           bool     `json:"done"`
	NextRecordsURL string   `json:"nextRecordsUrl"`
	Records        []Record `json:"records"`
}

// Query runs SOQL and returns the first page (up to 2,000 records).
func (c *Client) Query(ctx context.Context, soql string) (*QueryResult, error) {
	var res QueryResult
	if err := c.call(ctx, http.MethodGet, "/query", url.Values{"q": {soql}}, nil, decode(&res)); err != nil {
		return nil, err
	}
	return &res, nil
}

// QueryMore fetches the page a previous result's NextRecordsURL points to.
func (c *Client) QueryMore(ctx context.Context, nextRecordsURL string) (*QueryResult, error) {
	if !strings.HasPrefix(nextRecordsURL, "/services/data/") {
		return nil, fmt.Errorf("salesforce: QueryMore: %q is not a nextRecordsUrl", nextRecordsURL)
	}
	var res QueryResult
	if err := c.call(ctx, http.MethodGet, nextRecordsURL, nil, nil, decode(&res)); err != nil {
		return nil, err
	}
	return &res, nil
}

// QueryEach runs SOQL and calls fn for every record across all pages; it stops at the first error
// from fn, the API or ctx.
func (c *Client) QueryEach(ctx context.Context, soql string, fn func(Record) error) error {
	res, err := c.Query(ctx, soql)
	for {
		if err != nil {
			return err
		}
		for _, r := range res.Records {
			if err := fn(r); err != nil {
				return err
			}
		}
		if res.Done || res.NextRecordsURL == "" {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		res, err = c.QueryMore(ctx, res.NextRecordsURL)
	}
}

func sobjectPath(object string, parts ...string) string {
	p := "/sobjects/" + url.PathEscape(object)
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// Get reads one record by id (15 or 18 characters), optionally only the given fields.
func (c *Client) Get(ctx context.Context, object, id string, fields ...string) (Record, error) {
	var q url.Values
	if len(fields) > 0 {
		q = url.Values{"fields": {strings.Join(fields, ",")}}
	}
	var rec Record
	if err := c.call(ctx, http.MethodGet, sobjectPath(object, id), q, nil, decode(&rec)); err != nil {
		return nil, err
	}
	return rec, nil
}

type saveResult struct {
	ID      string          `json:"id"`
	Success bool            `json:"success"`
	Errors  json.RawMessage `json:"errors"`
	Created *bool           `json:"created"`
}

// Create inserts a record and returns its 18-character id.
func (c *Client) Create(ctx context.Context, object string, fields map[string]any) (string, error) {
	var res saveResult
	if err := c.call(ctx, http.MethodPost, sobjectPath(object), nil, fields, decode(&res)); err != nil {
		return "", err
	}
	return res.ID, nil
}

// Update changes the given fields of a record (PATCH semantics: other fields are untouched).
func (c *Client) Update(ctx context.Context, object, id string, fields map[string]any) error {
	return c.call(ctx, http.MethodPatch, sobjectPath(object, id), nil, fields, nil)
}

// UpsertResult says which record an upsert wrote and whether it was inserted.
type UpsertResult struct {
	ID      string // empty when an update is answered with 204 (API versions before 46.0)
	Created bool
}

// Upsert creates or updates the record whose external-id field equals extID, the idempotent write
// the connector relies on; several matches come back as an APIError with Code "MULTIPLE_CHOICES".
func (c *Client) Upsert(ctx context.Context, object, extIDField, extID string, fields map[string]any) (*UpsertResult, error) {
	if fields == nil {
		fields = map[string]any{}
	}
	out := &UpsertResult{}
	err := c.call(ctx, http.MethodPatch, sobjectPath(object, extIDField, extID), nil, fields, func(resp *http.Response) error {
		out.Created = resp.StatusCode == http.StatusCreated
		if resp.StatusCode == http.StatusNoContent {
			return nil
		}
		var res saveResult
		if err := decode(&res)(resp); err != nil {
			return err
		}
		out.ID = res.ID
		if res.Created != nil {
			out.Created = *res.Created
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete moves a record to the recycle bin.
func (c *Client) Delete(ctx context.Context, object, id string) error {
	return c.call(ctx, http.MethodDelete, sobjectPath(object, id), nil, nil, nil)
}

// SObjectDescribe is the part of an sObject describe the connector uses for mapping validation.
type SObjectDescribe struct {
	Name   string          `json:"name"`
	Label  string          `json:"label"`
	Fields []FieldDescribe `json:"fields"`
	// The object permissions of the calling user (preflight's least-privilege report).
	Createable bool `json:"createable"`
	Updateable bool `json:"updateable"`
	Deletable  bool `json:"deletable"`
}

// Field returns the field with the given API name (case-insensitive), or nil.
func (d *SObjectDescribe) Field(name string) *FieldDescribe {
	for i := range d.Fields {
		if strings.EqualFold(d.Fields[i].Name, name) {
			return &d.Fields[i]
		}
	}
	return nil
}

// FieldDescribe is one field's metadata: type, size and writability, used to validate mappings
// and to truncate or reject values before writing.
type FieldDescribe struct {
	Name               string          `json:"name"`
	Label              string          `json:"label"`
	Type               string          `json:"type"`
	Length             int             `json:"length"`
	Precision          int             `json:"precision"`
	Scale              int             `json:"scale"`
	Nillable           bool            `json:"nillable"`
	Createable         bool            `json:"createable"`
	Updateable         bool            `json:"updateable"`
	ExternalID         bool            `json:"externalId"`
	Unique             bool            `json:"unique"`
	RestrictedPicklist bool            `json:"restrictedPicklist"`
	PicklistValues     []PicklistValue `json:"picklistValues"`
	ReferenceTo        []string        `json:"referenceTo"`
	RelationshipName   string          `json:"relationshipName"`
}

// PicklistValue is one allowed value of a picklist field.
type PicklistValue struct {
	Value        string `json:"value"`
	Label        string `json:"label"`
	Active       bool   `json:"active"`
	DefaultValue bool   `json:"defaultValue"`
}

// Describe fetches an sObject's metadata.
func (c *Client) Describe(ctx context.Context, object string) (*SObjectDescribe, error) {
	var d SObjectDescribe
	if err := c.call(ctx, http.MethodGet, sobjectPath(object, "describe"), nil, nil, decode(&d)); err != nil {
		return nil, err
	}
	return &d, nil
}

// Limit is one org limit (e.g. DailyApiRequests) as reported by /limits.
type Limit struct {
	Max       int `json:"Max"`
	Remaining int `json:"Remaining"`
}

// Limits fetches the org's limits keyed by name, for preflight checks and the API budget guard.
func (c *Client) Limits(ctx context.Context) (map[string]Limit, error) {
	out := map[string]Limit{}
	if err := c.call(ctx, http.MethodGet, "/limits", nil, nil, decode(&out)); err != nil {
		return nil, err
	}
	return out, nil
}

const checksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// NormalizeID returns the canonical 18-character form of a 15- or 18-character Salesforce id, so
// ids from different sources compare equal; it rejects malformed ids.
func NormalizeID(id string) (string, error) {
	if len(id) != 15 && len(id) != 18 {
		return "", fmt.Errorf("salesforce: malformed id %q: want 15 or 18 characters, got %d", id, len(id))
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !(ch >= '0' && ch <= '9') && !(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') {
			return "", fmt.Errorf("salesforce: malformed id %q: invalid character %q", id, ch)
		}
	}
	b := []byte(id[:15])
	if len(id) == 18 {
		// The suffix encodes which of the first 15 characters are upper case; restore that case.
		for c := 0; c < 3; c++ {
			k := strings.IndexByte(checksumAlphabet, toUpper(id[15+c]))
			if k < 0 {
				return "", fmt.Errorf("salesforce: malformed id %q: bad checksum", id)
			}
			for i := 0; i < 5; i++ {
				ch := b[c*5+i]
				letter := (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
				switch {
				case k&(1<<i) != 0 && !letter:
					return "", fmt.Errorf("salesforce: malformed id %q: bad checksum", id)
				case k&(1<<i) != 0:
					b[c*5+i] = toUpper(ch)
				case letter:
					b[c*5+i] = toLower(ch)
				}
			}
		}
	}
	out := make([]byte, 18)
	copy(out, b)
	for c := 0; c < 3; c++ {
		v := 0
		for i := 0; i < 5; i++ {
			if ch := b[c*5+i]; ch >= 'A' && ch <= 'Z' {
				v |= 1 << i
			}
		}
		out[15+c] = checksumAlphabet[v]
	}
	return string(out), nil
}

func toUpper(ch byte) byte {
	if ch >= 'a' && ch <= 'z' {
		return ch - 'a' + 'A'
	}
	return ch
}

func toLower(ch byte) byte {
	if ch >= 'A' && ch <= 'Z' {
		return ch - 'A' + 'a'
	}
	return ch
}
