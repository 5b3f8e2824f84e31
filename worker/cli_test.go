package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// sfjiraCLI builds the operator CLI once per test binary so tests drive the same commands an
// operator types, not the store functions behind them.
func sfjiraCLI(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sfjira-cli-")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "sfjira")
		out, err := exec.Command("go", "build", "-o", cliPath, "../starter").CombinedOutput()
		if err != nil {
			cliErr = fmt.Errorf("go build ../starter: %v\n%s", err, out)
		}
	})
	require.NoError(t, cliErr)
	return cliPath
}

// cli runs `sfjira args...` against this stack (its dev server, database, emulators and task
// queue) and returns stdout, stderr and the exit code.
func (s *stack) cli(args ...string) (stdout, stderr string, code int) {
	t := s.t
	t.Helper()
	bin := sfjiraCLI(t)
	mapDir, err := filepath.Abs("../mappings/default")
	require.NoError(t, err)
	cfg := filepath.Join(t.TempDir(), "sfjira.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`temporal:
  host_port: %s
  namespace: default
  task_queue: %s
database:
  url: %s
  url_env: ""
salesforce:
  login_url: %s
  client_id: sfjira-demo
  client_secret_env: SFJIRA_SF_CLIENT_SECRET
jira:
  base_url: %s
  email: integration@sfjira.demo
  api_token_env: SFJIRA_JIRA_API_TOKEN
mappings:
  dir: %s
log:
  format: json
  level: error
`, s.hostPort, s.queue, s.dbURL, s.sfURL, s.jiraURL, mapDir)), 0o600))
	cmd := exec.CommandContext(s.ctx, bin, append([]string{"--config", cfg}, args...)...)
	cmd.Env = append(os.Environ(), "SFJIRA_SF_CLIENT_SECRET=sfjira-demo-secret", "SFJIRA_JIRA_API_TOKEN=sfjira-demo-token")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return o.String(), e.String(), code
}
