// Command sfjira-worker runs the Temporal worker that executes sfjira's workflows and activities,
// and an HTTP server for health checks (and, later, webhooks, metrics and the codec endpoint).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/budget"
	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/logging"
	"github.com/sfjira/sfjira/internal/metrics"
	"github.com/sfjira/sfjira/internal/temporalconn"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/transforms"
	"github.com/sfjira/sfjira/worker/admin"
	"github.com/sfjira/sfjira/worker/ingress"
	"github.com/sfjira/sfjira/workflows"
)

func main() {
	configPath := flag.String("config", envOr("SFJIRA_CONFIG", "deploy/dev/sfjira.yaml"), "path of the sfjira YAML config")
	flag.Parse()
	if err := run(*configPath); err != nil {
		fmt.Fprintln(os.Stderr, "sfjira-worker:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(configPath string) error {
	// Named transforms (`transform:` in mapping files) must be registered before the mappings
	// load in activities.New; the built-in ones register themselves in package mappings.
	if err := transforms.Register(); err != nil {
		return err
	}
	cfg, err := config.Load(configPath)
	if err != nil {
		return err
	}
	logging.RegisterSecrets(cfg.Salesforce.ClientSecret, cfg.Jira.APIToken, cfg.Jira.WebhookSecret, logging.DatabasePassword(cfg.Database.URL))
	log, err := logging.New(cfg.Log.Format, cfg.Log.Level)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck
	config.ApplyMemoryLimit(cfg.Worker.MemoryLimitMB)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	keyring, err := codec.KeyringFromConfig(cfg.Security)
	if err != nil {
		return err
	}
	acts, err := activities.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer acts.Store.Close()
	if err := acts.Mappings.CheckLive(ctx, acts.SF); err != nil {
		var list mappings.ErrorList
		if errors.As(err, &list) {
			return fmt.Errorf("the mappings do not fit the live schemas:\n%w", err)
		}
		log.Warn("could not check the mappings against the live systems; continuing", zap.Error(err))
	}
	acts.Metrics = metrics.New()
	tc, err := temporalconn.DialWithMetrics(ctx, cfg.Temporal, log, acts.Metrics.TemporalHandler())
	if err != nil {
		return err
	}
	defer tc.Close()
	acts.Budget = activities.NewBudgetGuard(acts, map[budget.System]budget.Thresholds{
		budget.Salesforce: {SlowBelow: cfg.Budget.SalesforceSlowBelow, PauseBelow: cfg.Budget.SalesforcePauseBelow, SlowDelay: cfg.Budget.SlowDelay},
		budget.Jira:       {SlowBelow: cfg.Budget.JiraSlowBelow, PauseBelow: cfg.Budget.JiraPauseBelow, SlowDelay: cfg.Budget.SlowDelay},
	}, cfg.Budget.Recheck, workerName())
	acts.Syncs = &workflows.Starter{Client: tc, TaskQueue: cfg.Temporal.TaskQueue}
	w := NewWorkerWith(tc, WorkerOptions{TaskQueue: cfg.Temporal.TaskQueue, MaxActivities: cfg.Worker.MaxConcurrentSync,
		SalesforcePerSecond: cfg.Worker.SalesforceActivitiesPerSecond, JiraPerSecond: cfg.Worker.JiraActivitiesPerSecond}, acts)
	acts.Metrics.SetSources(metricsSources(tc, cfg.Temporal.Namespace, w.Queues(), acts))
	if err := w.Start(); err != nil {
		return fmt.Errorf("start workers on task queues %v: %w", w.Queues(), err)
	}
	defer w.Stop()

	ingress := &ingress.Ingress{Acts: acts, JiraSecret: cfg.Jira.WebhookSecret, SalesforceOrg: cfg.Salesforce.OrgID, Log: log, Limits: cfg.Security.Webhooks}
	adm := &admin.Server{Auth: admin.NewAuth(cfg.Security, log), Acts: acts, Keys: keyring, Namespace: cfg.Temporal.Namespace, UIOrigin: cfg.Security.UIOrigin}
	handler := admin.AllowCIDRs(cfg.Security.Prefixes, log, adm.Wrap(NewHTTPHandler(tc, acts, ingress), cfg.Security.MetricsPublic))
	srv := &http.Server{Addr: cfg.Worker.HTTPAddr, Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() {
		var err error
		if cfg.Security.HTTPCertFile != "" {
			err = srv.ListenAndServeTLS(cfg.Security.HTTPCertFile, cfg.Security.HTTPKeyFile)
		} else {
			err = srv.ListenAndServe()
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http server on %s: %w (fix: free the port or set worker.http_addr)", cfg.Worker.HTTPAddr, err)
		}
	}()
	log.Info("worker started", zap.String("task_queue", cfg.Temporal.TaskQueue), zap.String("temporal", cfg.Temporal.HostPort),
		zap.String("http_addr", cfg.Worker.HTTPAddr), zap.Strings("pairs", acts.Mappings.Pairs()))
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	log.Info("worker stopped")
	return err
}

// NewWorker builds the Temporal workers with every sfjira workflow and activity registered: one on
// taskQueue for workflows and PostgreSQL-only activities, and one each on the Salesforce and Jira
// activity queues (see NewWorkerWith), without a per-second limit.
func NewWorker(c client.Client, taskQueue string, maxActivities int, acts *activities.Activities) *Workers {
	return NewWorkerWith(c, WorkerOptions{TaskQueue: taskQueue, MaxActivities: maxActivities}, acts)
}

// newMainWorker builds the worker of the main task queue (workflows and store-only activities).
func newMainWorker(c client.Client, taskQueue string, maxActivities int, acts *activities.Activities) worker.Worker {
	if maxActivities <= 0 {
		maxActivities = 200
	}
	w := worker.New(c, taskQueue, worker.Options{
		MaxConcurrentActivityExecutionSize: maxActivities,
		MaxConcurrentWorkflowTaskPollers:   4,
		MaxConcurrentActivityTaskPollers:   8,
		Interceptors:                       activityInterceptors(acts),
	})
	w.RegisterWorkflow(workflows.RecordSync)
	w.RegisterWorkflow(workflows.Backfill)
	w.RegisterWorkflow(workflows.ChangePoller)
	w.RegisterWorkflow(workflows.BulkBackfill)
	w.RegisterWorkflow(workflows.Reconcile)
	w.RegisterWorkflow(workflows.Rollback)
	w.RegisterActivity(acts)
	return w
}

// NewHTTPHandler serves /healthz (the process is up), /readyz (Temporal and PostgreSQL answer),
// /metrics, and the change-notification receivers /webhooks/jira and /webhooks/salesforce.
func NewHTTPHandler(tc client.Client, acts *activities.Activities, in *ingress.Ingress) http.Handler {
	mux := http.NewServeMux()
	in.Register(mux)
	if acts.Metrics != nil {
		mux.Handle("GET /metrics", acts.Metrics.Handler())
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n")) //nolint:errcheck
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if _, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			http.Error(w, "temporal: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if err := acts.Store.Pool().Ping(ctx); err != nil {
			http.Error(w, "postgres: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n")) //nolint:errcheck
	})
	return mux
}
