package render

import (
	"fmt"
	"strings"
	"testing"
)

// TestRefLine: each entry names the line of its object's first key in its
// input, for documents after comments and markers, for List items, and past
// the parser's restarts in a long stream.
func TestRefLine(t *testing.T) {
	deployment := func(name string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name +
			"\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: app:1\n"
	}
	list := "apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: first\n  spec:\n    template:\n      spec:\n        containers:\n        - name: app\n          image: app:1\n" +
		"-   # a comment before the item\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: second}\n    spec: {template: {spec: {containers: [{name: app, image: app:1}]}}}\n"
	stream := "# Source: chart/templates/a.yaml\n" + deployment("a") + // line 2
		"---\n# a comment\n\n" + deployment("b") + // line 15
		"--- # a marker with a comment\n" + list // line 26; items at 29 and 40
	want := map[string]int{"a": 2, "b": 15, "first": 29, "second": 40}
	var b strings.Builder
	for i := 0; i < 300; i++ { // past restartEvery
		b.WriteString("---\n" + deployment(fmt.Sprintf("d%d", i)))
	}
	long := stream + b.String()
	want["d299"] = strings.Count(stream, "\n") + 299*11 + 2

	r, err := New(Options{Profile: "generic-http"})
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{"stream": stream, "long": long} {
		_, rep, err := r.RenderStream([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, e := range rep.Entries {
			if line, ok := want[e.Ref.Name]; ok {
				found++
				if e.Ref.Line != line {
					t.Errorf("%s: %s: line %d, want %d", name, e.Ref, e.Ref.Line, line)
				}
				if got := strings.Split(in, "\n")[e.Ref.Line-1]; !strings.Contains(got, "apiVersion") {
					t.Errorf("%s: %s: line %d is %q, not the first key", name, e.Ref, e.Ref.Line, got)
				}
			}
		}
		if name == "stream" && found != 4 || name == "long" && found != 5 {
			t.Errorf("%s: %d entries checked", name, found)
		}
	}
}
