package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/mappings"
)

// PlanFixes works out what `sfjira preflight --fix` would create: Jira custom fields the mappings
// name but the site lacks, select options their value maps need, and the Salesforce custom fields
// to deploy (printed, never created). It only reads.
func PlanFixes(ctx context.Context, sf *salesforce.Client, jc *jira.Client, ms []*mappings.Mapping) (*mappings.FixPlan, error) {
	fields, err := jc.Fields(ctx)
	if err != nil {
		return nil, fmt.Errorf("preflight --fix: read Jira fields: %w", err)
	}
	jf := make([]mappings.JiraField, 0, len(fields))
	for _, f := range fields {
		jf = append(jf, mappings.JiraField{ID: f.ID, Name: f.Name, SchemaType: f.Schema.Type, SchemaItems: f.Schema.Items, SchemaCustom: f.Schema.Custom})
	}
	// Options are read from the create screen of each mapping's issue type, as preflight checks them.
	meta := map[string][]jira.CreateField{} // project/issue type → create screen
	var metaErr error
	createMeta := func(m *mappings.Mapping) []jira.CreateField {
		k := m.Jira.Project + "/" + m.Jira.IssueType
		if cm, ok := meta[k]; ok {
			return cm
		}
		meta[k] = nil
		p, err := jc.Project(ctx, m.Jira.Project)
		if err != nil {
			if !jira.IsNotFound(err) {
				metaErr = err
			}
			return nil
		}
		for _, t := range p.IssueTypes {
			if strings.EqualFold(t.Name, m.Jira.IssueType) || t.ID == m.Jira.IssueType {
				cm, err := jc.CreateMeta(ctx, m.Jira.Project, t.ID)
				if err != nil {
					metaErr = err
					return nil
				}
				meta[k] = cm
			}
		}
		return meta[k]
	}
	screen := func(m *mappings.Mapping) map[string]bool {
		if cm := createMeta(m); cm != nil {
			return onScreen(cm)
		}
		return nil
	}
	options := func(m *mappings.Mapping, fieldID string) ([]string, bool) {
		if v, ok := allowedOptions(createMeta(m))[fieldID]; ok {
			return v, true
		}
		// Not on the create screen: read the options of the field's global context (admin API).
		vals, err := contextOptions(ctx, jc, fieldID)
		if err != nil {
			metaErr = err
			return nil, false
		}
		return vals, true
	}
	plan := mappings.PlanJiraFixes(ms, jf, screen, options)
	if metaErr != nil {
		return nil, fmt.Errorf("preflight --fix: read Jira createmeta: %w", metaErr)
	}
	describe := func(object string) (*mappings.SFObject, error) {
		d, err := sf.Describe(ctx, object)
		if err != nil {
			return nil, err
		}
		o := &mappings.SFObject{Name: d.Name}
		for _, f := range d.Fields {
			o.Fields = append(o.Fields, mappings.SFField{Name: f.Name, Type: f.Type})
		}
		return o, nil
	}
	for _, m := range ms {
		m.PlanSalesforceFields(describe, plan)
	}
	return plan, nil
}

// ApplyJiraFixes creates the planned Jira fields (with their options, on the default screen) and
// adds the planned options to existing fields, reporting each step through done. It stops at the
// first failure; what was created before stays (a second run plans only what is still missing).
func ApplyJiraFixes(ctx context.Context, jc *jira.Client, plan *mappings.FixPlan, done func(string)) error {
	for _, f := range plan.JiraFields {
		created, err := jc.CreateCustomField(ctx, f.Name, jira.CustomFieldTypePrefix+f.Type, jira.CustomFieldTypePrefix+f.Searcher,
			"Created by sfjira preflight --fix for "+f.At)
		if err != nil {
			return fmt.Errorf("create Jira field %q: %w", f.Name, err)
		}
		done(fmt.Sprintf("created Jira field %q (%s, %s)", f.Name, created.ID, f.Type))
		if len(f.Options) > 0 {
			if err := addOptions(ctx, jc, created.ID, f.Name, f.Options, done); err != nil {
				return err
			}
		}
		if err := jc.AddFieldToDefaultScreen(ctx, created.ID); err != nil {
			return fmt.Errorf("add Jira field %q (%s) to the default screen: %w", f.Name, created.ID, err)
		}
		done(fmt.Sprintf("added %q (%s) to the default screen", f.Name, created.ID))
	}
	for _, o := range plan.JiraOptions {
		if err := addOptions(ctx, jc, o.FieldID, o.FieldName, o.Options, done); err != nil {
			return err
		}
	}
	for _, s := range plan.JiraScreens {
		if err := jc.AddFieldToDefaultScreen(ctx, s.FieldID); err != nil {
			return fmt.Errorf("add Jira field %q (%s) to the default screen: %w", s.FieldName, s.FieldID, err)
		}
		done(fmt.Sprintf("added %q (%s) to the default screen", s.FieldName, s.FieldID))
	}
	return nil
}

// addOptions adds options to the field's global context (created when the field has none).
func addOptions(ctx context.Context, jc *jira.Client, fieldID, name string, values []string, done func(string)) error {
	ctxs, err := jc.FieldContexts(ctx, fieldID)
	if err != nil {
		return fmt.Errorf("read the contexts of Jira field %q (%s): %w", name, fieldID, err)
	}
	var target *jira.FieldContext
	for i := range ctxs {
		if ctxs[i].IsGlobalContext {
			target = &ctxs[i]
			break
		}
	}
	if target == nil && len(ctxs) > 0 {
		target = &ctxs[0]
	}
	if target == nil {
		if target, err = jc.CreateGlobalFieldContext(ctx, fieldID, "Default Configuration Scheme for "+name); err != nil {
			return fmt.Errorf("create a context for Jira field %q (%s): %w", name, fieldID, err)
		}
	}
	if _, err := jc.CreateFieldOptions(ctx, fieldID, target.ID, values); err != nil {
		var ae *jira.APIError
		if errors.As(err, &ae) && ae.Status == 403 {
			return fmt.Errorf("add options to Jira field %q: the user lacks the Administer Jira permission: %w", name, err)
		}
		return fmt.Errorf("add options %s to Jira field %q (%s): %w", strings.Join(values, ", "), name, fieldID, err)
	}
	done(fmt.Sprintf("added option(s) %s to %q (%s, context %s)", quoteAll(values), name, fieldID, target.Name))
	return nil
}

func quoteAll(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

// contextOptions reads the enabled options of a field's global context (else its first one).
func contextOptions(ctx context.Context, jc *jira.Client, fieldID string) ([]string, error) {
	ctxs, err := jc.FieldContexts(ctx, fieldID)
	if err != nil {
		return nil, fmt.Errorf("read the contexts of Jira field %s: %w", fieldID, err)
	}
	if len(ctxs) == 0 {
		return nil, nil
	}
	target := ctxs[0]
	for _, c := range ctxs {
		if c.IsGlobalContext {
			target = c
			break
		}
	}
	opts, err := jc.FieldOptions(ctx, fieldID, target.ID)
	if err != nil {
		return nil, fmt.Errorf("read the options of Jira field %s: %w", fieldID, err)
	}
	var out []string
	for _, o := range opts {
		if !o.Disabled {
			out = append(out, o.Value)
		}
	}
	return out, nil
}

// checkCreateScreen adds preflight's create-screen problems: fields the mapping writes that are
// not on the issue type's create screen, and value-map values a select field has no option for.
// Both resolve the Jira fields themselves, so they are reported even when another field of the
// mapping does not bind. cm is the issue type's createmeta, read once by preflight.
func checkCreateScreen(m *mappings.Mapping, cm []jira.CreateField, jf []mappings.JiraField, rep *mappings.PreflightReport) {
	rep.Merge(m.CheckOnScreen(jf, onScreen(cm)))
	rep.Merge(m.CheckJiraOptions(jf, allowedOptions(cm)))
}

// allowedOptions collects the option values of the select fields on a create screen.
func allowedOptions(cm []jira.CreateField) map[string][]string {
	out := map[string][]string{}
	for _, f := range cm {
		if f.Schema.Type != "option" && !(f.Schema.Type == "array" && f.Schema.Items == "option") {
			continue
		}
		vals := []string{}
		for _, v := range f.AllowedValues {
			vals = append(vals, v.Value)
		}
		out[f.FieldID] = vals
	}
	return out
}

// onScreen is the set of field ids on a create screen.
func onScreen(cm []jira.CreateField) map[string]bool {
	out := map[string]bool{}
	for _, f := range cm {
		out[f.FieldID] = true
	}
	return out
}
