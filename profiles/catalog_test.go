package profiles

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func extend(t *testing.T, files map[string]string) (*Catalog, error) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sources, _, err := ReadSources(dir)
	if err != nil {
		return nil, err
	}
	return Builtin().Extend(sources)
}

// TestBuiltinFiles: each built-in is a ShutdownProfile named as its file.
func TestBuiltinFiles(t *testing.T) {
	files, _ := filepath.Glob("builtin/*.yaml")
	if len(files) != len(Names()) {
		t.Fatalf("%d files, %d profiles", len(files), len(Names()))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		p, ok := Get(name)
		if !ok || p.Origin != BuiltinOrigin {
			t.Errorf("%s: no built-in profile %s", f, name)
		}
	}
}

// TestBase: a field the file gives replaces the base's, a list whole; the
// rest, sources and notes too, is the base's. The base is not changed.
func TestBase(t *testing.T) {
	c, err := extend(t, map[string]string{
		"slow.yaml": `apiVersion: graceful.dev/v1alpha1
kind: ShutdownProfile
metadata: {name: nginx-slow}
spec:
  base: nginx
  preStopDelaySeconds: 15
  terminationGracePeriodSeconds: 40
  images: [my/nginx]
  notes: [mine]
---
apiVersion: graceful.dev/v1alpha1
kind: ShutdownProfile
metadata: {name: nginx-slower}
spec:
  base: nginx-slow
  drainSeconds: 60
  terminationGracePeriodSeconds: 75
`})
	if err != nil {
		t.Fatal(err)
	}
	nginx, _ := c.Get("nginx")
	slow, _ := c.Get("nginx-slow")
	slower, _ := c.Get("nginx-slower")
	if slow.PreStopDelaySeconds != 15 || slow.DrainSeconds != 25 || slow.TerminationGracePeriodSeconds != 40 ||
		slow.StopSignal != "SIGQUIT" || !slow.SignalPID1 || len(slow.ImageStopSignals) != 2 ||
		!slices.Equal(slow.Images, []string{"my/nginx"}) || !slices.Equal(slow.Notes, []string{"mine"}) ||
		!slices.Equal(slow.Sources, nginx.Sources) || slow.Description != nginx.Description || slow.Base != "nginx" {
		t.Errorf("nginx-slow: %+v", slow)
	}
	if slower.PreStopDelaySeconds != 15 || slower.DrainSeconds != 60 || slower.Base != "nginx-slow" ||
		!strings.HasSuffix(slower.Origin, "slow.yaml (document 2)") {
		t.Errorf("nginx-slower: %+v", slower)
	}
	if nginx.PreStopDelaySeconds != 5 || !slices.Equal(nginx.Images, []string{"nginx", "nginx-unprivileged"}) || len(nginx.Notes) != 0 {
		t.Errorf("the base changed: %+v", nginx)
	}
	// Under auto the refinement wins where both fit; nginx keeps its own images.
	for image, want := range map[string]string{"my/nginx:1": "nginx-slower", "nginx:1.27": "nginx"} {
		var got []string
		for _, p := range c.FittingImage(image) {
			got = append(got, p.Name)
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s fits %v, want %s", image, got, want)
		}
	}
	// A name is defined once across catalogs too (--profiles and spec.profiles).
	if _, err := c.Extend([]Source{{Origin: "again.yaml", Where: "again.yaml: ", Node: mustNode(t, "apiVersion: graceful.dev/v1alpha1\nkind: ShutdownProfile\nmetadata: {name: nginx-slow}\nspec: {base: nginx}\n")}}); err == nil ||
		!regexp.MustCompile(`^again.yaml: metadata.name: "nginx-slow" is also defined in .*slow.yaml \(document 1\)$`).MatchString(err.Error()) {
		t.Errorf("a name defined again: %v", err)
	}
	// A refinement with the base's images replaces the base under auto.
	c, err = extend(t, map[string]string{"a.yaml": "apiVersion: graceful.dev/v1alpha1\nkind: ShutdownProfile\nmetadata: {name: web}\nspec: {base: nginx}\n"})
	if err != nil {
		t.Fatal(err)
	}
	if fit := c.FittingImage("nginx:1.27"); len(fit) != 1 || fit[0].Name != "web" {
		t.Errorf("nginx:1.27 fits %v, want web alone", fit)
	}
}

// TestExtendErrors: every problem of every file at once, each naming its
// file and field, with a suggestion for a near miss.
func TestExtendErrors(t *testing.T) {
	head := "apiVersion: graceful.dev/v1alpha1\nkind: ShutdownProfile\n"
	_, err := extend(t, map[string]string{
		"a.yaml": head + "metadata: {name: a}\nspec: {stopSignal: SIGTERM, prestopDelaySeconds: 5}\n",
		"b.yaml": head + "metadata: {name: b}\nspec: {base: ngnix}\n",
		"c.yaml": head + "metadata: {name: c}\nspec: {stopSignal: QUIT}\n",
		"d.yaml": head + "metadata: {name: a}\nspec: {stopSignal: SIGTERM}\n",
		"e.yaml": head + "metadata: {name: nginx}\nspec: {stopSignal: SIGTERM}\n",
		"f.yaml": head + "metadata: {name: f}\nspec: {base: g}\n---\n" + head + "metadata: {name: g}\nspec: {base: f}\n",
		"g.yaml": "apiVersion: v1\nkind: ShutdownProfile\nmetadata: {name: Web}\n",
		"h.yaml": head + "metadata: {name: h}\nspec: {base: nginx, preStopDelaySeconds: 20}\n",
		"i.yaml": head + "metadata: {name: i}\n",
		"j.yaml": head + "metadata: {name: j}\nspec: {base: j}\n---\n" + head + "metadata: {name: k}\nspec: {base: g}\n",
	})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`a.yaml: spec.prestopDelaySeconds: unknown field; did you mean preStopDelaySeconds\?`,
		`b.yaml: spec.base: unknown profile "ngnix"; did you mean nginx\?`,
		`c.yaml: spec.stopSignal: "QUIT" is not a signal Kubernetes accepts`,
		`d.yaml: metadata.name: "a" is also defined in .*a.yaml`,
		`e.yaml: metadata.name: "nginx" is a built-in profile; give yours another name, with spec.base: nginx`,
		`f.yaml \(document 2\): spec.base: g is based on itself, through f`,
		`g.yaml: apiVersion: got "v1", kind "ShutdownProfile"; want apiVersion: graceful.dev/v1alpha1, kind: ShutdownProfile`,
		`g.yaml: metadata.name: "Web" is not allowed`,
		`h.yaml: spec.terminationGracePeriodSeconds: 30 is less than preStopDelaySeconds \+ drainSeconds \+ headroomSeconds = 20 \+ 25 \+ 0 = 45`,
		`i.yaml: spec: missing`,
		`j.yaml \(document 1\): spec.base: j is based on itself, through j`,
	} {
		if !regexp.MustCompile(want).MatchString(err.Error()) {
			t.Errorf("no error %q in:\n%v", want, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 11 {
		t.Errorf("%d errors, want 11 (one per problem):\n%v", n, err)
	}
}

func TestReadSourcesEmpty(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := ReadSources(dir); err == nil || !strings.Contains(err.Error(), "no ShutdownProfile there") {
		t.Errorf("an empty directory: %v", err)
	}
	if _, _, err := ReadSources(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("a missing path: %v", err)
	}
}

func mustNode(t *testing.T, text string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

// FuzzExtend: a profile file is an error or a profile that validates; never a panic.
func FuzzExtend(f *testing.F) {
	files, _ := filepath.Glob("builtin/*.yaml")
	for _, file := range files {
		data, _ := os.ReadFile(file)
		f.Add(strings.Replace(string(data), "name: ", "name: my-", 1))
	}
	f.Add("apiVersion: graceful.dev/v1alpha1\nkind: ShutdownProfile\nmetadata: {name: a}\nspec: {base: nginx, images: [x], drainFlags: [{pattern: '(\\d+)'}]}\n")
	f.Fuzz(func(t *testing.T, text string) {
		sources, err := sourcesOf([]byte(text), "f.yaml")
		if err != nil {
			return
		}
		c, err := Builtin().Extend(sources)
		if err != nil {
			return
		}
		for _, name := range c.Names() {
			p, _ := c.Get(name)
			if err := p.Validate(); err != nil {
				t.Fatalf("%s was accepted but does not validate: %v", name, err)
			}
		}
	})
}

// TestStopSignalDelivered: a signal other than SIGTERM needs something that
// delivers it (the hook, signalPID1); one Kubernetes rejects or no
// application can catch never loads, and the error names file and field.
func TestStopSignalDelivered(t *testing.T) {
	head := "apiVersion: graceful.dev/v1alpha1\nkind: ShutdownProfile\n"
	for spec, want := range map[string]string{
		"{base: generic-http, stopSignal: SIGINT}":                                   `web-sig.yaml: spec.stopSignal: SIGINT would never be delivered: set signalPID1: true`,
		"{base: nginx, stopSignal: SIGFOO}":                                          `web-sig.yaml: spec.stopSignal: "SIGFOO" is not a signal Kubernetes accepts`,
		"{base: nginx, stopSignal: SIGKILL}":                                         `web-sig.yaml: spec.stopSignal: SIGKILL cannot be caught`,
		"{base: nginx, stopSignal: SIGSTOP}":                                         `web-sig.yaml: spec.stopSignal: SIGSTOP cannot be caught`,
		"{base: generic-http, stopSignal: SIGTERM, signalPID1: true, images: [app]}": ``,
		"{base: generic-http, stopSignal: SIGINT, signalPID1: true, images: [app]}":  ``,
		"{base: nginx, stopSignal: SIGRTMIN+3}":                                      ``,
		"{base: nginx, stopSignal: SIGRTMAX-14}":                                     ``,
	} {
		_, err := extend(t, map[string]string{"web-sig.yaml": head + "metadata: {name: web-sig}\nspec: " + spec + "\n"})
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", spec, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want %q", spec, err, want)
		}
	}
}

// TestReadSourcesSkipsOtherKinds: a directory's documents of another kind
// (a kustomization.yaml beside the profiles) are skipped and named; a file
// that says kind: ShutdownProfile is read strictly, even when YAML fails.
func TestReadSourcesSkipsOtherKinds(t *testing.T) {
	head := "apiVersion: graceful.dev/v1alpha1\nkind: ShutdownProfile\n"
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [web.yaml]\n")
	write("values.yaml", "replicas: 2\n")
	write("chart.yaml", "name: {{ .Values.name }\n")
	write("web.yaml", head+"metadata: {name: web}\nspec: {base: nginx, preStopDelaySeconds: 3}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("web"); !ok {
		t.Error("web not loaded")
	}
	skipped := strings.Join(c.Skipped(), "; ")
	for _, want := range []string{"kustomization.yaml (Kustomization)", "values.yaml (no kind)", "chart.yaml (not YAML)", "web.yaml (document 2) (ConfigMap)"} {
		if !strings.Contains(skipped, want) {
			t.Errorf("skipped %q lacks %q", skipped, want)
		}
	}
	write("broken.yaml", head+"metadata: {name: broken\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "broken.yaml") {
		t.Errorf("a broken ShutdownProfile file: %v", err)
	}
	only := t.TempDir()
	if err := os.WriteFile(filepath.Join(only, "kustomization.yaml"), []byte("kind: Kustomization\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(only); err == nil || !strings.Contains(err.Error(), "no ShutdownProfile there, only") {
		t.Errorf("a directory without profiles: %v", err)
	}
	// A file named on its own is meant as profiles: its other kinds are errors.
	if _, err := Load(filepath.Join(dir, "kustomization.yaml")); err == nil {
		t.Error("a named kustomization.yaml accepted as profiles")
	}
}
