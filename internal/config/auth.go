package config

import (
	"fmt"
	"os"
	"path/filepath"
)

// JiraOAuth is the OAuth 2.0 (3LO) app used when jira.auth is oauth. The token endpoints default
// to Atlassian's; the emulator serves the same paths for tests and the demo.
type JiraOAuth struct {
	ClientID         string `yaml:"client_id"`
	ClientSecretEnv  string `yaml:"client_secret_env"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// AuthURL and TokenURL default to https://auth.atlassian.com/{authorize,oauth/token}; APIURL
	// (accessible-resources and /ex/jira/{cloudId}) defaults to https://api.atlassian.com.
	AuthURL  string `yaml:"auth_url"`
	TokenURL string `yaml:"token_url"`
	APIURL   string `yaml:"api_url"`
	// RedirectURL is the loopback callback `sfjira auth jira` listens on; it must be registered in
	// the app (default http://127.0.0.1:8765/callback).
	RedirectURL string   `yaml:"redirect_url"`
	Scopes      []string `yaml:"scopes"`

	ClientSecret string `yaml:"-"`
}

func (c *Config) completeSalesforceAuth(bad func(key, msg, fix string)) {
	s := &c.Salesforce
	switch s.AuthFlow {
	case "", "client_credentials":
		s.AuthFlow = "client_credentials"
	case "jwt_bearer":
		if s.Username == "" {
			bad("salesforce.username", "the JWT bearer flow needs the integration user's username", "set salesforce.username, e.g. integration@acme.com")
		}
		switch {
		case s.JWTKeyEnv != "" && os.Getenv(s.JWTKeyEnv) != "":
			s.JWTKey = []byte(os.Getenv(s.JWTKeyEnv))
		case s.JWTKeyFile != "":
			p := s.JWTKeyFile
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(c.File), p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				bad("salesforce.jwt_key_file", fmt.Sprintf("cannot read the JWT private key: %v", err), "point it at the PEM private key of the connected app's certificate")
			}
			s.JWTKey = b
		default:
			bad("salesforce.jwt_key_env", "the JWT bearer flow needs the private key", "export the PEM key in the variable named by jwt_key_env, or set jwt_key_file")
		}
	case "refresh_token":
		if s.RedirectURL == "" {
			s.RedirectURL = "http://127.0.0.1:8766/callback"
		}
	default:
		bad("salesforce.auth_flow", fmt.Sprintf("%q is not a supported flow", s.AuthFlow), "use client_credentials, jwt_bearer or refresh_token")
	}
}

func (c *Config) completeJiraAuth(bad func(key, msg, fix string)) {
	j := &c.Jira
	switch j.Auth {
	case "", "api_token":
		j.Auth = "api_token"
	case "oauth":
		o := &j.OAuth
		if o.ClientID == "" {
			bad("jira.oauth.client_id", "is empty", "set it to the OAuth 2.0 (3LO) app's client id from developer.atlassian.com")
		}
		sec, err := c.secret(o.ClientSecretEnv, o.ClientSecretFile)
		if err != nil {
			bad("jira.oauth.client_secret_env", err.Error(), "export the app's client secret in the variable named by client_secret_env, or set client_secret_file")
		}
		o.ClientSecret = sec
		if o.AuthURL == "" {
			o.AuthURL = "https://auth.atlassian.com/authorize"
		}
		if o.TokenURL == "" {
			o.TokenURL = "https://auth.atlassian.com/oauth/token"
		}
		if o.APIURL == "" {
			o.APIURL = "https://api.atlassian.com"
		}
		if o.RedirectURL == "" {
			o.RedirectURL = "http://127.0.0.1:8765/callback"
		}
		if len(o.Scopes) == 0 {
			// What the default pack uses, no more (preflight reports extra scopes): manage:jira-project
			// for the releases its won-deal trigger creates; no manage:jira-webhook, because the signed
			// admin webhook is created with an admin's credentials, not the grant.
			o.Scopes = []string{"read:jira-work", "write:jira-work", "read:jira-user", "manage:jira-project", "offline_access"}
		}
	default:
		bad("jira.auth", fmt.Sprintf("%q is not api_token or oauth", j.Auth), "use api_token (basic auth) or oauth (3LO, `sfjira auth jira`)")
	}
}
