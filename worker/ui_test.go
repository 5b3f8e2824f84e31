package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/sfjira/sfjira/activities"
	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/workflows"
)

// freePort asks the kernel for a free TCP port on loopback.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// browser starts headless Chromium with a fresh profile, or skips saying how to install it.
func browser(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("SFJIRA_REQUIRE_TOOLS") != "" {
			t.Fatal("chromium is not installed (fix: make test-tools, which runs apt-get install chromium)")
		}
		t.Skip("chromium is not installed, so the Temporal UI test cannot run here (fix: make test-tools, which runs apt-get install chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1600, 1200),
	}
	actx, cancel := chromedp.NewExecAllocator(parent, opts...)
	t.Cleanup(cancel)
	bctx, cancel2 := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancel2)
	require.NoError(t, chromedp.Do(bctx), "start chromium at %s", path)
	return bctx
}

// pageText is the visible text of the page plus that of its frames: the UI renders the Markdown
// of summaries and details inside sandboxed iframes.
const pageText = `(document.body ? document.body.innerText : '') + '\n' + [...document.querySelectorAll('iframe')].map(f => {
	try { return f.contentDocument.body.innerText } catch (e) { return '' }
}).join('\n') + '\n' + [...document.querySelectorAll('iframe')].map(f => f.srcdoc || '').join('\n')`

// waitText waits until the page's visible text contains every string.
func waitText(want ...string) chromedp.Action[chromedp.Void] {
	checks := make([]string, 0, len(want))
	for _, w := range want {
		checks = append(checks, fmt.Sprintf("t.includes(%q)", w))
	}
	return chromedp.Poll[chromedp.Void](fmt.Sprintf("(() => { const t = %s; return %s; })()", pageText, strings.Join(checks, " && ")),
		chromedp.WithPollingTimeout(60*time.Second), chromedp.WithPollingInterval(250*time.Millisecond))
}

// clickText clicks the first button or link whose visible text contains label.
func clickText(label string) chromedp.Action[bool] {
	return chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const el = [...document.querySelectorAll('button, a, summary, [role=button]')].find(e => e.innerText && e.innerText.includes(%q));
		if (!el) return false;
		el.click();
		return true;
	})()`, label))
}

// TestTemporalUIShowsRunBySearchAttribute drives the Temporal UI in headless Chromium: it filters
// the workflow list by a record's SfRecordId, opens the run, checks the static summary and
// details, the current details, the activity summaries and a readable input/result payload (a
// field value inside the payload panels, which also holds once the UI decodes payloads through
// the codec endpoint), then filters failed runs by ErrorCode. It keeps screenshots in .artifacts/.
func TestTemporalUIShowsRunBySearchAttribute(t *testing.T) {
	uiPort := freePort(t)
	s := newStackWith(t, stackOptions{Opportunities: 3, MappingDir: "../mappings/default", UIPort: uiPort})
	ctx := s.ctx
	recs, err := s.sf.Query(ctx, "SELECT Id FROM Opportunity LIMIT 1")
	require.NoError(t, err)
	sfID := recs.Records[0].ID()
	// Started the way webhooks, pollers and the CLI start syncs, so summary and details are the
	// production ones.
	starter := s.acts.Syncs.(*workflows.Starter)
	run, err := starter.Start(ctx, activities.SyncStart{OriginKey: "sf/" + sfID, Pair: s.mapping.Pair, SfObject: "Opportunity", SfID: sfID,
		JiraProject: "SFJ", Trigger: workflows.TriggerManual, Source: "operator"})
	require.NoError(t, err)
	var out workflows.RecordSyncResult
	require.NoError(t, run.Get(ctx, &out))
	require.Equal(t, workflows.OutcomeCreated, out.Outcome)
	badID, err := s.sf.Create(ctx, "Opportunity", map[string]any{"Name": "Orphan deal", "StageName": "Qualification", "CloseDate": "2027-03-31", "Amount": 1000})
	require.NoError(t, err)
	_, _, err = s.sync(badID)
	require.Error(t, err)

	// Every run is findable by each of its search attributes (what the UI's filter sends).
	code := string(catalog.MappingRequiredValueMissing)
	for _, q := range []string{
		fmt.Sprintf(`SfRecordId = "%s" AND SyncOutcome = "created"`, sfID),
		fmt.Sprintf(`JiraIssueKey = "%s"`, out.IssueKey),
		fmt.Sprintf(`SfRecordId = "%s" AND SyncOutcome = "failed" AND ErrorCode = "%s"`, badID, code),
	} {
		require.Eventually(t, func() bool {
			resp, err := s.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q})
			return err == nil && len(resp.Executions) == 1
		}, 20*time.Second, 200*time.Millisecond, q)
	}

	bctx := browser(t, ctx)
	bctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()
	dir := filepath.Join("..", ".artifacts")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	screenshot := func(name string) {
		shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), shot, 0o644))
		t.Logf("screenshot: .artifacts/%s", name)
	}
	base := "http://127.0.0.1:" + uiPort + "/namespaces/default/workflows?query="

	// 1. Filter by the record's SfRecordId: exactly this run is listed.
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(base+url.QueryEscape(fmt.Sprintf(`SfRecordId = "%s"`, sfID))),
		waitText(run.GetID(), "RecordSync", "1–1")))
	// 2. Open it: static summary and details (User Metadata), a field of the input and result
	// payloads, and the activity summaries in the timeline.
	require.NoError(t, chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href*=%q]`, run.GetRunID()))),
		waitText("Input", "Result", `"OriginKey": "sf/`+sfID+`"`, `"IssueKey": "`+out.IssueKey+`"`)))
	screenshot("temporal-ui-payload.png")
	opened, err := chromedp.Run(bctx, clickText("User Metadata"))
	require.NoError(t, err)
	require.True(t, opened, "no User Metadata section on the run page")
	dump := func() {
		if t.Failed() {
			txt, _ := chromedp.Run(bctx, chromedp.Evaluate[string](pageText))
			t.Logf("page text:\n%s", txt)
			screenshot("temporal-ui-failure.png")
		}
	}
	defer dump()
	require.NoError(t, chromedp.Do(bctx, waitText(
		"Opportunity "+sfID+" ⇄ Jira SFJ",                                     // static summary
		"origin sf/"+sfID,                                                     // static details (Markdown rendered)
		"after 1 pass(es); Jira issue "+out.IssueKey,                          // current details
		"fetch Opportunity "+sfID, "create Jira Epic", "verify "+out.IssueKey, // activity summaries
	)))
	screenshot("temporal-ui-run.png")

	// 3. Failed runs by ErrorCode: the orphan record's run, with its code.
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(base+url.QueryEscape(fmt.Sprintf(`ErrorCode = "%s"`, code))),
		waitText("sync/sf/"+badID, "Failed")))
	screenshot("temporal-ui-errorcode.png")
}
