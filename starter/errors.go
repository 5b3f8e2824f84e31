package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sfjira/sfjira/internal/catalog"
)

func lookupFix(code string) (string, bool) {
	e, ok := catalog.Lookup(catalog.Code(code))
	return e.Fix, ok
}

func errorsCmd() *cobra.Command {
	var asJSON, markdown bool
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
			if markdown {
				_, err := io.WriteString(out, errorsMarkdown(entries))
				return err
			}
			for _, e := range entries {
				fmt.Fprintf(out, "%s (retryable: %v)\n  cause: %s\n  fix:   %s\n", e.Code, e.Retryable, e.Cause, e.Fix)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print docs/errors.md (the catalog as Markdown)")
	return cmd
}

// errorsMarkdown renders the catalog for docs/errors.md, which a test keeps in step with the code.
func errorsMarkdown(entries []catalog.Entry) string {
	var b strings.Builder
	b.WriteString("# sfjira error catalog\n\n")
	b.WriteString("Every error sfjira raises carries one of these codes: in workflow failures, the `ErrorCode` search\n")
	b.WriteString("attribute, dead letters (`sfjira dlq list`) and logs. Generated from `internal/catalog` by\n")
	b.WriteString("`sfjira errors --markdown > docs/errors.md`; do not edit by hand.\n\n")
	b.WriteString("| code | retried | cause | what to do |\n|---|---|---|---|\n")
	for _, e := range entries {
		retried := "no"
		if e.Retryable {
			retried = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", e.Code, retried, strings.ReplaceAll(e.Cause, "|", "\\|"), strings.ReplaceAll(e.Fix, "|", "\\|"))
	}
	return b.String()
}
