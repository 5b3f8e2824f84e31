package catalog_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/mappings"
)

// Every code an operator can see must say what caused it and what to do.
func TestEveryEntryHasCauseAndFix(t *testing.T) {
	all := catalog.All()
	require.NotEmpty(t, all)
	upper := regexp.MustCompile(`^[A-Z][A-Z0-9_]+$`)
	for i, e := range all {
		require.Regexp(t, upper, string(e.Code))
		require.NotEmpty(t, e.Cause, e.Code)
		require.NotEmpty(t, e.Fix, e.Code)
		if i > 0 {
			require.Less(t, string(all[i-1].Code), string(e.Code), "sorted and unique")
		}
		got, ok := catalog.Lookup(e.Code)
		require.True(t, ok)
		require.Equal(t, e, got)
	}
	_, ok := catalog.Lookup("NOPE")
	require.False(t, ok)
}

// The record codes the mapping layer raises are catalog codes (dead letters carry them).
func TestMappingRecordCodesAreInTheCatalog(t *testing.T) {
	for _, c := range []string{mappings.CodeRequiredValueMissing, mappings.CodeValueUnmapped, mappings.CodeTypeMismatch,
		mappings.CodeValueTooLong, mappings.CodeUserUnknown} {
		_, ok := catalog.Lookup(catalog.Code(c))
		require.True(t, ok, c)
	}
}
