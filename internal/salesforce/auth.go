package salesforce

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Authentication flows a Client can use (Config.Flow).
const (
	// FlowClientCredentials is the connected app's client-credentials flow (run-as user set in
	// the app); the default.
	FlowClientCredentials = "client_credentials"
	// FlowJWTBearer signs an RS256 assertion with the connected app's certificate key; no secret
	// and no refresh token — the client simply signs a new assertion when the session ends.
	FlowJWTBearer = "jwt_bearer"
	// FlowRefreshToken uses a refresh token obtained once through the authorization-code flow
	// (`sfjira auth salesforce`), for setups that must act as a named user.
	FlowRefreshToken = "refresh_token"

	grantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	// jwtLifetime stays inside Salesforce's limit of 3 minutes for the assertion's exp.
	jwtLifetime = 2 * time.Minute
)

// TokenResponse is the part of Salesforce's token answer the connector uses. It never prints
// its tokens.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	InstanceURL  string `json:"instance_url"`
	ID           string `json:"id"`
	IssuedAt     string `json:"issued_at"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
}

func (t *TokenResponse) String() string {
	return fmt.Sprintf("salesforce token{instance:%s refresh:%v}", t.InstanceURL, t.RefreshToken != "")
}

// ParseRSAPrivateKey reads a PEM private key (PKCS#1 or PKCS#8) for the JWT bearer flow.
func ParseRSAPrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("salesforce: JWT key: no PEM block (fix: point salesforce.jwt_key_file at the connected app certificate's private key, PEM)")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("salesforce: JWT key: %v", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("salesforce: JWT key: not an RSA key (Salesforce signs with RS256)")
	}
	return rk, nil
}

// jwtAssertion builds the RS256 assertion: iss = consumer key, sub = username, aud = login host.
func jwtAssertion(key *rsa.PrivateKey, clientID, username, audience string, now time.Time) (string, error) {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, err := json.Marshal(map[string]any{"iss": clientID, "sub": username, "aud": audience, "exp": now.Add(jwtLifetime).Unix()})
	if err != nil {
		return "", err
	}
	signing := header + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// postToken sends one grant to /services/oauth2/token and decodes the answer; errors keep
// Salesforce's error code (invalid_grant …) and never echo the request (it holds secrets).
func postToken(ctx context.Context, hc *http.Client, loginURL string, form url.Values) (*TokenResponse, error) {
	const path = "/services/oauth2/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, loginURL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, transportError(http.MethodPost, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		e := &APIError{Status: resp.StatusCode, Method: http.MethodPost, Path: path}
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &oe) == nil && oe.Error != "" {
			e.Code, e.Message = oe.Error, oe.Description
		} else {
			e.Code, e.Message = "HTTP_"+strconv.Itoa(resp.StatusCode), http.StatusText(resp.StatusCode)
		}
		return nil, e
	}
	var tr TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return nil, fmt.Errorf("salesforce: POST %s: the answer holds no access_token", path)
	}
	return &tr, nil
}

// fetchToken runs the configured flow once.
func (c *Client) fetchToken(ctx context.Context) (*TokenResponse, error) {
	form := url.Values{}
	switch c.cfg.Flow {
	case FlowJWTBearer:
		a, err := jwtAssertion(c.jwtKey, c.cfg.ClientID, c.cfg.Username, c.cfg.JWTAudience, time.Now())
		if err != nil {
			return nil, err
		}
		form.Set("grant_type", grantJWTBearer)
		form.Set("assertion", a)
	case FlowRefreshToken:
		rt, err := c.cfg.RefreshToken(ctx)
		if err != nil {
			return nil, fmt.Errorf("salesforce: no refresh token: %w (fix: run `sfjira auth salesforce`)", err)
		}
		form.Set("grant_type", "refresh_token")
		form.Set("client_id", c.cfg.ClientID)
		if c.cfg.ClientSecret != "" {
			form.Set("client_secret", c.cfg.ClientSecret)
		}
		form.Set("refresh_token", rt)
	default:
		form.Set("grant_type", "client_credentials")
		form.Set("client_id", c.cfg.ClientID)
		form.Set("client_secret", c.cfg.ClientSecret)
	}
	tr, err := postToken(ctx, c.http, c.cfg.LoginURL, form)
	if err != nil {
		return nil, err
	}
	if c.cfg.Flow == FlowRefreshToken && tr.RefreshToken != "" && c.cfg.SaveRefreshToken != nil {
		// Orgs with refresh-token rotation return a new one; the old one is spent.
		if err := c.cfg.SaveRefreshToken(ctx, tr.RefreshToken); err != nil {
			return nil, fmt.Errorf("salesforce: store the rotated refresh token: %w", err)
		}
	}
	return tr, nil
}

// AuthorizeURL is where a user grants the connected app access (authorization-code flow with
// PKCE); the browser comes back to redirectURI with ?code=…&state=….
func AuthorizeURL(loginURL, clientID, redirectURI, state, codeChallenge string) string {
	q := url.Values{}
	q.Set("response_type", "code")
	q.Set("client_id", clientID)
	q.Set("redirect_uri", redirectURI)
	q.Set("state", state)
	q.Set("scope", "api refresh_token")
	if codeChallenge != "" {
		q.Set("code_challenge", codeChallenge)
		q.Set("code_challenge_method", "S256")
	}
	return strings.TrimRight(loginURL, "/") + "/services/oauth2/authorize?" + q.Encode()
}

// ExchangeCode trades an authorization code for tokens (the refresh token is in the answer).
func ExchangeCode(ctx context.Context, hc *http.Client, loginURL, clientID, clientSecret, code, redirectURI, verifier string) (*TokenResponse, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "code": {code}, "redirect_uri": {redirectURI}}
	if clientSecret != "" {
		form.Set("client_secret", clientSecret)
	}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return postToken(ctx, hc, strings.TrimRight(loginURL, "/"), form)
}
