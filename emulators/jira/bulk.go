package jira

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Jira Cloud's bulk operations API (POST /rest/api/3/bulk/issues/transition and
// GET /rest/api/3/bulk/queue/{taskId}): a bulk transition is submitted as a task and its
// outcome read from the queue. The emulator runs the task as soon as it is submitted, so the
// first poll already sees it COMPLETE, with per-issue failures in failedAccessibleIssues and
// unknown issues counted in invalidOrInaccessibleIssueCount, like Jira.

// maxBulkTransitionIssues is Jira's limit of issues in one bulk transition submission.
const maxBulkTransitionIssues = 1000

// maxBulkTasks bounds the finished tasks kept for polling (Jira keeps them 14 days).
const maxBulkTasks = 1000

type bulkTask struct {
	ID        string
	Created   time.Time
	Processed []int64
	Failed    map[string][]string
	Invalid   int
	Total     int
}

func (t *bulkTask) json() map[string]any {
	processed := t.Processed
	if processed == nil {
		processed = []int64{}
	}
	ts := t.Created.UnixMilli()
	out := map[string]any{
		"taskId": t.ID, "status": "COMPLETE", "progressPercent": 100,
		"created": ts, "started": ts, "updated": ts,
		"submittedBy":                     map[string]any{"accountId": accountID},
		"processedAccessibleIssues":       processed,
		"invalidOrInaccessibleIssueCount": t.Invalid,
		"totalIssueCount":                 t.Total,
	}
	if len(t.Failed) > 0 {
		out["failedAccessibleIssues"] = t.Failed
	}
	return out
}

func writeBulkErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]string{{"message": msg}}})
}

func (s *Server) handleBulkTransition(w http.ResponseWriter, r *http.Request) {
	var in struct {
		BulkTransitionInputs []struct {
			SelectedIssueIdsOrKeys []string `json:"selectedIssueIdsOrKeys"`
			TransitionID           string   `json:"transitionId"`
		} `json:"bulkTransitionInputs"`
		SendBulkNotification *bool `json:"sendBulkNotification"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if len(in.BulkTransitionInputs) == 0 {
		writeBulkErr(w, 400, "bulkTransitionInputs must not be empty")
		return
	}
	total := 0
	for _, bi := range in.BulkTransitionInputs {
		if bi.TransitionID == "" {
			writeBulkErr(w, 400, "transitionId is required for every bulk transition input")
			return
		}
		for _, ref := range bi.SelectedIssueIdsOrKeys {
			if !validIssueRef(ref) {
				writeBulkErr(w, 400, "Some of the issues in the issueIdsOrKeys are not valid")
				return
			}
		}
		total += len(bi.SelectedIssueIdsOrKeys)
	}
	if total == 0 {
		writeBulkErr(w, 400, "selectedIssueIdsOrKeys must not be empty")
		return
	}
	if total > maxBulkTransitionIssues {
		writeBulkErr(w, 400, "You can transition up to "+strconv.Itoa(maxBulkTransitionIssues)+" issues in a single operation.")
		return
	}
	lag := s.searchLag()
	base := baseURL(r)
	now := s.now()
	task := &bulkTask{Created: now, Total: total, Failed: map[string][]string{}}
	s.mu.Lock()
	for _, bi := range in.BulkTransitionInputs {
		for _, ref := range bi.SelectedIssueIdsOrKeys {
			is := s.lookup(ref)
			if is == nil {
				task.Invalid++
				continue
			}
			id := strconv.FormatInt(is.id, 10)
			tr := s.wf().forType(is.d.TypeID).find(is.d.StatusID, bi.TransitionID)
			if tr == nil {
				task.Failed[id] = append(task.Failed[id], "Transition id '"+bi.TransitionID+"' is not valid for this issue.")
				continue
			}
			// Transition screens are skipped in bulk: a resolution screen leaves the resolution
			// to the workflow's default (Done); a resolution post-function still runs.
			next := is.clone()
			s.applyTransition(next, tr, "", now)
			next.updated = now
			next.visibleAt = now.Add(lag)
			before := is.d
			*is = *next
			s.issueChangedLocked(base, before, is, evTransition)
			task.Processed = append(task.Processed, is.id)
		}
	}
	sort.Slice(task.Processed, func(i, j int) bool { return task.Processed[i] < task.Processed[j] })
	s.nextTask++
	task.ID = strconv.FormatInt(10000+s.nextTask, 10)
	if s.tasks == nil {
		s.tasks = map[string]*bulkTask{}
	}
	s.tasks[task.ID] = task
	s.taskFIFO = append(s.taskFIFO, task.ID)
	if len(s.taskFIFO) > maxBulkTasks {
		delete(s.tasks, s.taskFIFO[0])
		s.taskFIFO = s.taskFIFO[1:]
	}
	s.mu.Unlock()
	writeJSON(w, 201, map[string]string{"taskId": task.ID})
}

func (s *Server) handleBulkQueue(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("taskId")
	s.mu.RLock()
	t := s.tasks[id]
	var out map[string]any
	if t != nil {
		out = t.json()
	}
	s.mu.RUnlock()
	if t == nil {
		writeErr(w, 400, []string{"The task associated with this taskId is not a bulk operation task"}, nil)
		return
	}
	writeJSON(w, 200, out)
}

// validIssueRef accepts a numeric issue id or an issue key (PROJ-123).
func validIssueRef(ref string) bool {
	if ref == "" {
		return false
	}
	if _, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return true
	}
	p, n, ok := strings.Cut(ref, "-")
	if !ok || p == "" {
		return false
	}
	_, err := strconv.ParseInt(n, 10, 64)
	return err == nil
}
