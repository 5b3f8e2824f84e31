package activities

import (
	"context"
	"fmt"

	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/mappings"
)

// broadJiraPermissions are project permissions that widen what a leaked integration credential
// could do and that a mapping needs only in the cases checked in leastPrivilegeWarnings.
var broadJiraPermissions = []string{"ADMINISTER_PROJECTS", "DELETE_ALL_COMMENTS", "DELETE_ALL_WORKLOGS", "MODIFY_REPORTER"}

// leastPrivilegeWarnings reports the broad permissions the Jira integration user holds in the
// mapping's project beyond what the mapping needs (least privilege): not a failure, a warning
// with the fix.
func leastPrivilegeWarnings(ctx context.Context, jc *jira.Client, m *mappings.Mapping) ([]string, error) {
	needed := map[string]bool{}
	for _, p := range m.JiraPermissions() {
		needed[p] = true
	}
	var ask []string
	for _, p := range broadJiraPermissions {
		if !needed[p] {
			ask = append(ask, p)
		}
	}
	if len(ask) == 0 {
		return nil, nil
	}
	have, err := jc.MyPermissions(ctx, m.Jira.Project, ask)
	if err != nil {
		return nil, fmt.Errorf("preflight: Jira permissions in %s: %w", m.Jira.Project, err)
	}
	var out []string
	for _, p := range ask {
		if have[p] {
			out = append(out, fmt.Sprintf("%s: the Jira integration user holds %s in project %s, which this mapping never needs (least privilege: remove it from the project's permission scheme for that user)",
				m.File, p, m.Jira.Project))
		}
	}
	return out, nil
}
