package salesforce

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
)

func demoKey(t *testing.T) []byte {
	b, err := os.ReadFile("../../deploy/dev/jwt/demo-key.pem")
	require.NoError(t, err)
	return b
}

func TestJWTBearerFlow(t *testing.T) {
	c, emu, _ := newTestClient(t, func(cfg *Config) {
		cfg.Flow, cfg.ClientSecret, cfg.Username, cfg.JWTPrivateKey = FlowJWTBearer, "", "integration@sfjira.demo", demoKey(t)
	})
	ctx := context.Background()
	_, err := c.Limits(ctx)
	require.NoError(t, err, "the emulator verified the RS256 assertion against the demo certificate")
	org, err := c.OrganizationID(ctx)
	require.NoError(t, err)
	assert.Regexp(t, `^00D`, org)

	// No refresh token in this flow: an expired session is answered by a freshly signed assertion.
	emu.SetFaults(sfemu.Faults{ExpireTokens: true})
	_, err = c.Limits(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, emu.Stats().Endpoints["POST /services/oauth2/token"]["200"])

	// A key the connected app does not trust, or a user who has not approved the app, is refused.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	otherPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)})
	for name, mutate := range map[string]func(*Config){
		"untrusted key": func(cfg *Config) { cfg.JWTPrivateKey = otherPEM },
		"unknown user":  func(cfg *Config) { cfg.Username = "nobody@sfjira.demo" },
		"bad audience":  func(cfg *Config) { cfg.JWTAudience = "https://evil.example" },
	} {
		bad, _, _ := newTestClient(t, func(cfg *Config) {
			cfg.Flow, cfg.ClientSecret, cfg.Username, cfg.JWTPrivateKey = FlowJWTBearer, "", "integration@sfjira.demo", demoKey(t)
			mutate(cfg)
		})
		_, err := bad.Limits(ctx)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr, name)
		assert.Equal(t, "invalid_grant", apiErr.Code, name)
		assert.False(t, apiErr.Retryable(), name)
	}

	// Config problems are caught before any call.
	_, err = New(Config{LoginURL: "https://x.my.salesforce.com", ClientID: "id", Flow: FlowJWTBearer, Username: "u", JWTPrivateKey: []byte("nope")})
	require.ErrorContains(t, err, "PEM")
	_, err = New(Config{LoginURL: "https://x.my.salesforce.com", ClientID: "id", Flow: FlowJWTBearer, JWTPrivateKey: demoKey(t)})
	require.ErrorContains(t, err, "Username")
	_, err = New(Config{LoginURL: "https://x.my.salesforce.com", ClientID: "id", Flow: "password"})
	require.ErrorContains(t, err, "unknown auth flow")
}

// authorize walks the emulator's consent redirect and returns the code.
func authorize(t *testing.T, base, redirect, challenge string) string {
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(AuthorizeURL(base, "sfjira-demo", redirect, "st-1", challenge))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "st-1", loc.Query().Get("state"))
	require.NotEmpty(t, loc.Query().Get("code"), loc.String())
	return loc.Query().Get("code")
}

func TestAuthorizationCodeAndRotatingRefreshToken(t *testing.T) {
	opts := sfemu.DemoOptions()
	opts.RotateRefreshTokens = true
	opts.RedirectURIs = []string{"http://127.0.0.1:18555/callback"}
	emu := sfemu.New(opts)
	hs := httptest.NewServer(emu)
	defer hs.Close()
	ctx := context.Background()

	// Authorization code with PKCE.
	verifier := "a-long-random-code-verifier-0123456789-abcdefghijklmnop"
	sum := sha256.Sum256([]byte(verifier))
	code := authorize(t, hs.URL, opts.RedirectURIs[0], base64.RawURLEncoding.EncodeToString(sum[:]))
	_, err := ExchangeCode(ctx, nil, hs.URL, "sfjira-demo", "", code, opts.RedirectURIs[0], "wrong-verifier")
	require.Error(t, err, "a wrong PKCE verifier is refused")
	code = authorize(t, hs.URL, opts.RedirectURIs[0], base64.RawURLEncoding.EncodeToString(sum[:]))
	tr, err := ExchangeCode(ctx, nil, hs.URL, "sfjira-demo", "", code, opts.RedirectURIs[0], verifier)
	require.NoError(t, err)
	require.NotEmpty(t, tr.RefreshToken)
	assert.Equal(t, hs.URL, tr.InstanceURL)
	assert.NotContains(t, tr.String(), tr.RefreshToken)
	_, err = ExchangeCode(ctx, nil, hs.URL, "sfjira-demo", "", code, opts.RedirectURIs[0], verifier)
	require.Error(t, err, "codes are single use")

	// The client refreshes with the stored token and stores each rotated one.
	var mu sync.Mutex
	stored := tr.RefreshToken
	var saved []string
	c, err := New(Config{LoginURL: hs.URL, ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret", Flow: FlowRefreshToken,
		RefreshToken: func(context.Context) (string, error) { mu.Lock(); defer mu.Unlock(); return stored, nil },
		SaveRefreshToken: func(_ context.Context, tok string) error {
			mu.Lock()
			defer mu.Unlock()
			stored = tok
			saved = append(saved, tok)
			return nil
		}})
	require.NoError(t, err)
	_, err = c.Limits(ctx)
	require.NoError(t, err)
	require.Len(t, saved, 1)
	assert.NotEqual(t, tr.RefreshToken, saved[0])
	emu.SetFaults(sfemu.Faults{ExpireTokens: true})
	_, err = c.Limits(ctx)
	require.NoError(t, err, "INVALID_SESSION_ID → one refresh with the rotated token")
	require.Len(t, saved, 2)

	// The spent refresh token no longer works.
	_, err = postToken(ctx, http.DefaultClient, hs.URL, url.Values{"grant_type": {"refresh_token"}, "client_id": {"sfjira-demo"}, "refresh_token": {tr.RefreshToken}})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "invalid_grant", apiErr.Code)
}
