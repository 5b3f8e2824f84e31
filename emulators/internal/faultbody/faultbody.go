// Package faultbody mangles emulator answers for the "malformed" fault kind of both emulators'
// /__admin/faults: the real handler runs (so the call has its effect, as a real server behind a
// broken proxy would), and the client receives a body it cannot use. Connectors must tell such an
// answer apart from a transport error and from an error status, and must not lose or duplicate
// the write behind it.
package faultbody

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
)

// Kinds are the bodies a malformed fault can send.
var Kinds = []string{"truncated", "html", "empty", "wrong_types"}

// Valid reports whether kind is one of Kinds or "" (the default, truncated).
func Valid(kind string) bool { return kind == "" || slices.Contains(Kinds, kind) }

// loginPage is what a proxy or an SSO gateway in front of an API typically answers with 200.
const loginPage = "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body><h1>Sign in to continue</h1>" +
	"<form method=\"post\" action=\"/login\"><input name=\"username\"><input name=\"password\" type=\"password\"></form></body></html>\n"

// Capture buffers a handler's answer so it can be mangled before it is sent.
type Capture struct {
	header http.Header
	Status int
	Body   bytes.Buffer
}

// NewCapture returns a Capture writing headers into h (the real response's header map).
func NewCapture(h http.Header) *Capture { return &Capture{header: h, Status: http.StatusOK} }

func (c *Capture) Header() http.Header         { return c.header }
func (c *Capture) WriteHeader(status int)      { c.Status = status }
func (c *Capture) Write(b []byte) (int, error) { return c.Body.Write(b) }

// Mangle returns the status, content type and body to send instead of an answer. Only success
// answers are mangled (an error answer is sent as it is): a "malformed response" means a 2xx the
// client cannot read.
func Mangle(kind string, status int, contentType string, body []byte) (int, string, []byte) {
	if status < 200 || status > 299 {
		return status, contentType, body
	}
	switch kind {
	case "html":
		return status, "text/html;charset=UTF-8", []byte(loginPage)
	case "empty":
		return http.StatusOK, contentType, nil
	case "wrong_types":
		var v any
		if json.Unmarshal(body, &v) != nil {
			return status, contentType, body
		}
		out, err := json.Marshal(wrongTypes(v, 0))
		if err != nil {
			return status, contentType, body
		}
		return status, contentType, out
	default: // truncated: the first half, cut mid-token as a dropped connection would
		if len(body) < 2 {
			return status, contentType, []byte("{")
		}
		return status, contentType, body[:len(body)/2]
	}
}

// wrongTypes replaces every value of the top-level object (or of each object of a top-level
// array) with a value of another JSON type: strings become numbers, numbers strings, booleans
// strings, objects and arrays strings.
func wrongTypes(v any, depth int) any {
	switch x := v.(type) {
	case map[string]any:
		if depth > 1 {
			return "[object]"
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			switch e := e.(type) {
			case string:
				out[k] = len(e) + 1
			case float64:
				out[k] = "not a number"
			case bool:
				out[k] = "yes"
			case nil:
				out[k] = nil
			default:
				out[k] = "[object]"
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = wrongTypes(e, depth+1)
		}
		return out
	case string:
		return 0
	default:
		return "not a number"
	}
}

// Write sends a mangled answer for a captured one.
func Write(w http.ResponseWriter, kind string, c *Capture) {
	status, ct, body := Mangle(kind, c.Status, c.header.Get("Content-Type"), c.Body.Bytes())
	if ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
