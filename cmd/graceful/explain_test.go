package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graceful-dev/graceful/internal/corpus"
	"github.com/graceful-dev/graceful/timeline"
)

// TestExplainGolden runs every case in testdata/explain/<case>/ through
// `graceful explain` with its args, once per output: expected.txt,
// expected.json and expected.svg. The JSON must decode into the documented
// schema, the SVG must parse as XML; both are checked besides the bytes.
func TestExplainGolden(t *testing.T) {
	dirs, err := filepath.Glob("../../testdata/explain/*/input.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no explain cases found: %v", err)
	}
	for _, in := range dirs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			input := readFile(t, in)
			args := caseArgs(dir, "explain")
			if _, err := os.Stat(filepath.Join(dir, "error.txt")); err == nil {
				// A manifest explain cannot read fails as render and check
				// fail on it: exit 2, an error naming file and document.
				_, _, err := execute(input, args...)
				if err == nil {
					t.Fatalf("graceful %s: no error", strings.Join(args, " "))
				}
				compareGolden(t, filepath.Join(dir, "error.txt"), fmt.Sprintf("exit %d: %v\n", exitCode(err), err))
				return
			}
			for _, format := range []string{"txt", "json", "svg"} {
				output := map[string]string{"txt": "text"}[format]
				if output == "" {
					output = format
				}
				stdout, stderr, err := execute(input, append(args, "--output", output)...)
				if err != nil {
					t.Fatalf("graceful %s --output %s: %v\n%s", strings.Join(args, " "), output, err, stderr)
				}
				compareGolden(t, filepath.Join(dir, "expected."+format), stdout)
				switch format {
				case "json":
					var rep timeline.Report
					dec := json.NewDecoder(strings.NewReader(stdout))
					dec.DisallowUnknownFields()
					if err := dec.Decode(&rep); err != nil || rep.Kind != timeline.ReportKind || len(rep.Workloads) == 0 {
						t.Errorf("JSON does not decode into the schema (%v): kind %q, %d workloads", err, rep.Kind, len(rep.Workloads))
					}
				case "svg":
					if err := checkSVG(stdout); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
}

// checkSVG parses the picture as XML and wants an <svg> root in the SVG namespace.
func checkSVG(s string) error {
	dec := xml.NewDecoder(strings.NewReader(s))
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if el, ok := tok.(xml.StartElement); ok && root == "" {
			root = el.Name.Space + " " + el.Name.Local
		}
	}
	if root != "http://www.w3.org/2000/svg svg" {
		return errors.New("the root element is " + root + ", not svg")
	}
	return nil
}

func TestExplainFlags(t *testing.T) {
	_, _, err := execute("", "explain", "--output", "yaml")
	if err == nil || !strings.Contains(err.Error(), "want text, json or svg") {
		t.Errorf("--output yaml: %v", err)
	}
	// The config's provider counts as --provider does: an unannotated load
	// balancer has that provider's default drain (off).
	config := filepath.Join(t.TempDir(), "graceful.yaml")
	if err := os.WriteFile(config, []byte("apiVersion: graceful.dev/v1alpha1\nkind: GracefulShutdown\nmetadata: {name: g}\nspec: {provider: aws}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	nginx := readFile(t, "../../testdata/explain/nginx/input.yaml")
	if out, _, err := execute(nginx, "explain", "--as-is", "--profile", "nginx", "--config", config); err != nil || !strings.Contains(out, "load balancer web: aws, drain off") {
		t.Errorf("provider from the config: %v\n%s", err, out)
	}
	// The same bytes every run: maps and sorting must not leak into the picture.
	input := readFile(t, "../../testdata/explain/conflicts/input.yaml")
	first, _, _ := execute(input, "explain", "--as-is", "--profile", "auto", "--output", "svg")
	for i := 0; i < 5; i++ {
		again, _, _ := execute(input, "explain", "--as-is", "--profile", "auto", "--output", "svg")
		if !bytes.Equal([]byte(first), []byte(again)) {
			t.Fatal("two runs drew different bytes")
		}
	}
}

// TestExplainDocsPictures: the pictures in docs/ are what explain draws for
// examples/explain/shop.yaml today (-update redraws them).
func TestExplainDocsPictures(t *testing.T) {
	input := readFile(t, "../../examples/explain/shop.yaml")
	for file, args := range map[string][]string{
		"../../docs/explain-as-is.svg": {"--as-is"},
		"../../docs/explain.svg":       nil,
	} {
		args = append([]string{"explain", "--profile", "auto", "--provider", "aws", "-o", "svg"}, args...)
		stdout, _, err := execute(input, args...)
		if err != nil {
			t.Fatal(err)
		}
		compareGolden(t, file, stdout)
	}
}

// TestExplainRenderedIsAsIsOfTheOutput: explaining "after render" is the
// same as explaining render's output as it stands: events, conflicts and
// containers agree for every golden case.
func TestExplainRenderedIsAsIsOfTheOutput(t *testing.T) {
	dirs, _ := filepath.Glob("../../testdata/explain/*/input.yaml")
	for _, in := range dirs {
		dir := filepath.Dir(in)
		data, _ := os.ReadFile(filepath.Join(dir, "args"))
		args := strings.Fields(string(data))
		if _, err := os.Stat(filepath.Join(dir, "error.txt")); err == nil || slices.Contains(args, "--as-is") {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			input := readFile(t, in)
			// explain's default is check's, --profile auto; render's is none.
			rendered, _, err := execute(input, append([]string{"render", "--profile=auto"}, args...)...)
			if err != nil {
				t.Fatal(err)
			}
			after := explainJSON(t, input, args...)
			asIs := explainJSON(t, rendered, append(args, "--as-is")...)
			if len(after.Workloads) != len(asIs.Workloads) {
				t.Fatalf("%d workloads after render, %d in its output", len(after.Workloads), len(asIs.Workloads))
			}
			for i, a := range after.Workloads {
				b := asIs.Workloads[i]
				if diff := cmp.Diff([]any{a.Events, a.Conflicts, a.Containers, a.LoadBalancers, a.Sidecar}, []any{b.Events, b.Conflicts, b.Containers, b.LoadBalancers, b.Sidecar}); diff != "" {
					t.Errorf("%s differs (-after render +as-is of the output):\n%s", a.Name, diff)
				}
			}
		})
	}
}

func explainJSON(t *testing.T, input string, args ...string) *timeline.Report {
	t.Helper()
	out, _, err := execute(input, append(append([]string{"explain"}, args...), "-o", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	var rep timeline.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}

// TestExplainCorpus: explain reads every chart of the corpus, after render
// and as it stands, and what it says holds together: events in time order,
// every container signalled before SIGKILL, SIGKILL no sooner than the grace
// period, only GS3xx codes, and a picture that parses.
func TestExplainCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpus.Dir(t), "*.yaml"))
	for _, f := range files {
		for _, mode := range []string{"rendered", "as-is"} {
			t.Run(filepath.Base(f)+"/"+mode, func(t *testing.T) {
				args := []string{"--profile", "auto", "--provider", "aws", f}
				if mode == "as-is" {
					args = append(args, "--as-is")
				}
				rep := explainJSON(t, "", args...)
				for _, w := range rep.Workloads {
					for i := 1; i < len(w.Events); i++ {
						if w.Events[i].AtSeconds < w.Events[i-1].AtSeconds {
							t.Errorf("%s: events out of order: %+v", w.Name, w.Events)
						}
					}
					for _, c := range w.Containers {
						if c.Signal.AtSeconds > c.KillSeconds || c.KillSeconds < w.GraceSeconds || c.StopsBySeconds > c.KillSeconds {
							t.Errorf("%s/%s: signal %d, SIGKILL %d, stops by %d, grace %d", w.Name, c.Name, c.Signal.AtSeconds, c.KillSeconds, c.StopsBySeconds, w.GraceSeconds)
						}
					}
					for _, c := range w.Conflicts {
						if !strings.HasPrefix(c.Code, "GS30") {
							t.Errorf("%s: code %s", w.Name, c.Code)
						}
					}
				}
				svg, _, err := execute("", append([]string{"explain", "-o", "svg"}, args...)...)
				if err != nil {
					t.Fatal(err)
				}
				if err := checkSVG(svg); err != nil {
					t.Error(err)
				}
			})
		}
	}
}
