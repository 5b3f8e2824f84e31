package mappings

import (
	"embed"
	"io/fs"
)

//go:embed default/*.yaml
var defaultFS embed.FS

// DefaultFS is the default mapping pack compiled into the binaries, so `make demo` and a
// first install work without a mappings directory.
var DefaultFS fs.FS = defaultFS

// LoadDefault loads the embedded default mapping pack (files named default/<name>.yaml).
func LoadDefault() ([]*Mapping, error) { return LoadFS(DefaultFS, "default") }
