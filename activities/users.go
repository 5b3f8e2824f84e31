package activities

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/sfjira/sfjira/internal/jira"
)

// jiraUsers is the mappings.UserDirectory of the worker: e-mail ↔ accountId over the Jira
// site's users (user search by e-mail, user by account id), with found users cached for the
// worker's life. Misses are not cached, so a user invited later is found on the next sync.
type jiraUsers struct {
	jc      *jira.Client
	timeout time.Duration

	mu      sync.Mutex
	byEmail map[string]string
	byID    map[string]string
}

func newJiraUsers(jc *jira.Client) *jiraUsers {
	return &jiraUsers{jc: jc, timeout: 20 * time.Second, byEmail: map[string]string{}, byID: map[string]string{}}
}

func (u *jiraUsers) remember(email, id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.byEmail[email], u.byID[id] = id, email
}

// AccountID finds the active Jira user whose e-mail matches exactly (ignoring case).
func (u *jiraUsers) AccountID(email string) (string, bool, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	u.mu.Lock()
	id, ok := u.byEmail[email]
	u.mu.Unlock()
	if ok {
		return id, true, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), u.timeout)
	defer cancel()
	users, err := u.jc.FindUsers(ctx, email)
	if err != nil {
		return "", false, err
	}
	for _, usr := range users {
		if usr.Active && strings.EqualFold(usr.EmailAddress, email) {
			u.remember(email, usr.AccountID)
			return usr.AccountID, true, nil
		}
	}
	return "", false, nil
}

// Email reads a user's e-mail by account id; ok is false when the user is unknown or hides it.
func (u *jiraUsers) Email(accountID string) (string, bool, error) {
	u.mu.Lock()
	email, ok := u.byID[accountID]
	u.mu.Unlock()
	if ok {
		return email, true, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), u.timeout)
	defer cancel()
	usr, err := u.jc.GetUser(ctx, accountID)
	if err != nil {
		if jira.IsNotFound(err) {
			return "", false, nil
		}
		return "", false, err
	}
	if usr.EmailAddress == "" {
		return "", false, nil
	}
	email = strings.ToLower(usr.EmailAddress)
	u.remember(email, accountID)
	return email, true, nil
}
