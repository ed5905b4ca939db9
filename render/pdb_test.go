package render

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	goyaml "go.yaml.in/yaml/v3"
)

func TestSelectorSelects(t *testing.T) {
	labels := map[string]string{"app": "web", "tier": "front"}
	for sel, want := range map[string]bool{
		"null":                            false,
		"{}":                              true,
		"{matchLabels: {app: web}}":       true,
		"{matchLabels: {app: api}}":       false,
		"{matchLabels: {app: web, x: y}}": false,
		"{matchExpressions: [{key: tier, operator: In, values: [front, back]}]}":    true,
		"{matchExpressions: [{key: tier, operator: NotIn, values: [front]}]}":       false,
		"{matchExpressions: [{key: canary, operator: NotIn, values: [yes]}]}":       true,
		"{matchExpressions: [{key: app, operator: Exists}]}":                        true,
		"{matchExpressions: [{key: app, operator: DoesNotExist}]}":                  false,
		"{matchLabels: {app: web}, matchExpressions: [{key: x, operator: Exists}]}": false,
		"{matchExpressions: [{key: app, operator: Like}]}":                          true, // unknown: taken to select
		"'{{ .Values.selector }}'":                                                  true,
	} {
		var n goyaml.Node
		if err := goyaml.Unmarshal([]byte(sel), &n); err != nil {
			t.Fatal(err)
		}
		if got := parseSelector(n.Content[0], true).selects(labels); got != want {
			t.Errorf("%s selects %v: %v, want %v", sel, labels, got, want)
		}
	}
	var n goyaml.Node
	_ = goyaml.Unmarshal([]byte("{}"), &n)
	if parseSelector(n.Content[0], false).selects(labels) {
		t.Error("policy/v1beta1's empty selector selects nothing")
	}
}

func parseObjects(t *testing.T, stream string) []Object {
	t.Helper()
	var out []Object
	dec := goyaml.NewDecoder(strings.NewReader(stream))
	for {
		var n goyaml.Node
		if err := dec.Decode(&n); err != nil {
			break
		}
		out = append(out, Object{Node: &n})
	}
	return out
}

// TestUnprotectedWorkloads is the rule graceful check reports by: every
// golden case of --pdb, every workload kind, profiled or not.
func TestUnprotectedWorkloads(t *testing.T) {
	for file, want := range map[string]string{
		"../testdata/pdb-added/input.yaml":    "Deployment shop/web 3 (3 replicas), StatefulSet shop/cache 2 (2 replicas)",
		"../testdata/pdb-present/input.yaml":  "Deployment shop/admin 2 (2 replicas), Deployment shop/jobs 2 (2 replicas)",
		"../testdata/pdb-none/input.yaml":     "Deployment legacy 3 (3 replicas), Deployment stable 3 (3 replicas)",
		"../testdata/pdb-hpa/input.yaml":      "Deployment front 2 (HorizontalPodAutoscaler front keeps at least 2 replicas)",
		"../testdata/pdb-added/expected.yaml": "",
	} {
		data := readTestFile(t, file)
		var got []string
		for _, u := range UnprotectedWorkloads(parseObjects(t, data)) {
			got = append(got, u.Ref.Kind+" "+u.Ref.QualifiedName()+" "+itoa(u.Replicas)+" ("+u.Why+")")
		}
		if s := strings.Join(got, ", "); s != want {
			t.Errorf("%s:\n got %s\nwant %s", file, s, want)
		}
	}
}

// TestPDBFunction: as a KRM function (spec.pdb), the budget is the item
// after its workload's, in the workload's file, on both the streamed and
// the whole-tree path; a second run adds nothing.
func TestPDBFunction(t *testing.T) {
	in := strings.Replace(resourceList, "  spec:\n    provider: aws", "  spec:\n    pdb: true\n    provider: aws", 1)
	in = strings.Replace(in, "  spec:\n    template:\n", "  spec:\n    replicas: 2\n    selector:\n      matchLabels: {app: web}\n    template:\n", 1)
	if !strings.Contains(in, "pdb: true") || !strings.Contains(in, "replicas: 2") {
		t.Fatal("test input not rewritten")
	}
	// The whole-tree path (taken where items cannot be cut as text).
	var tree goyaml.Node
	if err := goyaml.Unmarshal([]byte(in), &tree); err != nil {
		t.Fatal(err)
	}
	wholeResults, err := runOnList(tree.Content[0], Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(wholeResults) == 0 || !strings.Contains(wholeResults[0].(*goyaml.Node).Content[1].Value, "PodDisruptionBudget(s)") {
		t.Errorf("whole tree: the first result does not say a budget was added: %v", wholeResults)
	}
	var whole bytes.Buffer
	enc := goyaml.NewEncoder(&whole)
	enc.SetIndent(2)
	if err := enc.Encode(&tree); err != nil {
		t.Fatal(err)
	}
	for name, list := range map[string]string{"streamed": in, "whole tree": whole.String()} {
		var out bytes.Buffer
		if name == "whole tree" {
			out.WriteString(list) // rendered above
		} else if err := RunFunction(strings.NewReader(list), &out, Options{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		items, results := readBack(t, out.Bytes())
		if len(items) != 3 {
			t.Fatalf("%s: %d items:\n%s", name, len(items), out.String())
		}
		pdb, _ := items[1].String()
		for _, want := range []string{"kind: PodDisruptionBudget", "name: web-graceful", "namespace: shop", "maxUnavailable: 1",
			"internal.config.kubernetes.io/path: deployment.yaml", "app: web"} {
			if !strings.Contains(pdb, want) {
				t.Errorf("%s: the budget lacks %q:\n%s", name, want, pdb)
			}
		}
		found := false
		for _, r := range results {
			found = found || strings.Contains(r.Message, "PodDisruptionBudget(s)")
		}
		if !found && name != "whole tree" {
			t.Errorf("%s: no result says a budget was added: %v", name, results)
		}
		var again bytes.Buffer
		if err := RunFunction(bytes.NewReader(out.Bytes()), &again, Options{}); err != nil {
			t.Fatal(err)
		}
		if items2, _ := readBack(t, again.Bytes()); len(items2) != 3 {
			t.Errorf("%s: second run: %d items", name, len(items2))
		}
	}
}

// TestPDBAfterLastDocument: a budget after a document that ends without a
// line end, and with CRLF line ends, keeps the document's bytes and ends.
func TestPDBAfterLastDocument(t *testing.T) {
	r, err := New(Options{Profile: "generic-http", PDB: true})
	if err != nil {
		t.Fatal(err)
	}
	// Rendered already: only the budget is new.
	doc := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n" +
		"  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      terminationGracePeriodSeconds: 30\n      containers:\n" +
		"        - name: web\n          image: web:1\n          readinessProbe: {tcpSocket: {port: 80}}\n" +
		"          lifecycle:\n            preStop:\n              sleep:\n                seconds: 5"
	for _, in := range []string{doc, strings.ReplaceAll(doc, "\n", "\r\n")} {
		outs, _, err := r.Render([]Input{{Name: "web.yaml", Data: []byte(in)}})
		if err != nil {
			t.Fatal(err)
		}
		out := string(outs[0].Bytes())
		nl := "\n"
		if strings.Contains(in, "\r\n") {
			nl = "\r\n"
		}
		if !outs[0].Changed || !strings.HasPrefix(out, in+nl+"---"+nl+"apiVersion: policy/v1"+nl) {
			t.Errorf("output:\n%q", out)
		}
		if nl == "\r\n" && strings.Count(out, "\n") != strings.Count(out, "\r\n") {
			t.Errorf("mixed line ends:\n%q", out)
		}
	}
}

func readTestFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func itoa(i int) string { return strconv.Itoa(i) }
