package salesforce

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sfjira/sfjira/emulators/internal/faultbody"
)

// serveAdmin handles the unauthenticated /__admin/ API used by tests, the demo and benchmarks.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "/__admin/stats" && r.Method == http.MethodGet:
		writeJSON(w, 200, s.Stats())
	case path == "/__admin/reset" && r.Method == http.MethodPost:
		var o *SeedOptions
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if len(strings.TrimSpace(string(body))) > 0 {
			o = new(SeedOptions)
			if err := json.Unmarshal(body, o); err != nil {
				writeJSON(w, 400, map[string]string{"error": "invalid JSON: " + err.Error()})
				return
			}
		}
		s.Reset(nil)
		created := SeedOptions{}
		if o != nil {
			s.mu.Lock()
			created = s.seed(*o)
			s.mu.Unlock()
		}
		writeJSON(w, 200, map[string]any{"reset": true, "seeded": created})
	case path == "/__admin/seed" && r.Method == http.MethodPost:
		var o SeedOptions
		if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
			writeJSON(w, 400, map[string]string{"error": "invalid JSON: " + err.Error()})
			return
		}
		s.mu.Lock()
		created := s.seed(o)
		s.mu.Unlock()
		writeJSON(w, 200, created)
	case path == "/__admin/permissions" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		s.handleAdminPermissions(w, r)
	case path == "/__admin/faults" && r.Method == http.MethodGet:
		s.faultMu.Lock()
		f := s.faults
		s.faultMu.Unlock()
		writeJSON(w, 200, f)
	case path == "/__admin/faults" && r.Method == http.MethodPost:
		var f Faults
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := json.Unmarshal(body, &f); err != nil {
				writeJSON(w, 400, map[string]string{"error": "invalid JSON: " + err.Error()})
				return
			}
		}
		for i, rule := range f.Rules {
			if (rule.Kind == "malformed" && !faultbody.Valid(rule.Body)) || (rule.Kind != "malformed" && rule.Body != "") {
				writeJSON(w, 400, map[string]string{"error": fmt.Sprintf("rule %d: body %q: with kind malformed, body is one of %s; other kinds take no body",
					i, rule.Body, strings.Join(faultbody.Kinds, ", "))})
				return
			}
		}
		s.SetFaults(f)
		s.faultMu.Lock()
		f = s.faults
		s.faultMu.Unlock()
		writeJSON(w, 200, f)
	case path == "/__admin/outbound" && r.Method == http.MethodGet:
		writeJSON(w, 200, s.OutboundConfigs())
	case path == "/__admin/outbound" && r.Method == http.MethodPost:
		var c OutboundConfig
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&c); err != nil {
			writeJSON(w, 400, map[string]string{"error": "invalid JSON: " + err.Error()})
			return
		}
		added, err := s.AddOutbound(c)
		if err != nil {
			writeJSON(w, 400, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, 200, added)
	case path == "/__admin/outbound" && r.Method == http.MethodDelete:
		s.ClearOutbound()
		writeJSON(w, 200, map[string]bool{"cleared": true})
	case path == "/__admin/outbound/queue" && r.Method == http.MethodGet:
		writeJSON(w, 200, s.OutboundQueue())
	case strings.HasPrefix(path, "/__admin/records/") && r.Method == http.MethodGet:
		o := s.schema.object(strings.TrimPrefix(path, "/__admin/records/"))
		if o == nil {
			writeJSON(w, 404, map[string]string{"error": "unknown sObject"})
			return
		}
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		b := []byte{'['}
		s.mu.RLock()
		n := 0
		for _, rec := range s.st.tables[o.Name].rows {
			if rec.deleted || (limit > 0 && n >= limit) {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			b = appendRecord(b, rec, nil, "v62.0")
			n++
		}
		s.mu.RUnlock()
		writeRaw(w, 200, append(b, ']'))
	default:
		writeJSON(w, 404, map[string]string{"error": "unknown admin endpoint"})
	}
}
