package render

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/profiles"
)

// TestOptionsCatalog: a Go program passes its own profiles in Options.Catalog;
// without one, only the built-ins and the config's own are known.
func TestOptionsCatalog(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("apiVersion: graceful.dev/v1alpha1\nkind: ShutdownProfile\nmetadata: {name: web}\nspec: {base: generic-http, preStopDelaySeconds: 12, terminationGracePeriodSeconds: 40}\n"), &doc); err != nil {
		t.Fatal(err)
	}
	catalog, err := profiles.Builtin().Extend([]profiles.Source{{Origin: "test", Where: "test: ", Node: doc.Content[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Profile: "web"}); err == nil || !strings.Contains(err.Error(), `unknown profile "web"`) {
		t.Errorf("without the catalog: %v", err)
	}
	rule := &Config{Spec: ConfigSpec{Rules: []Rule{{Profile: "web"}}}}
	if _, err := New(Options{Config: rule}); err == nil {
		t.Error("a rule naming a profile of no catalog was accepted")
	}
	r, err := New(Options{Config: rule, Catalog: catalog})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := r.RenderStream([]byte("kind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: c, ports: [{containerPort: 80}]}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "seconds: 12") || !strings.Contains(string(out), "terminationGracePeriodSeconds: 40") {
		t.Errorf("the catalog's profile was not applied:\n%s", out)
	}
}
