package mappings

import (
	"fmt"
	"strconv"
	"strings"
)

// ProjectSalesforce is the canonical form of the Salesforce values of every field Jira writes
// (jira_to_sf and both), keyed by Salesforce field name. The three-way merge compares it with
// the last-synced snapshot to tell whether someone changed such a field in Salesforce.
func (b *Bound) ProjectSalesforce(get Getter) Projection {
	out := Projection{}
	for _, bf := range b.Fields {
		if !bf.FlowsToSF() {
			continue
		}
		v, _ := get(bf.SF)
		out[bf.SF] = canonicalSF(bf, v)
	}
	return out
}

// ProjectSalesforceValues canonicalises values about to be written to Salesforce (the output
// of ToSalesforce) exactly like ProjectSalesforce reads them back.
func (b *Bound) ProjectSalesforceValues(values map[string]any) Projection {
	return b.ProjectSalesforce(func(path string) (any, bool) {
		v, ok := values[path]
		return v, ok
	})
}

func canonicalSF(bf BoundField, v any) string {
	if isEmptyValue(v) {
		return ""
	}
	switch bf.Type {
	case TypeText:
		return projectText(fmt.Sprint(v))
	case TypeRichText:
		return CanonicalText(fmt.Sprint(v))
	case TypeHTML:
		return CanonicalHTML(fmt.Sprint(v))
	case TypeDate:
		s := strings.TrimSpace(fmt.Sprint(v))
		if d, err := DateToJira(s); err == nil {
			return d
		}
		return s
	case TypeDateTime:
		s := strings.TrimSpace(fmt.Sprint(v))
		if d, err := CanonicalDateTime(s); err == nil {
			return d
		}
		return s
	case TypeNumber, TypeCurrency, TypePercent:
		f, err := toFloat(v)
		if err != nil {
			return strings.TrimSpace(fmt.Sprint(v))
		}
		c, _ := RoundDecimal(f, bf.Precision)
		return c
	case TypePicklist, TypeMultiPicklist:
		return canonicalSFPicklist(bf, v)
	case TypeUser:
		return canonicalEmail(fmt.Sprint(v))
	case TypeCheckbox:
		switch t := v.(type) {
		case bool:
			return strconv.FormatBool(t)
		default:
			b, err := strconv.ParseBool(fmt.Sprint(v))
			if err != nil {
				return fmt.Sprint(v)
			}
			return strconv.FormatBool(b)
		}
	}
	return fmt.Sprint(v)
}

// StatusToStage maps a Jira status (and resolution) back to a Salesforce value of the status
// field, for records created from Jira: the first value in the mapping's status map (in file
// order is not kept, so alphabetical) whose target matches status and resolution, then status
// alone. It returns "" when nothing maps to the status.
func (m *Mapping) StatusToStage(status, resolution string) string {
	if m.Status == nil {
		return ""
	}
	var exact, byStatus []string
	for v, t := range m.Status.Values {
		if strings.EqualFold(t.Status, status) {
			byStatus = append(byStatus, v)
			if strings.EqualFold(t.Resolution, resolution) {
				exact = append(exact, v)
			}
		}
	}
	pick := func(vs []string) string {
		best := ""
		for _, v := range vs {
			if best == "" || v < best {
				best = v
			}
		}
		return best
	}
	if s := pick(exact); s != "" {
		return s
	}
	return pick(byStatus)
}
