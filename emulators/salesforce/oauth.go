package salesforce

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DemoJWTCertPEM is the self-signed demo certificate of deploy/dev/jwt/demo-cert.pem (demo only:
// its private key is public in the repository). DemoOptions trusts it for the JWT bearer flow.
const DemoJWTCertPEM = `-----BEGIN CERTIFICATE-----
MIIDIjCCAgqgAwIBAgIEATUlBTANBgkqhkiG9w0BAQsFADBCMQ8wDQYDVQQKEwZz
ZmppcmExLzAtBgNVBAMTJnNmamlyYS1kZW1vIChERU1PIE9OTFksIGtleSBpcyBw
dWJsaWMpMB4XDTI1MDEwMTAwMDAwMFoXDTQ1MDEwMTAwMDAwMFowQjEPMA0GA1UE
ChMGc2ZqaXJhMS8wLQYDVQQDEyZzZmppcmEtZGVtbyAoREVNTyBPTkxZLCBrZXkg
aXMgcHVibGljKTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAKarn18n
JpkAxypPNf2H8kAVzPXK231uzyMd/DRA2eYokF1L2HyUHFXk2hmGQliSQvm1sGs8
aSJ+dbifsrhXjSapNY/yHBQ7mSO2GwCoSYCRKa8rfLtihvRe9btUR+nsH/553cI4
M/sFuClx19ccdOYq36fPSj0hPV/TBciAoxbyRJj9mCZgtgXkVe2dRyN7mqzOHCcE
56V+JcK0qAFVvSzKbWaOYHxTt4kcFlGIXb2ZPIRQKwBoMzqUFefmN3R7Llcv0Epk
jJK4VFeO3jZyWEFBTB2u+Ydk4GNyNlJwkbYijBUtFs/RKvmbs7cotNR1G2x5wpke
rVtERVnw47E3GakCAwEAAaMgMB4wDgYDVR0PAQH/BAQDAgeAMAwGA1UdEwEB/wQC
MAAwDQYJKoZIhvcNAQELBQADggEBABK6i9rZ1SJ0bf8cNQMicK6lOU0k4jiNfSvH
sXIqM0w3KCOG0Yb7LV4CvSprP2funMHliFA+47BZGApQO0n5gWRLRD7I0cxhLIRy
TVeb0zfRE+Wi46HNPAr0ZQpP3zNbk2xJD+e69qEG5pgU9zZKxBhYxV9/9SaAzMhZ
KBSXoaSrEjPD6ecf9SlbwhiRlKnAuDMSIipwEFCus7KoGTyColaNg4D+8xuIY6q+
WAwSTqie4h5HNvFFE0ncJRYjGwkdZErTPBWKQdY7ReY2fcNHwaUqh2qv++t+0mgu
cXZm1fsSm7d0jCspqr4Pn0Er07fQL5VZzFGnVEKkHiC1ZHTpluM=
-----END CERTIFICATE-----
`

const (
	grantJWT          = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	authCodeTTL       = 15 * time.Minute // real authorization codes expire after 15 minutes
	jwtMaxLifetime    = 3 * time.Minute  // Salesforce: exp within 3 minutes
	maxRefreshEntries = 100000
)

// authCode is an issued, not yet redeemed authorization code.
type authCode struct {
	clientID, redirectURI string
	challenge, method     string // PKCE
	expires               time.Time
}

func (s *Server) initOAuth() {
	s.codes = map[string]authCode{}
	s.refresh = map[string]string{}
}

func parseCertPEM(p string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("JWTCertPEM: no CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("JWTCertPEM: %w", err)
	}
	if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
		return nil, errors.New("JWTCertPEM: certificate key is not RSA")
	}
	return cert, nil
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Signature    string `json:"signature"`
	Scope        string `json:"scope"`
	TokenFormat  string `json:"token_format,omitempty"`
	InstanceURL  string `json:"instance_url"`
	ID           string `json:"id"`
	TokenType    string `json:"token_type"`
	IssuedAt     string `json:"issued_at"`
}

func oauthErr(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func randToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		oauthErr(w, 400, "invalid_request", "must use HTTP POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		oauthErr(w, 400, "invalid_request", "invalid request body")
		return
	}
	switch grant := r.PostForm.Get("grant_type"); grant {
	case "":
		oauthErr(w, 400, "invalid_request", "grant type is missing")
	case "client_credentials":
		s.grantClientCredentials(w, r)
	case grantJWT:
		s.grantJWTBearer(w, r)
	case "authorization_code":
		s.grantAuthCode(w, r)
	case "refresh_token":
		s.grantRefresh(w, r)
	default:
		oauthErr(w, 400, "unsupported_grant_type", "grant type not supported")
	}
}

// clientCreds returns client id and secret from the form or HTTP Basic.
func clientCreds(r *http.Request) (id, secret string) {
	id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if bid, bsecret, ok := r.BasicAuth(); ok && id == "" {
		id, secret = bid, bsecret
	}
	return id, secret
}

func (s *Server) grantClientCredentials(w http.ResponseWriter, r *http.Request) {
	id, secret := clientCreds(r)
	if id == "" {
		oauthErr(w, 400, "invalid_client_id", "client identifier invalid")
		return
	}
	if id != s.opts.ClientID || secret != s.opts.ClientSecret || s.opts.ClientID == "" {
		oauthErr(w, 400, "invalid_client", "invalid client credentials")
		return
	}
	s.issueToken(w, r, "api", "", true)
}

// issueToken registers a new session and writes the token response; refresh is added when set.
func (s *Server) issueToken(w http.ResponseWriter, r *http.Request, scope, refresh string, opaqueFormat bool) {
	now := s.now()
	if granted := s.perms.get().Scope; granted != "" {
		scope = granted
	}
	tok := s.orgID[:15] + "!" + randToken(72)
	ttl := s.opts.TokenTTL
	s.faultMu.Lock()
	if ms := s.faults.TokenTTLMS; ms > 0 {
		ttl = time.Duration(ms) * time.Millisecond
	}
	s.faultMu.Unlock()
	s.tokMu.Lock()
	if len(s.tokens) >= 1024 { // drop expired sessions so the map stays small
		for t, exp := range s.tokens {
			if !now.Before(exp) {
				delete(s.tokens, t)
			}
		}
	}
	s.tokens[tok] = now.Add(ttl)
	s.tokMu.Unlock()
	identity := "https://login.salesforce.com/id/" + s.orgID + "/" + s.userID
	issued := strconv.FormatInt(now.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(s.opts.ClientSecret))
	mac.Write([]byte(identity + issued))
	res := tokenResponse{
		AccessToken:  tok,
		RefreshToken: refresh,
		Signature:    base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		Scope:        scope,
		InstanceURL:  baseURL(r),
		ID:           identity,
		TokenType:    "Bearer",
		IssuedAt:     issued,
	}
	if opaqueFormat {
		res.TokenFormat = "opaque"
	}
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	writeJSON(w, 200, res)
}

// --- JWT bearer ----------------------------------------------------------------------------

type jwtClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Exp json.Number     `json:"exp"`
}

func (c *jwtClaims) audiences() []string {
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(c.Aud, &many)
	return many
}

func (s *Server) grantJWTBearer(w http.ResponseWriter, r *http.Request) {
	invalid := func() { oauthErr(w, 400, "invalid_grant", "invalid assertion") }
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		invalid()
		return
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[0], "="))
	cb, err2 := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	sig, err3 := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[2], "="))
	if err1 != nil || err2 != nil || err3 != nil {
		invalid()
		return
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	var claims jwtClaims
	dec := json.NewDecoder(strings.NewReader(string(cb)))
	dec.UseNumber()
	if json.Unmarshal(hb, &hdr) != nil || dec.Decode(&claims) != nil {
		invalid()
		return
	}
	if hdr.Alg != "RS256" {
		invalid()
		return
	}
	if claims.Iss == "" || claims.Iss != s.opts.ClientID {
		oauthErr(w, 400, "invalid_client_id", "client identifier invalid")
		return
	}
	if s.jwtCert == nil {
		invalid()
		return
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(s.jwtCert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig) != nil {
		invalid()
		return
	}
	audOK := false
	for _, a := range claims.audiences() {
		a = strings.TrimRight(a, "/")
		if a == "https://login.salesforce.com" || a == "https://test.salesforce.com" || a == baseURL(r) {
			audOK = true
		}
	}
	if !audOK {
		oauthErr(w, 400, "invalid_grant", "audience is invalid")
		return
	}
	exp, err := claims.Exp.Int64()
	now := s.now()
	skew := s.opts.JWTClockSkew
	if err != nil || !time.Unix(exp, 0).After(now.Add(-skew)) || time.Unix(exp, 0).After(now.Add(jwtMaxLifetime+skew)) {
		invalid()
		return
	}
	if !s.knownUser(claims.Sub) {
		oauthErr(w, 400, "invalid_grant", "user hasn't approved this consumer")
		return
	}
	s.issueToken(w, r, "api", "", false)
}

// knownUser reports whether an active User has the given username.
func (s *Server) knownUser(username string) bool {
	if username == "" {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, u := range s.st.tables["User"].rows {
		if name, _ := u.vals["Username"].(string); !u.deleted && strings.EqualFold(name, username) {
			active, _ := u.vals["IsActive"].(bool)
			return active
		}
	}
	return false
}

// --- authorization code + refresh token ----------------------------------------------------

func (s *Server) redirectAllowed(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	if len(s.opts.RedirectURIs) == 0 {
		return true
	}
	for _, a := range s.opts.RedirectURIs {
		if a == uri {
			return true
		}
	}
	return false
}

// oauthPage answers an authorize request that cannot be redirected, like Salesforce's error page.
func oauthPage(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, "<html><head><title>Error</title></head><body><p>error=%s&amp;error_description=%s</p></body></html>",
		html.EscapeString(code), html.EscapeString(desc))
}

// handleAuthorize auto-approves the configured user and redirects back with a code.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		oauthPage(w, "invalid_request", "must use HTTP GET or POST")
		return
	}
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err == nil {
			q = r.Form
		}
	}
	clientID, redirect := q.Get("client_id"), q.Get("redirect_uri")
	if clientID == "" || clientID != s.opts.ClientID {
		oauthPage(w, "invalid_client_id", "client identifier invalid")
		return
	}
	if redirect == "" || !s.redirectAllowed(redirect) {
		oauthPage(w, "redirect_uri_mismatch", "redirect_uri must match configuration")
		return
	}
	target, _ := url.Parse(redirect)
	params := target.Query()
	if st := q.Get("state"); st != "" {
		params.Set("state", st)
	}
	method := q.Get("code_challenge_method")
	switch {
	case q.Get("response_type") != "code":
		params.Set("error", "unsupported_response_type")
		params.Set("error_description", "response type not supported")
	case q.Get("code_challenge") != "" && method != "" && method != "S256":
		params.Set("error", "invalid_request")
		params.Set("error_description", "invalid code_challenge_method")
	default:
		code := "aPrx" + randToken(60)
		s.tokMu.Lock()
		now := s.now()
		for c, ac := range s.codes {
			if len(s.codes) < 1024 {
				break
			}
			if now.After(ac.expires) {
				delete(s.codes, c)
			}
		}
		s.codes[code] = authCode{clientID: clientID, redirectURI: redirect, challenge: q.Get("code_challenge"),
			method: method, expires: now.Add(authCodeTTL)}
		s.tokMu.Unlock()
		params.Set("code", code)
	}
	target.RawQuery = params.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

func (s *Server) grantAuthCode(w http.ResponseWriter, r *http.Request) {
	id, secret := clientCreds(r)
	if id == "" || id != s.opts.ClientID {
		oauthErr(w, 400, "invalid_client_id", "client identifier invalid")
		return
	}
	code := r.PostForm.Get("code")
	s.tokMu.Lock()
	ac, ok := s.codes[code]
	delete(s.codes, code) // single use, even when the exchange fails
	s.tokMu.Unlock()
	switch {
	case !ok || ac.clientID != id:
		oauthErr(w, 400, "invalid_grant", "invalid authorization code")
		return
	case s.now().After(ac.expires):
		oauthErr(w, 400, "invalid_grant", "expired authorization code")
		return
	case r.PostForm.Get("redirect_uri") != ac.redirectURI:
		oauthErr(w, 400, "invalid_grant", "redirect_uri must match configuration")
		return
	}
	if ac.challenge != "" {
		v := r.PostForm.Get("code_verifier")
		sum := sha256.Sum256([]byte(v))
		want := ac.challenge
		got := base64.RawURLEncoding.EncodeToString(sum[:])
		if ac.method == "plain" {
			got = v
		}
		if v == "" || got != want {
			oauthErr(w, 400, "invalid_grant", "invalid code verifier")
			return
		}
	} else if secret != s.opts.ClientSecret {
		oauthErr(w, 400, "invalid_client", "invalid client credentials")
		return
	}
	s.issueToken(w, r, "api refresh_token", s.newRefreshToken(id), false)
}

func (s *Server) newRefreshToken(clientID string) string {
	tok := "5Aep861" + randToken(64)
	s.tokMu.Lock()
	if len(s.refresh) < maxRefreshEntries {
		s.refresh[tok] = clientID
	}
	s.tokMu.Unlock()
	return tok
}

func (s *Server) grantRefresh(w http.ResponseWriter, r *http.Request) {
	id, secret := clientCreds(r)
	if id == "" || id != s.opts.ClientID {
		oauthErr(w, 400, "invalid_client_id", "client identifier invalid")
		return
	}
	if secret != "" && secret != s.opts.ClientSecret {
		oauthErr(w, 400, "invalid_client", "invalid client credentials")
		return
	}
	rt := r.PostForm.Get("refresh_token")
	s.tokMu.Lock()
	owner, ok := s.refresh[rt]
	if ok && owner == id && s.opts.RotateRefreshTokens {
		delete(s.refresh, rt)
	}
	s.tokMu.Unlock()
	if !ok || owner != id {
		oauthErr(w, 400, "invalid_grant", "expired access/refresh token")
		return
	}
	next := ""
	if s.opts.RotateRefreshTokens {
		next = s.newRefreshToken(id)
	}
	s.issueToken(w, r, "api refresh_token", next, false)
}
