package salesforce

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The malformed fault runs the call (the record is created) but sends a body the client cannot
// use; fail_next bounds it, and error answers stay as they are.
func TestMalformedFaultBodies(t *testing.T) {
	e := newEnv(t, Options{})
	const create = "/services/data/v62.0/sobjects/Account"
	count := func() int {
		_, _, b := e.do("GET", "/services/data/v62.0/query?q=SELECT+Id+FROM+Account", nil)
		var res struct {
			TotalSize int `json:"totalSize"`
		}
		require.NoError(t, json.Unmarshal(b, &res), string(b))
		return res.TotalSize
	}
	before := count()
	for _, tc := range []struct {
		body  string
		check func(t *testing.T, code int, h http.Header, b []byte)
	}{
		{"truncated", func(t *testing.T, code int, h http.Header, b []byte) {
			assert.Equal(t, 201, code)
			assert.False(t, json.Valid(b), "%s", b)
			assert.True(t, strings.HasPrefix(string(b), `{`), "%s", b)
		}},
		{"html", func(t *testing.T, code int, h http.Header, b []byte) {
			assert.Equal(t, 201, code)
			assert.Contains(t, h.Get("Content-Type"), "text/html")
			assert.Contains(t, string(b), "<html>")
		}},
		{"empty", func(t *testing.T, code int, h http.Header, b []byte) {
			assert.Equal(t, 200, code)
			assert.Empty(t, b)
		}},
		{"wrong_types", func(t *testing.T, code int, h http.Header, b []byte) {
			assert.Equal(t, 201, code)
			var m map[string]any
			require.NoError(t, json.Unmarshal(b, &m), "%s", b)
			assert.IsType(t, float64(0), m["id"], "id as a number")
			assert.IsType(t, "", m["success"], "success as a string")
		}},
	} {
		e.faults(`{"rules":[{"endpoint":"POST /services/data/{version}/sobjects/{object}","kind":"malformed","body":"` + tc.body + `","fail_next":1}]}`)
		code, h, b := e.do("POST", create, map[string]any{"Name": "Malformed " + tc.body})
		tc.check(t, code, h, b)
		code, _, b = e.do("POST", create, map[string]any{"Name": "After " + tc.body})
		assert.Equal(t, 201, code)
		assert.True(t, json.Valid(b), "fail_next is used up: %s", b)
	}
	assert.Equal(t, before+8, count(), "every create took effect")

	// A query under wrong_types: records is no longer a list.
	e.faults(`{"rules":[{"endpoint":"GET /services/data/{version}/query","kind":"malformed","body":"wrong_types","fail_next":1}]}`)
	_, _, b := e.do("GET", "/services/data/v62.0/query?q=SELECT+Id+FROM+Account", nil)
	var q map[string]any
	require.NoError(t, json.Unmarshal(b, &q))
	assert.Equal(t, "[object]", q["records"])

	// Error answers are not mangled.
	e.faults(`{"rules":[{"endpoint":"*","kind":"malformed","body":"html"}]}`)
	code, _, b := e.do("GET", "/services/data/v62.0/sobjects/Account/001000000000000AAA", nil)
	assert.Equal(t, 404, code)
	assert.True(t, json.Valid(b), "%s", b)

	// Unknown bodies, and a body on another kind, are refused.
	for _, doc := range []string{`{"rules":[{"endpoint":"*","kind":"malformed","body":"xml"}]}`, `{"rules":[{"endpoint":"*","kind":"reset","body":"html"}]}`} {
		resp, err := http.Post(e.hs.URL+"/__admin/faults", "application/json", strings.NewReader(doc))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 400, resp.StatusCode, doc)
	}
}

// A request hook runs once, before the matching request is handled, so a test can change data
// at an exact point of a client's sequence.
func TestRequestHookRunsOnceBeforeTheHandler(t *testing.T) {
	e := newEnv(t, Options{})
	code, _, b := e.do("POST", "/services/data/v62.0/sobjects/Account", map[string]any{"Name": "Hooked"})
	require.Equal(t, 201, code)
	var created struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(b, &created))
	calls := 0
	e.srv.SetRequestHook("GET /services/data/{version}/sobjects/{object}/{id}", func() {
		calls++
		code, _, _ := e.do("DELETE", "/services/data/v62.0/sobjects/Account/"+created.ID, nil)
		assert.Equal(t, 204, code)
	})
	code, _, _ = e.do("GET", "/services/data/v62.0/query?q=SELECT+Id+FROM+Account", nil)
	assert.Equal(t, 200, code, "another endpoint does not fire the hook")
	assert.Zero(t, calls)
	code, _, b = e.do("GET", "/services/data/v62.0/sobjects/Account/"+created.ID, nil)
	assert.Equal(t, 404, code, "deleted by the hook before the read: %s", b)
	assert.Contains(t, string(b), "ENTITY_IS_DELETED")
	e.do("GET", "/services/data/v62.0/sobjects/Account/"+created.ID, nil)
	assert.Equal(t, 1, calls, "once")
}
