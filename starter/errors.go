package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sfjira/sfjira/internal/catalog"
)

func lookupFix(code string) (string, bool) {
	e, ok := catalog.Lookup(catalog.Code(code))
	return e.Fix, ok
}

func errorsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "errors [CODE]",
		Short: "List the error catalog: every code sfjira raises, its cause, whether it is retried and the fix",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			entries := catalog.All()
			if len(args) == 1 {
				e, ok := catalog.Lookup(catalog.Code(args[0]))
				if !ok {
					return usagef("unknown error code %q; run `sfjira errors` for the list", args[0])
				}
				entries = []catalog.Entry{e}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(entries)
			}
			for _, e := range entries {
				fmt.Fprintf(out, "%s (retryable: %v)\n  cause: %s\n  fix:   %s\n", e.Code, e.Retryable, e.Cause, e.Fix)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
