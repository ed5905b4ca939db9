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

// TestTidbClusterTakesARefinedTidb: a TidbCluster takes the tidb profile or
// one based on it, and no other.
func TestTidbClusterTakesARefinedTidb(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("apiVersion: graceful.dev/v1alpha1\nkind: ShutdownProfile\nmetadata: {name: tidb-slow}\nspec: {base: tidb, preStopDelaySeconds: 20, terminationGracePeriodSeconds: 70}\n"), &doc); err != nil {
		t.Fatal(err)
	}
	catalog, err := profiles.Builtin().Extend([]profiles.Source{{Origin: "test", Where: "test: ", Node: doc.Content[0]}})
	if err != nil {
		t.Fatal(err)
	}
	cluster := []byte("apiVersion: pingcap.com/v1alpha1\nkind: TidbCluster\nmetadata: {name: basic}\nspec:\n  tidb:\n    baseImage: pingcap/tidb\n    replicas: 1\n")
	for profile, want := range map[string]string{"tidb-slow": "terminationGracePeriodSeconds: 70", "nginx": ""} {
		r, err := New(Options{Profile: profile, Catalog: catalog})
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := r.RenderStream(cluster)
		if err != nil {
			t.Fatal(err)
		}
		if changed := string(out) != string(cluster); changed != (want != "") || !strings.Contains(string(out), want) {
			t.Errorf("%s on a TidbCluster:\n%s", profile, out)
		}
	}
}
