package audit

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graceful-dev/graceful/internal/corpus"
	"github.com/graceful-dev/graceful/render"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus-summary.txt")

// TestCorpus checks every corpus chart as a user would (--profile auto,
// --provider aws) and keeps the findings per chart in
// testdata/corpus-summary.txt, so that a change in what check reports on
// real charts shows in review. After graceful render with the same options,
// no profiled object may still have a finding that render fixes.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpus.Dir(t), "*.yaml"))
	if len(files) == 0 {
		t.Fatal("corpus has no files")
	}
	opts := Options{Render: render.Options{Profile: "auto", Providers: []string{"aws"}}}
	var summary strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		report, err := Check([]render.Input{{Name: filepath.Base(f), Data: data}}, opts)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		fmt.Fprintf(&summary, "%s: %d objects; %s\n", filepath.Base(f), report.Objects, countByCode(report))
		for _, res := range report.Results {
			for _, fd := range res.Findings {
				fmt.Fprintf(&summary, "  %s %s %s %s\n", fd.Code, fd.Severity, res.Ref.Kind, res.Ref.QualifiedName())
			}
		}

		r, err := render.New(opts.Render)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := r.Render([]render.Input{{Name: filepath.Base(f), Data: data}})
		if err != nil {
			t.Fatal(err)
		}
		after, err := Check([]render.Input{{Name: filepath.Base(f), Data: out[0].Bytes()}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range after.Results {
			if len(res.Fix.Changes) > 0 {
				t.Errorf("%s: %s %s: render is not idempotent by check's account: %v", f, res.Ref.Kind, res.Ref.Name, res.Fix.Changes)
			}
			for _, fd := range res.Findings {
				// render fixes these wherever it applies a profile or drains a Service.
				applied := res.Fix.Profile != ""
				if applied && strings.Contains("GS202 GS203 GS210", fd.Code) {
					t.Errorf("%s: %s %s still has %s after render: %s", f, res.Ref.Kind, res.Ref.Name, fd.Code, fd.Message)
				}
			}
		}
	}
	path := filepath.Join("testdata", "corpus-summary.txt")
	if *update {
		if err := os.WriteFile(path, []byte(summary.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), summary.String()); diff != "" {
		t.Errorf("corpus findings changed (-want +got); read them, then go test ./audit -update:\n%s", diff)
	}
}

func countByCode(r *Report) string {
	counts := map[string]int{}
	for _, res := range r.Results {
		for _, f := range res.Findings {
			counts[f.Code+" "+string(f.Severity)]++
		}
	}
	if len(counts) == 0 {
		return "no findings"
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}
