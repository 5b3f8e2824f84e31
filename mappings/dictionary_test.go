package mappings

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultDataDictionaryIsCurrent keeps the checked-in data dictionary of the default pack
// equal to what `sfjira mapping doc` prints for it; regenerate with
// `go run ./starter mapping doc -o mappings/default/DATA-DICTIONARY.md`.
func TestDefaultDataDictionaryIsCurrent(t *testing.T) {
	ms, err := LoadDefault()
	require.NoError(t, err)
	want, err := os.ReadFile("default/DATA-DICTIONARY.md")
	require.NoError(t, err)
	assert.Equal(t, string(want), Dictionary(ms), "regenerate: go run ./starter mapping doc -o mappings/default/DATA-DICTIONARY.md")
}
