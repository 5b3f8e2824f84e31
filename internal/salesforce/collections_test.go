package salesforce

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
)

func oppRecord(name string, kv ...any) Record {
	r := Record{"attributes": map[string]any{"type": "Opportunity"}, "Name": name, "StageName": "Prospecting", "CloseDate": "2026-06-30"}
	for i := 0; i+1 < len(kv); i += 2 {
		r[kv[i].(string)] = kv[i+1]
	}
	return r
}

func TestCompositeCreateUpdateUpsert(t *testing.T) {
	c, emu, _ := newTestClient(t)
	ctx := context.Background()

	// 450 records → 3 calls of ≤200, results in input order.
	recs := make([]Record, 450)
	for i := range recs {
		recs[i] = oppRecord(fmt.Sprintf("Bulk %03d", i))
	}
	recs[201] = oppRecord("bad", "CloseDate", "soon")
	res, err := c.CompositeCreate(ctx, recs, false)
	require.NoError(t, err)
	require.Len(t, res, 450)
	assert.True(t, res[0].Success)
	assert.True(t, strings.HasPrefix(res[449].ID, "006"))
	assert.False(t, res[201].Success)
	assert.Equal(t, "JSON_PARSER_ERROR", res[201].Errors[0].StatusCode)
	assert.Equal(t, 3, emu.Stats().Endpoints["POST /services/data/{version}/composite/sobjects"]["200"])
	assert.Equal(t, 449, emu.Stats().Records["Opportunity"])

	// allOrNone: the failing chunk is rolled back; later chunks are not sent.
	res, err = c.CompositeCreate(ctx, recs, true)
	require.NoError(t, err)
	require.Len(t, res, 450)
	assert.Equal(t, "ALL_OR_NONE_OPERATION_ROLLED_BACK", res[200].Errors[0].StatusCode)
	assert.Equal(t, NotSentCode, res[400].Errors[0].StatusCode)
	assert.Equal(t, 449+200, emu.Stats().Records["Opportunity"], "first chunk committed, second rolled back, third not sent")

	upd, err := c.CompositeUpdate(ctx, []Record{
		{"attributes": map[string]any{"type": "Opportunity"}, "Id": res[0].ID, "StageName": "Closed Won"},
		{"attributes": map[string]any{"type": "Opportunity"}, "StageName": "Closed Won"},
	}, false)
	require.NoError(t, err)
	assert.True(t, upd[0].Success)
	assert.Equal(t, "MISSING_ARGUMENT", upd[1].Errors[0].StatusCode)
	got, err := c.Get(ctx, "Opportunity", res[0].ID, "IsWon")
	require.NoError(t, err)
	assert.Equal(t, true, got["IsWon"])

	ups, err := c.CompositeUpsert(ctx, "Opportunity", "Jira_Issue_Id__c", []Record{
		{"Name": "From Jira", "StageName": "Prospecting", "CloseDate": "2026-01-01", "Jira_Issue_Id__c": "10042"},
	}, false)
	require.NoError(t, err)
	assert.True(t, ups[0].Success)
	assert.True(t, ups[0].Created)
	ups2, err := c.CompositeUpsert(ctx, "Opportunity", "Jira_Issue_Id__c", []Record{
		{"Name": "From Jira (renamed)", "Jira_Issue_Id__c": "10042"},
	}, true)
	require.NoError(t, err)
	assert.Equal(t, ups[0].ID, ups2[0].ID)
	assert.False(t, ups2[0].Created)

	// A malformed request is an APIError, not a result list.
	_, err = c.CompositeUpsert(ctx, "Opportunity", "Name", []Record{{"Name": "x"}}, false)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.Status)
	assert.Equal(t, "INVALID_FIELD", apiErr.Code)
	assert.False(t, IsRetryable(err))
}

func TestGetUpdatedDeletedAndFeedItems(t *testing.T) {
	c, _, _ := newTestClient(t)
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	a, err := c.Create(ctx, "Opportunity", map[string]any{"Name": "A", "StageName": "Prospecting", "CloseDate": "2026-01-01"})
	require.NoError(t, err)
	b, err := c.Create(ctx, "Opportunity", map[string]any{"Name": "B", "StageName": "Prospecting", "CloseDate": "2026-01-01"})
	require.NoError(t, err)
	require.NoError(t, c.Delete(ctx, "Opportunity", a))

	up, err := c.GetUpdated(ctx, "Opportunity", start, time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, []string{b}, up.IDs)
	assert.WithinDuration(t, time.Now(), up.LatestDateCovered, 5*time.Second)

	del, err := c.GetDeleted(ctx, "Opportunity", start, time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.Len(t, del.Records, 1)
	assert.Equal(t, a, del.Records[0].ID)
	assert.WithinDuration(t, time.Now(), del.Records[0].DeletedDate, 5*time.Second)
	assert.False(t, del.EarliestDateAvailable.IsZero())

	_, err = c.GetUpdated(ctx, "Opportunity", time.Now(), time.Now().Add(-time.Hour))
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "INVALID_REPLICATION_DATE", apiErr.Code)
	_, err = c.GetDeleted(ctx, "Opportunity", time.Now().AddDate(0, 0, -40), time.Now().AddDate(0, 0, -39))
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "INVALID_REPLICATION_DATE", apiErr.Code)

	id, err := c.PostFeedItem(ctx, b, "Jira comment by Zoë: \"ship it\" & close <soon> 🚀")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(id, "0D5"))
	var bodies []string
	require.NoError(t, c.QueryEach(ctx, "SELECT Id, Body, ParentId, CreatedDate FROM FeedItem WHERE ParentId = '"+b+"'", func(r Record) error {
		bodies = append(bodies, r["Body"].(string))
		return nil
	}))
	assert.Equal(t, []string{"Jira comment by Zoë: \"ship it\" & close <soon> 🚀"}, bodies)
	_, err = c.PostFeedItem(ctx, b, strings.Repeat("x", 10001))
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "STRING_TOO_LONG", apiErr.Code)
	_, err = c.PostFeedItem(ctx, b, "  ")
	require.Error(t, err)
}

func TestOutboundMessagesFromEmulator(t *testing.T) {
	var mu sync.Mutex
	var msgs []*OutboundMessage
	failFirst := true
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msg, err := ParseOutboundMessage(body)
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		mu.Lock()
		defer mu.Unlock()
		if err != nil || failFirst {
			failFirst = false
			_, _ = w.Write(OutboundAck(false)) // 200 without Ack true: Salesforce retries
			return
		}
		msgs = append(msgs, msg)
		_, _ = w.Write(OutboundAck(true))
	}))
	defer recv.Close()

	opts := sfemu.DemoOptions()
	opts.OutboundRetryBase = 10 * time.Millisecond
	opts.Outbound = []sfemu.OutboundConfig{{Object: "Opportunity", URL: recv.URL + "/webhooks/salesforce",
		Fields: []string{"Name", "StageName", "Amount", "SystemModstamp"}}}
	emu := sfemu.New(opts)
	defer emu.Close()
	hs := httptest.NewServer(emu)
	defer hs.Close()
	c, err := New(Config{LoginURL: hs.URL, ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret"})
	require.NoError(t, err)
	ctx := context.Background()
	id, err := c.Create(ctx, "Opportunity", map[string]any{"Name": "Zoë's <big> & \"bold\" deal", "StageName": "Prospecting", "CloseDate": "2026-01-01"})
	require.NoError(t, err)

	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(msgs)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, msgs, 1)
	m := msgs[0]
	assert.True(t, strings.HasPrefix(m.OrganizationID, "00D"))
	assert.True(t, strings.HasPrefix(m.ActionID, "04k"))
	assert.Empty(t, m.SessionID)
	assert.Contains(t, m.PartnerURL, "/services/Soap/u/")
	require.Len(t, m.Notifications, 1)
	n := m.Notifications[0]
	assert.True(t, strings.HasPrefix(n.ID, "04l"))
	assert.Equal(t, "Opportunity", n.Object)
	assert.Equal(t, id, n.Fields["Id"])
	assert.Equal(t, "Zoë's <big> & \"bold\" deal", n.Fields["Name"])
	assert.Equal(t, "Prospecting", n.Fields["StageName"])
	_, hasAmount := n.Fields["Amount"]
	assert.False(t, hasAmount, "null fields are absent")
	_, err = time.Parse("2006-01-02T15:04:05.000Z", n.Fields["SystemModstamp"])
	assert.NoError(t, err)
}

func TestParseOutboundMessageErrors(t *testing.T) {
	for _, body := range []string{"", "not xml", `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body/></soapenv:Envelope>`} {
		_, err := ParseOutboundMessage([]byte(body))
		assert.Error(t, err, body)
	}
	assert.Contains(t, string(OutboundAck(true)), "<Ack>true</Ack>")
	assert.Contains(t, string(OutboundAck(false)), "<Ack>false</Ack>")
}
