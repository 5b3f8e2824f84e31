package mappings

import "strings"

// Field types, directions, ownership and conflict policies of mapping language version 1.
const (
	TypeText     = "text"
	TypeRichText = "rich_text"
	TypeDate     = "date"
	TypeDateTime = "datetime"
	TypeNumber   = "number"
	TypeCurrency = "currency"
	TypePercent  = "percent"
	TypeCheckbox = "checkbox"
	// TypePicklist maps a Salesforce picklist to a Jira select list, priority or text field,
	// through an optional value map written once and applied both ways.
	TypePicklist = "picklist"
	// TypeMultiPicklist maps a Salesforce multi-select picklist ("A;B") to a Jira multi-select
	// field or labels, value by value.
	TypeMultiPicklist = "multipicklist"
	// TypeUser maps a Salesforce e-mail (e.g. Owner.Email) to a Jira user field (assignee,
	// reporter, user pickers) by looking the e-mail up in Bound.Users, and back.
	TypeUser = "user"
	// TypeLookup carries a Salesforce lookup to the Jira issue of the related record: the
	// Salesforce side is a path to that record's Jira issue id back-link (for example
	// Opportunity__r.Jira_Issue_Id__c), the Jira side the issue's parent.
	TypeLookup = "lookup"
	// TypeHTML maps a Salesforce Rich Text Area (HTML) to a Jira rich text (ADF) field and back,
	// structure included: paragraphs, headings, lists, links, code, quotes, mentions (html.go).
	TypeHTML = "html"

	DirSFToJira = "sf_to_jira"
	DirJiraToSF = "jira_to_sf"
	DirBoth     = "both"

	OwnerSF   = "sf"
	OwnerJira = "jira"
	OwnerBoth = "both"

	ConflictOwnerWins      = "owner_wins"
	ConflictLastWriterWins = "last_writer_wins"
	ConflictManual         = "manual"

	OverflowTruncate = "truncate"
	OverflowFail     = "fail"

	OnDeleteIgnore = "ignore"
	OnDeleteMark   = "mark"
	OnDeleteDelete = "delete"

	UnmappedFail = "fail"
	UnmappedKeep = "keep"

	// SyncRealtime fields are written by change capture (webhooks, outbound messages, pollers)
	// as soon as they change; SyncBatch fields only by backfill and reconciliation (hybrid mode).
	SyncRealtime = "realtime"
	SyncBatch    = "batch"
	// UnmappedPass (picklist fields) copies a value missing from the value map unchanged.
	UnmappedPass = "pass"
)

// NoPrecision is FieldMap.Precision for a number field without `precision:`: values are
// passed through unrounded.
const NoPrecision = -1

// Mapping is one validated mapping file: how one Salesforce object pairs with one Jira
// issue type, field by field.
type Mapping struct {
	File, Pair string
	// Version is a short content hash of the file (first 12 hex of sha256), recorded in
	// audit rows so every write can be traced to the exact mapping that produced it.
	Version    string
	Salesforce SalesforceSide
	Jira       JiraSide
	Fields     []FieldMap
	Status     *StatusMap
	// Activities turn the record's Tasks and Events into Jira comments and worklogs.
	Activities []ActivityRule
	// Triggers start cross-system actions when a condition on the record becomes true
	// (trigger.go).
	Triggers []Trigger

	pairLine, pairCol int
}

// SalesforceSide says which Salesforce records a mapping covers and where the back-link lives.
type SalesforceSide struct {
	Object          string
	Where           string // optional SOQL condition, without WHERE
	ExternalIDField string // holds the Jira numeric issue id; external id used for upsert
	KeyField        string // holds the Jira issue key (optional)
	// OnDelete says what happens to the Jira issue when its Salesforce record is deleted:
	// ignore, mark (label it and keep it, the default) or delete.
	OnDelete string

	// lines holds where each key sits in the file, for errors found later against the org.
	lines map[string][2]int
}

// JiraSide says where the Jira issues of a mapping live and which entity property
// carries the origin key.
type JiraSide struct {
	Project, IssueType string
	Property           string // issue entity property, default "sfjira"
	// CreateInSalesforce makes issues created in Jira (in this project and issue type) create
	// Salesforce records, upserted on the external-id field.
	CreateInSalesforce bool
}

// FieldMap is one `fields:` entry; defaults are already applied (Direction, Owner,
// Conflict, OnOverflow, Precision), so consumers never re-implement them.
type FieldMap struct {
	SF, Jira, Type, Direction, Owner, Conflict string
	// Sync is realtime (default) or batch: see SyncRealtime and SyncBatch.
	Sync       string
	Required   bool
	MaxLength  int // 0 = unlimited; counted in runes
	OnOverflow string
	Precision  int // decimals for number/currency/percent; NoPrecision = unrounded
	Default    any // string, float64 or bool; nil = none
	// ValueMap is the picklist value map (Salesforce value → Jira value), applied both ways;
	// lookups ignore case and surrounding spaces. Nil for other types.
	ValueMap *ValueMap
	// Fallback (user fields only) is the Jira text field that receives the Salesforce value when
	// no Jira user has the e-mail; the user field is then cleared, and set again once the user
	// exists.
	Fallback string
	// LinkType (lookup fields on jira: issuelinks only) names the Jira issue link type, e.g.
	// Relates: the issue then carries exactly one link of that type to the related record's issue.
	LinkType string
	// PII marks personal data (`pii: true`): its values are never written to logs or error
	// messages, and the audit trail keeps a keyed hash instead of the value (audit.pii: hash),
	// so a person's e-mail or phone number does not spread into log shipping and archives.
	PII bool
	// Expr, when set, computes the value from the record instead of reading SF (which then holds
	// the expression text, for labels); see expr.go.
	Expr *Expr
	// Transform, when set, is the named Go transform (`transform:`) applied to the Salesforce
	// value before the type conversion; see named.go.
	Transform *NamedTransform
	Line      int

	fallbackLine, fallbackCol int
	linkTypeLine              int

	jiraLine, jiraCol int
	col               int
}

// PIIFields lists the keys under which PII-marked values of this mapping travel: the Salesforce
// field (or each field an expression reads) and the Jira field as written in the file. Bound
// adds the resolved Jira ids. Audit rows and redaction match on these keys.
func (m *Mapping) PIIFields() []string {
	var out []string
	for _, f := range m.Fields {
		if !f.PII {
			continue
		}
		if f.Expr != nil {
			out = append(out, f.Expr.Paths...)
		} else {
			out = append(out, f.SF)
		}
		out = append(out, f.Jira)
		if f.Fallback != "" {
			out = append(out, f.Fallback)
		}
	}
	return out
}

// FlowsToJira reports whether the field flows Salesforce → Jira (sf_to_jira or both).
func (f FieldMap) FlowsToJira() bool { return f.Direction == DirSFToJira || f.Direction == DirBoth }

// FlowsToSF reports whether the field flows Jira → Salesforce (jira_to_sf or both).
func (f FieldMap) FlowsToSF() bool { return f.Direction == DirJiraToSF || f.Direction == DirBoth }

// LookupField is the writable Salesforce lookup field behind a lookup's relationship path: the
// sync reads the related record's back-link through the relationship (Opportunity__r.Jira_Issue_Id__c)
// but, when the Jira parent or link moves, must write the lookup itself (Opportunity__c) with the
// id of the record linked to the new issue. Custom relationships X__r have the field X__c,
// standard ones X the field XId (Account → AccountId). It is "" for anything else.
func (f FieldMap) LookupField() string {
	if f.Type != TypeLookup || f.Expr != nil {
		return ""
	}
	return lookupFieldOf(f.SF)
}

func lookupFieldOf(path string) string {
	rel, _, ok := strings.Cut(path, ".")
	if !ok || rel == "" {
		return ""
	}
	if base, custom := strings.CutSuffix(rel, "__r"); custom {
		return base + "__c"
	}
	return rel + "Id"
}

// StatusMap maps a Salesforce picklist (usually StageName) onto Jira status and
// resolution; status changes need transitions, so they are kept apart from fields.
type StatusMap struct {
	SF       string
	Unmapped string // fail | keep
	Values   map[string]StatusTarget
	// Order lists the Salesforce values in file order (for documentation and preflight
	// reports; lookups use Values).
	Order []string
	// ValueLines is the line of each Salesforce value in the file, so live checks (preflight)
	// can point at the entry to fix.
	ValueLines map[string]int
	Line       int

	valuesLine int
}

// StatusTarget is the Jira status (and optional resolution) one Salesforce value maps to.
// Transition optionally names the workflow transition into Status whose post-function sets
// Resolution (e.g. a "Won't Do" transition): Jira's bulk transition API cannot fill a
// transition screen, so without such a transition a resolution other than the workflow's
// default is set one issue at a time. When the named transition is not available the sync
// falls back to the transition screen.
type StatusTarget struct {
	Status, Resolution, Transition string
}

// TransitionFor returns the transition named for the target (status, resolution), or "".
func (st *StatusMap) TransitionFor(status, resolution string) string {
	if st == nil {
		return ""
	}
	for _, v := range st.Order {
		t := st.Values[v]
		if t.Transition != "" && strings.EqualFold(t.Status, status) && strings.EqualFold(t.Resolution, resolution) {
			return t.Transition
		}
	}
	return ""
}

// ResolutionTransitions lists, by lower-cased transition name, the resolution each transition
// named in the status map sets, so a sync never takes one of them into a status that wants a
// different resolution.
func (st *StatusMap) ResolutionTransitions() map[string]string {
	if st == nil {
		return nil
	}
	out := map[string]string{}
	for _, t := range st.Values {
		if t.Transition != "" {
			out[strings.ToLower(t.Transition)] = t.Resolution
		}
	}
	return out
}

// SOQLFields lists every Salesforce field a sync must read, deduplicated
// case-insensitively (SOQL rejects duplicate fields) in a stable order.
func (m *Mapping) SOQLFields() []string {
	var out []string
	seen := map[string]bool{}
	add := func(f string) {
		if f == "" {
			return
		}
		k := strings.ToLower(f)
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, f)
	}
	add("Id")
	add("SystemModstamp")
	add("LastModifiedDate")
	for _, f := range m.Fields {
		switch {
		case f.Expr != nil:
			for _, p := range f.Expr.Paths {
				add(p)
			}
		case f.FlowsToJira():
			add(f.SF)
		}
	}
	// Fields Jira writes are read too: the three-way merge compares them with the snapshot.
	for _, f := range m.Fields {
		if f.FlowsToSF() {
			add(f.SF)
			// A lookup that follows Jira is written through its lookup field: read its current
			// value too, so the audit row holds the exact before-image a rollback restores.
			add(f.LookupField())
		}
	}
	if m.Status != nil {
		add(m.Status.SF)
	}
	// Trigger conditions and templates are evaluated over the record too.
	for _, t := range m.Triggers {
		for _, p := range t.Paths() {
			add(p)
		}
	}
	add(m.Salesforce.ExternalIDField)
	add(m.Salesforce.KeyField)
	return out
}

// SOQL builds the query reading the mapping's records, combining the mapping's scope with
// a caller condition such as "Id = '006…'" (either may be empty).
func (m *Mapping) SOQL(extraWhere string) string {
	q := "SELECT " + strings.Join(m.SOQLFields(), ", ") + " FROM " + m.Salesforce.Object
	var conds []string
	if w := strings.TrimSpace(m.Salesforce.Where); w != "" {
		conds = append(conds, "("+w+")")
	}
	if w := strings.TrimSpace(extraWhere); w != "" {
		conds = append(conds, "("+w+")")
	}
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	return q
}

// ValueMap is a picklist value map written once in the file and applied in both directions.
type ValueMap struct {
	// Unmapped says what happens to a value not in the map: fail (the record stops with
	// MAPPING_VALUE_UNMAPPED, the default) or pass (the value is copied unchanged).
	Unmapped string
	// Order lists the Salesforce values in file order; Pairs holds their Jira values.
	Order []string
	Pairs map[string]string

	toJira, toSF map[string]string // folded key → value
}

func foldValue(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func newValueMap(unmapped string) *ValueMap {
	return &ValueMap{Unmapped: unmapped, Pairs: map[string]string{}, toJira: map[string]string{}, toSF: map[string]string{}}
}

// ToJira maps a Salesforce value to its Jira value; ok is false for an unmapped value (which is
// returned unchanged, trimmed, when Unmapped is pass).
func (v *ValueMap) ToJira(sf string) (string, bool) {
	if j, ok := v.toJira[foldValue(sf)]; ok {
		return j, true
	}
	return strings.TrimSpace(sf), v.Unmapped == UnmappedPass
}

// ToSalesforce maps a Jira value back to its Salesforce value, like ToJira in reverse.
func (v *ValueMap) ToSalesforce(jira string) (string, bool) {
	if s, ok := v.toSF[foldValue(jira)]; ok {
		return s, true
	}
	return strings.TrimSpace(jira), v.Unmapped == UnmappedPass
}
