package activities

import (
	"sort"
	"time"

	"github.com/sfjira/sfjira/mappings"
)

// Winners in a Decision.
const (
	WinnerSF   = "sf"
	WinnerJira = "jira"
	WinnerNone = "none"
)

// Reasons in a Decision: why a side won.
const (
	ReasonSFChanged      = "sf_changed"
	ReasonJiraChanged    = "jira_changed"
	ReasonOwnerWins      = "owner_wins"
	ReasonLastWriterWins = "last_writer_wins"
	ReasonManual         = "manual"
	ReasonResolved       = "resolved_by_operator"
	ReasonFirstSync      = "first_sync"
	ReasonStatusKept     = "jira_status_kept"
	// ReasonFollowsJira marks a Salesforce field that reports what this pass wrote to Jira.
	ReasonFollowsJira = "follows_jira_write"
)

// mergeField is one comparable key of a pair: "j:<jira field id>" for values that flow to Jira
// (compared in Jira's canonical form) and "s:<Salesforce field>" for values only Jira writes.
type mergeField struct {
	Key      string
	Label    string
	ToJira   bool
	ToSF     bool
	Owner    string
	Conflict string
	IsStatus bool
	JiraID   string
	SFField  string
}

// mergeFields lists the keys of a bound mapping in a stable order.
func mergeFields(b *mappings.Bound) []mergeField {
	var out []mergeField
	for _, bf := range b.Fields {
		switch {
		case bf.FlowsToJira():
			out = append(out, mergeField{Key: "j:" + bf.JiraID, Label: bf.JiraName, ToJira: true, ToSF: bf.FlowsToSF(),
				Owner: bf.Owner, Conflict: bf.Conflict, JiraID: bf.JiraID, SFField: bf.SF})
		case bf.FlowsToSF():
			out = append(out, mergeField{Key: "s:" + bf.SF, Label: bf.SF, ToSF: true, Owner: bf.Owner, Conflict: bf.Conflict,
				JiraID: bf.JiraID, SFField: bf.SF})
		}
	}
	if b.Mapping.Status != nil {
		out = append(out,
			mergeField{Key: "j:" + keyStatus, Label: "Status", ToJira: true, IsStatus: true, Owner: mappings.OwnerSF, Conflict: mappings.ConflictLastWriterWins, JiraID: keyStatus},
			mergeField{Key: "j:" + keyResolution, Label: "Resolution", ToJira: true, IsStatus: true, Owner: mappings.OwnerSF, Conflict: mappings.ConflictLastWriterWins, JiraID: keyResolution})
	}
	return out
}

// sideProjections builds the comparable view of both sides from what the activities fetched.
func sideProjections(b *mappings.Bound, fields []mergeField, desired *mappings.Desired, sfValues map[string]any, jira *JiraState) (sf, jr mappings.Projection) {
	sf, jr = mappings.Projection{}, mappings.Projection{}
	var sfProj mappings.Projection
	if sfValues != nil {
		sfProj = b.ProjectSalesforce(func(p string) (any, bool) { v, ok := sfValues[p]; return v, ok })
	}
	for _, f := range fields {
		if desired != nil {
			if f.ToJira {
				sf[f.Key] = desired.Projection[f.JiraID]
			} else {
				sf[f.Key] = sfProj[f.SFField]
			}
		}
		if jira != nil && jira.Found {
			if f.ToJira {
				jr[f.Key] = jira.Projection[f.JiraID]
			} else {
				jr[f.Key] = jira.SFProjection[f.SFField]
			}
		}
	}
	return sf, jr
}

// mergeInput is everything the three-way merge looks at.
type mergeInput struct {
	Fields   []mergeField
	SF, Jira mappings.Projection
	// BaseSF and BaseJira are the last-synced snapshot of each side; HasBase is false before the
	// first successful sync, when the origin side wins every field it can write.
	BaseSF, BaseJira mappings.Projection
	HasBase          bool
	OriginIsJira     bool
	SFTime, JiraTime time.Time
	// Resolved holds operator decisions on manual conflicts: key → "sf" or "jira".
	Resolved map[string]string
}

// mergeOutcome is the merge's verdict per key.
type mergeOutcome struct {
	Decisions []Decision
	// WriteJira and WriteSF list the keys to write on each side.
	WriteJira, WriteSF []mergeField
	Conflicts          []ConflictNote
	Held, Diverged     []string
}

// merge is the three-way merge of design §4.3, per field: a field changed on one side only since
// the last sync wins; changed on both is decided by the field's policy (owner wins, last writer
// wins by modification time, or manual: queued and not written). A side equal to the snapshot is
// unchanged, so our own writes coming back as events (echoes) decide nothing and write nothing.
// Ownership bounds direction: a value may only be written where the mapping lets it flow, so a
// change on the side that does not own a one-way field is put back. Status is special: a stage
// change moves the Jira status, but a status moved in Jira is kept (and reported back through
// the jira_to_sf fields) until the stage changes again.
func merge(in mergeInput) mergeOutcome {
	var out mergeOutcome
	for _, f := range in.Fields {
		a, b := in.SF[f.Key], in.Jira[f.Key]
		baseA, okA := in.BaseSF[f.Key]
		baseB, okB := in.BaseJira[f.Key]
		sfChanged := !okA || a != baseA
		jiraChanged := okB && b != baseB
		if !in.HasBase {
			sfChanged, jiraChanged = !in.OriginIsJira, in.OriginIsJira
		}
		if a == b {
			continue
		}
		d := Decision{Key: f.Key, Label: f.Label, SFValue: a, JiraValue: b}
		lastWriter := func() (string, string) {
			if !in.JiraTime.IsZero() && in.JiraTime.After(in.SFTime) {
				return WinnerJira, ReasonLastWriterWins
			}
			return WinnerSF, ReasonLastWriterWins
		}
		owner := func() string {
			if f.Owner == mappings.OwnerJira {
				return WinnerJira
			}
			return WinnerSF
		}
		switch take, ok := in.Resolved[f.Key]; {
		case ok:
			d.Winner, d.Reason = take, ReasonResolved
		case !in.HasBase:
			d.Winner, d.Reason = WinnerSF, ReasonFirstSync
			if in.OriginIsJira {
				d.Winner = WinnerJira
			}
		case f.IsStatus:
			switch {
			case sfChanged && jiraChanged:
				d.Winner, d.Reason = lastWriter()
			case sfChanged:
				d.Winner, d.Reason = WinnerSF, ReasonSFChanged
			default:
				d.Winner, d.Reason = WinnerNone, ReasonStatusKept
			}
		case sfChanged && !jiraChanged:
			d.Winner, d.Reason = WinnerSF, ReasonSFChanged
		case jiraChanged && !sfChanged:
			d.Winner, d.Reason = WinnerJira, ReasonJiraChanged
		case sfChanged && jiraChanged:
			switch f.Conflict {
			case mappings.ConflictManual:
				d.Winner, d.Reason = WinnerNone, ReasonManual
			case mappings.ConflictLastWriterWins:
				d.Winner, d.Reason = lastWriter()
			default:
				d.Winner, d.Reason = owner(), ReasonOwnerWins
			}
		default:
			// Neither side moved but they differ (a mapping change, or a write lost): the owner
			// side is the truth.
			d.Winner, d.Reason = owner(), ReasonOwnerWins
		}
		// A value can only flow where the mapping allows; otherwise the other side owns it.
		if d.Winner == WinnerSF && !f.ToJira {
			d.Winner, d.Reason = WinnerJira, ReasonOwnerWins
		}
		if d.Winner == WinnerJira && !f.ToSF {
			if f.IsStatus {
				d.Winner = WinnerNone
			} else {
				d.Winner, d.Reason = WinnerSF, ReasonOwnerWins
			}
		}
		switch d.Winner {
		case WinnerSF:
			out.WriteJira = append(out.WriteJira, f)
		case WinnerJira:
			out.WriteSF = append(out.WriteSF, f)
		default:
			if d.Reason == ReasonManual {
				out.Conflicts = append(out.Conflicts, ConflictNote{Key: f.Key, Label: f.Label, SFValue: a, JiraValue: b, BaseSF: baseA, BaseJira: baseB})
				out.Held = append(out.Held, f.Key)
			} else {
				out.Diverged = append(out.Diverged, f.Key)
			}
		}
		out.Decisions = append(out.Decisions, d)
	}
	sort.Strings(out.Held)
	sort.Strings(out.Diverged)
	return out
}
