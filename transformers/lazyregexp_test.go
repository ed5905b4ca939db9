package transformers

import (
	"regexp"
	"testing"
)

// TestLazyPatterns: every pattern compiled on first use compiles.
func TestLazyPatterns(t *testing.T) {
	if len(lazyPatterns) == 0 {
		t.Fatal("no patterns registered")
	}
	for _, expr := range lazyPatterns {
		if _, err := regexp.Compile(expr); err != nil {
			t.Error(err)
		}
	}
}
