package render

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/graceful-dev/graceful/internal/corpus"
	"github.com/graceful-dev/graceful/transformers"
)

// TestEveryFindingHasACode renders the golden cases and the corpus and
// checks that every finding and notice carries a code of the table.
func TestEveryFindingHasACode(t *testing.T) {
	known := map[string]bool{}
	for _, c := range transformers.Codes {
		known[c.Code] = true
	}
	seen := map[string]bool{}
	check := func(t *testing.T, rep *Report) {
		t.Helper()
		for _, f := range rep.Notices {
			if !known[f.Code] {
				t.Errorf("notice without a known code %q: %s", f.Code, f.Message)
			}
			seen[f.Code] = true
		}
		for _, e := range rep.Entries {
			for _, f := range e.Findings {
				if !known[f.Code] {
					t.Errorf("%s: finding without a known code %q: %s: %s", e.Ref, f.Code, f.Field, f.Message)
				}
				seen[f.Code] = true
			}
		}
	}
	cases, _ := filepath.Glob("../testdata/*/input.yaml")
	if len(cases) == 0 {
		t.Fatal("no golden cases")
	}
	for _, in := range cases {
		dir := filepath.Dir(in)
		opts, ok := goldenOptions(t, dir)
		if !ok {
			continue
		}
		r, err := New(opts)
		if err != nil {
			continue // a case about a bad flag
		}
		data, _ := os.ReadFile(in)
		if _, rep, err := r.RenderStream(data); err == nil {
			check(t, rep)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(corpus.Dir(t), "*.yaml")); len(files) > 0 {
		for _, opts := range corpusOptions {
			r, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				data, _ := os.ReadFile(f)
				if _, rep, err := r.RenderStream(data); err == nil {
					check(t, rep)
				}
			}
		}
	}
	var missing []string
	for c := range known {
		if !seen[c] {
			missing = append(missing, c)
		}
	}
	sort.Strings(missing)
	t.Logf("%d of %d codes seen; not in the golden cases or corpus: %s", len(seen), len(known), strings.Join(missing, " "))
}

// goldenOptions reads a golden case's args and config.yaml as the command
// would; ok is false for a case whose flags are not render's options.
func goldenOptions(t *testing.T, dir string) (Options, bool) {
	var opts Options
	if data, err := os.ReadFile(filepath.Join(dir, "config.yaml")); err == nil {
		cfg, err := ParseConfig(data)
		if err != nil {
			return opts, false
		}
		opts.Config = cfg
	}
	data, _ := os.ReadFile(filepath.Join(dir, "args"))
	for _, arg := range strings.Fields(string(data)) {
		name, value, _ := strings.Cut(arg, "=")
		switch name {
		case "--profile":
			opts.Profile = value
		case "--provider":
			opts.Providers = append(opts.Providers, strings.Split(value, ",")...)
		case "--kube-version":
			opts.KubeVersion = value
		case "--stop-signal-field":
			opts.StopSignalField = true
		case "--replace-prestop":
			opts.ReplacePreStop = true
		case "--strict", "render":
		default:
			return opts, false
		}
	}
	return opts, true
}
