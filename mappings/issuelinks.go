package mappings

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// IssueLinksField is the Jira field id of an issue's links. A lookup mapped to it (with
// link_type) is written as one issue link instead of a field value, because Jira only changes
// links through /rest/api/3/issueLink.
const IssueLinksField = "issuelinks"

// linkType reads `link_type:` and enforces that it goes with exactly the lookup → issuelinks
// mappings, so a typo on another field cannot silently be ignored.
func (l *loader) linkType(f *FieldMap, o *obj) {
	key, has := o.keys["link_type"]
	toLinks := strings.EqualFold(strings.TrimSpace(f.Jira), IssueLinksField)
	if !has {
		if f.Type == TypeLookup && toLinks {
			l.add(o.vals["jira"], "add link_type: with a Jira link type name, e.g. link_type: Relates",
				"a lookup to issuelinks needs link_type")
		}
		return
	}
	if f.Type != TypeLookup || !toLinks {
		l.add(key, "remove link_type, or map type: lookup to jira: issuelinks",
			"link_type applies only to lookup fields mapped to jira: issuelinks")
		return
	}
	if s, n, ok := l.str(o, "link_type"); ok {
		f.LinkType, f.linkTypeLine = strings.TrimSpace(s), n.Line
		if f.LinkType == "" {
			l.add(n, "name a Jira link type, e.g. link_type: Relates", "link_type is empty")
		}
	}
}

// IssueLinkField returns the mapping's lookup written as an issue link, if any; the sync
// writes it through the issue link API after the field edits.
func (b *Bound) IssueLinkField() (BoundField, bool) {
	for _, bf := range b.Fields {
		if bf.Type == TypeLookup && bf.LinkType != "" && bf.FlowsToJira() {
			return bf, true
		}
	}
	return BoundField{}, false
}

// projectIssueLinks is the canonical value of an issue-link lookup: the ids of the issues this
// issue links to with the link type (as the link's inward issue), sorted and comma-separated,
// so a missing, changed or duplicated link differs from the single desired id. It also reads
// the desired wire value {"id": …} the sync hands to the link writer.
func projectIssueLinks(raw json.RawMessage, linkType string) string {
	if isJSONNull(raw) {
		return ""
	}
	var one struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &one) == nil {
		return one.ID
	}
	var links []struct {
		Type struct {
			Name string `json:"name"`
		} `json:"type"`
		OutwardIssue *struct {
			ID string `json:"id"`
		} `json:"outwardIssue"`
	}
	if json.Unmarshal(raw, &links) != nil {
		return ""
	}
	var ids []string
	for _, l := range links {
		if strings.EqualFold(l.Type.Name, linkType) && l.OutwardIssue != nil {
			ids = append(ids, l.OutwardIssue.ID)
		}
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

// CheckLinkTypes reports every link_type the Jira site does not have (names from GET
// /rest/api/3/issueLinkType), before a sync would fail creating the link.
func (m *Mapping) CheckLinkTypes(names []string) *PreflightReport {
	r := &PreflightReport{}
	for _, f := range m.Fields {
		if f.LinkType == "" {
			continue
		}
		found := false
		for _, n := range names {
			if strings.EqualFold(n, f.LinkType) {
				found = true
			}
		}
		if found {
			continue
		}
		fix := "use one of: " + strings.Join(names, ", ")
		if c := closest(f.LinkType, names); c != "" {
			fix = fmt.Sprintf("did you mean %q?", c)
		}
		r.add(m, f.linkTypeLine, fix, "Jira has no issue link type %q (link_type of field %s)", f.LinkType, f.SF)
	}
	return r
}
