package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/worker/admin"
	"github.com/sfjira/sfjira/workflows"
)

// walkProto calls fn on every message nested in m (lists and maps included). Search attributes
// and memos are not descended into: Temporal never passes them through a codec (they hold only
// ids and non-sensitive labels by design; the byte scan still checks them for secrets).
func walkProto(m protoreflect.Message, fn func(protoreflect.Message)) {
	fn(m)
	switch m.Interface().(type) {
	case *commonpb.SearchAttributes, *commonpb.Memo:
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				walkProto(v.List().Get(i).Message(), fn)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				walkProto(mv.Message(), fn)
				return true
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			walkProto(v.Message(), fn)
		}
		return true
	})
}

// TestEndToEndHistoryHoldsOnlyCiphertext runs a successful and a failing sync with the encrypting codec,
// then reads the raw histories with a client that has no codec and with `temporal workflow show`:
// record values and failure messages appear only as ciphertext. Through the worker's codec
// endpoint (as the UI and `--codec-endpoint` use it) the same history decodes to the values. The
// worker's store runs as the sfjira_app role, so the whole sync path works without audit UPDATE.
func TestEndToEndHistoryHoldsOnlyCiphertext(t *testing.T) {
	// A fixed test-only key, so the recorded history in workflows/testdata replays there.
	kr, err := codec.ParseKeyring(testKeyring)
	require.NoError(t, err)
	s := newStackWith(t, stackOptions{Opportunities: 2, MappingDir: "../mappings/default", Keyring: kr, AppRole: true})
	ctx := s.ctx
	core, logs := observer.New(zap.DebugLevel)
	s.acts.Log = zap.New(core) // every activity log line of this run is checked below

	tag := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	secretName := "Zyxwv Confidential Merger " + tag
	accounts, err := s.sf.Query(ctx, "SELECT Id FROM Account LIMIT 1")
	require.NoError(t, err)
	goodID, err := s.sf.Create(ctx, "Opportunity", map[string]any{"Name": secretName, "StageName": "Qualification", "CloseDate": "2027-03-31",
		"Amount": 7654321, "AccountId": accounts.Records[0].ID()})
	require.NoError(t, err)
	run, res, err := s.sync(goodID)
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeCreated, res.Outcome)

	orphanName := "Quixotic Orphan " + tag
	badID, err := s.sf.Create(ctx, "Opportunity", map[string]any{"Name": orphanName, "StageName": "Qualification", "CloseDate": "2027-03-31", "Amount": 1})
	require.NoError(t, err)
	badRun, _, err := s.sync(badID)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "error: %v", err)
	require.Equal(t, string(catalog.MappingRequiredValueMissing), app.Type())
	require.Contains(t, err.Error(), "Account.Name", "the codec client decodes the failure message")

	plain, err := client.Dial(client.Options{HostPort: s.hostPort, Namespace: "default", Logger: nil})
	require.NoError(t, err)
	defer plain.Close()
	secrets := []string{secretName, orphanName, "7654321", "Account.Name"}
	for _, r := range []client.WorkflowRun{run, badRun} {
		iter := plain.GetWorkflowHistory(ctx, r.GetID(), r.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		payloads, failures := 0, 0
		for iter.HasNext() {
			ev, err := iter.Next()
			require.NoError(t, err)
			raw, err := proto.Marshal(ev)
			require.NoError(t, err)
			for _, sec := range secrets {
				require.NotContains(t, string(raw), sec, "event %d (%s) of %s holds %q in clear", ev.EventId, ev.EventType, r.GetID(), sec)
			}
			walkProto(ev.ProtoReflect(), func(m protoreflect.Message) {
				switch v := m.Interface().(type) {
				case *commonpb.Payload:
					if len(v.Metadata) == 0 && len(v.Data) == 0 {
						return
					}
					payloads++
					require.Equal(t, codec.EncodingEncrypted, string(v.Metadata["encoding"]), "event %d (%s): payload not encrypted", ev.EventId, ev.EventType)
					require.Equal(t, "test-k1", string(v.Metadata[codec.MetadataKeyID]))
				case *failurepb.Failure:
					failures++
					require.Equal(t, "Encoded failure", v.Message, "event %d (%s): failure message in clear", ev.EventId, ev.EventType)
					require.Empty(t, v.StackTrace)
				}
			})
		}
		require.Positive(t, payloads, "the history of %s has payloads", r.GetID())
		if r == badRun {
			require.Positive(t, failures, "the failed run's history has failures")
		}
	}

	if dir := os.Getenv("SFJIRA_RECORD_HISTORY"); dir != "" {
		saveHistory(t, s, run.GetID(), run.GetRunID(), filepath.Join(dir, "record_sync_encrypted.json"))
	}

	// The worker's codec endpoint, guarded by a viewer token, and the Temporal CLI.
	const viewer = "codec-viewer-token-0123456789"
	adm := &admin.Server{Auth: admin.NewAuth(config.Security{APITokens: []config.APIToken{{Name: "ui", Role: "viewer", Token: viewer}}}, zap.NewNop()),
		Acts: s.acts, Keys: kr, Namespace: "default", UIOrigin: "http://localhost:8233"}
	codecSrv := httptest.NewServer(adm.Wrap(http.NotFoundHandler(), false))
	defer codecSrv.Close()
	cli := os.Getenv("TEMPORAL_CLI_PATH")
	if cli == "" {
		cli, _ = filepath.Abs("../bin/temporal")
	}
	show := func(extra ...string) string {
		args := append([]string{"workflow", "show", "--address", s.hostPort, "--namespace", "default", "-w", run.GetID(), "-r", run.GetRunID(), "-o", "json"}, extra...)
		cctx, cancel := context.WithTimeout(ctx, 60e9)
		defer cancel()
		out, err := exec.CommandContext(cctx, cli, args...).CombinedOutput()
		require.NoError(t, err, string(out))
		return string(out)
	}
	// The CLI prints payload data base64-encoded: look at the decoded data of every payload.
	payloadText := func(out string) string {
		var b strings.Builder
		for _, m := range reData.FindAllStringSubmatch(out, -1) {
			if raw, err := base64.StdEncoding.DecodeString(m[1]); err == nil {
				b.Write(raw)
				b.WriteByte('\n')
			}
		}
		return b.String()
	}
	without := show()
	require.False(t, strings.Contains(payloadText(without), secretName), "`temporal workflow show` without the codec shows ciphertext only")
	require.True(t, strings.Contains(without, "YmluYXJ5L2VuY3J5cHRlZA"), "payload metadata says binary/encrypted")
	withCodec := show("--codec-endpoint", codecSrv.URL+"/codec/{namespace}", "--codec-auth", "Bearer "+viewer)
	require.True(t, strings.Contains(payloadText(withCodec), secretName), "through the codec endpoint the history decodes")
	require.False(t, strings.Contains(withCodec, "YmluYXJ5L2VuY3J5cHRlZA"), "no payload is left encrypted")
	// Redaction: no credential appears in the activity logs, the audit rows or the raw histories.
	credentials := []string{"sfjira-demo-secret", "sfjira-demo-token", strings.TrimPrefix(testKeyring, "test-k1:"), viewer}
	require.Positive(t, logs.Len(), "the run logged something")
	for _, e := range logs.All() {
		line := e.Message + fmt.Sprint(e.ContextMap())
		for _, c := range credentials {
			require.NotContains(t, line, c)
		}
	}
	var auditText string
	require.NoError(t, s.store.Pool().QueryRow(ctx, `SELECT coalesce(string_agg(a::text, E'\n'), '') FROM audit a`).Scan(&auditText))
	require.NotEmpty(t, auditText)
	for _, c := range credentials {
		require.NotContains(t, auditText, c)
		require.NotContains(t, without, c)
	}

	// Without the token the codec endpoint refuses, and the CLI cannot decode.
	cctx, cancel := context.WithTimeout(ctx, 60e9)
	defer cancel()
	out, _ := exec.CommandContext(cctx, cli, "workflow", "show", "--address", s.hostPort, "-w", run.GetID(), "-o", "json",
		"--codec-endpoint", codecSrv.URL+"/codec").CombinedOutput()
	require.False(t, strings.Contains(payloadText(string(out)), secretName))
}

var reData = regexp.MustCompile(`"data":\s*"([A-Za-z0-9+/=]+)"`)

// testKeyring is a test-only key (public in the repository); workflows/replay_codec_test.go
// replays the encrypted history recorded with it.
const testKeyring = "test-k1:c2ZqaXJhLXRlc3Qta2V5LW5vdC1hLXNlY3JldC0wMDA="
