package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/graceful-dev/graceful/internal/corpus"
)

// kustomizeAsFlux applies patches to manifests the way Flux's helm-controller
// post-renders a HelmRelease (internal/postrender/kustomize.go): an
// in-memory kustomization with the manifests as helm-output.yaml and the
// patches inline, built by krusty with plugins disabled.
func kustomizeAsFlux(t *testing.T, manifests string, patches []kustypes.Patch) string {
	t.Helper()
	out, err := tryKustomizeAsFlux(manifests, patches)
	if err != nil {
		t.Fatalf("kustomize: %v", err)
	}
	return out
}

func tryKustomizeAsFlux(manifests string, patches []kustypes.Patch) (string, error) {
	fs := filesys.MakeFsInMemory()
	cfg := kustypes.Kustomization{Resources: []string{"helm-output.yaml"}, Patches: patches}
	cfg.APIVersion, cfg.Kind = kustypes.KustomizationVersion, kustypes.KustomizationKind
	k, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	if err := fs.WriteFile("helm-output.yaml", []byte(manifests)); err != nil {
		return "", err
	}
	if err := fs.WriteFile("kustomization.yaml", k); err != nil {
		return "", err
	}
	return tryKustomizeBuild(fs, ".")
}

func kustomizeBuild(t *testing.T, fs filesys.FileSystem, dir string) string {
	t.Helper()
	out, err := tryKustomizeBuild(fs, dir)
	if err != nil {
		t.Fatalf("kustomize: %v", err)
	}
	return out
}

func tryKustomizeBuild(fs filesys.FileSystem, dir string) (string, error) {
	m, err := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	}).Run(fs, dir)
	if err != nil {
		return "", err
	}
	out, err := m.AsYaml()
	return string(out), err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// patchList reads the `patches:` of --output flux or kustomize.
func patchList(t *testing.T, out string) []kustypes.Patch {
	t.Helper()
	var doc struct {
		Patches       []kustypes.Patch `yaml:"patches"`
		PostRenderers []struct {
			Kustomize struct {
				Patches []kustypes.Patch `yaml:"patches"`
			} `yaml:"kustomize"`
		} `yaml:"postRenderers"`
	}
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if doc.PostRenderers != nil {
		if len(doc.PostRenderers) != 1 {
			t.Fatalf("want one post-renderer, got %d", len(doc.PostRenderers))
		}
		return doc.PostRenderers[0].Kustomize.Patches
	}
	return doc.Patches
}

// objectsOf decodes every object of a stream, the items of a List as
// objects of their own (as kustomize loads them), into plain values.
func objectsOf(t *testing.T, stream string) []any {
	t.Helper()
	var objs []any
	dec := yaml.NewDecoder(strings.NewReader(stream))
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatal(err)
		}
		m, ok := dropNulls(v).(map[string]any)
		if !ok {
			continue
		}
		if items, ok := m["items"].([]any); ok && strings.HasSuffix(m["kind"].(string), "List") {
			objs = append(objs, items...)
			continue
		}
		objs = append(objs, m)
	}
}

// provePatches checks the three shapes of `graceful patches args` against
// `graceful render args` on the same input: kustomize, applying them,
// must produce render's objects exactly.
func provePatches(t *testing.T, input string, args []string, shapes ...string) (patches int) {
	t.Helper()
	rendered, _, err := execute(input, append([]string{"render", "--quiet"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	// What Flux would deploy from render's output: kustomize normalizes a
	// few things on load (it drops empty annotation maps), the same with
	// or without patches.
	asBuilt, err := tryKustomizeAsFlux(rendered, nil)
	if err != nil {
		// Duplicate objects or keys: Flux could not deploy the chart either.
		t.Skipf("kustomize cannot load this stream: %v", err)
	}
	want := objectsOf(t, asBuilt)
	compare := func(shape, built string) {
		t.Helper()
		got := objectsOf(t, built)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: kustomize with the patches differs from render (-render +kustomize):\n%s", shape, diff)
		}
	}
	for _, shape := range shapes {
		if shape == "output-dir" {
			continue
		}
		out, _, err := execute(input, append([]string{"patches", "--quiet", "--output", shape}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		ps := patchList(t, out)
		if patches = len(ps); patches == 0 && rendered != input {
			t.Fatalf("%s: render changed objects, but there are no patches:\n%s", shape, out)
		}
		compare(shape, kustomizeAsFlux(t, input, ps))
	}
	if slices.Contains(shapes, "output-dir") {
		// A Component used by the kustomization of the input.
		dir := t.TempDir()
		if _, _, err := execute(input, append([]string{"patches", "--quiet", "--output-dir", filepath.Join(dir, "graceful")}, args...)...); err != nil {
			t.Fatal(err)
		}
		must(t, os.WriteFile(filepath.Join(dir, "helm-output.yaml"), []byte(input), 0o644))
		must(t, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources: [helm-output.yaml]\ncomponents: [graceful]\n"), 0o644))
		compare("output-dir", kustomizeBuild(t, filesys.MakeFsOnDisk(), dir))
	}
	return patches
}

// TestPatchesGolden: for every golden case that renders, kustomize applying
// graceful's patches to the input gives render's output, object by object.
func TestPatchesGolden(t *testing.T) {
	dirs, _ := filepath.Glob("../../testdata/*/input.yaml")
	for _, in := range dirs {
		dir := filepath.Dir(in)
		if _, err := os.Stat(filepath.Join(dir, "error.txt")); err == nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "command")); err == nil {
			continue // a case of another command than render
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var args []string
			if data, err := os.ReadFile(filepath.Join(dir, "args")); err == nil {
				args = strings.Fields(strings.ReplaceAll(string(data), "$CASE", dir))
			}
			if strings.HasPrefix(filepath.Base(dir), "pdb-") {
				t.Skip("render --pdb adds objects; patches write changes to the input's objects only")
			}
			if slices.Contains(args, "--helm-plugin") {
				t.Skip("a case of graceful as a Helm 4 plugin, which only renders")
			}
			if filepath.Base(dir) == "alias-bombs" {
				// kustomize expands aliases without a bound (tens of GB
				// here); patches refuses them: TestPatchesRefuseAliasBombs.
				t.Skip("kustomize cannot load an alias bomb")
			}
			if _, err := os.Stat(filepath.Join(dir, "config.yaml")); err == nil {
				args = append(args, "--config", filepath.Join(dir, "config.yaml"))
			}
			provePatches(t, readFile(t, in), args, "flux", "kustomize", "output-dir")
		})
	}
}

// patchesCorpusOptions are the flag sets every corpus file is proven with.
var patchesCorpusOptions = map[string][]string{
	"nginx+aws":                {"--profile=nginx", "--provider=aws"},
	"spring-boot+alibaba":      {"--profile=spring-boot", "--provider=alibaba,tencent"},
	"tidb+huawei+stop-signals": {"--profile=tidb", "--provider=huawei", "--kube-version=1.34", "--stop-signal-field"},
	"generic-http+kube1.29":    {"--profile=generic-http", "--kube-version=1.29", "--replace-prestop", "--provider=aws-lbc"},
}

// TestPatchesCorpus: the same proof on real rendered charts, for the Flux
// shape (the golden cases prove the other two), each file split into
// streams kustomize can load (see corpusStreams). CustomResourceDefinitions
// are left out: render never changes them, no patch can select them (a
// target names a kind), and kustomize takes 10 s per build of Argo CD's.
func TestPatchesCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpus.Dir(t), "*.yaml"))
	for name, args := range patchesCorpusOptions {
		for _, f := range files {
			t.Run(name+"/"+filepath.Base(f), func(t *testing.T) {
				for _, stream := range corpusStreams(t, readFile(t, f)) {
					provePatches(t, stream, args, "flux")
				}
			})
		}
	}
}

// dropNulls removes map entries whose value is null: the API server reads
// them as absent, and kyaml's merge drops an empty one (`annotations:` with
// nothing after it) from any mapping a patch walks through.
func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
			} else {
				v[k] = dropNulls(e)
			}
		}
	case []any:
		for i := range v {
			v[i] = dropNulls(v[i])
		}
	}
	return v
}

// corpusStreams leaves out CustomResourceDefinitions and splits a corpus
// file that concatenates several examples into streams without duplicate
// objects (kustomize, and so Flux, refuses those): each document goes to
// the first stream that does not have its objects yet.
func corpusStreams(t *testing.T, stream string) []string {
	t.Helper()
	type chunk struct {
		ids  map[string]bool
		text strings.Builder
	}
	var chunks []*chunk
	dec := yaml.NewDecoder(strings.NewReader(stream))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Skipf("not YAML that kustomize reads: %v", err)
		}
		type meta struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
			Metadata   struct{ Name, Namespace string }
		}
		var m struct {
			meta  `yaml:",inline"`
			Items []meta `yaml:"items"`
		}
		if doc.Decode(&m) != nil || m.Kind == "CustomResourceDefinition" {
			continue
		}
		objs := append([]meta{m.meta}, m.Items...)
		if m.Items != nil {
			objs = m.Items
		}
		var ids []string
		for _, o := range objs {
			ids = append(ids, o.APIVersion+"/"+o.Kind+"/"+o.Metadata.Namespace+"/"+o.Metadata.Name)
		}
		var into *chunk
		for _, c := range chunks {
			if !slices.ContainsFunc(ids, func(id string) bool { return c.ids[id] }) {
				into = c
				break
			}
		}
		if into == nil {
			into = &chunk{ids: map[string]bool{}}
			chunks = append(chunks, into)
		}
		for _, id := range ids {
			into.ids[id] = true
		}
		into.text.WriteString("---\n")
		enc := yaml.NewEncoder(&into.text)
		must(t, enc.Encode(&doc))
		must(t, enc.Close())
	}
	streams := make([]string, len(chunks))
	for i, c := range chunks {
		streams[i] = c.text.String()
	}
	return streams
}

// TestPatchesRefuseAliasBombs: patches reads objects through their aliases,
// within a bound, so an alias bomb is an error, not an out-of-memory crash.
func TestPatchesRefuseAliasBombs(t *testing.T) {
	input := readFile(t, "../../testdata/alias-bombs/input.yaml")
	_, _, err := execute(input, "patches", "--quiet", "--profile=nginx", "--provider=aws")
	if err == nil || !strings.Contains(err.Error(), "excessive aliasing") {
		t.Fatalf("want an excessive-aliasing error, got %v", err)
	}
}
