package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/sfjira/sfjira/mappings"
)

// loadMappingPaths loads mapping files and directories named on the command line (a directory
// contributes its *.yaml files); with no paths it loads the embedded default pack.
func loadMappingPaths(paths []string) ([]*mappings.Mapping, error) {
	if len(paths) == 0 {
		return mappings.LoadDefault()
	}
	var all []*mappings.Mapping
	var problems mappings.ErrorList
	for _, p := range paths {
		var ms []*mappings.Mapping
		var err error
		if st, statErr := os.Stat(p); statErr == nil && st.IsDir() {
			ms, err = mappings.LoadDir(p)
		} else {
			var m *mappings.Mapping
			m, err = mappings.LoadFile(p)
			if m != nil {
				ms = []*mappings.Mapping{m}
			}
		}
		var list mappings.ErrorList
		switch {
		case errors.As(err, &list):
			problems = append(problems, list...)
		case err != nil:
			return nil, err
		}
		all = append(all, ms...)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return all, nil
}

func mappingCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mapping",
		Short: "Work with mapping files offline: validate them, print the data dictionary",
	}
	cmd.AddCommand(mappingValidateCmd(), mappingDocCmd())
	return cmd
}

// errProblems is returned after the problems were printed, so main exits 1 without repeating them.
type errProblems struct{ n int }

func (e errProblems) Error() string {
	return fmt.Sprintf("%d problem(s) found", e.n)
}

func printProblems(w io.Writer, err error) error {
	var list mappings.ErrorList
	if !errors.As(err, &list) {
		return err
	}
	for _, e := range list {
		fmt.Fprintln(w, e.Error())
	}
	return errProblems{len(list)}
}

func mappingValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE|DIR...",
		Short: "Check mapping files without contacting Salesforce or Jira; exit 1 on any problem",
		Long: `validate loads each file (or every *.yaml / *.yml file of each directory) with the same
checks the worker runs at start: keys, types, directions, owners, conflict policies, limits,
defaults, scopes and status maps. Each problem is printed as file:line:col: message (fix: …).
Checks that need the live schemas (fields exist, workflow paths, permissions) are done by
'sfjira preflight'.`,
		Example: "  sfjira mapping validate mappings/default/opportunity-epic.yaml\n  sfjira mapping validate mappings/",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ms, err := loadMappingPaths(args)
			if err != nil {
				return printProblems(cmd.OutOrStdout(), err)
			}
			for _, m := range ms {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (pair %s, %d fields, version %s)\n", m.File, m.Pair, len(m.Fields), m.Version)
			}
			return nil
		},
	}
}

func mappingDocCmd() *cobra.Command {
	var outPath string
	cmd := &cobra.Command{
		Use:   "doc [FILE|DIR...]",
		Short: "Print the data dictionary (Markdown) of mapping files; default: the built-in pack",
		Long: `doc renders every field of every pair: the Salesforce field and the Jira field, the mapping
type with the Salesforce types and the Jira schema it fits, direction, owner, conflict policy,
required/default, length and precision limits, and the status value map. Invalid files are
reported like 'sfjira mapping validate' and nothing is printed.`,
		Example: "  sfjira mapping doc mappings/default > docs/data-dictionary.md",
		RunE: func(cmd *cobra.Command, args []string) error {
			ms, err := loadMappingPaths(args)
			if err != nil {
				return printProblems(cmd.ErrOrStderr(), err)
			}
			doc := mappings.Dictionary(ms)
			if outPath != "" {
				return os.WriteFile(outPath, []byte(doc), 0o644)
			}
			_, err = io.WriteString(cmd.OutOrStdout(), doc)
			return err
		},
	}
	cmd.Flags().StringVarP(&outPath, "output", "o", "", "write the Markdown to this file instead of stdout")
	return cmd
}
