// Package admin guards the worker's HTTP admin surface: bearer tokens with viewer, operator and
// admin roles from config, the Temporal UI codec endpoint (CORS for the UI origin), a small set of
// admin operations, and an optional source-address allowlist for everything the worker serves.
package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/config"
)

// Role orders what a caller may do: each role includes the ones below it.
type Role int

// Roles, weakest first. Viewers read (metrics, status, decoded payloads); operators may also
// change data (start syncs, encode payloads for UI signals); admins may also manage keys.
const (
	RoleNone Role = iota
	RoleViewer
	RoleOperator
	RoleAdmin
)

func (r Role) String() string {
	switch r {
	case RoleViewer:
		return "viewer"
	case RoleOperator:
		return "operator"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

// ParseRole maps a config role name to a Role (RoleNone when unknown).
func ParseRole(s string) Role {
	switch s {
	case "viewer":
		return RoleViewer
	case "operator":
		return RoleOperator
	case "admin":
		return RoleAdmin
	}
	return RoleNone
}

type principal struct {
	name string
	role Role
	hash [32]byte
}

// Auth checks bearer tokens. Tokens are kept only as SHA-256 digests and compared in constant
// time; logs name the token's configured name, never the token.
type Auth struct {
	tokens []principal
	// LoopbackRole is granted to token-less callers on the loopback interface for the codec
	// endpoint only (the dev server UI cannot send a token); RoleNone disables it.
	LoopbackRole Role
	Log          *zap.Logger
}

// NewAuth builds the token table from the security config.
func NewAuth(sec config.Security, log *zap.Logger) *Auth {
	a := &Auth{Log: log}
	if log == nil {
		a.Log = zap.NewNop()
	}
	for _, t := range sec.APITokens {
		if t.Token == "" {
			continue
		}
		a.tokens = append(a.tokens, principal{name: t.Name, role: ParseRole(t.Role), hash: sha256.Sum256([]byte(t.Token))})
	}
	if sec.CodecAnonymousLoopback {
		a.LoopbackRole = RoleViewer
	}
	return a
}

// Caller identifies the request's bearer token: its name and role, or ok=false.
func (a *Auth) Caller(r *http.Request) (name string, role Role, ok bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", RoleNone, false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	match := -1
	for i := range a.tokens { // no early exit: the time taken does not depend on which token matched
		if subtle.ConstantTimeCompare(sum[:], a.tokens[i].hash[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return "", RoleNone, false
	}
	return a.tokens[match].name, a.tokens[match].role, true
}

// Require serves h only to callers holding at least role min: 401 without a valid token, 403 with
// a token whose role is too weak.
func (a *Auth) Require(min Role, h http.Handler) http.Handler {
	return a.require(min, false, h)
}

func (a *Auth) require(min Role, allowLoopback bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, role, ok := a.Caller(r)
		if !ok && allowLoopback && a.LoopbackRole != RoleNone && r.Header.Get("Authorization") == "" && isLoopback(r.RemoteAddr) {
			name, role, ok = "loopback", a.LoopbackRole, true
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sfjira-worker"`)
			a.Log.Warn("admin request without a valid token", zap.String("path", r.URL.Path), zap.String("remote", r.RemoteAddr))
			http.Error(w, "a valid bearer token is required (fix: send Authorization: Bearer <token> with a token from security.api_tokens)", http.StatusUnauthorized)
			return
		}
		if role < min {
			a.Log.Warn("admin request refused: role too weak", zap.String("caller", name), zap.Stringer("role", role),
				zap.Stringer("needs", min), zap.String("method", r.Method), zap.String("path", r.URL.Path))
			http.Error(w, "this operation needs the "+min.String()+" role; token "+name+" has "+role.String(), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// AllowCIDRs serves h only to source addresses inside one of prefixes (all when prefixes is
// empty); others get 403 before any handler runs.
func AllowCIDRs(prefixes []netip.Prefix, log *zap.Logger, h http.Handler) http.Handler {
	if len(prefixes) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		ip, err := netip.ParseAddr(host)
		if err == nil {
			ip = ip.Unmap()
			for _, p := range prefixes {
				if p.Contains(ip) {
					h.ServeHTTP(w, r)
					return
				}
			}
		}
		if log != nil {
			log.Warn("request from an address outside security.allow_cidrs refused", zap.String("remote", r.RemoteAddr), zap.String("path", r.URL.Path))
		}
		http.Error(w, "forbidden", http.StatusForbidden)
	})
}
