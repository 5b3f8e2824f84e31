// Package config loads sfjira's one declarative YAML configuration file (connections, sync
// settings, where the mappings live). Secrets never sit in the file: it names the environment
// variable or file that holds each one. Bad config fails fast with file, line and a fix.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole sfjira configuration.
type Config struct {
	Temporal   Temporal   `yaml:"temporal"`
	Database   Database   `yaml:"database"`
	Salesforce Salesforce `yaml:"salesforce"`
	Jira       Jira       `yaml:"jira"`
	Mappings   Mappings   `yaml:"mappings"`
	Worker     Worker     `yaml:"worker"`
	Sync       Sync       `yaml:"sync"`
	Log        Log        `yaml:"log"`
	Security   Security   `yaml:"security"`
	Budget     Budget     `yaml:"budget"`
	Audit      Audit      `yaml:"audit"`

	// File is the path the config was loaded from; relative paths inside it resolve against its folder.
	File string `yaml:"-"`
}

// Temporal says which cluster and namespace the worker and CLI talk to.
type Temporal struct {
	HostPort  string `yaml:"host_port"`
	Namespace string `yaml:"namespace"`
	TaskQueue string `yaml:"task_queue"`
	// UIURL is only used to print links to runs.
	UIURL string `yaml:"ui_url"`
	// TLS and API-key authentication to the cluster (mTLS for self-hosted, API key for Cloud).
	TLS       TemporalTLS `yaml:"tls"`
	APIKeyEnv string      `yaml:"api_key_env"`

	// Filled at load time: the API key, and where the payload keyring comes from (security.*).
	APIKey      string `yaml:"-"`
	KeyringEnv  string `yaml:"-"`
	KeyringFile string `yaml:"-"`
}

// Database is the PostgreSQL holding connector state.
type Database struct {
	URL    string `yaml:"url"`
	URLEnv string `yaml:"url_env"`
}

// Salesforce is the connected app used to reach the org (client credentials flow).
type Salesforce struct {
	LoginURL         string        `yaml:"login_url"`
	ClientID         string        `yaml:"client_id"`
	ClientSecretEnv  string        `yaml:"client_secret_env"`
	ClientSecretFile string        `yaml:"client_secret_file"`
	APIVersion       string        `yaml:"api_version"`
	Timeout          time.Duration `yaml:"timeout"`
	// OrgID, when set, is the only organization whose Outbound Messages the worker accepts.
	OrgID string `yaml:"org_id"`

	// ClientSecret is filled from ClientSecretEnv or ClientSecretFile at load time.
	ClientSecret string `yaml:"-"`

	// AuthFlow is client_credentials (default), jwt_bearer or refresh_token (see docs/security.md).
	AuthFlow    string `yaml:"auth_flow"`
	Username    string `yaml:"username"`     // jwt_bearer: the integration user
	JWTKeyEnv   string `yaml:"jwt_key_env"`  // jwt_bearer: PEM private key in a variable…
	JWTKeyFile  string `yaml:"jwt_key_file"` // …or in a file
	JWTAudience string `yaml:"jwt_audience"` // default https://login.salesforce.com
	RedirectURL string `yaml:"redirect_url"` // refresh_token: the loopback callback of `sfjira auth salesforce`
	JWTKey      []byte `yaml:"-"`            // filled at load time
}

// Jira is the Jira Cloud site and the integration user's API token.
type Jira struct {
	BaseURL      string        `yaml:"base_url"`
	Email        string        `yaml:"email"`
	APITokenEnv  string        `yaml:"api_token_env"`
	APITokenFile string        `yaml:"api_token_file"`
	Timeout      time.Duration `yaml:"timeout"`
	// WebhookURL is where Jira delivers issue and comment events (the worker's /webhooks/jira as
	// reachable from Jira); `sfjira setup` registers it. Empty disables webhook registration.
	WebhookURL string `yaml:"webhook_url"`
	// The HMAC secret Jira signs deliveries with (X-Hub-Signature), from env or file.
	WebhookSecretEnv  string `yaml:"webhook_secret_env"`
	WebhookSecretFile string `yaml:"webhook_secret_file"`

	// APIToken is filled from APITokenEnv or APITokenFile at load time.
	APIToken string `yaml:"-"`
	// WebhookSecret is filled from WebhookSecretEnv or WebhookSecretFile at load time.
	WebhookSecret string `yaml:"-"`

	// Auth is api_token (default: basic auth with Email + API token) or oauth (OAuth 2.0 3LO,
	// tokens from `sfjira auth jira`, stored encrypted; see docs/security.md).
	Auth  string    `yaml:"auth"`
	OAuth JiraOAuth `yaml:"oauth"`
}

// Sync holds change-capture settings.
type Sync struct {
	// Polling intervals while the API budget is healthy; 0 disables that poller.
	PollSalesforceSeconds int `yaml:"poll_salesforce_seconds"`
	PollJiraSeconds       int `yaml:"poll_jira_seconds"`
	// ReconcileIntervalMinutes is how often the Reconcile schedule runs per pair (0 disables
	// it); ReconcileCatchupMinutes how late a missed run may still start (after an outage).
	ReconcileIntervalMinutes int `yaml:"reconcile_interval_minutes"`
	ReconcileCatchupMinutes  int `yaml:"reconcile_catchup_minutes"`
}

// Audit says how the audit trail stores values.
type Audit struct {
	// PII is how values of PII-marked mapping fields (`pii: true`) are stored in audit rows:
	// hash (default) keeps an HMAC-SHA256 keyed from the keyring, so equal values compare equal
	// without the value being readable; clear keeps the value (when the audit itself is the
	// record of personal data processing you must keep).
	PII string `yaml:"pii"`
}

// Audit PII modes.
const (
	AuditPIIHash  = "hash"
	AuditPIIClear = "clear"
)

// Mappings says where the mapping files are.
type Mappings struct {
	Dir string `yaml:"dir"`
}

// Worker holds the worker process's own settings.
type Worker struct {
	HTTPAddr          string `yaml:"http_addr"`
	MaxConcurrentSync int    `yaml:"max_concurrent_activities"`
	// MemoryLimitMB is the worker's soft memory limit (Go's GOMEMLIMIT, which wins when set):
	// bulk pages in flight hold a few thousand records each, and without a limit the garbage
	// collector lets the heap double before it runs, past a 256 MB container. 0 disables it.
	MemoryLimitMB int `yaml:"memory_limit_mb"`
	// SalesforceActivitiesPerSecond and JiraActivitiesPerSecond limit the activities started per
	// second on the Salesforce and Jira task queues (Temporal's TaskQueueActivitiesPerSecond,
	// enforced by the server across all workers). 0 means no limit.
	SalesforceActivitiesPerSecond float64 `yaml:"salesforce_activities_per_second"`
	JiraActivitiesPerSecond       float64 `yaml:"jira_activities_per_second"`
}

// Log selects the log encoding (json for production, console for people) and level.
type Log struct {
	Format string `yaml:"format"`
	Level  string `yaml:"level"`
}

// Error is a config problem with its location and the fix.
type Error struct {
	File string
	Line int
	Msg  string
	Fix  string
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Fix == "" {
		return loc + ": " + e.Msg
	}
	return fmt.Sprintf("%s: %s (fix: %s)", loc, e.Msg, e.Fix)
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// Load reads, validates and completes a config file, resolving secrets from the environment or
// files. It returns every problem it finds, each naming file and line.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read config: " + err.Error(), Fix: "pass --config with the path of an sfjira YAML config (see deploy/dev/sfjira.yaml)"}
	}
	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			var errs []error
			for _, m := range te.Errors {
				errs = append(errs, yamlErr(path, m))
			}
			return nil, errors.Join(errs...)
		}
		return nil, yamlErr(path, err.Error())
	}
	cfg.File = path
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	if err := cfg.complete(func(key string) int { return lineOf(&root, key) }); err != nil {
		return nil, err
	}
	return cfg, nil
}

func yamlErr(path, msg string) error {
	e := &Error{File: path, Msg: msg, Fix: "compare with deploy/dev/sfjira.yaml; keys are lower_snake_case"}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		fmt.Sscanf(m[1], "%d", &e.Line)
		e.Msg = m[2]
		if strings.Contains(e.Msg, "not found in type") {
			field := strings.TrimPrefix(strings.SplitN(e.Msg, " not found", 2)[0], "field ")
			e.Msg = fmt.Sprintf("unknown key %q", field)
			e.Fix = "remove it or correct the spelling; see deploy/dev/sfjira.yaml for every key"
		}
	}
	return e
}

// lineOf finds the line of a dotted key path such as "salesforce.client_id" (0 if absent).
func lineOf(root *yaml.Node, dotted string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(dotted, ".") {
		if n == nil || n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				line = n.Content[i].Line
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return line
}

// DefaultMemoryLimitMB is the worker's default soft memory limit: the heap target under the
// design's 256 MB peak RSS, with room for stacks and the runtime. Much lower and two bulk pages
// in flight (~130 MB live) make the collector run nearly continuously.
const DefaultMemoryLimitMB = 224

// ApplyMemoryLimit sets the process's soft memory limit to mb megabytes unless GOMEMLIMIT is set
// in the environment (an operator's explicit choice) or mb is 0.
func ApplyMemoryLimit(mb int) {
	if mb > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(mb) << 20)
	}
}

// Default returns the settings used when the file leaves them out.
func Default() *Config {
	return &Config{
		Temporal:   Temporal{HostPort: "127.0.0.1:7233", Namespace: "default", TaskQueue: "sfjira", UIURL: "http://localhost:8233"},
		Database:   Database{URLEnv: "DATABASE_URL", URL: "postgres://postgres@127.0.0.1:5432/sfjira?sslmode=disable"},
		Salesforce: Salesforce{APIVersion: "v62.0", Timeout: 20 * time.Second},
		Jira:       Jira{Timeout: 20 * time.Second},
		Mappings:   Mappings{Dir: "mappings/default"},
		Worker:     Worker{HTTPAddr: "127.0.0.1:8090", MaxConcurrentSync: 200, SalesforceActivitiesPerSecond: 50, JiraActivitiesPerSecond: 50, MemoryLimitMB: DefaultMemoryLimitMB},
		Sync:       Sync{PollSalesforceSeconds: 15, PollJiraSeconds: 60, ReconcileIntervalMinutes: 60, ReconcileCatchupMinutes: 30},
		Log:        Log{Format: "json", Level: "info"},
		Security:   defaultSecurity(),
		Audit:      Audit{PII: AuditPIIHash},
		Budget: Budget{SalesforceSlowBelow: 0.30, SalesforcePauseBelow: 0.10, JiraSlowBelow: 0.30, JiraPauseBelow: 0.10,
			SlowDelay: 500 * time.Millisecond, Recheck: 15 * time.Second},
	}
}

// complete resolves secrets and relative paths and validates required settings.
func (c *Config) complete(line func(string) int) error {
	var errs []error
	bad := func(key, msg, fix string) {
		errs = append(errs, &Error{File: c.File, Line: line(key), Msg: key + ": " + msg, Fix: fix})
	}
	if c.Database.URLEnv != "" {
		if v := os.Getenv(c.Database.URLEnv); v != "" {
			c.Database.URL = v
		}
	}
	if c.Database.URL == "" {
		bad("database.url", "no database URL", "set database.url or the variable named by database.url_env")
	}
	if c.Temporal.HostPort == "" {
		bad("temporal.host_port", "is empty", "set it to the frontend address, e.g. 127.0.0.1:7233")
	}
	if c.Salesforce.LoginURL == "" {
		bad("salesforce.login_url", "is empty", "set it to your My Domain URL, e.g. https://acme.my.salesforce.com")
	}
	if c.Salesforce.ClientID == "" {
		bad("salesforce.client_id", "is empty", "set it to the connected app's consumer key")
	}
	secret, err := c.secret(c.Salesforce.ClientSecretEnv, c.Salesforce.ClientSecretFile)
	if err != nil && c.Salesforce.AuthFlow != "jwt_bearer" {
		bad("salesforce.client_secret_env", err.Error(), "export the variable, or point salesforce.client_secret_file at a file holding the consumer secret")
	}
	c.Salesforce.ClientSecret = secret
	c.completeSalesforceAuth(bad)
	if c.Jira.BaseURL == "" {
		bad("jira.base_url", "is empty", "set it to your site, e.g. https://acme.atlassian.net")
	}
	c.completeJiraAuth(bad)
	if c.Jira.Email == "" && c.Jira.Auth != "oauth" {
		bad("jira.email", "is empty", "set it to the integration user's Atlassian account e-mail")
	}
	token, err := c.secret(c.Jira.APITokenEnv, c.Jira.APITokenFile)
	if err != nil && c.Jira.Auth != "oauth" {
		bad("jira.api_token_env", err.Error(), "export the variable, or point jira.api_token_file at a file holding the API token")
	}
	c.Jira.APIToken = token
	if c.Jira.WebhookSecretEnv != "" || c.Jira.WebhookSecretFile != "" {
		ws, err := c.secret(c.Jira.WebhookSecretEnv, c.Jira.WebhookSecretFile)
		if err != nil {
			bad("jira.webhook_secret_env", err.Error(), "export the variable, or point jira.webhook_secret_file at a file holding the webhook secret")
		}
		c.Jira.WebhookSecret = ws
	} else if c.Jira.WebhookURL != "" {
		bad("jira.webhook_url", "a webhook URL needs a secret to verify deliveries", "set jira.webhook_secret_env or jira.webhook_secret_file")
	}
	if c.Mappings.Dir != "" && !filepath.IsAbs(c.Mappings.Dir) {
		if _, err := os.Stat(c.Mappings.Dir); err != nil {
			c.Mappings.Dir = filepath.Join(filepath.Dir(c.File), c.Mappings.Dir)
		}
	}
	if st, err := os.Stat(c.Mappings.Dir); err != nil || !st.IsDir() {
		bad("mappings.dir", fmt.Sprintf("%q is not a folder", c.Mappings.Dir), "point it at the folder holding the mapping YAML files (relative to the working directory or the config file)")
	}
	c.completeSecurity(bad)
	switch c.Audit.PII {
	case "":
		c.Audit.PII = AuditPIIHash
	case AuditPIIHash, AuditPIIClear:
	default:
		bad("audit.pii", fmt.Sprintf("%q is not hash or clear", c.Audit.PII), "use audit.pii: hash (keyed hashes of PII-marked fields, the default) or clear")
	}
	if c.Worker.SalesforceActivitiesPerSecond < 0 {
		bad("worker.salesforce_activities_per_second", "is negative", "use a rate per second such as 25, or 0 for no limit")
	}
	if c.Worker.JiraActivitiesPerSecond < 0 {
		bad("worker.jira_activities_per_second", "is negative", "use a rate per second such as 10, or 0 for no limit")
	}
	for _, th := range []struct {
		key        string
		slow, stop float64
	}{{"budget.salesforce", c.Budget.SalesforceSlowBelow, c.Budget.SalesforcePauseBelow}, {"budget.jira", c.Budget.JiraSlowBelow, c.Budget.JiraPauseBelow}} {
		if th.slow < 0 || th.slow > 1 || th.stop < 0 || th.stop > 1 || th.stop > th.slow {
			bad(th.key+"_pause_below", fmt.Sprintf("thresholds slow_below %.2f and pause_below %.2f must be shares 0..1 with pause ≤ slow", th.slow, th.stop),
				"use e.g. slow_below: 0.30 and pause_below: 0.10 (shares of the budget left)")
		}
	}
	switch c.Log.Format {
	case "json", "console":
	default:
		bad("log.format", fmt.Sprintf("%q is not json or console", c.Log.Format), "use json in production, console for a terminal")
	}
	return errors.Join(errs...)
}

func (c *Config) secret(env, file string) (string, error) {
	switch {
	case env != "" && file != "":
		return "", fmt.Errorf("both an environment variable and a file are given")
	case env != "":
		v := os.Getenv(env)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is not set", env)
		}
		return v, nil
	case file != "":
		p := file
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(c.File), p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("cannot read secret file: %v", err)
		}
		return strings.TrimSpace(string(b)), nil
	default:
		return "", fmt.Errorf("no secret configured")
	}
}

// ReloadJiraToken reads the Jira API token again from its variable or file, so a worker picks up
// a rotated token when Jira answers 401 without a restart.
func (c *Config) ReloadJiraToken() (string, error) {
	return c.secret(c.Jira.APITokenEnv, c.Jira.APITokenFile)
}

// Budget sets when the API budget guard slows, then pauses, backfill and reconcile: as shares of
// the budget left (Salesforce's daily requests, Jira's rate limit). Real-time changes are never held.
type Budget struct {
	SalesforceSlowBelow  float64       `yaml:"salesforce_slow_below"`
	SalesforcePauseBelow float64       `yaml:"salesforce_pause_below"`
	JiraSlowBelow        float64       `yaml:"jira_slow_below"`
	JiraPauseBelow       float64       `yaml:"jira_pause_below"`
	SlowDelay            time.Duration `yaml:"slow_delay"`
	Recheck              time.Duration `yaml:"recheck"`
}
