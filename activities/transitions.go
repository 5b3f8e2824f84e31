package activities

import (
	"strings"

	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/mappings"
)

// statusRoute is what choosing a transition needs to know about a target besides the
// workflow: the status and resolution wanted, the transition the mapping names for them (whose
// post-function sets the resolution) and the transitions it names for other resolutions, which
// must not be taken into this target.
type statusRoute struct {
	target, resolution string
	via                string
	others             map[string]string // lower-cased transition name → the resolution it sets
}

func routeFor(m *mappings.Mapping, target, resolution, via string) statusRoute {
	r := statusRoute{target: target, resolution: resolution, via: via}
	if m != nil {
		if r.via == "" {
			r.via = m.Status.TransitionFor(target, resolution)
		}
		r.others = m.Status.ResolutionTransitions()
	}
	return r
}

// stepChoice is the next transition toward a target: direct says it enters the target;
// screen says the resolution has to be sent on its screen (so it cannot go in bulk).
type stepChoice struct {
	t      *jira.Transition
	direct bool
	screen bool
	// sets is the resolution the transition leaves by itself (a named resolution transition).
	sets string
}

// chooseStep picks the next transition from ts (the transitions available in the issue's
// current status) toward the route's target. A direct transition is preferred: the mapping's
// named resolution transition first, never one the mapping names for a different resolution,
// then one with the resolution on its screen when a resolution is wanted. Without a direct
// one it takes a step to a status not visited yet, preferring "in progress" statuses. needLeave
// says the issue is in the target status with the wrong resolution and must leave first.
func chooseStep(ts []jira.Transition, r statusRoute, visited map[string]bool, needLeave bool) (stepChoice, bool) {
	if !needLeave {
		var direct []*jira.Transition
		for i := range ts {
			t := &ts[i]
			if !strings.EqualFold(t.To.Name, r.target) {
				continue
			}
			if r.via != "" && strings.EqualFold(t.Name, r.via) {
				return stepChoice{t: t, direct: true, sets: r.resolution}, true
			}
			if res, named := r.others[strings.ToLower(t.Name)]; named {
				if !strings.EqualFold(res, r.resolution) {
					continue
				}
				return stepChoice{t: t, direct: true, sets: res}, true
			}
			direct = append(direct, t)
		}
		if len(direct) > 0 {
			pick := direct[0]
			if r.resolution != "" {
				for _, t := range direct {
					if _, onScreen := t.Fields["resolution"]; onScreen {
						pick = t
						break
					}
				}
			}
			_, onScreen := pick.Fields["resolution"]
			return stepChoice{t: pick, direct: true, screen: onScreen && r.resolution != ""}, true
		}
	}
	var next *jira.Transition
	for i := range ts {
		t := &ts[i]
		if !needLeave && visited[strings.ToLower(t.To.Name)] {
			continue
		}
		if _, named := r.others[strings.ToLower(t.Name)]; named && !strings.EqualFold(t.To.Name, r.target) {
			continue // a resolution transition is never a stepping stone
		}
		if next == nil || (t.To.CategoryKey == "indeterminate" && next.To.CategoryKey != "indeterminate") {
			next = t
		}
	}
	if next == nil {
		return stepChoice{}, false
	}
	return stepChoice{t: next}, true
}

// ChooseTransition is the bulk backfill's choice of the next transition toward the status and
// resolution d wants (see chooseStep), exported so the benchmark's bulk ceiling makes the same
// calls without Temporal. sets is the resolution the transition leaves by itself; screen says
// the resolution must be sent on the transition screen, one issue at a time.
func ChooseTransition(m *mappings.Mapping, ts []jira.Transition, d *mappings.Desired, visited map[string]bool, needLeave bool) (t *jira.Transition, direct, screen bool, sets string, ok bool) {
	c, ok := chooseStep(ts, routeFor(m, d.Status, d.Resolution, d.Transition), visited, needLeave)
	return c.t, c.direct, c.screen, c.sets, ok
}
