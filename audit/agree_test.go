package audit_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/graceful-dev/graceful/audit"
	"github.com/graceful-dev/graceful/explain"
	"github.com/graceful-dev/graceful/internal/corpus"
	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/timeline"
	"github.com/graceful-dev/graceful/transformers"
)

// sameConcept maps explain's timing conflicts to check's codes for the same
// knowledge: check's finding and explain's conflict must come together.
var sameConcept = map[string]string{
	timeline.CodeGraceShort:     "GS202",
	timeline.CodeMeshDrainShort: "GS210",
}

// brokenHook reads the container of check's finding on a preStop hook
// that does not do what it reads as (GS205-GS207).
var brokenHook = regexp.MustCompile(`\.containers\[name=([^\]]*)\]\.lifecycle\.preStop`)

// TestCheckAgreesWithExplain: on every golden input and the corpus, each
// timing conflict `graceful explain --as-is` reports is a check finding on
// the same object, and each such check finding is an explain conflict; and
// each hook explain does not count on (GS306) is one check finds broken
// (a warning or an error, not a doubt), and the reverse.
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
				if c.Code == timeline.CodeBroken && c.Container != "" {
					fromExplain[objectCode(tl.Kind, tl.Namespace, tl.Name, "broken hook "+c.Container)] = true
				}
			}
		}
		idle := map[string]bool{}
		for _, w := range report.Workloads {
			idle[objectCode(w.Ref.Kind, w.Ref.Namespace, w.Ref.Name, "")] = w.Idle != ""
		}
		fromCheck := map[string]bool{}
		for _, res := range report.Results {
			for _, fd := range res.Findings {
				if slices.Contains([]string{"GS202", "GS210"}, fd.Code) {
					fromCheck[objectCode(res.Ref.Kind, res.Ref.Namespace, res.Ref.Name, fd.Code)] = true
				}
				m := brokenHook.FindStringSubmatch(fd.Field)
				if slices.Contains([]string{"GS205", "GS206", "GS207"}, fd.Code) && m != nil && fd.Severity != transformers.Info &&
					!idle[objectCode(res.Ref.Kind, res.Ref.Namespace, res.Ref.Name, "")] {
					fromCheck[objectCode(res.Ref.Kind, res.Ref.Namespace, res.Ref.Name, "broken hook "+m[1])] = true
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
	t.Logf("%d inputs, %d timing conflicts and broken hooks compared", len(files), compared)
}

func objectCode(kind, namespace, name, code string) string {
	return kind + " " + namespace + "/" + name + " " + code
}

// TestCheckReportsExplainsSignalsAndDrains: each GS305 (fast stop) explain
// --as-is reports is a GS213, GS212 or GS208 on the same workload, and each
// GS213 a GS305; each GS301 (load balancer drain off or too short) is a
// GS203 or GS204 on the Service it names.
func TestCheckReportsExplainsSignalsAndDrains(t *testing.T) {
	files, _ := filepath.Glob("../testdata/check/*/input.yaml")
	more, _ := filepath.Glob("../testdata/explain/*/input.yaml")
	files = append(files, more...)
	if dir := corpus.Find(t); dir != "" {
		found, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		files = append(files, found...)
	}
	compared := map[string]int{}
	for _, providers := range [][]string{{"aws"}, {"aws-lbc"}} {
		opts := audit.Options{Render: render.Options{Profile: "auto", Providers: providers}}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(data), "kind: ResourceList") {
				continue
			}
			inputs := []render.Input{{Name: filepath.Base(f), Data: data}}
			report, err := audit.Check(inputs, opts)
			if err != nil {
				continue
			}
			explained, err := explain.Run(explain.Options{Render: opts.Render, AsIs: true}, inputs)
			if err != nil {
				t.Fatalf("%s: explain: %v", f, err)
			}
			codes := map[string][]string{}
			for _, res := range report.Results {
				k := res.Ref.Kind + " " + res.Ref.Namespace + "/" + res.Ref.Name
				for _, fd := range res.Findings {
					codes[k] = append(codes[k], fd.Code)
				}
			}
			fastStops := map[string]bool{}
			for _, tl := range explained.Workloads {
				k := tl.Kind + " " + tl.Namespace + "/" + tl.Name
				for _, c := range tl.Conflicts {
					switch c.Code {
					case timeline.CodeFastStop:
						compared[c.Code]++
						fastStops[k] = true
						if !slices.ContainsFunc(codes[k], func(code string) bool { return code == "GS213" || code == "GS212" || code == "GS208" }) {
							t.Errorf("%s %v: explain --as-is has %s on %s, check has no GS213, GS212 or GS208", f, providers, c.Code, k)
						}
					case timeline.CodeLBDrainShort:
						compared[c.Code]++
						name, _, _ := strings.Cut(strings.TrimPrefix(c.Message, "load balancer "), " ")
						svc := "Service " + tl.Namespace + "/" + name
						if tl.Kind == "TidbCluster" {
							svc = k // its spec.tidb.service, which tidb-operator copies
						}
						if !slices.Contains(codes[svc], "GS203") && !slices.Contains(codes[svc], "GS204") {
							t.Errorf("%s %v: explain --as-is has %s on %s (%s), check has no GS203 or GS204 on %s", f, providers, c.Code, k, c.Message, svc)
						}
					}
				}
			}
			for k, cs := range codes {
				if slices.Contains(cs, "GS213") && !fastStops[k] {
					t.Errorf("%s %v: check has GS213 on %s, explain --as-is no GS305", f, providers, k)
				}
			}
		}
	}
	if compared[timeline.CodeFastStop] == 0 || compared[timeline.CodeLBDrainShort] == 0 {
		t.Errorf("compared nothing: %v", compared)
	}
	t.Logf("%d inputs, conflicts compared: %v", len(files), compared)
}
