// Package conformance checks the emulators' fidelity with real third-party clients: the npm
// packages jsforce (Salesforce) and jira.js (Jira Cloud) run under Node's built-in test runner
// against both emulators (this file), and Atlassian's OpenAPI document validates every Jira
// request and response the connector relies on (openapi_test.go).
package conformance

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfjira/sfjira/emulators/jira"
	"github.com/sfjira/sfjira/emulators/salesforce"
)

const (
	jsDir = "js"
	// seededOpportunities exceeds two query batches of 2,000 so jsforce's autoFetch has to
	// follow nextRecordsUrl twice.
	seededOpportunities = 4100
	nodeTimeout         = 120 * time.Second
	installMarker       = ".sfjira-lock-sha256"
)

const installHint = "install Node.js 20 or newer with npm (nodesource's nodejs 20.x package brings both; Debian bookworm's own nodejs is 18, too old for jsforce 3 / jira.js 5) — the emulator conformance suite runs real npm clients (jsforce, jira.js) and CI must run it"

// requireNode fails (never skips) when node or npm is missing: a CI machine without Node would
// otherwise pass silently without ever checking the emulators against real clients.
func requireNode(t *testing.T) (node, npm string) {
	t.Helper()
	var err error
	if node, err = exec.LookPath("node"); err != nil {
		t.Fatalf("node is not on PATH: %s", installHint)
	}
	if npm, err = exec.LookPath("npm"); err != nil {
		t.Fatalf("npm is not on PATH: %s", installHint)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v: %s", err, installHint)
	}
	v := strings.TrimSpace(string(out))
	major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(v, "v"), ".", 2)[0])
	if major < 20 {
		t.Fatalf("node %s is too old: %s", v, installHint)
	}
	return node, npm
}

var installOnce sync.Once
var installErr error

// ensureNodeModules runs `npm ci` only when node_modules is missing or was installed from a
// different package-lock.json (a hash of the lock file is kept inside node_modules).
func ensureNodeModules(t *testing.T, npm string) {
	t.Helper()
	installOnce.Do(func() {
		lock, err := os.ReadFile(filepath.Join(jsDir, "package-lock.json"))
		if err != nil {
			installErr = fmt.Errorf("read package-lock.json: %w", err)
			return
		}
		sum := sha256.Sum256(lock)
		want := hex.EncodeToString(sum[:])
		marker := filepath.Join(jsDir, "node_modules", installMarker)
		if got, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(got)) == want {
			return
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = jsDir
		out, err := cmd.CombinedOutput()
		if err != nil {
			installErr = fmt.Errorf("npm ci in %s failed: %v\n%s", jsDir, err, out)
			return
		}
		if err := os.WriteFile(marker, []byte(want+"\n"), 0o644); err != nil {
			installErr = err
			return
		}
		t.Logf("npm ci took %s", time.Since(start).Round(time.Millisecond))
	})
	if installErr != nil {
		t.Fatal(installErr)
	}
}

type emulators struct {
	sf, jira string
}

// startEmulators serves fresh, seeded emulators on 127.0.0.1 for the lifetime of the test.
func startEmulators(t *testing.T) emulators {
	t.Helper()
	sf := salesforce.New(salesforce.DemoOptions())
	sf.Seed(salesforce.SeedOptions{Accounts: 40, Contacts: 40, Opportunities: seededOpportunities})
	sfTS := httptest.NewServer(sf) // httptest listens on 127.0.0.1
	t.Cleanup(sfTS.Close)
	j := jira.New(jira.DemoOptions())
	jTS := httptest.NewServer(j)
	t.Cleanup(jTS.Close)
	// Seed Jira through its admin API (design §5), so the scripts also see pre-existing issues.
	res, err := http.Post(jTS.URL+"/__admin/seed", "application/json", strings.NewReader(`{"issues": 25}`))
	if err != nil {
		t.Fatalf("seed jira: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		t.Fatalf("POST /__admin/seed on the Jira emulator: %d %s", res.StatusCode, body)
	}
	return emulators{sf: sfTS.URL, jira: jTS.URL}
}

// lineLogger forwards each complete line to t.Log as it arrives and keeps a copy.
type lineLogger struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    bytes.Buffer
	all    bytes.Buffer
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	l.buf.Write(p)
	for {
		i := bytes.IndexByte(l.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		line := string(l.buf.Next(i + 1))
		l.t.Log(l.prefix + strings.TrimRight(line, "\r\n"))
	}
	return len(p), nil
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 0 {
		l.t.Log(l.prefix + l.buf.String())
		l.buf.Reset()
	}
}

var reNotOK = regexp.MustCompile(`^\s*not ok \d+ - (.*)$`)

// runNodeTests runs one script under `node --test`: spec output streams into the test log,
// TAP goes to a file from which the failing test names are listed.
func runNodeTests(t *testing.T, node, script string, env []string) {
	t.Helper()
	tap := filepath.Join(t.TempDir(), "report.tap")
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test",
		"--test-reporter=spec", "--test-reporter-destination=stdout",
		"--test-reporter=tap", "--test-reporter-destination="+tap,
		filepath.Join("test", script))
	cmd.Dir = jsDir
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "NO_COLOR=1", "FORCE_COLOR=0")
	out := &lineLogger{t: t, prefix: "node| "}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	out.flush()
	t.Logf("node --test %s: %s", script, time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("node --test %s timed out after %s", script, nodeTimeout)
	}
	if err == nil {
		return
	}
	var failed []string
	if f, ferr := os.Open(tap); ferr == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if m := reNotOK.FindStringSubmatch(sc.Text()); m != nil {
				failed = append(failed, m[1])
			}
		}
		f.Close()
	}
	// The full output is already in the log above; repeat the spec reporter's failure summary.
	summary := out.all.String()
	if i := strings.LastIndex(summary, "✖ failing tests:"); i >= 0 {
		summary = summary[i:]
	}
	t.Fatalf("node --test %s failed (%v); failing tests: %s\n--- node output ---\n%s",
		script, err, strings.Join(failed, "; "), tail([]byte(summary), 20000))
}

func tail(b []byte, n int) string {
	if len(b) > n {
		return "…" + string(b[len(b)-n:])
	}
	return string(b)
}

// TestClients runs the jsforce and jira.js scripts in js/test against fresh emulators.
func TestClients(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the Node.js client conformance suite")
	}
	node, npm := requireNode(t)
	ensureNodeModules(t, npm)
	repoRoot, _ := filepath.Abs(filepath.Join("..", ".."))
	em := startEmulators(t)
	for _, c := range []struct{ name, script string }{
		{"salesforce-jsforce", "salesforce.test.mjs"},
		{"jira-jirajs", "jira.test.mjs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runNodeTests(t, node, c.script, []string{
				"SFJIRA_SF_URL=" + em.sf,
				"SFJIRA_JIRA_URL=" + em.jira,
				"SFJIRA_SF_SEEDED_OPPORTUNITIES=" + strconv.Itoa(seededOpportunities),
				"SFJIRA_JWT_KEY=" + filepath.Join(repoRoot, "deploy", "dev", "jwt", "demo-key.pem"),
			})
		})
	}
}
