package profiles

import (
	"os"
	"testing"
)

// BenchmarkBuiltin is the cost of the built-in catalog, which every process
// that needs a profile pays once.
func BenchmarkBuiltin(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		builtinCatalog()
	}
}

// BenchmarkBuiltinYAML is what decoding and checking builtin/*.yaml costs,
// as every process did before builtin_table.go.
func BenchmarkBuiltinYAML(b *testing.B) {
	b.ReportAllocs()
	fsys := os.DirFS("builtin")
	for b.Loop() {
		if _, err := loadBuiltinFiles(fsys); err != nil {
			b.Fatal(err)
		}
	}
}
