package patches

import (
	"os"
	"testing"

	"github.com/graceful-dev/graceful/render"
)

// BenchmarkGenerate: GRACEFUL_BENCH_STREAM names a large stream (e.g. the
// output of ../shared/bench/synth.py 3334).
func BenchmarkGenerate(b *testing.B) {
	path := os.Getenv("GRACEFUL_BENCH_STREAM")
	if path == "" {
		b.Skip("GRACEFUL_BENCH_STREAM is not set")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	r, err := render.New(render.Options{Profile: "generic-http", Providers: []string{"aws"}})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := Generate(r, []render.Input{{Data: data}}); err != nil {
			b.Fatal(err)
		}
	}
}
