package mappings

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBrokenCorpus loads every file of testdata/broken and asserts that the problems reported
// are exactly the `# want: line:col: message (fix: …)` lines at the end of the file, in order:
// each mistake an admin can make is named at its position with a fix, and nothing else is.
func TestBrokenCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "broken", "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 30, "the broken-mapping corpus must hold at least 30 files")
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			var want []string
			for _, line := range strings.Split(string(data), "\n") {
				if w, ok := strings.CutPrefix(line, "# want: "); ok {
					want = append(want, file+":"+w)
				}
			}
			require.NotEmpty(t, want, "%s has no `# want:` lines", file)
			m, err := LoadFile(file)
			require.Error(t, err, "%s must not load", file)
			assert.Nil(t, m)
			var list ErrorList
			require.True(t, errors.As(err, &list), "want an ErrorList, got %T", err)
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
				assert.NotEmpty(t, e.Fix, "every problem carries a fix: %s", e)
				assert.Positive(t, e.Line, "every problem carries a line: %s", e)
			}
			assert.Equal(t, want, got)
		})
	}
}
