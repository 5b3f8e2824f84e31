package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	jiraemu "github.com/sfjira/sfjira/emulators/jira"
	sfemu "github.com/sfjira/sfjira/emulators/salesforce"
)

func emulateCmd() *cobra.Command {
	var sfAddr, jiraAddr string
	var opps, accounts, contacts int
	var cases, features, activities int
	var allowRemote bool
	cmd := &cobra.Command{
		Use:   "emulate [--salesforce-addr 127.0.0.1:8410] [--jira-addr 127.0.0.1:8420] [--seed-opportunities N]",
		Short: "Run the Salesforce and Jira Cloud emulators in the foreground, seeded with sample data",
		Long: `emulate serves wire-faithful Salesforce REST and Jira Cloud REST v3 sandboxes for the demo, tests and
benchmarks. Demo credentials: Salesforce connected app sfjira-demo / sfjira-demo-secret (client
credentials); Jira integration@sfjira.demo with API token sfjira-demo-token; Jira project SFJ.
Both expose GET /__admin/stats, POST /__admin/faults, POST /__admin/reset and POST /__admin/seed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, a := range []string{sfAddr, jiraAddr} {
				if err := checkLoopback(a, allowRemote); err != nil {
					return err
				}
			}
			sf := sfemu.New(sfemu.DemoOptions())
			sf.Seed(sfemu.SeedOptions{Accounts: accounts, Contacts: contacts, Opportunities: opps,
				Cases: cases, FeatureRequests: features, Activities: activities})
			jr := jiraemu.New(jiraemu.DemoOptions())
			servers := []*http.Server{
				{Addr: sfAddr, Handler: sf, ReadHeaderTimeout: 5 * time.Second},
				{Addr: jiraAddr, Handler: jr, ReadHeaderTimeout: 5 * time.Second},
			}
			errc := make(chan error, len(servers))
			for _, s := range servers {
				ln, err := net.Listen("tcp", s.Addr)
				if err != nil {
					return fmt.Errorf("listen on %s: %w (fix: stop what uses the port or pick another with --salesforce-addr/--jira-addr)", s.Addr, err)
				}
				go func(s *http.Server, ln net.Listener) {
					if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
						errc <- err
					}
				}(s, ln)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "salesforce emulator: http://%s  (%d accounts, %d contacts, %d opportunities, %d cases, %d feature requests, %d tasks/events)\n",
				sfAddr, accounts, contacts, opps, cases, features, activities)
			fmt.Fprintf(out, "jira emulator:       http://%s  (project SFJ)\n", jiraAddr)
			fmt.Fprintln(out, "ready; Ctrl-C to stop")
			var err error
			select {
			case <-cmd.Context().Done():
			case err = <-errc:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			for _, s := range servers {
				_ = s.Shutdown(ctx)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&sfAddr, "salesforce-addr", "127.0.0.1:8410", "address of the Salesforce emulator")
	cmd.Flags().StringVar(&jiraAddr, "jira-addr", "127.0.0.1:8420", "address of the Jira emulator")
	cmd.Flags().IntVar(&opps, "seed-opportunities", 20, "sample Opportunities to seed (spread over every default stage)")
	cmd.Flags().IntVar(&accounts, "seed-accounts", 8, "sample Accounts to seed")
	cmd.Flags().IntVar(&contacts, "seed-contacts", 16, "sample Contacts to seed")
	cmd.Flags().IntVar(&cases, "seed-cases", 6, "sample Cases to seed (→ Bugs)")
	cmd.Flags().IntVar(&features, "seed-feature-requests", 6, "sample Feature_Request__c records to seed, one per Opportunity (→ Stories under its Epic)")
	cmd.Flags().IntVar(&activities, "seed-activities", 9, "sample Tasks and Events to seed: calls, e-mails and meetings on Opportunities and Cases")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "allow listening on a non-loopback address")
	return cmd
}

// checkLoopback keeps the emulators on loopback unless asked otherwise: they accept demo
// credentials and must not be reachable from the network by accident.
func checkLoopback(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("address %q: %v (want host:port)", addr, err)
	}
	ip := net.ParseIP(host)
	if host == "localhost" || (ip != nil && ip.IsLoopback()) || allowRemote {
		return nil
	}
	return usagef("address %q is not loopback; the emulators accept demo credentials (fix: use 127.0.0.1, or pass --allow-remote)", addr)
}
