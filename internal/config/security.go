package config

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// Security holds the encryption keyring, the tokens and roles of the worker's HTTP admin surface
// and codec endpoint, and the limits applied to inbound webhooks. Secrets are never written in
// the file: it names the variables or files holding them.
type Security struct {
	// KeyringEnv / KeyringFile hold the AES-256 keyring (`sfjira keys generate`). With a keyring,
	// Temporal payloads and stored OAuth tokens are encrypted; without one the worker refuses to
	// store OAuth tokens and warns that payloads travel in clear.
	KeyringEnv  string `yaml:"keyring_env"`
	KeyringFile string `yaml:"keyring_file"`
	// RequireEncryption makes a missing keyring a config error (set it in production).
	RequireEncryption bool `yaml:"require_encryption"`
	// UIOrigin is the Temporal UI origin allowed to call the codec endpoint from the browser (CORS).
	UIOrigin string `yaml:"ui_origin"`
	// CodecAnonymousLoopback lets callers on the loopback interface decode payloads without a
	// token: for the local dev server's UI only (it cannot send a bearer token without UI login).
	CodecAnonymousLoopback bool `yaml:"codec_anonymous_loopback"`
	// APITokens are the bearer tokens of the worker's admin surface, each with a role.
	APITokens []APIToken `yaml:"api_tokens"`
	// Webhooks bounds inbound deliveries.
	Webhooks WebhookLimits `yaml:"webhooks"`
	// DatabaseRole, when set (normally sfjira_app), is the role the worker's connections switch to
	// after migrations: it can append to the audit trail but not change or delete it.
	DatabaseRole string `yaml:"database_role"`
	// MetricsPublic serves /metrics without a token (otherwise it needs the viewer role).
	MetricsPublic bool `yaml:"metrics_public"`
	// HTTPCertFile and HTTPKeyFile turn on TLS for the worker's HTTP server.
	HTTPCertFile string `yaml:"http_cert_file"`
	HTTPKeyFile  string `yaml:"http_key_file"`
	// AllowCIDRs, when not empty, is the only source addresses the worker's HTTP server answers.
	AllowCIDRs []string `yaml:"allow_cidrs"`

	// Parsed forms, filled at load time.
	Prefixes []netip.Prefix `yaml:"-"`
}

// APIToken is one bearer token for the worker's HTTP surface. Role is viewer (read: metrics,
// decode), operator (also data-changing operations) or admin (everything).
type APIToken struct {
	Name      string `yaml:"name"`
	Role      string `yaml:"role"`
	TokenEnv  string `yaml:"token_env"`
	TokenFile string `yaml:"token_file"`

	// Token is filled from TokenEnv or TokenFile at load time.
	Token string `yaml:"-"`
}

// WebhookLimits protects the webhook receivers from oversized, replayed and flooding requests.
type WebhookLimits struct {
	// MaxBodyBytes rejects larger deliveries with 413 (default 1 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ReplayWindow rejects signed deliveries whose timestamp is older (default 15m); delivery ids
	// seen within it are acknowledged without being processed again.
	ReplayWindow time.Duration `yaml:"replay_window"`
	// RatePerSecond and Burst limit deliveries per source address and receiver (default 50/200).
	RatePerSecond float64 `yaml:"rate_per_second"`
	Burst         int     `yaml:"burst"`
}

func defaultSecurity() Security {
	return Security{
		KeyringEnv: "SFJIRA_KEYRING",
		UIOrigin:   "http://localhost:8233",
		Webhooks:   WebhookLimits{MaxBodyBytes: 1 << 20, ReplayWindow: 15 * time.Minute, RatePerSecond: 50, Burst: 200},
	}
}

// completeSecurity resolves token secrets and validates roles and CIDRs.
func (c *Config) completeSecurity(bad func(key, msg, fix string)) {
	s := &c.Security
	if s.KeyringFile != "" && !filepath.IsAbs(s.KeyringFile) {
		s.KeyringFile = filepath.Join(filepath.Dir(c.File), s.KeyringFile)
	}
	if s.RequireEncryption && os.Getenv(s.KeyringEnv) == "" && s.KeyringFile == "" {
		bad("security.require_encryption", "encryption is required but no keyring is configured",
			fmt.Sprintf("export %s (or set security.keyring_file) with entries from `sfjira keys generate`", s.KeyringEnv))
	}
	for _, p := range []*string{&s.HTTPCertFile, &s.HTTPKeyFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(filepath.Dir(c.File), *p)
		}
	}
	if (s.HTTPCertFile == "") != (s.HTTPKeyFile == "") {
		bad("security.http_cert_file", "http_cert_file and http_key_file go together", "set both to serve HTTPS, or neither")
	}
	c.Temporal.KeyringEnv, c.Temporal.KeyringFile = s.KeyringEnv, s.KeyringFile
	c.completeTemporalTLS(bad)
	seen := map[string]bool{}
	for i := range s.APITokens {
		t := &s.APITokens[i]
		key := fmt.Sprintf("security.api_tokens[%d]", i)
		switch t.Role {
		case "viewer", "operator", "admin":
		default:
			bad("security.api_tokens", fmt.Sprintf("%s (%s): role %q is not viewer, operator or admin", key, t.Name, t.Role), "pick one of viewer, operator, admin")
		}
		if t.Name == "" {
			bad("security.api_tokens", key+": name is empty", "name each token (it is logged instead of the token)")
		}
		tok, err := c.secret(t.TokenEnv, t.TokenFile)
		if err != nil {
			bad("security.api_tokens", fmt.Sprintf("%s (%s): %v", key, t.Name, err), "set token_env to a variable holding the token, or token_file to a file")
			continue
		}
		if len(tok) < 16 {
			bad("security.api_tokens", fmt.Sprintf("%s (%s): the token is shorter than 16 characters", key, t.Name), "use a long random token, e.g. `openssl rand -hex 32`")
		}
		if seen[tok] {
			bad("security.api_tokens", fmt.Sprintf("%s (%s): the same token is configured twice", key, t.Name), "give every caller its own token")
		}
		seen[tok] = true
		t.Token = tok
	}
	for _, cidr := range s.AllowCIDRs {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			bad("security.allow_cidrs", fmt.Sprintf("%q is not a CIDR", cidr), "write networks like 10.0.0.0/8 or 127.0.0.1/32")
			continue
		}
		s.Prefixes = append(s.Prefixes, p.Masked())
	}
	if s.Webhooks.MaxBodyBytes <= 0 {
		s.Webhooks.MaxBodyBytes = 1 << 20
	}
	if s.Webhooks.ReplayWindow <= 0 {
		s.Webhooks.ReplayWindow = 15 * time.Minute
	}
	if s.Webhooks.RatePerSecond <= 0 {
		s.Webhooks.RatePerSecond = 50
	}
	if s.Webhooks.Burst <= 0 {
		s.Webhooks.Burst = 200
	}
}

// TemporalTLS configures TLS to the Temporal frontend; with CertFile and KeyFile it is mTLS.
type TemporalTLS struct {
	Enabled    bool   `yaml:"enabled"`
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
	CAFile     string `yaml:"ca_file"`
	ServerName string `yaml:"server_name"`
}

func (c *Config) completeTemporalTLS(bad func(key, msg, fix string)) {
	t := &c.Temporal.TLS
	for _, p := range []*string{&t.CertFile, &t.KeyFile, &t.CAFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(filepath.Dir(c.File), *p)
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		bad("temporal.tls", "cert_file and key_file go together", "set both for mTLS, or neither")
	}
	if t.CertFile != "" || t.CAFile != "" {
		t.Enabled = true
	}
	if c.Temporal.APIKeyEnv != "" {
		v := os.Getenv(c.Temporal.APIKeyEnv)
		if v == "" {
			bad("temporal.api_key_env", fmt.Sprintf("environment variable %s is not set", c.Temporal.APIKeyEnv), "export the Temporal Cloud API key in it, or remove api_key_env")
		}
		c.Temporal.APIKey = v
		t.Enabled = true // API keys are only sent over TLS
	}
}
