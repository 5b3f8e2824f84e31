package jira

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode"
)

// User is an account of the emulated site's directory (Options.Users and
// POST /__admin/users). Only active users can be assignees or reporters.
type User struct {
	AccountID   string `json:"accountId"`
	DisplayName string `json:"displayName"`
	Email       string `json:"emailAddress"`
	Active      bool   `json:"active"`
	TimeZone    string `json:"timeZone,omitempty"`
	// AccountType is atlassian (people), app (bots) or customer; default atlassian.
	AccountType string `json:"accountType,omitempty"`
}

// IntegrationAccountID is the accountId of the integration user (the basic-auth identity).
const IntegrationAccountID = accountID

// SeedUsers are the people every emulator starts with besides the integration user; the
// names exercise unicode handling in display names and e-mail look-ups.
var SeedUsers = []User{
	{AccountID: "5b10a2844c20165700ede21g", DisplayName: "Mia Krystof", Email: "mia.krystof@sfjira.demo", Active: true, TimeZone: "Australia/Sydney"},
	{AccountID: "712020:0b7a6c2e-8f14-4c9a-b1f0-2d9e51a7c301", DisplayName: "José Álvarez-Núñez", Email: "jose.alvarez@sfjira.demo", Active: true, TimeZone: "Europe/Madrid"},
	{AccountID: "712020:5f3e1d9c-2b6a-4e8f-9c7d-1a0b2c3d4e02", DisplayName: "Zoë Müller", Email: "zoe.mueller@sfjira.demo", Active: true, TimeZone: "Europe/Berlin"},
	{AccountID: "712020:9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c03", DisplayName: "李伟 (Li Wei)", Email: "li.wei@sfjira.demo", Active: true, TimeZone: "Asia/Shanghai"},
	{AccountID: "712020:1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c04", DisplayName: "Ана Петрова", Email: "ana.petrova@sfjira.demo", Active: true, TimeZone: "Europe/Sofia"},
	{AccountID: "712020:6e5d4c3b-2a19-4f8e-8d7c-6b5a4f3e2d05", DisplayName: "Former Employee", Email: "former.employee@sfjira.demo", Active: false, TimeZone: "Etc/UTC"},
}

func (s *Server) resetUsersLocked() {
	s.users = map[string]*User{}
	s.userOrder = nil
	s.addUserLocked(User{AccountID: accountID, DisplayName: userDisplayName, Email: s.opts.Email, Active: true, TimeZone: "Etc/UTC"})
	for _, u := range SeedUsers {
		s.addUserLocked(u)
	}
	for _, u := range s.opts.Users {
		s.addUserLocked(u)
	}
}

func (s *Server) addUserLocked(u User) {
	if u.AccountType == "" {
		u.AccountType = "atlassian"
	}
	if u.TimeZone == "" {
		u.TimeZone = "Etc/UTC"
	}
	if _, ok := s.users[u.AccountID]; !ok {
		s.userOrder = append(s.userOrder, u.AccountID)
	}
	cp := u
	s.users[u.AccountID] = &cp
}

func avatarURLs(u *User) map[string]string {
	initials := ""
	for _, w := range strings.Fields(u.DisplayName) {
		for _, r := range w {
			if unicode.IsLetter(r) {
				initials += string(unicode.ToUpper(r))
			}
			break
		}
		if len([]rune(initials)) == 2 {
			break
		}
	}
	b := "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/initials/" + url.PathEscape(initials) + "-5.png"
	return map[string]string{"48x48": b + "?size=48&s=48", "24x24": b + "?size=24&s=24", "16x16": b + "?size=16&s=16", "32x32": b + "?size=32&s=32"}
}

// userJSONFor renders a user in the Cloud shape (api is "3" or "2" for the self link).
func userJSONFor(base, api string, u *User, withEmail bool) map[string]any {
	m := map[string]any{
		"self":        base + "/rest/api/" + api + "/user?accountId=" + url.QueryEscape(u.AccountID),
		"accountId":   u.AccountID,
		"accountType": u.AccountType,
		"avatarUrls":  avatarURLs(u),
		"displayName": u.DisplayName,
		"active":      u.Active,
		"timeZone":    u.TimeZone,
	}
	if withEmail && u.Email != "" {
		m["emailAddress"] = u.Email
	}
	return m
}

// userByID renders a known user (caller holds s.mu); unknown ids render as an
// inactive "Former user" like Jira does for deleted accounts.
func (s *Server) userByID(base, id string) map[string]any {
	u := s.users[id]
	if u == nil {
		u = &User{AccountID: id, DisplayName: "Former user", AccountType: "atlassian", TimeZone: "Etc/UTC"}
	}
	return userJSONFor(base, "3", u, true)
}

func (s *Server) displayName(id string) string {
	if u := s.users[id]; u != nil {
		return u.DisplayName
	}
	return "Former user"
}

// userMatches implements Jira's user-search matching: a case-insensitive prefix of the
// e-mail address, of the display name, or of any word of the display name.
func userMatches(u *User, q string) bool {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return false
	}
	if strings.HasPrefix(strings.ToLower(u.Email), q) || strings.HasPrefix(strings.ToLower(u.DisplayName), q) {
		return true
	}
	for _, w := range strings.FieldsFunc(strings.ToLower(u.DisplayName), func(r rune) bool {
		return unicode.IsSpace(r) || r == '(' || r == ')' || r == '-'
	}) {
		if strings.HasPrefix(w, q) {
			return true
		}
	}
	return false
}

func (s *Server) handleUserSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query, hasQ := q["query"]
	acct := q.Get("accountId")
	prop := q.Get("property")
	switch {
	case (!hasQ || strings.TrimSpace(query[0]) == "") && acct == "" && prop == "":
		writeMsg(w, 400, "The query parameter 'query' or 'accountId' or 'property' is required.")
		return
	case hasQ && query[0] != "" && acct != "":
		writeMsg(w, 400, "The 'query' and 'accountId' parameters cannot be used together.")
		return
	case prop != "":
		writeMsg(w, 400, "The 'property' parameter is not supported by this emulator.")
		return
	}
	start, max, ok := pageParams(w, r, 50, 1000)
	if !ok {
		return
	}
	base := baseURL(r)
	s.mu.RLock()
	var out []any
	for _, id := range s.userOrder {
		u := s.users[id]
		if (acct != "" && u.AccountID == acct) || (acct == "" && userMatches(u, query[0])) {
			m := userJSONFor(base, "3", u, true)
			m["key"], m["name"] = "", ""
			out = append(out, m)
		}
	}
	s.mu.RUnlock()
	sort.SliceStable(out, func(i, j int) bool {
		return strings.ToLower(out[i].(map[string]any)["displayName"].(string)) < strings.ToLower(out[j].(map[string]any)["displayName"].(string))
	})
	if len(out) > 1000 {
		out = out[:1000]
	}
	writeJSON(w, 200, page(out, start, max))
}

func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	acct := q.Get("accountId")
	if acct == "" {
		if q.Get("username") != "" || q.Get("key") != "" {
			writeMsg(w, 400, "The username and key query parameters are deprecated in Jira Cloud; use accountId.")
			return
		}
		writeMsg(w, 400, "The accountId query parameter needs to be provided.")
		return
	}
	base := baseURL(r)
	s.mu.RLock()
	u := s.users[acct]
	var m map[string]any
	if u != nil {
		m = userJSONFor(base, "3", u, true)
		m["key"], m["name"] = "", ""
		m["locale"] = "en_US"
		m["groups"] = map[string]any{"size": 1, "items": []any{}}
		m["applicationRoles"] = map[string]any{"size": 1, "items": []any{}}
		m["expand"] = "groups,applicationRoles"
	}
	s.mu.RUnlock()
	if m == nil {
		writeMsg(w, 404, "Specified user does not exist or you do not have required permissions")
		return
	}
	writeJSON(w, 200, m)
}

// AddUser adds (or replaces) a directory user; the Go equivalent of POST /__admin/users.
func (s *Server) AddUser(u User) error {
	if strings.TrimSpace(u.AccountID) == "" || strings.TrimSpace(u.DisplayName) == "" {
		return errBadUser
	}
	s.mu.Lock()
	s.addUserLocked(u)
	s.mu.Unlock()
	return nil
}

type adminError string

func (e adminError) Error() string { return string(e) }

const errBadUser = adminError("accountId and displayName are required")

func (s *Server) handleAdminUsers(w http.ResponseWriter, r *http.Request) {
	raw := json.RawMessage{}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&raw); err != nil {
		writeMsg(w, 400, "invalid users document: "+err.Error())
		return
	}
	var list []User
	if len(raw) > 0 && raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			writeMsg(w, 400, "invalid users document: "+err.Error())
			return
		}
	} else {
		var one struct {
			User
			Active *bool `json:"active"`
		}
		if err := json.Unmarshal(raw, &one); err != nil {
			writeMsg(w, 400, "invalid users document: "+err.Error())
			return
		}
		one.User.Active = one.Active == nil || *one.Active
		list = []User{one.User}
	}
	base := baseURL(r)
	out := make([]any, 0, len(list))
	for _, u := range list {
		if strings.TrimSpace(u.DisplayName) == "" {
			writeMsg(w, 400, "invalid user: displayName is required")
			return
		}
	}
	s.mu.Lock()
	for _, u := range list {
		if u.AccountID == "" {
			s.nextUser++
			u.AccountID = "712020:" + uuidFromCounter(s.nextUser)
		}
		s.addUserLocked(u)
		out = append(out, userJSONFor(base, "3", s.users[u.AccountID], true))
	}
	s.mu.Unlock()
	writeJSON(w, 201, out)
}

func (s *Server) handleAdminUserList(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r)
	s.mu.RLock()
	out := make([]any, 0, len(s.userOrder))
	for _, id := range s.userOrder {
		out = append(out, userJSONFor(base, "3", s.users[id], true))
	}
	s.mu.RUnlock()
	writeJSON(w, 200, out)
}

// uuidFromCounter makes a stable, uuid-shaped id from a counter (deterministic accountIds).
func uuidFromCounter(n int64) string {
	h := strings.Repeat("0", 12) + itoa(n)
	h = h[len(h)-12:]
	return "00000000-0000-4000-8000-" + h
}
