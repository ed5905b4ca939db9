package render

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/promises"
)

// The fuzz targets, one per entry point: the CLI stream (Renderer.Render,
// which Helm's post-renderer paths share), the KRM function (RunFunction) and
// the config (ParseConfig). Their seeds are every golden input; what a run
// finds is kept in testdata/fuzz/<target>/ and replayed by `go test`.

func goldenInputs(f *testing.F) [][]byte {
	files, _ := filepath.Glob("../testdata/*/input.yaml")
	var out [][]byte
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

var fuzzOptions = []Options{
	{Profile: "nginx", Providers: []string{"aws-lbc", "alibaba"}},
	{Profile: "spring-boot", Providers: []string{"aws"}, KubeVersion: "1.34", StopSignalField: true},
}

// FuzzRender: whatever the input, graceful fails cleanly or keeps its
// promises: every document in order, untouched ones byte for byte, values it
// does not own unchanged, output that parses, and a second run that changes
// nothing.
func FuzzRender(f *testing.F) {
	for _, in := range goldenInputs(f) {
		f.Add(in)
	}
	for _, in := range patchEdgeCases {
		f.Add([]byte(in))
	}
	var renderers []*Renderer
	for _, o := range fuzzOptions {
		r, err := New(o)
		if err != nil {
			f.Fatal(err)
		}
		renderers = append(renderers, r)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		defer watchdog(in)()
		for _, r := range renderers {
			before := patchesRejected.Load()
			out, _, err := r.RenderStream(in)
			if err != nil {
				continue
			}
			if err := promises.Check(in, out); err != nil {
				t.Fatal(err)
			}
			again, _, err := r.RenderStream(out)
			if err != nil {
				t.Fatalf("output does not render again: %v\n%s", err, out)
			}
			if !bytes.Equal(out, again) {
				t.Fatalf("not idempotent:\n%s\n----\n%s", out, again)
			}
			// Other line breaks than LF and CRLF are verified by design.
			if patchesRejected.Load() != before && !hasOtherLineBreaks(in) {
				t.Fatalf("a patch did not parse back:\n%s", in)
			}
		}
	})
}

// watchdog crashes the process, with every goroutine's stack, when one input
// takes more than 10 s: the fuzzer then keeps the input as a failure, where a
// hang would only stall it. The returned func stops it.
func watchdog(in []byte) func() {
	timer := time.AfterFunc(10*time.Second, func() {
		debug.SetTraceback("all")
		panic(fmt.Sprintf("one input took over 10 s:\n%q", in))
	})
	return func() { timer.Stop() }
}

// asResourceList wraps a stream's documents as a ResourceList's items.
func asResourceList(stream []byte) []byte {
	var b bytes.Buffer
	b.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n  apiVersion: graceful.dev/v1alpha1\n  kind: GracefulShutdown\n  metadata: {name: s}\n  spec: {profile: nginx, provider: aws}\nitems:\n")
	for _, doc := range promises.Split(stream) {
		lines := strings.Split(strings.TrimRight(string(doc), "\n"), "\n")
		first := true
		for _, l := range lines {
			if strings.HasPrefix(l, "---") {
				continue
			}
			if first {
				b.WriteString("- " + l + "\n")
				first = false
			} else {
				b.WriteString("  " + l + "\n")
			}
		}
	}
	return b.Bytes()
}

// FuzzRunFunction: the KRM function fails cleanly or returns a ResourceList
// with the same items, in order, each keeping its promises, and a second run
// changes no item.
func FuzzRunFunction(f *testing.F) {
	for _, in := range goldenInputs(f) {
		f.Add(asResourceList(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		defer watchdog(in)()
		var out bytes.Buffer
		before := patchesRejected.Load()
		if err := RunFunction(bytes.NewReader(in), &out, Options{}); err != nil {
			return
		}
		if os.Getenv("FUZZ_DEBUG") != "" {
			t.Logf("in:\n%s\nout:\n%s", in, out.Bytes())
		}
		inItems, outItems := krmItems(t, in), krmItems(t, out.Bytes())
		if len(inItems) != len(outItems) {
			t.Fatalf("%d items in, %d out", len(inItems), len(outItems))
		}
		for i := range inItems {
			if err := promises.SameValues(inItems[i], outItems[i]); err != nil {
				t.Fatalf("item %d: %v\n%s", i+1, err, out.Bytes())
			}
		}
		var again bytes.Buffer
		if err := RunFunction(bytes.NewReader(out.Bytes()), &again, Options{}); err != nil {
			t.Fatalf("output does not run again: %v", err)
		}
		againItems := krmItems(t, again.Bytes())
		for i := range outItems {
			if !bytes.Equal(outItems[i], againItems[i]) {
				t.Fatalf("item %d: not idempotent:\n%s\n----\n%s", i+1, outItems[i], againItems[i])
			}
		}
		if patchesRejected.Load() != before && !hasOtherLineBreaks(in) {
			t.Fatalf("a patch did not parse back:\n%s", in)
		}
	})
}

// krmItems encodes each item of a ResourceList alone.
func krmItems(t *testing.T, data []byte) [][]byte {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("not YAML: %v", err)
	}
	var items *yaml.Node
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "items" {
			items = root.Content[i+1]
		}
	}
	if items == nil || items.Kind != yaml.SequenceNode {
		return nil
	}
	var out [][]byte
	for _, item := range items.Content {
		keepNulls(item, true) // the encoder writes a flow null as ''
		b, err := yaml.Marshal(item)
		if err != nil {
			t.Fatalf("item does not encode: %v", err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzParseConfig: a config is an error or a config that New accepts.
func FuzzParseConfig(f *testing.F) {
	files, _ := filepath.Glob("../testdata/*/config.yaml")
	for _, file := range files {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	f.Add([]byte("apiVersion: graceful.dev/v1alpha1\nkind: GracefulShutdown\nspec:\n  rules:\n  - match: {kinds: [Deployment]}\n    profile: nignx\n    preStopDelaySeconds: -5\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		cfg, err := ParseConfig(in)
		if err != nil {
			return
		}
		if _, err := New(Options{Config: cfg}); err != nil && !strings.Contains(err.Error(), "stop-signal") {
			t.Fatalf("ParseConfig accepted what New rejects: %v\n%s", err, in)
		}
	})
}
