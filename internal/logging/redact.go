package logging

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"

	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

// Schema field names: every sfjira log line uses these keys for these facts, so one query
// (e.g. jq 'select(.sf_id=="006…")') finds a record's whole story across worker and CLI.
const (
	KeyWorkflowID = "workflow_id"
	KeyRunID      = "run_id"
	KeyPair       = "pair"
	KeySfID       = "sf_id"
	KeyJiraKey    = "jira_key"
	KeyDirection  = "direction"
	KeyCode       = "code"
)

// Redacted replaces a secret in log output.
const Redacted = "[REDACTED]"

var (
	secretsMu sync.RWMutex
	secrets   []string
)

// RegisterSecrets names values (client secrets, API tokens, webhook secrets, database passwords)
// that must never appear in logs: every logger from New replaces them wherever they occur, also
// inside error messages and nested objects. Values shorter than 6 characters are ignored so that
// common words are not blanked.
func RegisterSecrets(values ...string) {
	secretsMu.Lock()
	defer secretsMu.Unlock()
	for _, v := range values {
		if len(v) >= 6 {
			secrets = append(secrets, v)
			if esc := url.QueryEscape(v); esc != v {
				secrets = append(secrets, esc)
			}
		}
	}
	// Longest first, so a secret containing another is replaced whole.
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
}

// DatabasePassword returns the password of a PostgreSQL URL, for RegisterSecrets.
func DatabasePassword(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

var (
	// A JSON member whose name says it holds a secret: its string value goes.
	reSecretMember = regexp.MustCompile(`("[A-Za-z0-9_.-]*(?i:token|secret|password|passwd|authorization|api_?key|private_?key|credential)[A-Za-z0-9_.-]*"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	// Credentials inside free text: HTTP auth headers, form and query parameters, URL userinfo.
	reAuthScheme = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}`)
	reParam      = regexp.MustCompile(`(?i)\b(access_token|refresh_token|client_secret|password|api_token|assertion)=([^&\s"\\]+)`)
	reUserinfo   = regexp.MustCompile(`(://[^/:@\s"]+):([^@/\s"]+)@`)
)

// scrub removes secrets from one encoded log line.
func scrub(line string) string {
	secretsMu.RLock()
	for _, s := range secrets {
		line = strings.ReplaceAll(line, s, Redacted)
	}
	secretsMu.RUnlock()
	line = reSecretMember.ReplaceAllString(line, `${1}"`+Redacted+`"`)
	line = reAuthScheme.ReplaceAllString(line, "${1}${2}"+Redacted)
	line = reParam.ReplaceAllString(line, "${1}="+Redacted)
	line = reUserinfo.ReplaceAllString(line, "${1}:"+Redacted+"@")
	return line
}

// redactingEncoder scrubs every encoded entry before it is written, so no code path (a field, an
// error string, a struct logged with zap.Any) can leak a registered or recognisable secret.
type redactingEncoder struct{ zapcore.Encoder }

func (e redactingEncoder) Clone() zapcore.Encoder { return redactingEncoder{e.Encoder.Clone()} }

func (e redactingEncoder) EncodeEntry(ent zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	buf, err := e.Encoder.EncodeEntry(ent, fields)
	if err != nil {
		return buf, err
	}
	clean := scrub(buf.String())
	buf.Reset()
	buf.AppendString(clean)
	return buf, nil
}
