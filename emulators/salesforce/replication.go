package salesforce

import (
	"net/http"
	"time"
)

const (
	updatedWindow = 30 * 24 * time.Hour // getUpdated: no more than 30 days back
	deletedWindow = 15 * 24 * time.Hour // getDeleted: the recycle bin keeps 15 days
)

// parseReplicationDate reads a start/end parameter; seconds are truncated like the real service.
func parseReplicationDate(name, v string) (time.Time, *apiError) {
	if v == "" {
		return time.Time{}, errf(400, "MISSING_ARGUMENT", nil, "%s is a required parameter", name)
	}
	t, ok := parseDateTime(v)
	if !ok {
		return time.Time{}, errf(400, "INVALID_REPLICATION_DATE", nil, "Unable to parse %s date: %s. Use ISO 8601 format, e.g. 2013-05-06T00:00:00+00:00", name, v)
	}
	return t.UTC().Truncate(time.Minute), nil
}

// handleReplication serves GET /sobjects/{Object}/updated/ and /deleted/.
func (s *Server) handleReplication(w http.ResponseWriter, r *http.Request, o *objectDef, deleted bool) {
	q := r.URL.Query()
	start, err := parseReplicationDate("start", q.Get("start"))
	if err != nil {
		writeErr(w, err)
		return
	}
	end, err := parseReplicationDate("end", q.Get("end"))
	if err != nil {
		writeErr(w, err)
		return
	}
	now := s.now().UTC()
	window := updatedWindow
	if deleted {
		window = deletedWindow
	}
	switch {
	case !end.After(start):
		writeErr(w, errf(400, "INVALID_REPLICATION_DATE", nil, "startDate must chronologically precede endDate by more than one minute"))
		return
	case end.Sub(start) > updatedWindow:
		writeErr(w, errf(400, "INVALID_REPLICATION_DATE", nil, "endDate must be no more than 30 days after startDate"))
		return
	case start.Before(now.Add(-window)):
		writeErr(w, errf(400, "INVALID_REPLICATION_DATE", nil, "startDate cannot be more than %d days ago", int(window/(24*time.Hour))))
		return
	}
	// The real service reports the last fully processed minute; the emulator covers up to "now" so
	// tests need not wait for the minute to pass.
	covered := end
	if covered.After(now) {
		covered = now
	}
	lo, hi := start.Format(sfDateTime), covered.Format(sfDateTime)
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.st.tables[o.Name]
	if !deleted {
		ids := []string{}
		for _, rec := range t.rows {
			ms, _ := rec.vals["SystemModstamp"].(string)
			if !rec.deleted && ms >= lo && ms <= hi {
				ids = append(ids, rec.id)
			}
		}
		if len(ids) > 600000 {
			writeErr(w, errf(400, "EXCEEDED_ID_LIMIT", nil, "Too many ids: choose start and end dates that are closer together"))
			return
		}
		writeJSON(w, 200, map[string]any{"ids": ids, "latestDateCovered": covered.Format(sfDateTime)})
		return
	}
	type deletedRec struct {
		ID          string `json:"id"`
		DeletedDate string `json:"deletedDate"`
	}
	recs := []deletedRec{}
	for _, rec := range t.rows {
		ms, _ := rec.vals["SystemModstamp"].(string)
		if rec.deleted && ms >= lo && ms <= hi {
			recs = append(recs, deletedRec{rec.id, ms})
		}
	}
	earliest := s.createdAt.UTC().Truncate(time.Minute)
	if floor := now.Add(-deletedWindow).Truncate(time.Minute); earliest.Before(floor) {
		earliest = floor
	}
	writeJSON(w, 200, map[string]any{"deletedRecords": recs, "earliestDateAvailable": earliest.Format(sfDateTime),
		"latestDateCovered": covered.Format(sfDateTime)})
}
