package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/worker/ingress"
	"github.com/sfjira/sfjira/workflows"
)

// scrape reads /metrics like Prometheus does.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// sample returns the value of the series of a family whose labels include want (ok=false if none).
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetricsAfterRealSync runs a successful and a failing sync, a verified webhook and a poll on
// the real stack, then scrapes /metrics and checks every family operators alert on.
func TestMetricsAfterRealSync(t *testing.T) {
	s := newStack(t, 3)
	ctx := s.ctx
	in := &ingress.Ingress{Acts: s.acts, JiraSecret: "it-secret", Log: s.acts.Log}
	srv := httptest.NewServer(NewHTTPHandler(s.tc, s.acts, in))
	t.Cleanup(srv.Close)

	recs, err := s.sf.Query(ctx, "SELECT Id FROM Opportunity LIMIT 1")
	require.NoError(t, err)
	_, out, err := s.sync(recs.Records[0].ID())
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeCreated, out.Outcome)

	badID, err := s.sf.Create(ctx, "Opportunity", map[string]any{"Name": "Orphan deal", "StageName": "Qualification", "CloseDate": "2027-03-31", "Amount": 1000})
	require.NoError(t, err)
	_, _, err = s.sync(badID)
	require.Error(t, err)

	// A current timestamp: deliveries outside the replay window are refused.
	body := []byte(fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"jira:worklog_updated"}`, time.Now().UnixMilli()))
	mac := hmac.New(sha256.New, []byte("it-secret"))
	mac.Write(body)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/jira", bytes.NewReader(body))
	req.Header.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Less(t, resp.StatusCode, 300)

	_, err = s.acts.PollChanges(ctx, activities.PollInput{Pair: s.mapping.Pair, Source: activities.SourceJira, BaseIntervalSeconds: 10})
	require.NoError(t, err)

	fams := scrape(t, srv.URL)
	must := func(name string, labels map[string]string) float64 {
		t.Helper()
		v, ok := sample(fams, name, labels)
		require.True(t, ok, "no series %s%v on /metrics", name, labels)
		return v
	}
	require.GreaterOrEqual(t, must("sfjira_records_synced_total", map[string]string{"object": "Opportunity", "direction": "sf_to_jira"}), 1.0)
	code := string(catalog.MappingRequiredValueMissing)
	require.Equal(t, 1.0, must("sfjira_records_failed_total", map[string]string{"object": "Opportunity", "code": code}))
	require.Equal(t, 1.0, must("sfjira_dead_letters_total", map[string]string{"code": code}))
	require.Equal(t, 1.0, must("sfjira_dead_letters_open", map[string]string{"code": code}))
	require.Equal(t, 0.0, must("sfjira_conflicts_pending", nil))
	require.Equal(t, 0.0, must("sfjira_maintenance_paused", nil))
	require.GreaterOrEqual(t, must("sfjira_change_reflection_seconds", map[string]string{"pair": s.mapping.Pair}), 1.0)
	require.Positive(t, must("sfjira_api_calls_total", map[string]string{"system": "salesforce", "status": "2xx"}))
	require.Positive(t, must("sfjira_api_calls_total", map[string]string{"system": "jira", "status": "2xx"}))
	require.Positive(t, must("sfjira_api_budget_limit", map[string]string{"system": "salesforce"}))
	require.Positive(t, must("sfjira_api_budget_limit", map[string]string{"system": "jira"}))
	ratio := must("sfjira_api_budget_remaining_ratio", map[string]string{"system": "salesforce"})
	require.True(t, ratio > 0 && ratio <= 1, "salesforce budget ratio %v", ratio)
	require.Less(t, must("sfjira_webhook_silence_seconds", map[string]string{"source": "jira"}), 60.0)
	require.Less(t, must("sfjira_poller_seconds_since_poll", map[string]string{"source": "jira:" + s.mapping.Pair}), 60.0)
	must("sfjira_poller_watermark_lag_seconds", map[string]string{"source": "jira:" + s.mapping.Pair})
	require.Equal(t, 1.0, must("sfjira_metrics_source_up", map[string]string{"source": "state"}))
	require.Equal(t, 1.0, must("sfjira_metrics_source_up", map[string]string{"source": "backlog"}))
	must("sfjira_task_queue_backlog", map[string]string{"task_queue": s.queue, "type": "activity"})
	require.Positive(t, must("sfjira_task_queue_pollers", map[string]string{"task_queue": s.queue, "type": "workflow"}))
	// The Temporal SDK's own metrics, bridged to the same registry.
	require.Positive(t, must("temporal_workflow_completed", map[string]string{"workflow_type": "RecordSync"}))
	require.Positive(t, must("temporal_activity_execution_latency_seconds", map[string]string{"activity_type": "FetchSalesforce"}))
	require.Positive(t, must("temporal_request", nil))
}
