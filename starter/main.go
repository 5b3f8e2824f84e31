// Command sfjira is the operator CLI: set up a cluster and database, run the emulators, sync one
// record or backfill a whole object, check that both sides agree, and list the error catalog.
// Exit codes: 0 success, 1 failure, 2 usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/logging"
	"github.com/sfjira/sfjira/internal/store"
	"github.com/sfjira/sfjira/transforms"
)

// usageError marks errors in how the command was called (exit code 2).
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// globals are the flags every command shares.
type globals struct {
	configPath string
	logLevel   string
}

func (g *globals) load() (*config.Config, *zap.Logger, error) {
	cfg, err := config.Load(g.configPath)
	if err != nil {
		return nil, nil, err
	}
	level := cfg.Log.Level
	if g.logLevel != "" {
		level = g.logLevel
	}
	logging.RegisterSecrets(cfg.Salesforce.ClientSecret, cfg.Jira.APIToken, cfg.Jira.WebhookSecret, logging.DatabasePassword(cfg.Database.URL))
	log, err := logging.New("console", level)
	if err != nil {
		return nil, nil, err
	}
	return cfg, log, nil
}

// openMigratedStore opens the connector's database and applies pending migrations, for commands
// that may be the first to touch a fresh database. Close the store when done.
func openMigratedStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func main() {
	os.Exit(execute(os.Args[1:]))
}

func execute(args []string) int { return executeTo(args, os.Stdout, os.Stderr) }

// executeTo runs the CLI with the given output streams (tests capture them).
func executeTo(args []string, stdout, stderr io.Writer) int {
	return executeIO(args, os.Stdin, stdout, stderr)
}

// executeIO is executeTo with the input prompts read from (tests answer them).
func executeIO(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// The same named transforms as the worker, so validate, preflight --data and dry runs accept
	// and run exactly the transforms a sync would.
	if err := transforms.Register(); err != nil {
		fmt.Fprintln(stderr, "sfjira:", err)
		return 1
	}
	g := &globals{}
	root := &cobra.Command{
		Use:           "sfjira",
		Short:         "Keep Salesforce and Jira Cloud in step, through Temporal workflows",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	def := os.Getenv("SFJIRA_CONFIG")
	if def == "" {
		def = "deploy/dev/sfjira.yaml"
	}
	root.PersistentFlags().StringVar(&g.configPath, "config", def, "path of the sfjira YAML config (env SFJIRA_CONFIG)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "", "override the config's log level (debug, info, warn, error)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(setupCmd(g), emulateCmd(), syncCmd(g), backfillCmd(g), verifyCmd(g), conflictsCmd(g), auditCmd(g), dlqCmd(g), debugCmd(),
		errorsCmd(), mappingCmd(), preflightCmd(g))
	root.AddCommand(reconcileCmd(g))
	root.AddCommand(keysCmd(g))
	root.AddCommand(pauseCmd(g), resumeCmd(g), statusCmd(g))
	root.AddCommand(authCmd(g))
	root.AddCommand(rollbackCmd(g))
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "sfjira:", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		fmt.Fprintln(stderr, "run 'sfjira --help' for usage")
		return 2
	}
	return 1
}

// isCobraUsage recognises cobra's own argument errors (unknown command, wrong arg count).
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "accepts ", "requires ", "required flag"} {
		if len(msg) >= len(p) && contains(msg, p) {
			return true
		}
	}
	return false
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
