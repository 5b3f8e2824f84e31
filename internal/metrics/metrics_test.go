package metrics_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/internal/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, 200, rec.Code)
	return rec.Body.String()
}

// TestSDKBridgeKeepsOneLabelSetPerName: the SDK tags the same metric differently from different
// places; the bridge must keep exporting (missing labels empty, extra tags dropped) instead of
// failing the scrape.
func TestSDKBridgeKeepsOneLabelSetPerName(t *testing.T) {
	m := metrics.New()
	h := m.TemporalHandler().WithTags(map[string]string{"namespace": "default", "task_queue": "sfjira"})
	h.Counter("temporal_request").Inc(2)
	h.WithTags(map[string]string{"operation": "PollWorkflowTaskQueue"}).Counter("temporal_request").Inc(1)
	m.TemporalHandler().Counter("temporal_request").Inc(4)
	h.Gauge("temporal_worker_task_slots_available").Update(7)
	h.Timer("temporal_activity_execution_latency").Record(250 * time.Millisecond)
	out := scrape(t, m)
	require.Contains(t, out, `temporal_request{namespace="default",task_queue="sfjira"} 3`)
	require.Contains(t, out, `temporal_request{namespace="",task_queue=""} 4`)
	require.Contains(t, out, `temporal_worker_task_slots_available{namespace="default",task_queue="sfjira"} 7`)
	require.Contains(t, out, `temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="sfjira",le="0.25"} 1`)
}

// TestScrapeGaugesAndSilence: gauges read at scrape time, and a source that fails reports
// sfjira_metrics_source_up 0 without breaking the scrape.
func TestScrapeGaugesAndSilence(t *testing.T) {
	m := metrics.New()
	out := scrape(t, m)
	require.Contains(t, out, `sfjira_webhook_silence_seconds{source="jira"}`)
	m.WebhookVerified("jira")
	m.SetSources(metrics.Sources{
		Budgets: func() []metrics.Budget { return []metrics.Budget{{System: "jira", Remaining: 25, Limit: 100}} },
		State: func(context.Context) (*metrics.State, error) {
			return &metrics.State{DeadLettersByCode: map[string]int64{"SF_AUTH": 2}, Paused: true}, nil
		},
		Backlog: func(context.Context) ([]metrics.Backlog, error) { return nil, errors.New("temporal unreachable") },
	})
	out = scrape(t, m)
	require.Contains(t, out, `sfjira_api_budget_remaining_ratio{system="jira"} 0.25`)
	require.Contains(t, out, `sfjira_dead_letters_open{code="SF_AUTH"} 2`)
	require.Contains(t, out, `sfjira_maintenance_paused 1`)
	require.Contains(t, out, `sfjira_metrics_source_up{source="backlog"} 0`)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, `sfjira_webhook_silence_seconds{source="jira"}`) {
			v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
			require.NoError(t, err, line)
			require.Less(t, v, 1.0, "just verified: %s", line)
		}
	}
}
