package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/graceful-dev/graceful/internal/promises"
	"github.com/graceful-dev/graceful/render"
)

// server is a kube-apiserver (with ContainerStopSignals on) that checks
// objects by server-side dry run, exactly as a cluster would.
type server struct {
	dynamic    dynamic.Interface
	mapper     meta.RESTMapper
	namespaces map[string]bool
}

func startServer(t *testing.T) *server {
	t.Helper()
	tool(t, "GRACEFUL_KUBE_APISERVER")
	tool(t, "GRACEFUL_ETCD")
	out := run(t, nil, "", filepath.Join(root, "hack", "apiserver.sh"), "start").must(t)
	vars := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			vars[k] = v
		}
	}
	t.Cleanup(func() { run(t, nil, "", filepath.Join(root, "hack", "apiserver.sh"), "stop", vars["APISERVER_DIR"]) })
	cfg, err := clientcmd.BuildConfigFromFlags("", vars["KUBECONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 1000, 1000        // the client's default of 5 a second would pace the test
	cfg.WarningHandler = rest.NoWarnings{} // the corpus's own quirks, such as duplicate ports
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Discovered once: a kind the server does not serve is not looked for again.
	groups, err := restmapper.GetAPIGroupResources(memory.NewMemCacheClient(disco))
	if err != nil {
		t.Fatal(err)
	}
	return &server{dynamic: dyn, mapper: restmapper.NewDiscoveryRESTMapper(groups), namespaces: map[string]bool{"default": true}}
}

// errUnknownKind: the server does not serve the kind (a CRD not installed here).
var errUnknownKind = fmt.Errorf("kind not served")

// dryRun creates obj with dryRun=All and strict field validation.
func (s *server) dryRun(obj *unstructured.Unstructured) error {
	gvk := obj.GroupVersionKind()
	mapping, err := s.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return errUnknownKind
	}
	ctx := context.Background()
	resource := s.dynamic.Resource(mapping.Resource)
	opts := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}
	if mapping.Scope.Name() == "root" {
		_, err = resource.Create(ctx, obj, opts)
		return err
	}
	ns := obj.GetNamespace()
	if ns == "" {
		ns = "default"
	}
	if !s.namespaces[ns] {
		nsObj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
		_, err := s.dynamic.Resource(namespaces).Create(ctx, nsObj, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		s.namespaces[ns] = true
	}
	_, err = resource.Namespace(ns).Create(ctx, obj, opts)
	return err
}

var namespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// objects decodes a document into its objects: itself, or a List's items.
func objects(doc []byte) ([]*unstructured.Unstructured, error) {
	data, err := yaml.YAMLToJSON(doc)
	if err != nil || bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil, err
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	if !obj.IsList() {
		return []*unstructured.Unstructured{obj}, nil
	}
	list, err := obj.ToList()
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	return out, nil
}

// pair is graceful's input and output for one stream.
type pair struct {
	name    string
	in, out []byte
}

// changedObjectsAccepted checks every object graceful changed: where the
// server accepts the input object, it must accept the output object too.
func (s *server) changedObjectsAccepted(t *testing.T, p pair) (checked int) {
	t.Helper()
	ins, outs := promises.Split(p.in), promises.Split(p.out)
	// The budgets render --pdb adds have no input: each must be valid alone.
	kept := outs[:0:0]
	for i, doc := range outs {
		if i == 0 || !promises.IsAddedBudget(doc) {
			kept = append(kept, doc)
			continue
		}
		added, err := objects(doc)
		if err != nil || len(added) != 1 {
			t.Fatalf("%s: an added budget does not decode: %v\n%s", p.name, err, doc)
		}
		if err := s.dryRun(added[0]); err != nil {
			t.Errorf("%s: the server rejects the added %s %s: %v", p.name, added[0].GetKind(), added[0].GetName(), err)
		}
		checked++
	}
	outs = kept
	if len(ins) != len(outs) {
		t.Fatalf("%s: %d documents in, %d out", p.name, len(ins), len(outs))
	}
	for i := range ins {
		if bytes.Equal(ins[i], outs[i]) {
			continue
		}
		before, err1 := objects(ins[i])
		after, err2 := objects(outs[i])
		if err1 != nil || err2 != nil || len(before) != len(after) {
			t.Logf("%s document %d: not decodable (%v, %v); skipped", p.name, i+1, err1, err2)
			continue
		}
		for j := range after {
			if err := s.dryRun(before[j]); err != nil {
				t.Logf("%s document %d: the input is rejected already (%v); skipped", p.name, i+1, firstLine(err))
				continue
			}
			if err := s.dryRun(after[j]); err != nil {
				t.Errorf("%s document %d %s %s: the server rejects graceful's output: %v", p.name, i+1,
					after[j].GetKind(), after[j].GetName(), err)
			}
			checked++
		}
	}
	return checked
}

func firstLine(err error) string {
	if err == errUnknownKind {
		return err.Error()
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// TestAPIServerAcceptsOutput sends what graceful writes for every golden case
// and every corpus file to a real kube-apiserver.
func TestAPIServerAcceptsOutput(t *testing.T) {
	s := startServer(t)

	t.Run("the check can fail", func(t *testing.T) {
		objs, err := objects([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: nginx\n    lifecycle: {stopSignal: SIGQUIT}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.dryRun(objs[0]); err == nil || !strings.Contains(err.Error(), "os.name") {
			t.Fatalf("a stopSignal without spec.os.name was not rejected: %v", err)
		}
	})

	var pairs []pair
	cases, _ := filepath.Glob(filepath.Join(root, "testdata", "*", "expected.yaml"))
	for _, expected := range cases {
		in, err1 := os.ReadFile(filepath.Join(filepath.Dir(expected), "input.yaml"))
		out, err2 := os.ReadFile(expected)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		pairs = append(pairs, pair{"golden " + filepath.Base(filepath.Dir(expected)), in, out})
	}
	corpus, _ := filepath.Glob(filepath.Join(root, "..", "shared", "corpus", "*.yaml"))
	if len(corpus) == 0 && os.Getenv("CI") == "true" {
		t.Fatal("corpus missing in CI")
	}
	for name, opts := range map[string]render.Options{
		"nginx+aws-lbc":             {Profile: "nginx", Providers: []string{"aws-lbc"}},
		"spring-boot+alibaba":       {Profile: "spring-boot", Providers: []string{"alibaba"}},
		"generic-http+stop-signals": {Profile: "generic-http", Providers: []string{"aws"}, KubeVersion: "1.34", StopSignalField: true},
		"nginx+stop-signals+1.29":   {Profile: "nginx", KubeVersion: "1.34", StopSignalField: true, ReplacePreStop: true},
		"tidb+huawei":               {Profile: "tidb", Providers: []string{"huawei"}},
		"generic-http+aws+aws-lbc":  {Profile: "generic-http", Providers: []string{"aws", "aws-lbc", "tencent"}},
		"auto+aws":                  {Profile: "auto", Providers: []string{"aws"}},
		"generic-http+pdb":          {Profile: "generic-http", PDB: true},
	} {
		r, err := render.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range corpus {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := r.RenderStream(in)
			if err != nil {
				t.Fatal(err)
			}
			pairs = append(pairs, pair{name + " " + filepath.Base(f), in, out})
		}
	}
	checked := 0
	for _, p := range pairs {
		checked += s.changedObjectsAccepted(t, p)
	}
	t.Logf("%d changed objects accepted by the API server", checked)
	if checked < 100 {
		t.Errorf("only %d objects checked: the test checks too little", checked)
	}
}
