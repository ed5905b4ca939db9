package render

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/graceful-dev/graceful/internal/promises"
)

func TestSplitKeepsEveryByte(t *testing.T) {
	for name, in := range map[string]string{
		"empty":                "",
		"no separator":         "a: 1\n",
		"leading separator":    "---\na: 1\n---\nb: 2\n",
		"no final newline":     "a: 1\n---\nb: 2",
		"comments between":     "# head\n---\n# only a comment\n---\n---\nb: 2\n",
		"marker with content":  "--- # note\na: 1\n--- !!map\nb: 2\n",
		"crlf":                 "a: 1\r\n---\r\nb: 2\r\n",
		"dashes not separator": "a: |\n  ---\n  x\nb: ----\n",
	} {
		docs := splitDocuments(Input{Data: []byte(in)}, 1)
		var joined []byte
		for _, d := range docs {
			joined = append(joined, d.Raw...)
		}
		if string(joined) != in {
			t.Errorf("%s: split lost bytes: %q", name, joined)
		}
	}
	docs := splitDocuments(Input{Data: []byte("# c\n---\n# Source: chart/templates/a.yaml\na: 1\n---\nb: 2\n")}, 1)
	if len(docs) != 3 || docs[1].Source != "chart/templates/a.yaml" || docs[1].line != 2 || docs[2].Index != 3 {
		t.Errorf("docs: %+v", docs)
	}
}

// TestErrorsNameTheDocument: bad input fails with the document's index,
// source and kind/name, and nothing is written.
func TestErrorsNameTheDocument(t *testing.T) {
	r, _ := New(Options{Profile: "nginx"})
	for name, c := range map[string]struct{ in, want string }{
		"not yaml":        {"a: 1\n---\n# Source: c/templates/x.yaml\nb: [\n", "document 2 (c/templates/x.yaml): not valid YAML"},
		"scalar document": {"a: 1\n---\njust text\n", "document 2: a document must be an object"},
		"list item":       {"kind: List\nitems:\n- 3\n", "document 1 item 1"},
		"bad template":    {"kind: Deployment\nmetadata: {name: w}\nspec:\n  template: [1]\n", "document 1 Deployment w: spec.template: expected a pod template"},
		"bad lifecycle":   {"kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: nginx\n    lifecycle: [1]\n", "document 1 Pod p: spec.containers[name=a].lifecycle: expected a mapping"},
		"bad grace":       {"kind: Pod\nmetadata: {name: p}\nspec:\n  terminationGracePeriodSeconds: soon\n  containers: [{name: a, image: nginx}]\n", `terminationGracePeriodSeconds: expected an integer, found "soon"`},
	} {
		out, _, err := r.RenderStream([]byte(c.in))
		var docErr *DocumentError
		if !errors.As(err, &docErr) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
		if out != nil {
			t.Errorf("%s: output despite the error", name)
		}
	}
}

func TestInputsRenderTogether(t *testing.T) {
	r, _ := New(Options{Profile: "generic-http", Providers: []string{"aws"}})
	svc := Input{Name: "svc.yaml", Data: []byte("kind: Service\nmetadata: {name: web}\nspec:\n  type: LoadBalancer\n  selector: {app: web}\n")}
	deploy := Input{Name: "deploy.yaml", Data: []byte("kind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: a, image: a}]\n")}
	cm := Input{Name: "cm.yaml", Data: []byte("kind: ConfigMap\nmetadata: {name: c}\n")}
	out, report, err := r.Render([]Input{svc, deploy, cm})
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Changed || !out[1].Changed || out[2].Changed || !bytes.Equal(out[2].Bytes(), cm.Data) {
		t.Errorf("changed: %v %v %v", out[0].Changed, out[1].Changed, out[2].Changed)
	}
	if !strings.Contains(string(out[0].Bytes()), "aws-load-balancer-connection-draining-timeout") {
		t.Errorf("service in one file not drained for a deployment in another:\n%s", out[0].Bytes())
	}
	if report.Documents != 3 || report.Changed != 2 || report.Entries[1].Ref.File != "deploy.yaml" {
		t.Errorf("report %+v", report)
	}
}

func TestNewRejects(t *testing.T) {
	for name, opts := range map[string]Options{
		"unknown profile":        {Profile: "nignx"},
		"unknown provider":       {Providers: []string{"ibm"}},
		"bad version":            {KubeVersion: "latest"},
		"stop signal too early":  {StopSignalField: true, KubeVersion: "1.32"},
		"config unknown profile": {Config: &Config{Spec: ConfigSpec{Profile: "x"}}},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestLongStream crosses the decoder restarts: every document of a long stream
// comes out as it does alone, and an error deep in it names the right line.
func TestLongStream(t *testing.T) {
	r, _ := New(Options{Profile: "nginx", Providers: []string{"alibaba"}})
	one := "---\n# Source: c/templates/d.yaml\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: nginx    # main\n          image:   nginx\n"
	alone, _, err := r.RenderStream([]byte(one))
	if err != nil {
		t.Fatal(err)
	}
	const n = 3*restartEvery + 7
	in := strings.Repeat(one, n)
	out, report, err := r.RenderStream([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if report.Changed != n || string(out) != strings.Repeat(string(alone), n) {
		t.Fatalf("changed %d of %d; the long stream differs from its documents rendered alone", report.Changed, n)
	}
	bad := in + "---\nkind: ConfigMap\ndata: [\n"
	_, _, err = r.RenderStream([]byte(bad))
	lines := strings.Count(in, "\n")
	if err == nil || !strings.Contains(err.Error(), "document "+strconv.Itoa(n+1)+":") || !strings.Contains(err.Error(), "line "+strconv.Itoa(lines+3)) {
		t.Errorf("error %v, want document %d and line %d", err, n+1, lines+3)
	}
}

// TestNewValidatesConfig: a Config built in Go is checked as a file is.
func TestNewValidatesConfig(t *testing.T) {
	delay := -5
	for name, rule := range map[string]Rule{
		"unknown profile": {Profile: "nignx"},
		"negative delay":  {Profile: "nginx", PreStopDelaySeconds: &delay},
	} {
		cfg := &Config{Spec: ConfigSpec{Rules: []Rule{rule}}}
		if _, err := New(Options{Config: cfg}); err == nil {
			t.Errorf("%s: New accepted %+v", name, rule)
		}
	}
	if _, err := New(Options{Config: &Config{Spec: ConfigSpec{Rules: []Rule{{Profile: "nginx"}}}}}); err != nil {
		t.Errorf("a valid rule: %v", err)
	}
}

// TestErrorsNumberedPerInput: a document is numbered within its own file, and
// an error in the first document of a stream is not blamed on a later one.
func TestErrorsNumberedPerInput(t *testing.T) {
	r, _ := New(Options{Profile: "nginx"})
	_, _, err := r.Render([]Input{
		{Name: "a.yaml", Data: []byte("a: 1\n---\nb: 2\n---\nc: 3\n")},
		{Name: "b.yaml", Data: []byte("kind: Pod\nmetadata: {name: p}\nspec: [1]\n")},
	})
	if err == nil || !strings.HasPrefix(err.Error(), "document 1 of b.yaml") {
		t.Errorf("error %v, want document 1 of b.yaml", err)
	}
	_, _, err = r.RenderStream([]byte("a: \x01\n---\nb: 2\n---\nc: 3\n")) // no line in the message
	if err == nil || !strings.HasPrefix(err.Error(), "document 1:") {
		t.Errorf("error %v, want document 1", err)
	}
}

// TestPatchesEdgeCases: where an entry ends is found, not guessed, for
// values whose lines look like something else; no patch is rejected by the
// verification (each rejection is a patcher bug the re-encoding hides).
func TestPatchesEdgeCases(t *testing.T) {
	// A rule's grace period is written even where it is the default: the
	// field goes after the pod spec's last entry, the hard place.
	grace := 30
	r, err := New(Options{Config: &Config{Spec: ConfigSpec{Rules: []Rule{{Profile: "nginx", TerminationGracePeriodSeconds: &grace}}}}})
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range patchEdgeCases {
		before := patchesRejected.Load()
		out, _, err := r.RenderStream([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := promises.Check([]byte(in), out); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !strings.Contains(string(out), "preStop") || !strings.Contains(string(out), "terminationGracePeriodSeconds: 30") {
			t.Errorf("%s: not changed:\n%s", name, out)
		}
		if patchesRejected.Load() != before {
			t.Errorf("%s: the patch was rejected:\n%s", name, in)
		}
	}
}

// patchEdgeCases are values whose lines look like something else, at the
// places graceful inserts; the fuzz targets start from them too.
var patchEdgeCases = map[string]string{
	"explicit indentation":              "kind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - name: web\n    image: nginx\n    args:\n    - |2\n         indented more\n       # still the script\n",
	"explicit, key":                     "kind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - name: web\n    image: nginx\n    workingDir: |1\n        x\n      # y\n",
	"folded, blank lines":               "kind: Pod\nmetadata: {name: b}\nspec:\n  containers:\n  - name: web\n    image: nginx\n    command: >-\n      folded\n\n\n    # a real comment\n",
	"flow with quotes":                  "kind: Pod\nmetadata: {name: c}\nspec:\n  containers:\n  - name: web\n    image: nginx\n    args: [\"a # b\", # c\n      'it''s\n    # not a comment', \"d\"]\n  hostname: plain\n    continued\n",
	"no final newline":                  "kind: Pod\nmetadata: {name: e}\nspec:\n  containers:\n  - name: web\n    image: nginx\n    workingDir: |\n      x",
	"value on next line":                "kind: Pod\nmetadata: {name: a}\nspec:\n  terminationGracePeriodSeconds:\n    10\n  containers:\n  - name: web\n    image: nginx\n",
	"tagged int":                        "kind: Pod\nmetadata: {name: a}\nspec:\n  terminationGracePeriodSeconds: !!int \"10\" # why\n  containers:\n  - name: web\n    image: nginx\n",
	"lone CR in a comment":              "kind: ConfigMap\ndata:\n  k: v # x\r  j: w\n---\nkind: Pod\nmetadata: {name: b}\nspec:\n  containers:\n  - name: web # y\r    ports: []\n    image: nginx\n  hostname: h\n",
	"flow, comment before the bracket":  "kind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: web, image: nginx}],  # c }\n  }\n",
	"flow, trailing commas":             "{\n  kind: Pod,\n  metadata: {name: a},\n  spec: {\n    containers: [{name: web, image: nginx,},],\n  },\n}\n",
	"flow, quoted scalar with brackets": "kind: Pod\nmetadata: {name: a}\nspec: {hostname: \"x}]#\", containers: [{name: web, image: 'nginx', args: [\"a, b}\", 'c]''d']}]}\n",
	"non-ASCII before a value":          "kind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - name: web\n    image: nginx\n    x-é: \"a\n      # b\"\n",
}
