package salesforce

import (
	"context"
	"errors"
	"fmt"
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

func newTestClient(t *testing.T, mutate ...func(*Config)) (*Client, *sfemu.Server, *httptest.Server) {
	t.Helper()
	emu := sfemu.New(sfemu.DemoOptions())
	hs := httptest.NewServer(emu)
	t.Cleanup(hs.Close)
	cfg := Config{LoginURL: hs.URL, ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret"}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c, emu, hs
}

func TestConfigValidation(t *testing.T) {
	ok := Config{LoginURL: "https://acme.my.salesforce.com", ClientID: "id", ClientSecret: "s"}
	for field, cfg := range map[string]Config{
		"LoginURL":     {ClientID: "id", ClientSecret: "s"},
		"LoginURL ":    {LoginURL: "acme.my.salesforce.com", ClientID: "id", ClientSecret: "s"},
		"ClientID":     {LoginURL: ok.LoginURL, ClientSecret: "s"},
		"ClientSecret": {LoginURL: ok.LoginURL, ClientID: "id"},
		"APIVersion":   {LoginURL: ok.LoginURL, ClientID: "id", ClientSecret: "s", APIVersion: "latest"},
	} {
		_, err := New(cfg)
		require.Error(t, err, field)
		assert.Contains(t, err.Error(), strings.TrimSpace(field))
	}
	c, err := New(ok)
	require.NoError(t, err)
	assert.Equal(t, "v62.0", c.APIVersion())
	assert.Equal(t, 20*time.Second, c.cfg.Timeout)
}

func TestAuthAndInstanceURL(t *testing.T) {
	// The token endpoint lives on a "login" server whose instance_url points at the emulator.
	emu := sfemu.New(sfemu.DemoOptions())
	api := httptest.NewServer(emu)
	defer api.Close()
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Host = strings.TrimPrefix(api.URL, "http://") // emulator echoes Host as instance_url
		emu.ServeHTTP(w, r)
	}))
	defer login.Close()
	c, err := New(Config{LoginURL: login.URL, ClientID: "sfjira-demo", ClientSecret: "sfjira-demo-secret"})
	require.NoError(t, err)
	lim, err := c.Limits(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 100000, lim["DailyApiRequests"].Max)
	assert.Equal(t, api.URL, c.instanceURL)
	used, max, ok := c.APIUsage()
	assert.True(t, ok)
	assert.Equal(t, 1, used)
	assert.Equal(t, 100000, max)

	bad, err := New(Config{LoginURL: api.URL, ClientID: "sfjira-demo", ClientSecret: "wrong"})
	require.NoError(t, err)
	_, err = bad.Limits(context.Background())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.Status)
	assert.Equal(t, "invalid_client", apiErr.Code)
	assert.False(t, apiErr.Retryable())
	assert.Contains(t, err.Error(), "POST /services/oauth2/token")
}

func TestReauthAfterExpiredTokens(t *testing.T) {
	c, emu, _ := newTestClient(t)
	ctx := context.Background()
	_, err := c.Limits(ctx)
	require.NoError(t, err)
	gen := c.gen
	// Latency keeps all 10 requests in flight with the old token, so each of them gets a 401.
	emu.SetFaults(sfemu.Faults{ExpireTokens: true, LatencyMS: 50})

	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Limits(ctx)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, gen+1, c.gen, "a burst of 401s re-authenticates once")
	st := emu.Stats()
	assert.Equal(t, 2, st.Endpoints["POST /services/oauth2/token"]["200"])
	assert.Equal(t, 10, st.Endpoints["GET /services/data/{version}/limits"]["401"])
}

func TestQueryPaginationAndEach(t *testing.T) {
	c, emu, _ := newTestClient(t)
	emu.Seed(sfemu.SeedOptions{Accounts: 10, Opportunities: 4100})
	ctx := context.Background()
	res, err := c.Query(ctx, "SELECT Id, Name, Account.Name FROM Opportunity")
	require.NoError(t, err)
	assert.Equal(t, 4100, res.TotalSize)
	assert.False(t, res.Done)
	assert.Len(t, res.Records, 2000)
	require.NotEmpty(t, res.NextRecordsURL)
	r0 := res.Records[0]
	assert.Len(t, r0.ID(), 18)
	name, ok := r0.Value("account.name")
	assert.True(t, ok)
	assert.NotEmpty(t, name)
	_, ok = r0.Value("Account.Missing")
	assert.False(t, ok)

	page2, err := c.QueryMore(ctx, res.NextRecordsURL)
	require.NoError(t, err)
	assert.Len(t, page2.Records, 2000)

	seen := map[string]bool{}
	require.NoError(t, c.QueryEach(ctx, "SELECT Id FROM Opportunity", func(r Record) error {
		seen[r.ID()] = true
		return nil
	}))
	assert.Len(t, seen, 4100)

	stop := errors.New("stop")
	n := 0
	err = c.QueryEach(ctx, "SELECT Id FROM Opportunity", func(Record) error {
		n++
		if n == 5 {
			return stop
		}
		return nil
	})
	assert.ErrorIs(t, err, stop)

	_, err = c.Query(ctx, "SELECT Foo FROM Opportunity")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "INVALID_FIELD", apiErr.Code)
	assert.Equal(t, "GET", apiErr.Method)
	assert.Equal(t, "/query", apiErr.Path)
	assert.False(t, apiErr.Retryable())
}

func TestCRUDAndUpsert(t *testing.T) {
	c, _, _ := newTestClient(t)
	ctx := context.Background()
	acc, err := c.Create(ctx, "Account", map[string]any{"Name": "Ñandú Logística"})
	require.NoError(t, err)
	id, err := c.Create(ctx, "Opportunity", map[string]any{"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2025-03-31", "AccountId": acc, "Amount": 42000})
	require.NoError(t, err)
	assert.Len(t, id, 18)

	require.NoError(t, c.Update(ctx, "Opportunity", id[:15], map[string]any{"StageName": "Closed Won", "Jira_Status__c": "Done"}))
	rec, err := c.Get(ctx, "Opportunity", id, "Name", "StageName", "IsWon", "Amount")
	require.NoError(t, err)
	assert.Equal(t, id, rec.ID())
	won, _ := rec.Value("iswon")
	assert.Equal(t, true, won)
	amount, _ := rec.Value("Amount")
	assert.Equal(t, 42000.0, amount)

	up, err := c.Upsert(ctx, "Opportunity", "Jira_Issue_Id__c", "10042", map[string]any{"Name": "From Jira", "StageName": "Qualification", "CloseDate": "2025-06-30"})
	require.NoError(t, err)
	assert.True(t, up.Created)
	assert.Len(t, up.ID, 18)
	up2, err := c.Upsert(ctx, "Opportunity", "Jira_Issue_Id__c", "10042", map[string]any{"Jira_Status__c": "In Progress"})
	require.NoError(t, err)
	assert.False(t, up2.Created)
	assert.Equal(t, up.ID, up2.ID)

	for i := 0; i < 2; i++ {
		_, err := c.Create(ctx, "Opportunity", map[string]any{"Name": "Dup", "StageName": "Prospecting", "CloseDate": "2025-01-01", "Jira_Issue_Key__c": "SFJ-7"})
		require.NoError(t, err)
	}
	_, err = c.Upsert(ctx, "Opportunity", "Jira_Issue_Key__c", "SFJ-7", map[string]any{"Jira_Status__c": "x"})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 300, apiErr.Status)
	assert.Equal(t, "MULTIPLE_CHOICES", apiErr.Code)

	require.NoError(t, c.Delete(ctx, "Opportunity", id))
	_, err = c.Get(ctx, "Opportunity", id)
	assert.True(t, IsNotFound(err))
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "ENTITY_IS_DELETED", apiErr.Code)
	_, err = c.Get(ctx, "Opportunity", "0068d00000ZZZZZ")
	assert.True(t, IsNotFound(err))
	assert.False(t, IsNotFound(errors.New("other")))
}

func TestUpsertOldAPIVersion(t *testing.T) {
	c, _, _ := newTestClient(t, func(cfg *Config) { cfg.APIVersion = "45.0" })
	ctx := context.Background()
	body := map[string]any{"Name": "Old", "StageName": "Prospecting", "CloseDate": "2025-01-01"}
	up, err := c.Upsert(ctx, "Opportunity", "Jira_Issue_Id__c", "1", body)
	require.NoError(t, err)
	assert.True(t, up.Created)
	up, err = c.Upsert(ctx, "Opportunity", "Jira_Issue_Id__c", "1", body)
	require.NoError(t, err)
	assert.False(t, up.Created)
	assert.Empty(t, up.ID)
}

func TestErrorMapping(t *testing.T) {
	c, emu, _ := newTestClient(t)
	ctx := context.Background()
	id, err := c.Create(ctx, "Opportunity", map[string]any{"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2025-03-31"})
	require.NoError(t, err)

	err = c.Update(ctx, "Opportunity", id, map[string]any{"Name": strings.Repeat("x", 121)})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.Status)
	assert.Equal(t, "STRING_TOO_LONG", apiErr.Code)
	assert.Equal(t, []string{"Name"}, apiErr.Fields)
	assert.False(t, apiErr.Retryable())
	assert.True(t, strings.HasPrefix(err.Error(), "salesforce: PATCH /sobjects/Opportunity/"+id+": 400 STRING_TOO_LONG: Name: data value too large: "), err.Error())
	assert.True(t, strings.HasSuffix(err.Error(), "(max length=120) (fields: Name)"), err.Error())

	_, err = c.Create(ctx, "Opportunity", map[string]any{"Amount": 1})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "REQUIRED_FIELD_MISSING", apiErr.Code)
	assert.Equal(t, []string{"Name", "StageName", "CloseDate"}, apiErr.Fields)

	emu.SetFaults(sfemu.Faults{FailNext: 1, ErrorStatus: 503})
	_, err = c.Limits(ctx)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "SERVER_UNAVAILABLE", apiErr.Code)
	assert.True(t, apiErr.Retryable())
	assert.True(t, IsRetryable(err))

	emu.SetFaults(sfemu.Faults{FailNext: 1, ErrorStatus: 400, ErrorCode: "UNABLE_TO_LOCK_ROW"})
	err = c.Update(ctx, "Opportunity", id, map[string]any{"NextStep": "call"})
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, apiErr.Retryable())

	emu.SetFaults(sfemu.Faults{FailNext: 1, ErrorStatus: 500})
	_, err = c.Limits(ctx)
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, apiErr.Retryable())

	emu.SetFaults(sfemu.Faults{DailyAPILimit: 1})
	_, err = c.Limits(ctx)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 403, apiErr.Status)
	assert.Equal(t, "REQUEST_LIMIT_EXCEEDED", apiErr.Code)
	assert.False(t, apiErr.Retryable())
}

func TestTimeoutsAndTransportErrors(t *testing.T) {
	c, emu, _ := newTestClient(t, func(cfg *Config) { cfg.Timeout = 50 * time.Millisecond })
	ctx := context.Background()
	_, err := c.Limits(ctx)
	require.NoError(t, err)
	emu.SetFaults(sfemu.Faults{LatencyMS: 300})
	_, err = c.Describe(ctx, "Opportunity")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GET /sobjects/Opportunity/describe")
	assert.Contains(t, err.Error(), "timed out")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.True(t, IsRetryable(err))

	hs := httptest.NewServer(http.NotFoundHandler())
	url := hs.URL
	hs.Close()
	dead, err := New(Config{LoginURL: url, ClientID: "a", ClientSecret: "b"})
	require.NoError(t, err)
	_, err = dead.Query(ctx, "SELECT Id FROM Account")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "salesforce: POST /services/oauth2/token")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Limits(cctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, IsRetryable(err))
}

func TestDescribeAndUsage(t *testing.T) {
	c, _, _ := newTestClient(t)
	ctx := context.Background()
	_, _, ok := c.APIUsage()
	assert.False(t, ok)
	d, err := c.Describe(ctx, "Opportunity")
	require.NoError(t, err)
	assert.Equal(t, "Opportunity", d.Name)
	f := d.Field("jira_issue_id__c")
	require.NotNil(t, f)
	assert.True(t, f.ExternalID)
	assert.True(t, f.Unique)
	assert.Equal(t, 20, f.Length)
	assert.Equal(t, "Jira Issue Id", f.Label)
	stage := d.Field("StageName")
	require.NotNil(t, stage)
	assert.Len(t, stage.PicklistValues, 10)
	assert.Equal(t, "Closed Lost", stage.PicklistValues[9].Value)
	acc := d.Field("AccountId")
	assert.Equal(t, []string{"Account"}, acc.ReferenceTo)
	assert.Equal(t, "Account", acc.RelationshipName)
	amt := d.Field("Amount")
	assert.Equal(t, 18, amt.Precision)
	assert.Equal(t, 2, amt.Scale)
	assert.Nil(t, d.Field("Nope"))
	used, max, ok := c.APIUsage()
	assert.True(t, ok)
	assert.Equal(t, 1, used)
	assert.Equal(t, 100000, max)
}

func TestNormalizeID(t *testing.T) {
	got, err := NormalizeID("0011Y00003HVMu4")
	require.NoError(t, err)
	assert.Equal(t, "0011Y00003HVMu4QAH", got)
	got, err = NormalizeID("0011y00003hvmu4qah")
	require.NoError(t, err)
	assert.Equal(t, "0011Y00003HVMu4QAH", got)
	for _, bad := range []string{"", "001", "0011Y00003HVMu4-", "0011Y00003HVMu4Q!H", "00111000031111199Z"} {
		_, err := NormalizeID(bad)
		assert.Error(t, err, bad)
	}
}

func TestRecordValue(t *testing.T) {
	r := Record{"Id": "006", "Name": "x", "Account": map[string]any{"Name": "A", "Owner": map[string]any{"Email": "e"}}, "Parent": nil}
	v, ok := r.Value("NAME")
	assert.True(t, ok)
	assert.Equal(t, "x", v)
	v, ok = r.Value("account.owner.email")
	assert.True(t, ok)
	assert.Equal(t, "e", v)
	v, ok = r.Value("Parent.Name")
	assert.True(t, ok)
	assert.Nil(t, v)
	_, ok = r.Value("Name.Foo")
	assert.False(t, ok)
	assert.Equal(t, "006", r.ID())
	assert.Equal(t, "", Record{}.ID())
	assert.Equal(t, "0068d00000AbCdEAAU", Record{"attributes": map[string]any{"url": "/services/data/v62.0/sobjects/Opportunity/0068d00000AbCdEAAU"}}.ID())
}

func ExampleAPIError_Error() {
	e := &APIError{Status: 400, Method: "PATCH", Path: "/sobjects/Opportunity/0068d00000AbCdEAAU", Code: "STRING_TOO_LONG", Message: "Name: data value too large", Fields: []string{"Name"}}
	fmt.Println(e)
	// Output: salesforce: PATCH /sobjects/Opportunity/0068d00000AbCdEAAU: 400 STRING_TOO_LONG: Name: data value too large (fields: Name)
}
