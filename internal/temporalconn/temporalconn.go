// Package temporalconn dials the Temporal cluster named in the config, with sfjira's logger, so the
// worker and the CLI connect the same way (dev server, self-hosted cluster or Temporal Cloud).
package temporalconn

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/logging"
)

// Dial connects to Temporal and checks the connection, with an error that says how to fix it.
func Dial(ctx context.Context, cfg config.Temporal, log *zap.Logger) (client.Client, error) {
	return DialWithMetrics(ctx, cfg, log, nil)
}

// DialWithMetrics is Dial with the SDK's metrics sent to a handler (the worker's /metrics).
func DialWithMetrics(ctx context.Context, cfg config.Temporal, log *zap.Logger, mh client.MetricsHandler) (client.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := client.DialContext(dctx, client.Options{
		HostPort:  cfg.HostPort,
		Namespace: cfg.Namespace,
		Logger:    logging.NewTemporal(log),
		// nil keeps the SDK's default (no metrics)
		MetricsHandler: mh,
	})
	if err != nil {
		return nil, fmt.Errorf("temporal at %s (namespace %s) is not reachable: %v (fix: start it, e.g. `make demo` starts bin/temporal server start-dev, or set temporal.host_port)", cfg.HostPort, cfg.Namespace, err)
	}
	return c, nil
}
