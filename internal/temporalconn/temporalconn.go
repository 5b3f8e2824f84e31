// Package temporalconn dials the Temporal cluster named in the config, with sfjira's logger, so the
// worker and the CLI connect the same way (dev server, self-hosted cluster or Temporal Cloud).
// Every client it makes carries the payload codec (compression + AES-GCM) and the failure
// converter that encodes error messages, so nothing one client writes is unreadable to another.
package temporalconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/logging"
)

// Dial connects to Temporal and checks the connection, with an error that says how to fix it.
func Dial(ctx context.Context, cfg config.Temporal, log *zap.Logger) (client.Client, error) {
	return DialWithMetrics(ctx, cfg, log, nil)
}

// DialWithMetrics is Dial with the SDK's metrics sent to a handler (the worker's /metrics).
func DialWithMetrics(ctx context.Context, cfg config.Temporal, log *zap.Logger, mh client.MetricsHandler) (client.Client, error) {
	opts, err := Options(cfg, log)
	if err != nil {
		return nil, err
	}
	// nil keeps the SDK's default (no metrics)
	opts.MetricsHandler = mh
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := client.DialContext(dctx, opts)
	if err != nil {
		return nil, fmt.Errorf("temporal at %s (namespace %s) is not reachable: %v (fix: start it, e.g. `make demo` starts bin/temporal server start-dev, or set temporal.host_port)", cfg.HostPort, cfg.Namespace, err)
	}
	return c, nil
}

// Options builds the client options every sfjira client uses: address, namespace, logger, TLS or
// API key, and — when a keyring is configured — the encrypting data and failure converters.
func Options(cfg config.Temporal, log *zap.Logger) (client.Options, error) {
	opts := client.Options{
		HostPort:  cfg.HostPort,
		Namespace: cfg.Namespace,
		Logger:    logging.NewTemporal(log),
	}
	kr, err := codec.LoadKeyring(cfg.KeyringEnv, cfg.KeyringFile)
	if err != nil {
		return opts, err
	}
	if kr != nil {
		WithKeyring(&opts, kr)
	} else {
		log.Warn("no keyring configured: Temporal payloads and failure messages are stored in clear (fix: `sfjira keys generate`, export SFJIRA_KEYRING)")
	}
	if cfg.TLS.Enabled {
		tc := &tls.Config{ServerName: cfg.TLS.ServerName, MinVersion: tls.VersionTLS12}
		if cfg.TLS.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
			if err != nil {
				return opts, fmt.Errorf("temporal.tls: client certificate %s / key %s: %v (fix: point cert_file and key_file at PEM files)", cfg.TLS.CertFile, cfg.TLS.KeyFile, err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		if cfg.TLS.CAFile != "" {
			pem, err := os.ReadFile(cfg.TLS.CAFile)
			if err != nil {
				return opts, fmt.Errorf("temporal.tls.ca_file: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return opts, fmt.Errorf("temporal.tls.ca_file %s holds no PEM certificate", cfg.TLS.CAFile)
			}
			tc.RootCAs = pool
		}
		opts.ConnectionOptions.TLS = tc
	}
	if cfg.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.APIKey)
	}
	return opts, nil
}

// WithKeyring installs the encrypting data converter and the failure converter on opts; tests use
// it on clients they build themselves.
func WithKeyring(opts *client.Options, kr *codec.Keyring) {
	dc := codec.DataConverter(kr)
	opts.DataConverter = dc
	opts.FailureConverter = codec.FailureConverter(dc)
}
