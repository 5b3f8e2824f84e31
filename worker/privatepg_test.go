package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// privatePostgres is a PostgreSQL server of one test, in a temporary directory on a free loopback
// port with trust authentication, so the test can restart it without disturbing the shared
// cluster other tests and engineers use.
type privatePostgres struct {
	t      *testing.T
	bin    string // directory of initdb, pg_ctl
	data   string
	log    string // server log; pg_ctl must always be given it, or the server keeps our output pipe open
	port   string
	asUser string // run the binaries as this user ("" = as ourselves)
}

// startPrivatePostgres initialises and starts a private server, or skips the test with the reason
// when that is impossible here (no server binaries, or root without a postgres account: initdb
// refuses to run as root).
func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			found = []string{p}
		}
	}
	if len(found) == 0 {
		t.Skip("a private PostgreSQL needs the server binaries (initdb, pg_ctl): none under /usr/lib/postgresql/*/bin or on PATH (fix: install the postgresql package)")
	}
	sort.Strings(found)
	pg := &privatePostgres{t: t, bin: filepath.Dir(found[len(found)-1])}
	dir, err := os.MkdirTemp("", "sfjira-pg-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root, and initdb refuses root: a private PostgreSQL needs a postgres account to run it as (fix: run the tests as a normal user, or create the postgres user)")
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			t.Skip("running as root without runuser: cannot start a private PostgreSQL as the postgres account")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
		pg.asUser = "postgres"
	}
	pg.data = filepath.Join(dir, "data")
	pg.port = freePort(t)
	pg.run("initdb", "-D", pg.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C")
	opts := fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", pg.port, dir)
	pg.log = filepath.Join(dir, "server.log")
	pg.run("pg_ctl", "-D", pg.data, "-l", pg.log, "-o", opts, "-w", "-t", "60", "start")
	t.Cleanup(func() { _ = pg.cmd("pg_ctl", "-D", pg.data, "-m", "immediate", "-w", "stop").Run() })
	return pg
}

// URL is the server's address, for stackOptions.DatabaseURL.
func (pg *privatePostgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable", pg.port)
}

// Restart stops the server (fast: open connections are cut, as in a failover or an upgrade) and
// starts it again on the same port, and says how long it was away.
func (pg *privatePostgres) Restart() time.Duration {
	began := time.Now()
	pg.run("pg_ctl", "-D", pg.data, "-l", pg.log, "-m", "fast", "-w", "-t", "60", "restart")
	return time.Since(began)
}

func (pg *privatePostgres) cmd(name string, args ...string) *exec.Cmd {
	path := filepath.Join(pg.bin, name)
	if pg.asUser != "" {
		return exec.Command("runuser", append([]string{"-u", pg.asUser, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (pg *privatePostgres) run(name string, args ...string) {
	pg.t.Helper()
	out, err := pg.cmd(name, args...).CombinedOutput()
	require.NoError(pg.t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
}
