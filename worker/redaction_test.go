package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/proto"

	"github.com/sfjira/sfjira/activities"
	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/internal/salesforce"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/mappings"
	"github.com/sfjira/sfjira/worker/ingress"
	"github.com/sfjira/sfjira/workflows"
)

// tokenRecorder is an HTTP transport that remembers every access and refresh token a token
// endpoint hands out (Salesforce, Jira 3LO), so a test can look for them where they must not be.
type tokenRecorder struct {
	mu     sync.Mutex
	values map[string]bool
}

func (r *tokenRecorder) wrap(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(req)
		if err != nil || !strings.Contains(req.URL.Path, "token") || strings.Contains(req.URL.Path, "accessible-resources") {
			return resp, err
		}
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if rerr != nil {
			return resp, nil
		}
		var tr struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		if json.Unmarshal(body, &tr) == nil {
			r.mu.Lock()
			if r.values == nil {
				r.values = map[string]bool{}
			}
			for _, v := range []string{tr.AccessToken, tr.RefreshToken} {
				if v != "" {
					r.values[v] = true
				}
			}
			r.mu.Unlock()
		}
		return resp, nil
	})
}

func (r *tokenRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.values))
	for v := range r.values {
		out = append(out, v)
	}
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// oauthJiraClient consents to the emulator's demo 3LO app the way `sfjira auth jira` does, stores
// the grant encrypted and returns the worker's client over the rotating token source.
func oauthJiraClient(t *testing.T, ctx context.Context, st *store.Store, kr *codec.Keyring, jiraURL string, rec *tokenRecorder) *jira.Client {
	t.Helper()
	conf := jira.OAuthConfig{ClientID: jiraemu.DemoOAuthClientID, ClientSecret: jiraemu.DemoOAuthClientSecret,
		AuthURL: jiraURL + "/authorize", TokenURL: jiraURL + "/oauth/token", APIURL: jiraURL, RedirectURL: "http://127.0.0.1:8765/callback",
		Scopes:     []string{"read:jira-work", "write:jira-work", "read:jira-user", "offline_access"},
		HTTPClient: &http.Client{Transport: rec.wrap(nil)}}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(conf.AuthCodeURL("state-it"))
	require.NoError(t, err)
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"))
	require.NoError(t, err)
	res, err := conf.CloudID(ctx, tok.AccessToken, jiraURL)
	require.NoError(t, err)
	tok.Extra = map[string]string{"cloud_id": res.ID, "site_url": res.URL}
	ts, err := st.Tokens(kr)
	require.NoError(t, err)
	require.NoError(t, ts.Put(ctx, activities.TokenJira, tok))
	jc, err := jira.NewWithTokenSource(conf.APIBase(res.ID), &jira.RotatingTokenSource{Conf: conf, Tokens: ts, Name: activities.TokenJira}, 20*time.Second)
	require.NoError(t, err)
	return jc
}

// runCase runs one RecordSync of a Case and returns its run and error (syncPair requires success).
func (s *stack) runCase(sfID string) (client.WorkflowRun, error) {
	s.t.Helper()
	origin := workflows.SalesforceOriginKey(sfID)
	run, err := s.tc.SignalWithStartWorkflow(s.ctx, workflows.SyncWorkflowID(origin), workflows.SyncSignal,
		workflows.SyncRequest{Trigger: workflows.TriggerManual, Source: "operator"},
		client.StartWorkflowOptions{TaskQueue: s.queue, WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE},
		workflows.RecordSync, workflows.RecordSyncInput{OriginKey: origin, Pair: "case-bug", SfObject: "Case", SfID: sfID, Trigger: workflows.TriggerManual, JiraProject: "SFJ"})
	require.NoError(s.t, err)
	var res workflows.RecordSyncResult
	return run, run.Get(s.ctx, &res)
}

// TestRedactionEndToEnd is the redaction test of design §4.10: the default pack's Cases sync on
// a real dev server and PostgreSQL with the payload codec, the Jira side over a 3LO grant whose
// tokens rotate during the run, Jira webhooks signed with a secret, and the Case's Contact e-mail
// marked PII. One sync is made to fail with a Jira error that quotes the PII value. Then the
// worker's whole log (SDK and activities), the error the caller sees, the dead letter, every audit
// row and the raw Temporal histories (read without the codec) are searched: no access token,
// refresh token, client secret, webhook secret, codec key or PII value appears in clear. The
// audit still holds equal keyed hashes for equal e-mails.
func TestRedactionEndToEnd(t *testing.T) {
	kr, err := codec.ParseKeyring(testKeyring)
	require.NoError(t, err)
	core, logs := observer.New(zapcore.DebugLevel)
	s := newStackWith(t, stackOptions{Opportunities: 1, MappingDir: "../mappings/default", Keyring: kr, AppRole: true,
		JiraOAuth: true, Log: zap.New(core)})
	ctx := s.ctx

	// Jira webhooks to the worker's receiver, signed with a secret (the secret must stay unlogged).
	const hookSecret = "it-redaction-webhook-secret-5f1c"
	in := &ingress.Ingress{Acts: s.acts, JiraSecret: hookSecret, Log: s.acts.Log}
	hook := httptest.NewServer(NewHTTPHandler(s.tc, s.acts, in))
	t.Cleanup(hook.Close)
	_, err = s.jira.RegisterWebhook(ctx, jira.Webhook{Name: "sfjira", URL: hook.URL + "/webhooks/jira", Secret: hookSecret, Enabled: true,
		Events: []string{"jira:issue_created", "jira:issue_updated"}, JQL: `project in ("SFJ")`})
	require.NoError(t, err)

	tag := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	emailA := "mia.pii." + tag + "@customer.example"
	emailB := "noah.pii." + tag + "@customer.example"
	accounts, err := s.sf.Query(ctx, "SELECT Id FROM Account LIMIT 1")
	require.NoError(t, err)
	account := accounts.Records[0].ID()
	contact := func(last, email string) string {
		id, err := s.sf.Create(ctx, "Contact", map[string]any{"LastName": last, "Email": email, "AccountId": account})
		require.NoError(t, err)
		return id
	}
	newCase := func(contactID, subject string) string {
		id, err := s.sf.Create(ctx, "Case", map[string]any{"Subject": subject, "Status": "New", "Priority": "High",
			"AccountId": account, "ContactId": contactID})
		require.NoError(t, err)
		return id
	}
	mia, noah := contact("Mia "+tag, emailA), contact("Noah "+tag, emailB)
	case1, case2 := newCase(mia, "Login fails "+tag), newCase(mia, "Export broken "+tag)

	// Two Cases of the same customer sync; an access-token expiry in between makes the worker
	// refresh (and Jira rotate) its refresh token.
	_, err = s.runCase(case1)
	require.NoError(t, err)
	s.jiraEmu.ExpireOAuthAccessTokens()
	_, err = s.runCase(case2)
	require.NoError(t, err)
	b, err := s.acts.Mappings.Bound(ctx, "case-bug")
	require.NoError(t, err)
	is1 := s.issueOfCase(t, case1)
	require.Equal(t, emailA, is1.FieldString(jiraemu.FieldContactEmail), "the PII value itself still syncs: only its traces are protected")

	// A Jira error that quotes the refused value, on the create of the third Case.
	// A Jira user lookup by e-mail whose connection drops (a few times: Go retries an idempotent
	// request on a reused connection by itself): the transport error quotes the request URL, with
	// the e-mail in its query string. The sync may ride it out or fail with NETWORK_TRANSIENT.
	caseL := newCase(noah, "Lookup trouble "+tag)
	s.jiraEmu.SetFaults(jiraemu.Faults{Rules: []jiraemu.FaultRule{{Endpoint: "GET /rest/api/3/user/search", Kind: "reset", Count: 6}}})
	lookupRun, lookupErr := s.runCase(caseL)
	if lookupErr != nil {
		require.Equal(t, string(catalog.NetworkTransient), activities.ErrorCode(lookupErr), "%v", lookupErr)
		require.Contains(t, lookupErr.Error(), "user/search", "the failure quotes the lookup URL")
		require.Contains(t, lookupErr.Error(), mappings.HiddenPII, "with the e-mail hidden")
	} else {
		t.Log("the sync rode out the dropped lookups")
	}
	// A Jira error that quotes the refused value, on the create of another Case.
	case3 := newCase(noah, "Billing question "+tag)
	s.jiraEmu.SetFaults(jiraemu.Faults{Rules: []jiraemu.FaultRule{{Endpoint: "POST /rest/api/3/issue", Status: 400, Count: 1,
		Errors: map[string]string{jiraemu.FieldContactEmail: "The value '" + emailB + "' is not allowed for Contact Email."}}}})
	badRun, err := s.runCase(case3)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "the sync fails: %v", err)
	require.Equal(t, string(catalog.JiraValidation), app.Type())
	require.Contains(t, err.Error(), mappings.HiddenPII, "the failure says a PII value was refused")
	require.Contains(t, err.Error(), "Contact Email", "and still names the field")

	// What must never appear in clear.
	oauthTokens := s.tokens.all()
	require.GreaterOrEqual(t, len(oauthTokens), 5, "Salesforce access tokens and at least two 3LO access/refresh pairs were issued")
	secrets := map[string]string{
		"Salesforce client secret": "sfjira-demo-secret", "Jira 3LO client secret": jiraemu.DemoOAuthClientSecret,
		"webhook secret": hookSecret, "codec key": strings.TrimPrefix(testKeyring, "test-k1:"),
		"PII e-mail A": emailA, "PII e-mail B": emailB,
	}
	for i, tok := range oauthTokens {
		secrets[fmt.Sprintf("issued token %d", i)] = tok
	}
	check := func(where, text string) {
		t.Helper()
		low := strings.ToLower(text)
		for what, v := range secrets {
			for _, form := range []string{v, url.QueryEscape(v)} {
				require.NotContains(t, low, strings.ToLower(form), "%s holds the %s in clear", where, what)
			}
		}
	}
	check("the caller's error", err.Error())
	if lookupErr != nil {
		check("the caller's error of the lookup failure", lookupErr.Error())
	}

	// The worker's log, including the SDK's line about the failed activity.
	require.Positive(t, logs.Len())
	sawFailure := false
	for _, e := range logs.All() {
		line := e.Message + " " + fmt.Sprint(e.ContextMap())
		check("log line "+e.Message, line)
		if os.Getenv("SFJIRA_TEST_SHOW_LOG") != "" && e.Level >= zapcore.WarnLevel {
			t.Log(line)
		}
		if strings.Contains(line, mappings.HiddenPII) {
			sawFailure = true
		}
	}
	require.True(t, sawFailure, "the log recorded the failure (with the value hidden)")

	// The dead letter and every audit row.
	var dead string
	require.NoError(t, s.store.Pool().QueryRow(ctx, `SELECT coalesce(string_agg(d::text, E'\n'), '') FROM dead_letters d`).Scan(&dead))
	require.Contains(t, dead, string(catalog.JiraValidation))
	check("dead_letters", dead)
	var auditText string
	require.NoError(t, s.store.Pool().QueryRow(ctx, `SELECT coalesce(string_agg(a::text, E'\n'), '') FROM audit a`).Scan(&auditText))
	check("audit", auditText)
	var hashes []string
	for _, id := range []string{case1, case2} {
		rows, err := s.store.AuditFor(ctx, "sf/"+id)
		require.NoError(t, err)
		for _, r := range rows {
			if r.Field == jiraemu.FieldContactEmail && r.After != nil {
				require.True(t, strings.HasPrefix(*r.After, activities.PIIHashPrefix+"test-k1:"), "audit keeps a keyed hash: %s", *r.After)
				hashes = append(hashes, *r.After)
			}
		}
	}
	require.Len(t, hashes, 2, "each Case's create wrote the Contact Email")
	require.Equal(t, hashes[0], hashes[1], "the same customer's e-mail hashes the same in both Cases")
	for _, f := range b.Fields {
		if f.SF == "Contact.Email" {
			require.True(t, f.PII)
		}
	}

	// The raw histories, read with a client that has no codec.
	plain, err := client.Dial(client.Options{HostPort: s.hostPort, Namespace: "default"})
	require.NoError(t, err)
	defer plain.Close()
	ids := []string{workflows.SyncWorkflowID(workflows.SalesforceOriginKey(case1)), workflows.SyncWorkflowID(workflows.SalesforceOriginKey(case2)),
		lookupRun.GetID(), badRun.GetID()}
	for _, id := range ids {
		iter := plain.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		events := 0
		for iter.HasNext() {
			ev, err := iter.Next()
			require.NoError(t, err)
			raw, err := proto.Marshal(ev)
			require.NoError(t, err)
			check(fmt.Sprintf("history of %s event %d (%s)", id, ev.EventId, ev.EventType), string(raw))
			events++
		}
		require.Positive(t, events)
	}
	// And `temporal workflow show` without the codec, as an operator would run it.
	cli := os.Getenv("TEMPORAL_CLI_PATH")
	if cli == "" {
		cli, _ = filepath.Abs("../bin/temporal")
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(cctx, cli, "workflow", "show", "--address", s.hostPort, "-w", badRun.GetID(), "-o", "json").CombinedOutput()
	require.NoError(t, err, string(out))
	check("temporal workflow show", string(out))
	for _, m := range reData.FindAllStringSubmatch(string(out), -1) {
		if raw, err := base64.StdEncoding.DecodeString(m[1]); err == nil {
			check("a payload shown by temporal workflow show", string(raw))
		}
	}
}

// issueOfCase reads the Jira issue a Case is linked to (its back-link field).
func (s *stack) issueOfCase(t *testing.T, caseID string) *jira.Issue {
	t.Helper()
	var issueID string
	require.NoError(t, s.sf.QueryEach(s.ctx, fmt.Sprintf("SELECT Id, Jira_Issue_Id__c FROM Case WHERE Id = '%s'", caseID), func(r salesforce.Record) error {
		v, _ := r.Value("Jira_Issue_Id__c")
		issueID, _ = v.(string)
		return nil
	}))
	require.NotEmpty(t, issueID, "Case %s is linked", caseID)
	return s.issue(t, issueID, jiraemu.FieldContactEmail, jiraemu.FieldCustomerContact)
}
