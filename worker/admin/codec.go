package admin

import (
	"net/http"
	"strings"

	"go.temporal.io/sdk/converter"

	"github.com/sfjira/sfjira/internal/codec"
)

// maxCodecBody bounds a codec request (the UI decodes whole histories page by page).
const maxCodecBody = 16 << 20

// CodecHandler serves the remote codec protocol the Temporal UI and CLI speak: POST
// <prefix>/decode and <prefix>/encode (also <prefix>/<namespace>/decode for `temporal
// --codec-endpoint …/codec/{namespace}`), JSON {"payloads":[…]} in and out. Decoding needs the
// viewer role, encoding (the UI encodes signal and reset inputs) the operator role. Preflight
// OPTIONS requests from the UI origin are answered without a token, as browsers send none there.
func CodecHandler(prefix string, kr *codec.Keyring, namespace, uiOrigin string, auth *Auth) http.Handler {
	inner := converter.NewPayloadCodecHTTPHandler(codec.Codecs(kr)...)
	decode := auth.require(RoleViewer, true, inner)
	encode := auth.require(RoleOperator, false, inner)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && sameOrigin(origin, uiOrigin) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method != http.MethodPost {
			http.Error(w, "the codec endpoint takes POST …/encode or …/decode", http.StatusMethodNotAllowed)
			return
		}
		rest := strings.Trim(strings.TrimPrefix(r.URL.Path, prefix), "/")
		parts := strings.Split(rest, "/")
		op := parts[len(parts)-1]
		ns := r.Header.Get("X-Namespace")
		if len(parts) == 2 {
			ns = parts[0]
		} else if len(parts) != 1 {
			http.NotFound(w, r)
			return
		}
		if ns != "" && ns != namespace {
			http.Error(w, "this codec serves namespace "+namespace+", not "+ns, http.StatusNotFound)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxCodecBody)
		switch op {
		case "decode":
			decode.ServeHTTP(w, r)
		case "encode":
			encode.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// sameOrigin compares a browser Origin with the configured UI origin; localhost and 127.0.0.1
// count as the same host, since the dev UI is opened under either name.
func sameOrigin(origin, ui string) bool {
	if ui == "" {
		return false
	}
	if strings.EqualFold(origin, ui) {
		return true
	}
	alias := func(s string) string {
		s = strings.ToLower(s)
		return strings.Replace(s, "://localhost:", "://127.0.0.1:", 1)
	}
	return alias(origin) == alias(ui)
}
