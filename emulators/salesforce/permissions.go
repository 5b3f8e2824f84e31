package salesforce

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
)

// Permissions is what the integration user holds, as Salesforce shows it to that user: the OAuth
// scopes in token responses, the object-level flags of describe (createable, updateable,
// deletable) and field-level security (a read-only field describes as neither createable nor
// updateable and refuses writes with INVALID_FIELD_FOR_INSERT_UPDATE). The emulator's default
// user is a System Administrator (everything allowed; scopes per flow: client credentials and JWT
// "api", authorization code "api refresh_token"). Tests narrow or widen it with
// POST /__admin/permissions so preflight's least-privilege report can be exercised; a reset keeps
// the permissions, POST /__admin/permissions {} restores the defaults.
type Permissions struct {
	// Scope, when set, is the space-separated scope every token response grants from now on.
	Scope string `json:"scope,omitempty"`
	// Objects sets object permissions by API name; a missing flag keeps the default.
	Objects map[string]ObjectPermissions `json:"objects,omitempty"`
	// Fields sets field-level security by "Object.Field" ({"editable": false} makes it read-only);
	// "Object.*" applies to every field of the object without an entry of its own.
	Fields map[string]FieldPermissions `json:"fields,omitempty"`
}

// ObjectPermissions are the object-level CRUD flags (read is always granted).
type ObjectPermissions struct {
	Createable *bool `json:"createable,omitempty"`
	Updateable *bool `json:"updateable,omitempty"`
	Deletable  *bool `json:"deletable,omitempty"`
}

// FieldPermissions is field-level security: Editable false is read-only access.
type FieldPermissions struct {
	Editable *bool `json:"editable,omitempty"`
}

type permissionSet struct {
	p atomic.Pointer[Permissions]
}

func (ps *permissionSet) get() *Permissions {
	if p := ps.p.Load(); p != nil {
		return p
	}
	return &Permissions{}
}

// objectFlag returns the object permission op ("createable", "updateable", "deletable"), def
// when not overridden.
func (p *Permissions) objectFlag(object, op string, def bool) bool {
	for name, o := range p.Objects {
		if !strings.EqualFold(name, object) {
			continue
		}
		var v *bool
		switch op {
		case "createable":
			v = o.Createable
		case "updateable":
			v = o.Updateable
		case "deletable":
			v = o.Deletable
		}
		if v != nil {
			return *v
		}
	}
	return def
}

// readOnly reports whether field-level security makes object.field read-only. An entry for the
// field wins over an "Object.*" entry, so a test can make everything read-only but a few fields.
func (p *Permissions) readOnly(object, field string) bool {
	var wildcard *bool
	for name, f := range p.Fields {
		o, fl, _ := strings.Cut(name, ".")
		if !strings.EqualFold(o, object) || f.Editable == nil {
			continue
		}
		if strings.EqualFold(fl, field) {
			return !*f.Editable
		}
		if fl == "*" {
			wildcard = f.Editable
		}
	}
	return wildcard != nil && !*wildcard
}

// SetPermissions replaces the integration user's permissions (same as POST /__admin/permissions).
func (s *Server) SetPermissions(p Permissions) { s.perms.p.Store(&p) }

func (s *Server) handleAdminPermissions(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		writeJSON(w, 200, s.perms.get())
		return
	}
	var p Permissions
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&p); err != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid JSON: " + err.Error()})
		return
	}
	s.SetPermissions(p)
	writeJSON(w, 200, p)
}

// applyObjectPermissions overrides the object-level flags of a describe (global entry or full).
func (s *Server) applyObjectPermissions(d map[string]any, o *objectDef) map[string]any {
	p := s.perms.get()
	for _, op := range []string{"createable", "updateable", "deletable"} {
		def, _ := d[op].(bool)
		d[op] = p.objectFlag(o.Name, op, def)
	}
	if fields, ok := d["fields"].([]fieldJSON); ok {
		for i := range fields {
			if p.readOnly(o.Name, fields[i].Name) {
				fields[i].Createable, fields[i].Updateable = false, false
			}
		}
	}
	return d
}

// DefaultPackIntegrationUser is the least-privilege permission set for sfjira's default mapping
// pack (mappings/default): read-only Account, Contact, Task and Event; edit but no create or
// delete on Opportunity, Case and Feature_Request__c, with field-level edit only on the fields
// the pack writes (the Jira back-links and the Jira → Salesforce fields). Demos and tests set it
// with SetPermissions to show what a clean least-privilege preflight looks like.
func DefaultPackIntegrationUser() Permissions {
	no, yes := false, true
	readOnly := ObjectPermissions{Createable: &no, Updateable: &no, Deletable: &no}
	editOnly := ObjectPermissions{Createable: &no, Deletable: &no}
	p := Permissions{Objects: map[string]ObjectPermissions{
		"Account": readOnly, "Contact": readOnly, "Task": readOnly, "Event": readOnly,
		"Opportunity": editOnly, "Case": editOnly, "Feature_Request__c": editOnly,
	}, Fields: map[string]FieldPermissions{}}
	for object, writable := range map[string][]string{
		"Opportunity":        {"Name", "Description", "CloseDate", "Jira_Status__c", "Jira_Resolution__c", "Jira_Sprint__c"},
		"Case":               {"Description", "Jira_Status__c"},
		"Feature_Request__c": {"Name", "Description__c", "Jira_Status__c", "Opportunity__c"},
	} {
		p.Fields[object+".*"] = FieldPermissions{Editable: &no}
		for _, f := range append(writable, "Jira_Issue_Id__c", "Jira_Issue_Key__c") {
			p.Fields[object+"."+f] = FieldPermissions{Editable: &yes}
		}
	}
	return p
}
