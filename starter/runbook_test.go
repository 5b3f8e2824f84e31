package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRunbookCommandsExist checks that every `sfjira …` command the runbook tells an operator to
// run is a real command of this CLI, so the runbook cannot drift from the code.
func TestRunbookCommandsExist(t *testing.T) {
	b, err := os.ReadFile("../docs/runbook.md")
	require.NoError(t, err)
	re := regexp.MustCompile("(?m)(?:`|^)sfjira ([a-z]+(?: [a-z]+)?)")
	seen := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		seen[m[1]] = true
	}
	for _, must := range []string{"dlq list", "dlq show", "dlq replay", "conflicts list", "conflicts resolve", "status", "pause", "resume", "debug replay"} {
		found := false
		for s := range seen {
			if s == must || strings.HasPrefix(s, must+" ") {
				found = true
			}
		}
		require.True(t, found, "the runbook never tells operators to run `sfjira %s`", must)
	}
	for cmd := range seen {
		words := strings.Fields(cmd)
		// "sfjira status shows …": keep only the words that name commands.
		path := []string{}
		for _, w := range words {
			var out, errb bytes.Buffer
			args := append(append([]string{}, path...), w, "--help")
			if executeTo(args, &out, &errb) != 0 || !strings.Contains(out.String(), "sfjira "+strings.Join(append(path, w), " ")) {
				break
			}
			path = append(path, w)
		}
		require.NotEmpty(t, path, "docs/runbook.md mentions `sfjira %s`, which is not a command", cmd)
	}
}
