package activities

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/internal/jira"
)

func tr(id, name, to, cat string, screen bool) jira.Transition {
	t := jira.Transition{ID: id, Name: name}
	t.To.Name, t.To.CategoryKey = to, cat
	if screen {
		t.Fields = map[string]jira.TransitionField{"resolution": {}}
	}
	return t
}

// TestChooseStepTakesTheNamedResolutionTransitionAndNeverAnother: from In Progress the screen
// transition "Done" and the post-function transition "Won't Do" both enter Done; each target
// takes its own, and the resolution transition is never a stepping stone.
func TestChooseStepTakesTheNamedResolutionTransitionAndNeverAnother(t *testing.T) {
	others := map[string]string{"won't do": "Won't Do"}
	inProgress := []jira.Transition{tr("21", "Stop progress", "To Do", "new", false), tr("31", "Request review", "In Review", "indeterminate", false),
		tr("41", "Done", "Done", "done", true), tr("81", "Won't Do", "Done", "done", false)}
	lost := statusRoute{target: "Done", resolution: "Won't Do", via: "Won't Do", others: others}
	won := statusRoute{target: "Done", resolution: "Done", others: others}

	c, ok := chooseStep(inProgress, lost, map[string]bool{"in progress": true}, false)
	require.True(t, ok)
	require.Equal(t, "81", c.t.ID)
	require.True(t, c.direct)
	require.False(t, c.screen, "the post-function sets the resolution: no screen, so it can go in bulk")
	require.Equal(t, "Won't Do", c.sets)

	c, ok = chooseStep(inProgress, won, map[string]bool{"in progress": true}, false)
	require.True(t, ok)
	require.Equal(t, "41", c.t.ID, "Closed Won never takes the Won't Do transition")
	require.True(t, c.screen)

	// From To Do only the global Won't Do enters Done: Won steps to In Progress instead.
	toDo := []jira.Transition{tr("11", "Start progress", "In Progress", "indeterminate", false), tr("81", "Won't Do", "Done", "done", false)}
	c, ok = chooseStep(toDo, won, map[string]bool{"to do": true}, false)
	require.True(t, ok)
	require.Equal(t, "11", c.t.ID)
	require.False(t, c.direct)
	c, ok = chooseStep(toDo, lost, map[string]bool{"to do": true}, false)
	require.True(t, ok)
	require.Equal(t, "81", c.t.ID, "created straight into Done/Won't Do")

	// Without the named transition in the workflow the resolution goes on the screen.
	c, ok = chooseStep(inProgress[:3], lost, map[string]bool{"in progress": true}, false)
	require.True(t, ok)
	require.Equal(t, "41", c.t.ID)
	require.True(t, c.screen)

	// In Done with the wrong resolution: leave and come back.
	done := []jira.Transition{tr("71", "Reopen", "To Do", "new", false)}
	c, ok = chooseStep(done, lost, map[string]bool{"done": true}, true)
	require.True(t, ok)
	require.Equal(t, "71", c.t.ID)
}
