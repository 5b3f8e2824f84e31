// Command sfjira-dbcheck checks that PostgreSQL answers at DATABASE_URL and creates the database
// if it is missing, printing one line with the fix when it cannot. `make demo` and `make test` run
// it first so a stopped server fails fast instead of in the middle of a test. With -reset it drops
// and recreates the database (the demo uses this on its own sfjira_demo database only).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sfjira/sfjira/internal/store"
)

func main() {
	reset := flag.Bool("reset", false, "drop and recreate the database")
	flag.Parse()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/sfjira?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := store.EnsureDatabase(ctx, url); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	if *reset {
		if err := store.DropDatabase(ctx, url); err != nil {
			fmt.Fprintln(os.Stderr, "error: reset database:", err)
			os.Exit(1)
		}
		if _, err := store.EnsureDatabase(ctx, url); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
	}
}
