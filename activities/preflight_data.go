package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/mappings"
)

// PreflightData runs every Salesforce record in each mapping's scope (its SOQL where) through
// the transform a sync would apply, and reports per field how many are empty, invalid, too long
// or unmapped, with example record ids (`sfjira preflight --data`). It writes nothing. Mappings
// whose Jira fields do not bind are returned as problems instead of a report (the data cannot be
// judged against a field that does not exist); an unreachable system is an error.
func PreflightData(ctx context.Context, sf *salesforce.Client, jc *jira.Client, ms []*mappings.Mapping) ([]*mappings.DataReport, mappings.ErrorList, error) {
	fields, err := jc.Fields(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("preflight --data: read Jira fields: %w", err)
	}
	jf := make([]mappings.JiraField, 0, len(fields))
	for _, f := range fields {
		jf = append(jf, mappings.JiraField{ID: f.ID, Name: f.Name, SchemaType: f.Schema.Type, SchemaItems: f.Schema.Items, SchemaCustom: f.Schema.Custom})
	}
	users := newJiraUsers(jc)
	var reports []*mappings.DataReport
	var problems mappings.ErrorList
	for _, m := range ms {
		b, err := m.Bind(jf)
		if err != nil {
			var list mappings.ErrorList
			if errors.As(err, &list) {
				problems = append(problems, list...)
				continue
			}
			return nil, nil, err
		}
		b.Users = users
		rep := b.NewDataReport()
		err = sf.QueryEach(ctx, m.SOQL(""), func(r salesforce.Record) error {
			return rep.Add(r.ID(), mappings.RecordGetter(r))
		})
		if err != nil {
			return nil, nil, fmt.Errorf("preflight --data: %s records of %s: %w", m.Salesforce.Object, m.Pair, err)
		}
		rep.Finish()
		reports = append(reports, rep)
	}
	return reports, problems, nil
}
