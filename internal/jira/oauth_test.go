package jira

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	"github.com/sfjira/sfjira/internal/codec"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/internal/store/storetest"
)

func oauthTestStore(t *testing.T) *store.TokenStore {
	t.Helper()
	st, _ := storetest.Open(t, "sfjira_jira_oauth_test")
	e, _ := codec.GenerateEntry("k1")
	kr, _ := codec.ParseKeyring(e)
	ts, err := st.Tokens(kr)
	require.NoError(t, err)
	return ts
}

// consent runs the authorization-code flow against the emulator the way `sfjira auth jira` does.
func consent(t *testing.T, conf OAuthConfig) *store.Token {
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(conf.AuthCodeURL("state-1"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "state-1", loc.Query().Get("state"))
	tok, err := conf.Exchange(context.Background(), loc.Query().Get("code"))
	require.NoError(t, err)
	require.NotEmpty(t, tok.RefreshToken)
	return tok
}

func TestOAuth3LOTwoWorkersRaceToRefreshWithoutBurningTheFamily(t *testing.T) {
	opts := jiraemu.DemoOptions()
	opts.OAuthReuseInterval = time.Millisecond // strict: any reuse of a rotated token revokes the family
	emu := jiraemu.New(opts)
	t.Cleanup(emu.Close)
	hs := httptest.NewServer(emu)
	t.Cleanup(hs.Close)
	conf := OAuthConfig{ClientID: jiraemu.DemoOAuthClientID, ClientSecret: jiraemu.DemoOAuthClientSecret,
		AuthURL: hs.URL + "/authorize", TokenURL: hs.URL + "/oauth/token", APIURL: hs.URL,
		RedirectURL: "http://127.0.0.1:8765/callback", Scopes: []string{"read:jira-work", "write:jira-work", "offline_access"}}
	ctx := context.Background()
	tokens := oauthTestStore(t)

	first := consent(t, conf)
	res, err := conf.CloudID(ctx, first.AccessToken, hs.URL)
	require.NoError(t, err)
	require.Equal(t, jiraemu.DemoCloudID, res.ID)
	_, err = conf.CloudID(ctx, first.AccessToken, "https://other.atlassian.net")
	require.ErrorContains(t, err, "other.atlassian.net")
	first.Extra = map[string]string{"cloud_id": res.ID}
	require.NoError(t, tokens.Put(ctx, "jira", first))

	// Two workers, each with its own token source and client, sharing the stored grant.
	var clients []*Client
	for i := 0; i < 2; i++ {
		c, err := NewWithTokenSource(conf.APIBase(res.ID), &RotatingTokenSource{Conf: conf, Tokens: tokens, Name: "jira"}, 0)
		require.NoError(t, err)
		me, err := c.Myself(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, me.AccountID)
		clients = append(clients, c)
	}
	// Every round, Jira drops the access tokens: both workers get 401 at the same time and
	// refresh; the row lock makes exactly one of them spend the refresh token.
	const rounds = 6
	for round := 0; round < rounds; round++ {
		emu.ExpireOAuthAccessTokens()
		var wg sync.WaitGroup
		errs := make([]error, 2*len(clients))
		for i, c := range clients {
			for j := 0; j < 2; j++ {
				wg.Add(1)
				go func(k int, c *Client) {
					defer wg.Done()
					_, errs[k] = c.Myself(ctx)
				}(2*i+j, c)
			}
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err, "round %d", round)
		}
	}
	stats := emu.OAuthStats()
	require.Zero(t, stats.Revoked, "no refresh token was reused: the family is intact")
	require.Zero(t, stats.Reused)
	var refreshes int
	cur, err := tokens.Get(ctx, "jira")
	require.NoError(t, err)
	require.Equal(t, res.ID, cur.Extra["cloud_id"], "the cloud id survives refreshes")
	// Every refresh was serialised through the row (each spent the then-current token); a
	// refused request may refresh once more rather than trust a token as old as the refusal.
	require.NoError(t, tokensRefreshes(ctx, tokens, &refreshes))
	require.GreaterOrEqual(t, refreshes, rounds)
	require.LessOrEqual(t, refreshes, 4*rounds, "at most one refresh per refused request")

	// The rule the lock protects against: spending an already-rotated refresh token after the
	// reuse interval revokes the whole family, and the workers then say how to recover.
	time.Sleep(5 * time.Millisecond)
	_, err = conf.Refresh(ctx, first.RefreshToken)
	var oe *OAuthError
	require.True(t, errors.As(err, &oe), "%v", err)
	require.Equal(t, "invalid_grant", oe.Code)
	require.Equal(t, 1, emu.OAuthStats().Revoked)
	_, err = clients[0].Myself(ctx)
	require.ErrorContains(t, err, "sfjira auth jira")
}

func tokensRefreshes(ctx context.Context, ts *store.TokenStore, n *int) error {
	v, err := ts.Refreshes(ctx, "jira")
	*n = int(v)
	return err
}

func TestOAuthRefreshesWhenTheAccessTokenExpires(t *testing.T) {
	opts := jiraemu.DemoOptions()
	opts.OAuthAccessTTL = 90 * time.Second // under refreshSkew + a bit: the cached token counts as expiring
	emu := jiraemu.New(opts)
	t.Cleanup(emu.Close)
	hs := httptest.NewServer(emu)
	t.Cleanup(hs.Close)
	conf := OAuthConfig{ClientID: jiraemu.DemoOAuthClientID, ClientSecret: jiraemu.DemoOAuthClientSecret,
		AuthURL: hs.URL + "/authorize", TokenURL: hs.URL + "/oauth/token", APIURL: hs.URL,
		RedirectURL: "http://127.0.0.1:8765/callback", Scopes: []string{"offline_access"}}
	tokens := oauthTestStore(t)
	ctx := context.Background()
	tok := consent(t, conf)
	tok.Expiry = time.Now().Add(-time.Second) // stored as already expired
	require.NoError(t, tokens.Put(ctx, "jira", tok))
	src := &RotatingTokenSource{Conf: conf, Tokens: tokens, Name: "jira"}
	c, err := NewWithTokenSource(conf.APIBase(jiraemu.DemoCloudID), src, 0)
	require.NoError(t, err)
	_, err = c.Myself(ctx)
	require.NoError(t, err)
	got, err := tokens.Get(ctx, "jira")
	require.NoError(t, err)
	require.NotEqual(t, tok.RefreshToken, got.RefreshToken, "the rotated refresh token is stored")
	// A wrong cloud id is a 404, and bad app credentials are refused at the token endpoint.
	bad, err := NewWithTokenSource(conf.APIBase("no-such-cloud"), src, 0)
	require.NoError(t, err)
	_, err = bad.Myself(ctx)
	require.Error(t, err)
	wrong := conf
	wrong.ClientSecret = "nope"
	_, err = wrong.Refresh(ctx, got.RefreshToken)
	var oe *OAuthError
	require.True(t, errors.As(err, &oe))
	require.Equal(t, 401, oe.Status)
	require.NotContains(t, err.Error(), got.RefreshToken)
}
