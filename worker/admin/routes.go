package admin

import (
	"encoding/json"
	"net/http"

	"go.uber.org/zap"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/workflows"
)

// Server is the worker's admin surface. Every route states the role it needs; reads need viewer,
// anything that changes data needs operator, key management needs admin.
type Server struct {
	Auth      *Auth
	Acts      *activities.Activities
	Keys      *codec.Keyring // nil: no codec endpoint, no key rotation
	Namespace string
	UIOrigin  string
}

// Register adds /codec/ and /admin/… to mux.
func (s *Server) Register(mux *http.ServeMux) {
	if s.Keys != nil {
		mux.Handle("/codec/", CodecHandler("/codec", s.Keys, s.Namespace, s.UIOrigin, s.Auth))
	}
	mux.Handle("GET /admin/whoami", s.Auth.Require(RoleViewer, http.HandlerFunc(s.whoami)))
	mux.Handle("GET /admin/status", s.Auth.Require(RoleViewer, http.HandlerFunc(s.status)))
	mux.Handle("POST /admin/sync", s.Auth.Require(RoleOperator, http.HandlerFunc(s.sync)))
	mux.Handle("POST /admin/keys/rotate", s.Auth.Require(RoleAdmin, http.HandlerFunc(s.rotate)))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	name, role, _ := s.Auth.Caller(r)
	writeJSON(w, http.StatusOK, map[string]string{"name": name, "role": role.String()})
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	c, err := s.Acts.Store.Counts(r.Context())
	if err != nil {
		http.Error(w, "postgres: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// syncRequest asks for one record pair to be synced now: a Salesforce id or a Jira issue id.
type syncRequest struct {
	Pair        string `json:"pair"`
	SfID        string `json:"sf_id"`
	JiraIssueID string `json:"jira_issue_id"`
}

func (s *Server) sync(w http.ResponseWriter, r *http.Request) {
	var req syncRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		http.Error(w, `body must be {"pair":…, "sf_id":…} or {"pair":…, "jira_issue_id":…}`, http.StatusBadRequest)
		return
	}
	if _, err := s.Acts.Mappings.Mapping(req.Pair); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ev := activities.ChangeEvent{Pair: req.Pair, Trigger: workflows.TriggerManual}
	switch {
	case req.SfID != "":
		id, err := salesforce.NormalizeID(req.SfID)
		if err != nil {
			http.Error(w, "sf_id: "+err.Error(), http.StatusBadRequest)
			return
		}
		ev.Source, ev.SfID = activities.SourceSalesforce, id
	case req.JiraIssueID != "":
		ev.Source, ev.JiraIssueID = activities.SourceJira, req.JiraIssueID
	default:
		http.Error(w, "give sf_id or jira_issue_id", http.StatusBadRequest)
		return
	}
	name, _, _ := s.Auth.Caller(r)
	if err := s.Acts.HandleChanges(r.Context(), []activities.ChangeEvent{ev}); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	s.Auth.Log.Info("sync requested over the admin API", zap.String("caller", name), zap.String("pair", req.Pair),
		zap.String("sf_id", ev.SfID), zap.String("jira_issue_id", ev.JiraIssueID))
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "started"})
}

func (s *Server) rotate(w http.ResponseWriter, r *http.Request) {
	if s.Keys == nil {
		http.Error(w, "no keyring configured", http.StatusConflict)
		return
	}
	ts, err := s.Acts.Store.Tokens(s.Keys)
	if err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	n, err := ts.Rotate(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	name, _, _ := s.Auth.Caller(r)
	s.Auth.Log.Info("tokens re-encrypted over the admin API", zap.String("caller", name), zap.Int("rotated", n), zap.String("key", s.Keys.ActiveID()))
	writeJSON(w, http.StatusOK, map[string]any{"rotated": n, "active_key": s.Keys.ActiveID()})
}

// Wrap puts the admin surface in front of the worker's base handler: /codec/ and /admin/ go to
// the admin routes, /metrics needs the viewer role unless metricsPublic, everything else
// (webhooks with their own signatures, health probes) goes to base unchanged.
func (s *Server) Wrap(base http.Handler, metricsPublic bool) http.Handler {
	mux := http.NewServeMux()
	s.Register(mux)
	if !metricsPublic {
		mux.Handle("/metrics", s.Auth.Require(RoleViewer, base))
	}
	mux.Handle("/", base)
	return mux
}
