// Package deploy_test checks every deployment file with the ecosystem's own tools where they are
// installed (promtool, docker compose / docker-compose, systemd-analyze) and strict decoding
// otherwise: unknown fields, dangling references and metrics the worker does not export fail.
package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/sfjira/sfjira/internal/config"
)

// tool finds an installed command or skips the test saying how to install it.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("SFJIRA_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s is not installed (fix: make test-tools, which runs apt-get install %s)", name, pkg)
		}
		t.Skipf("%s is not installed, so this check cannot run here (fix: make test-tools, which runs apt-get install %s)", name, pkg)
	}
	return p
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out.String())
	return out.String()
}

// exported lists the metric names the worker registers (internal/metrics), so dashboards and
// alerts cannot refer to a series that does not exist.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{"up": true}
	files, err := filepath.Glob("../internal/metrics/*.go")
	require.NoError(t, err)
	re := regexp.MustCompile(`"(sfjira_[a-z_]+)"`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
		}
	}
	require.Greater(t, len(names), 15)
	return names
}

var reMetric = regexp.MustCompile(`\b((?:sfjira|temporal)_[a-z_]+)\b`)

// checkNames fails on any sfjira_ series in expr that the worker does not export.
func checkNames(t *testing.T, where, expr string, names map[string]bool) {
	t.Helper()
	for _, m := range reMetric.FindAllString(expr, -1) {
		if !strings.HasPrefix(m, "sfjira_") {
			continue // Temporal SDK metrics come from the SDK
		}
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_count"), "_sum")
		require.True(t, names[base], "%s uses %s, which the worker does not export", where, m)
	}
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func strictYAML(t *testing.T, path string, out any) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(out), path)
}

// TestAlertRules runs promtool on the rules and their unit tests, and checks that every alert is
// fired by a unit test and points at a runbook section that exists.
func TestAlertRules(t *testing.T) {
	var rf ruleFile
	strictYAML(t, "prometheus/alerts.yml", &rf)
	names := exported(t)
	runbook, err := os.ReadFile("../docs/runbook.md")
	require.NoError(t, err)
	var tests struct {
		RuleFiles          []string `yaml:"rule_files"`
		EvaluationInterval string   `yaml:"evaluation_interval"`
		Tests              []struct {
			Name          string `yaml:"name"`
			Interval      string `yaml:"interval"`
			InputSeries   []any  `yaml:"input_series"`
			AlertRuleTest []struct {
				EvalTime  string `yaml:"eval_time"`
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	strictYAML(t, "prometheus/alerts_test.yml", &tests)
	fired := map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fired[a.Alertname] = true
			}
		}
	}
	alerts := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			checkNames(t, "alert "+r.Alert, r.Expr, names)
			require.True(t, fired[r.Alert], "alert %s is never fired by a test in alerts_test.yml", r.Alert)
			require.NotEmpty(t, r.Labels["severity"], r.Alert)
			url := r.Annotations["runbook_url"]
			anchor, ok := strings.CutPrefix(url, "docs/runbook.md#")
			require.True(t, ok, "alert %s: runbook_url %q must point into docs/runbook.md", r.Alert, url)
			require.Contains(t, anchors(string(runbook)), anchor, "alert %s: no section #%s in docs/runbook.md", r.Alert, anchor)
			require.Contains(t, string(runbook), r.Alert, "docs/runbook.md does not mention %s", r.Alert)
		}
	}
	require.GreaterOrEqual(t, alerts, 6)

	promtool := tool(t, "promtool", "prometheus")
	run(t, "prometheus", promtool, "check", "rules", "alerts.yml")
	out := run(t, "prometheus", promtool, "test", "rules", "alerts_test.yml")
	require.Contains(t, out, "SUCCESS")
	run(t, "prometheus", promtool, "check", "config", "prometheus.yml")
}

// anchors lists the GitHub-style anchors of a Markdown file's headings.
func anchors(md string) []string {
	var out []string
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range h {
			switch {
			case r == ' ' || r == '-':
				b.WriteByte('-')
			case r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}

// TestGrafanaDashboard loads the dashboard, checks its panels cover what operators need and that
// every query is valid PromQL (promtool parses them as recording rules) over exported metrics.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("grafana/sfjira-dashboard.json")
	require.NoError(t, err)
	var d struct {
		UID    string `json:"uid"`
		Title  string `json:"title"`
		Panels []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			GridPos struct{ X, Y, W, H int }
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	require.NoError(t, dec.Decode(&d))
	require.NotEmpty(t, d.UID)
	names := exported(t)
	ids := map[int]bool{}
	var exprs []string
	all := ""
	for _, p := range d.Panels {
		require.False(t, ids[p.ID], "panel id %d twice", p.ID)
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		require.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, "panel %q is wider than the grid", p.Title)
		for _, tg := range p.Targets {
			checkNames(t, "panel "+p.Title, tg.Expr, names)
			exprs = append(exprs, tg.Expr)
			all += tg.Expr + "\n"
		}
	}
	// Sync volume, success/failure, latency, API budget, dead letters, drift.
	for _, need := range []string{"sfjira_records_synced_total", "sfjira_records_failed_total", "sfjira_change_reflection_seconds_bucket",
		"sfjira_api_budget_remaining_ratio", "sfjira_dead_letters_open", "sfjira_reconcile_drift_found_total", "sfjira_task_queue_backlog",
		"sfjira_poller_seconds_since_poll", "sfjira_webhook_silence_seconds"} {
		require.Contains(t, all, need, "the dashboard has no panel on %s", need)
	}

	promtool := tool(t, "promtool", "prometheus")
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range exprs {
		q, _ := json.Marshal(e)
		fmt.Fprintf(&rules, "      - record: dashboard:query_%d\n        expr: %s\n", i, q)
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "queries.yml"), []byte(rules.String()), 0o644))
	run(t, dir, promtool, "check", "rules", "queries.yml")
}

// TestComposeFile validates the compose file with docker compose (or docker-compose) when
// available, and always decodes it strictly and checks its references.
func TestComposeFile(t *testing.T) {
	type service struct {
		Image       string            `yaml:"image"`
		Build       map[string]string `yaml:"build"`
		Entrypoint  []string          `yaml:"entrypoint"`
		Command     []string          `yaml:"command"`
		DependsOn   yaml.Node         `yaml:"depends_on"`
		Environment yaml.Node         `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
		Healthcheck map[string]any    `yaml:"healthcheck"`
		Restart     string            `yaml:"restart"`
	}
	var c struct {
		Services map[string]service `yaml:"services"`
		Volumes  map[string]any     `yaml:"volumes"`
	}
	strictYAML(t, "compose/docker-compose.yml", &c)
	for _, need := range []string{"worker", "temporal", "postgres", "prometheus", "grafana"} {
		require.Contains(t, c.Services, need)
	}
	for name, s := range c.Services {
		require.True(t, s.Image != "" || s.Build != nil, "service %s has neither image nor build", name)
		if s.Build != nil {
			_, err := os.Stat(filepath.Join("compose", s.Build["context"], s.Build["dockerfile"]))
			require.NoError(t, err, "service %s: build file", name)
		}
		var deps []string
		switch s.DependsOn.Kind {
		case yaml.SequenceNode:
			require.NoError(t, s.DependsOn.Decode(&deps))
		case yaml.MappingNode:
			var m map[string]any
			require.NoError(t, s.DependsOn.Decode(&m))
			for k := range m {
				deps = append(deps, k)
			}
		}
		for _, d := range deps {
			require.Contains(t, c.Services, d, "service %s depends on unknown %s", name, d)
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") {
				_, err := os.Stat(filepath.Join("compose", src))
				require.NoError(t, err, "service %s mounts %s", name, src)
			} else {
				require.Contains(t, c.Volumes, src, "service %s uses undeclared volume %s", name, src)
			}
		}
	}
	var cfg config.Config
	strictYAML(t, "compose/sfjira.yaml", &cfg)
	require.Equal(t, "0.0.0.0:8090", cfg.Worker.HTTPAddr, "the worker must listen beyond loopback in a container")

	if p, err := exec.LookPath("docker"); err == nil && exec.Command(p, "compose", "version").Run() == nil {
		run(t, "compose", p, "compose", "-f", "docker-compose.yml", "config", "-q")
		return
	}
	dc := tool(t, "docker-compose", "docker-compose")
	run(t, "compose", dc, "-f", "docker-compose.yml", "config", "-q")
}

// TestKubernetesManifests decodes every manifest strictly into the Kubernetes API types and
// checks the references between them and the Helm values of the Temporal chart.
func TestKubernetesManifests(t *testing.T) {
	var kust struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Namespace  string   `yaml:"namespace"`
		Resources  []string `yaml:"resources"`
	}
	strictYAML(t, "k8s/kustomization.yaml", &kust)
	files := append([]string{}, kust.Resources...)
	files = append(files, "secret.example.yaml")
	objs := map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("k8s", f))
		require.NoError(t, err, "kustomization lists %s", f)
		for _, doc := range strings.Split(string(b), "\n---") {
			var meta struct{ Kind string }
			require.NoError(t, sigsyaml.Unmarshal([]byte(doc), &meta), f)
			var obj any
			switch meta.Kind {
			case "Deployment":
				obj = &appsv1.Deployment{}
			case "Service":
				obj = &corev1.Service{}
			case "ConfigMap":
				obj = &corev1.ConfigMap{}
			case "Secret":
				obj = &corev1.Secret{}
			case "Ingress":
				obj = &networkingv1.Ingress{}
			case "PodDisruptionBudget":
				obj = &policyv1.PodDisruptionBudget{}
			default:
				t.Fatalf("%s: kind %q has no check here (add it)", f, meta.Kind)
			}
			require.NoError(t, sigsyaml.UnmarshalStrict([]byte(doc), obj), "%s does not decode strictly as %s", f, meta.Kind)
			objs[meta.Kind+"/"+f] = obj
		}
	}
	dep := objs["Deployment/worker-deployment.yaml"].(*appsv1.Deployment)
	podLabels := dep.Spec.Template.Labels
	for k, v := range dep.Spec.Selector.MatchLabels {
		require.Equal(t, v, podLabels[k], "deployment selector does not match its pods")
	}
	c := dep.Spec.Template.Spec.Containers[0]
	require.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path)
	require.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
	for _, name := range []string{"worker-service.yaml", "codec-service.yaml"} {
		svc := objs["Service/"+name].(*corev1.Service)
		for k, v := range svc.Spec.Selector {
			require.Equal(t, v, podLabels[k], "%s selects no worker pod", name)
		}
		require.Equal(t, "http", svc.Spec.Ports[0].TargetPort.StrVal)
	}
	cm := objs["ConfigMap/configmap.yaml"].(*corev1.ConfigMap)
	var cfg config.Config
	dec := yaml.NewDecoder(strings.NewReader(cm.Data["sfjira.yaml"]))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&cfg), "the ConfigMap's sfjira.yaml")
	require.Equal(t, cm.Name, dep.Spec.Template.Spec.Volumes[0].ConfigMap.Name)
	sec := objs["Secret/secret.example.yaml"].(*corev1.Secret)
	require.Equal(t, sec.Name, c.EnvFrom[0].SecretRef.Name)
	for _, env := range []string{cfg.Salesforce.ClientSecretEnv, cfg.Jira.APITokenEnv, cfg.Jira.WebhookSecretEnv, cfg.Database.URLEnv} {
		require.Contains(t, sec.StringData, env, "the Secret lacks %s named in the config", env)
	}
	ing := objs["Ingress/codec-ingress.yaml"].(*networkingv1.Ingress)
	require.Equal(t, "sfjira-codec", ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name)

	// The official chart's values: the UI's codec endpoint is the ingress above, and the config
	// dials the chart's frontend service.
	var values map[string]any
	strictYAML(t, "k8s/temporal-values.yaml", &values)
	web := values["web"].(map[string]any)
	found := false
	for _, e := range web["additionalEnv"].([]any) {
		m := e.(map[string]any)
		if m["name"] == "TEMPORAL_CODEC_ENDPOINT" {
			found = true
			require.Equal(t, "https://"+ing.Spec.Rules[0].Host+ing.Spec.Rules[0].HTTP.Paths[0].Path, m["value"])
		}
	}
	require.True(t, found, "temporal-values.yaml does not point the UI at the codec endpoint")
	require.Contains(t, cfg.Temporal.HostPort, "temporal-frontend.temporal.svc", "the worker dials the Helm chart's frontend service")
	for _, off := range []string{"cassandra", "mysql", "elasticsearch"} {
		require.Equal(t, false, values[off].(map[string]any)["enabled"], off)
	}
}

// TestSystemdUnit verifies the unit with systemd-analyze (ExecStart pointed at an existing
// binary, as on an installed host); any warning fails.
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("systemd/sfjira-worker.service")
	require.NoError(t, err)
	unit := string(b)
	require.Contains(t, unit, "ExecStart=/usr/local/bin/sfjira-worker -config /etc/sfjira/sfjira.yaml")
	require.Contains(t, unit, "EnvironmentFile=/etc/sfjira/secrets.env")
	sa := tool(t, "systemd-analyze", "systemd")
	self, err := os.Executable()
	require.NoError(t, err)
	dir := t.TempDir()
	path := filepath.Join(dir, "sfjira-worker.service")
	require.NoError(t, os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/sfjira-worker", self)), 0o644))
	cmd := exec.Command(sa, "verify", "--man=no", path)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Empty(t, strings.TrimSpace(string(out)), "systemd-analyze verify warns")
}

// TestDockerfile checks the image recipe's structure: stages referenced exist, the packages it
// builds exist, and the entrypoint is a binary it copies.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	stages := map[string]bool{}
	var entry string
	copied := map[string]bool{}
	froms := 0
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms++
			if len(f) == 4 && strings.EqualFold(f[2], "AS") {
				stages[f[3]] = true
			}
		case "COPY":
			if strings.HasPrefix(f[1], "--from=") {
				require.True(t, stages[strings.TrimPrefix(f[1], "--from=")], "COPY from unknown stage: %s", line)
				for _, src := range f[2 : len(f)-1] {
					copied[filepath.Base(src)] = true
				}
			} else if len(f) == 3 {
				_, err := os.Stat(filepath.Join("..", f[1]))
				require.NoError(t, err, "COPY source %s", f[1])
			}
		case "ENTRYPOINT":
			var args []string
			require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(line, f[0]))), &args))
			entry = args[0]
		}
	}
	require.GreaterOrEqual(t, froms, 2, "multi-stage build")
	require.True(t, copied[filepath.Base(entry)], "ENTRYPOINT %s is not copied into the image", entry)
	for _, pkg := range regexp.MustCompile(`\./(worker|starter)\b`).FindAllString(string(b), -1) {
		_, err := os.Stat(filepath.Join("..", pkg, "main.go"))
		require.NoError(t, err, pkg)
	}
	keys := make([]string, 0, len(copied))
	for k := range copied {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	require.Equal(t, []string{"sfjira", "sfjira-worker"}, keys)
}
