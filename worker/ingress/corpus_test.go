package ingress_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // a sha1 signature is one of the bad inputs
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/jira"
	"github.com/sfjira/sfjira/worker/ingress"
)

// webhookCase is one entry of testdata/bad-webhooks/cases.json.
type webhookCase struct {
	Name     string `json:"name"`
	File     string `json:"file"`
	Receiver string `json:"receiver"` // jira or salesforce
	// Signature of a Jira delivery: "" (valid), missing, wrong_secret, tampered, not_hex, sha1.
	Signature string `json:"signature"`
	Status    int    `json:"status"`
	// Code is the catalog code in the X-Sfjira-Error-Code header ("" for none).
	Code string `json:"code"`
	// Starts is how many syncs the delivery hands over.
	Starts int `json:"starts"`
	// Poller: a real change is made before the delivery; after it is refused, the poller must
	// still hand the change over (nothing lost).
	Poller bool `json:"poller"`
	// Repeat delivers the same bytes (same delivery / notification id) a second time.
	Repeat *struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
		Starts int    `json:"starts"`
	} `json:"repeat"`
}

var placeholder = regexp.MustCompile(`\{\{([A-Z_0-9]+)(?::(\d+)|([+-]\d+m))?\}\}`)

// TestBadWebhookCorpus sends every delivery in testdata/bad-webhooks through the receivers: each
// gets the HTTP status that makes its sender retry or not as it should, the catalog code in the
// X-Sfjira-Error-Code header, starts nothing unless the case says so, and — for cases that
// stand for a real change whose notification was unusable — the poller still hands the change
// over.
func TestBadWebhookCorpus(t *testing.T) {
	f := newFixture(t, config.WebhookLimits{MaxBodyBytes: 64 << 10, ReplayWindow: 10 * time.Minute})
	ctx := context.Background()
	acts := f.in.Acts
	// A real Epic and a real Opportunity for the deliveries to name.
	created, err := acts.Jira.CreateIssue(ctx, jira.IssueInput{Fields: map[string]any{
		"project": map[string]string{"key": "SFJ"}, "issuetype": map[string]string{"name": "Epic"}, "summary": "Corpus epic"}})
	require.NoError(t, err)
	opp, err := acts.SF.Create(ctx, "Opportunity", map[string]any{"Name": "Corpus deal", "StageName": "Qualification", "CloseDate": "2027-03-31"})
	require.NoError(t, err)
	m, err := acts.Mappings.Mapping("opportunity-epic")
	require.NoError(t, err)
	// Prime both pollers: their first run only sets the watermark.
	poll := func(source string) {
		t.Helper()
		_, err := acts.PollChanges(ctx, activities.PollInput{Pair: m.Pair, Source: source, BaseIntervalSeconds: 10})
		require.NoError(t, err)
	}
	poll(activities.SourceJira)
	poll(activities.SourceSalesforce)
	require.Zero(t, f.rec.count())

	raw, err := os.ReadFile("testdata/bad-webhooks/cases.json")
	require.NoError(t, err)
	var cases []webhookCase
	require.NoError(t, json.Unmarshal(raw, &cases))
	require.GreaterOrEqual(t, len(cases), 30)
	seen := map[string]bool{}
	for i, tc := range cases {
		require.False(t, seen[tc.Name], "duplicate case %s", tc.Name)
		seen[tc.Name] = true
		t.Run(tc.Name, func(t *testing.T) {
			tmpl, err := os.ReadFile(filepath.Join("testdata/bad-webhooks", tc.File))
			require.NoError(t, err)
			vars := map[string]string{"ISSUE_ID": created.ID, "ISSUE_KEY": created.Key, "OPP": opp, "ORG": f.org,
				"NOTE_ID": fmt.Sprintf("04l%012dAAA", 2*i+1), "NOTE_ID2": fmt.Sprintf("04l%012dAAA", 2*i+2)}
			body := placeholder.ReplaceAllStringFunc(string(tmpl), func(s string) string {
				p := placeholder.FindStringSubmatch(s)
				switch {
				case p[1] == "PAD":
					n, _ := strconv.Atoi(p[2])
					return strings.Repeat("x", n)
				case p[1] == "NOW_MS":
					at := f.clock
					if p[3] != "" {
						mins, _ := strconv.Atoi(strings.TrimSuffix(p[3], "m"))
						at = at.Add(time.Duration(mins) * time.Minute)
					}
					return strconv.FormatInt(at.UnixMilli(), 10)
				}
				v, ok := vars[p[1]]
				require.True(t, ok, "unknown placeholder %s in %s", s, tc.File)
				return v
			})

			if tc.Poller {
				// The real change the refused delivery was about.
				switch tc.Receiver {
				case "jira":
					require.NoError(t, acts.Jira.EditIssue(ctx, created.ID, map[string]any{"summary": "Corpus epic " + tc.Name}))
				default:
					require.NoError(t, acts.SF.Update(ctx, "Opportunity", opp, map[string]any{"Description": "changed for " + tc.Name}))
				}
				time.Sleep(5 * time.Millisecond) // a distinct modification time per case
			}
			delivery := fmt.Sprintf("corpus-%d", i)
			send := func() *httptest.ResponseRecorder {
				if tc.Receiver == "salesforce" {
					return f.postSF(body)
				}
				return f.postJira(body, signatureFor(t, tc.Signature, body), delivery, "")
			}
			before := f.rec.count()
			w := send()
			require.Equal(t, tc.Status, w.Code, "body: %s", w.Body.String())
			require.Equal(t, tc.Code, w.Header().Get(ingress.ErrorCodeHeader))
			if tc.Code != "" {
				_, ok := catalog.Lookup(catalog.Code(tc.Code))
				require.True(t, ok, "%s is a catalog code", tc.Code)
			}
			if tc.Receiver == "salesforce" {
				// Salesforce resends until it gets <Ack>true</Ack> with 200: only then is it told to stop.
				require.Contains(t, w.Body.String(), fmt.Sprintf("<Ack>%v</Ack>", tc.Status == 200))
			} else if tc.Status >= 400 {
				require.Contains(t, w.Body.String(), tc.Code+": ", "the body names the code")
			}
			require.Equal(t, tc.Starts, f.rec.count()-before, "syncs handed over")
			if tc.Repeat != nil {
				before = f.rec.count()
				w = send()
				require.Equal(t, tc.Repeat.Status, w.Code)
				require.Equal(t, tc.Repeat.Code, w.Header().Get(ingress.ErrorCodeHeader))
				require.Equal(t, tc.Repeat.Starts, f.rec.count()-before, "syncs handed over by the repeat")
			}
			if tc.Poller {
				before = f.rec.count()
				want := "sf/" + opp
				source := activities.SourceSalesforce
				if tc.Receiver == "jira" {
					want, source = "jira/"+created.ID, activities.SourceJira
				}
				poll(source)
				var got []string
				for _, s := range f.rec.startsSince(before) {
					got = append(got, s.OriginKey)
				}
				require.Contains(t, got, want, "the poller hands over the change the refused delivery was about")
			}
		})
	}
}

// signatureFor returns the X-Hub-Signature header of a case.
func signatureFor(t *testing.T, kind, body string) string {
	switch kind {
	case "":
		return sign(body)
	case "missing":
		return ""
	case "wrong_secret":
		m := hmac.New(sha256.New, []byte("not-the-configured-secret"))
		m.Write([]byte(body))
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	case "tampered":
		return sign(strings.Replace(body, "Acme", "Acne", 1))
	case "not_hex":
		return "sha256=" + strings.Repeat("zz", 32)
	case "sha1":
		m := hmac.New(sha1.New, []byte(secret))
		m.Write([]byte(body))
		return "sha1=" + hex.EncodeToString(m.Sum(nil))
	}
	t.Fatalf("unknown signature kind %q", kind)
	return ""
}
