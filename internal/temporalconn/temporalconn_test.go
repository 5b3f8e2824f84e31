package temporalconn

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sfjira/sfjira/internal/config"
)

func TestOptionsInstallTheCodecWhenAKeyringIsConfigured(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	opts, err := Options(config.Temporal{HostPort: "127.0.0.1:7233", Namespace: "default", KeyringEnv: "TEST_TC_KEYRING"}, zap.New(core))
	require.NoError(t, err)
	require.Nil(t, opts.DataConverter, "no keyring: default converter")
	require.Equal(t, 1, logs.FilterMessageSnippet("stored in clear").Len(), "and a warning says so")

	t.Setenv("TEST_TC_KEYRING", "k1:c2ZqaXJhLXRlc3Qta2V5LW5vdC1hLXNlY3JldC0wMDA=")
	opts, err = Options(config.Temporal{HostPort: "127.0.0.1:7233", Namespace: "default", KeyringEnv: "TEST_TC_KEYRING"}, zap.NewNop())
	require.NoError(t, err)
	require.NotNil(t, opts.DataConverter)
	require.NotNil(t, opts.FailureConverter)
	p, err := opts.DataConverter.ToPayload("Acme")
	require.NoError(t, err)
	require.Equal(t, "binary/encrypted", string(p.Metadata["encoding"]))

	t.Setenv("TEST_TC_KEYRING", "garbage")
	_, err = Options(config.Temporal{KeyringEnv: "TEST_TC_KEYRING"}, zap.NewNop())
	require.ErrorContains(t, err, "TEST_TC_KEYRING")

	opts, err = Options(config.Temporal{HostPort: "x.tmprl.cloud:7233", APIKey: "key", TLS: config.TemporalTLS{Enabled: true, ServerName: "x.tmprl.cloud"}}, zap.NewNop())
	require.NoError(t, err)
	require.NotNil(t, opts.ConnectionOptions.TLS)
	require.NotNil(t, opts.Credentials)
	_, err = Options(config.Temporal{TLS: config.TemporalTLS{Enabled: true, CertFile: "/nonexistent.pem", KeyFile: "/nonexistent.key"}}, zap.NewNop())
	require.ErrorContains(t, err, "temporal.tls")
}
