// Package corpus finds ../shared/corpus beside the repository: real
// rendered charts that the render, check and explain tests run over.
package corpus

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Find is the corpus directory, or "" where it is missing (a test fails
// there in CI, where the corpus must be).
func Find(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus missing in CI: %v", err)
		}
		return ""
	}
	return dir
}

// Dir is the corpus directory; the test is skipped where it is missing.
func Dir(t testing.TB) string {
	dir := Find(t)
	if dir == "" {
		t.Skip("corpus not found beside the repository (../shared/corpus)")
	}
	return dir
}
