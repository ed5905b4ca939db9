package audit_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graceful-dev/graceful/audit"
	"github.com/graceful-dev/graceful/explain"
	"github.com/graceful-dev/graceful/internal/corpus"
	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/timeline"
)

// sameConcept maps explain's timing conflicts to check's codes for the same
// knowledge: check's finding and explain's conflict must come together.
var sameConcept = map[string]string{
	timeline.CodeGraceShort:     "GS202",
	timeline.CodeMeshDrainShort: "GS210",
}

// TestCheckAgreesWithExplain: on every golden input and the corpus, each
// timing conflict `graceful explain --as-is` reports is a check finding on
// the same object, and each such check finding is an explain conflict.
func TestCheckAgreesWithExplain(t *testing.T) {
	var files []string
	for _, pattern := range []string{"../testdata/*/input.yaml", "../testdata/check/*/input.yaml", "../testdata/explain/*/input.yaml"} {
		found, _ := filepath.Glob(pattern)
		files = append(files, found...)
	}
	if dir := corpus.Find(t); dir != "" {
		found, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		files = append(files, found...)
	}
	if len(files) < 50 {
		t.Fatalf("only %d inputs", len(files))
	}
	opts := audit.Options{Render: render.Options{Profile: "auto", Providers: []string{"aws"}}}
	compared := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "kind: ResourceList") {
			continue // a KRM input: its items are checked by the validator
		}
		inputs := []render.Input{{Name: filepath.Base(f), Data: data}}
		report, err := audit.Check(inputs, opts)
		if err != nil {
			continue // an input render refuses (the error-* cases)
		}
		explained, err := explain.Run(explain.Options{Render: opts.Render, AsIs: true}, inputs)
		if err != nil {
			t.Fatalf("%s: explain: %v", f, err)
		}
		fromExplain := map[string]bool{}
		for _, tl := range explained.Workloads {
			for _, c := range tl.Conflicts {
				if code, ok := sameConcept[c.Code]; ok {
					fromExplain[objectCode(tl.Kind, tl.Namespace, tl.Name, code)] = true
				}
			}
		}
		fromCheck := map[string]bool{}
		for _, res := range report.Results {
			for _, fd := range res.Findings {
				if slices.Contains([]string{"GS202", "GS210"}, fd.Code) {
					fromCheck[objectCode(res.Ref.Kind, res.Ref.Namespace, res.Ref.Name, fd.Code)] = true
				}
			}
		}
		for k := range fromExplain {
			compared++
			if !fromCheck[k] {
				t.Errorf("%s: explain --as-is has %s, check does not", f, k)
			}
		}
		for k := range fromCheck {
			if !fromExplain[k] {
				t.Errorf("%s: check has %s, explain --as-is does not", f, k)
			}
		}
	}
	if compared == 0 {
		t.Error("no timing conflict in any input: the test compares nothing")
	}
	t.Logf("%d inputs, %d timing conflicts compared", len(files), compared)
}

func objectCode(kind, namespace, name, code string) string {
	return kind + " " + namespace + "/" + name + " " + code
}
