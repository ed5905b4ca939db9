package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/corpus"
)

var synth struct {
	once sync.Once
	data []byte
	err  error
}

// synthStream is the 10,002-document stream of ../shared/bench/synth.py 3334:
// a third ConfigMaps, a third Deployments, a third LoadBalancer Services.
func synthStream(b *testing.B) []byte {
	synth.once.Do(func() {
		script := filepath.Join(filepath.Dir(corpus.Dir(b)), "bench", "synth.py")
		synth.data, synth.err = exec.Command("python3", script, "3334").Output()
	})
	if synth.err != nil {
		b.Fatalf("synth.py: %v", synth.err)
	}
	return synth.data
}

// BenchmarkRender is graceful on the synthetic stream, as in the issue:
// --profile generic-http --provider aws.
func BenchmarkRender(b *testing.B) {
	in := synthStream(b)
	r, err := New(Options{Profile: "generic-http", Providers: []string{"aws"}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		out, report, err := r.RenderStream(in)
		if err != nil {
			b.Fatal(err)
		}
		if report.Changed != 6668 {
			b.Fatalf("changed %d documents, want 6668", report.Changed)
		}
		_ = out
	}
}

// BenchmarkDecodeBaseline is the floor graceful is measured against: yaml.v3
// decodes every document to a node tree, and the bytes are copied out.
func BenchmarkDecodeBaseline(b *testing.B) {
	in := synthStream(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		dec := yaml.NewDecoder(bytes.NewReader(in))
		docs := 0
		for {
			var n yaml.Node
			if err := dec.Decode(&n); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			docs++
		}
		if docs != 10002 {
			b.Fatalf("decoded %d documents", docs)
		}
		out := make([]byte, len(in))
		copy(out, in)
	}
}

// BenchmarkRenderCorpus renders the largest real chart, mostly untouched.
func BenchmarkRenderCorpus(b *testing.B) {
	in, err := os.ReadFile(filepath.Join(corpus.Dir(b), "kube-prometheus-stack-chart.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	r, _ := New(Options{Profile: "generic-http", Providers: []string{"aws"}})
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, _, err := r.RenderStream(in); err != nil {
			b.Fatal(err)
		}
	}
}

// joinStream is n LoadBalancer Services and n Deployments whose pods all
// share one label (which sorts first): each Service selects {a-team: x, app: i}, or with
// sameSelector only {a-team: x}.
func joinStream(n int, sameSelector bool) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "---\nkind: Deployment\nmetadata: {name: d%d}\nspec:\n  template:\n    metadata:\n      labels: {a-team: x, app: a%d}\n    spec:\n      containers:\n      - name: c\n        image: c\n", i, i)
	}
	for i := 0; i < n; i++ {
		selector := fmt.Sprintf("{a-team: x, app: a%d}", i)
		if sameSelector {
			selector = "{a-team: x}"
		}
		fmt.Fprintf(&b, "---\nkind: Service\nmetadata: {name: s%d}\nspec:\n  type: LoadBalancer\n  selector: %s\n", i, selector)
	}
	return b.Bytes()
}

// BenchmarkServiceJoin is 20,000 Services joined to 20,000 workloads.
func BenchmarkServiceJoin(b *testing.B) {
	for _, same := range []bool{false, true} {
		in := joinStream(20000, same)
		b.Run(fmt.Sprintf("sameSelector=%v", same), func(b *testing.B) {
			r, _ := New(Options{Profile: "generic-http", Providers: []string{"aws"}})
			for b.Loop() {
				if _, _, err := r.RenderStream(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRunFunction is the synthetic stream as a ResourceList's items.
func BenchmarkRunFunction(b *testing.B) {
	in := asResourceList(synthStream(b))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var out bytes.Buffer
		if err := RunFunction(bytes.NewReader(in), &out, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
