package transformers

import (
	"regexp"
	"sync"
)

// lazyRegexp compiles expr on first use. Compiled at init, this package's
// patterns cost every process 0.2 ms at start, --version and renders that
// read no hook or setting too.
func lazyRegexp(expr string) func() *regexp.Regexp {
	lazyPatterns = append(lazyPatterns, expr)
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// lazyPatterns are every lazyRegexp's, for the test that compiles them: a
// bad one fails the tests, as it failed every process at init.
var lazyPatterns []string
