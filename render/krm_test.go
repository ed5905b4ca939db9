package render

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graceful-dev/graceful/internal/promises"
	"github.com/graceful-dev/graceful/transformers"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const resourceList = `apiVersion: config.kubernetes.io/v1
kind: ResourceList
functionConfig:
  apiVersion: graceful.dev/v1alpha1
  kind: GracefulShutdown
  metadata:
    name: shutdown
    annotations:
      config.kubernetes.io/function: |
        exec:
          path: ./graceful
  spec:
    provider: aws
    rules:
      - match: {kinds: [Deployment]}
        profile: nginx
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    namespace: shop
    annotations:
      internal.config.kubernetes.io/path: 'deployment.yaml'
      internal.config.kubernetes.io/index: '1'
      kustomize.config.k8s.io/id: |
        group: apps
        kind: Deployment
        name: web
        version: v1
  spec:
    template:
      metadata:
        labels: {app: web}
      spec:
        containers:
        - name: nginx
          image: nginx:1.27
- apiVersion: v1
  kind: Service
  metadata:
    name: web
    namespace: shop
  spec:
    type: LoadBalancer
    selector: {app: web}
`

// readBack parses graceful's ResourceList with kyaml, as kustomize does.
func readBack(t *testing.T, out []byte) ([]*yaml.RNode, framework.Results) {
	t.Helper()
	rw := &kio.ByteReadWriter{Reader: bytes.NewReader(out), KeepReaderAnnotations: true}
	items, err := rw.Read()
	if err != nil {
		t.Fatalf("kyaml cannot read the output: %v\n%s", err, out)
	}
	var results framework.Results
	if rw.Results != nil {
		if err := rw.Results.YNode().Decode(&results); err != nil {
			t.Fatalf("results: %v", err)
		}
	}
	return items, results
}

func TestFunction(t *testing.T) {
	var out bytes.Buffer
	if err := RunFunction(strings.NewReader(resourceList), &out, Options{}); err != nil {
		t.Fatal(err)
	}
	items, results := readBack(t, out.Bytes())
	if len(items) != 2 {
		t.Fatalf("%d items", len(items))
	}
	deploy, _ := items[0].String()
	for _, want := range []string{"seconds: 5",
		"kustomize.config.k8s.io/id", "internal.config.kubernetes.io/path: 'deployment.yaml'"} {
		if !strings.Contains(deploy, want) {
			t.Errorf("item lacks %q:\n%s", want, deploy)
		}
	}
	if svc, _ := items[1].String(); !strings.Contains(svc, "aws-load-balancer-connection-draining-timeout") {
		t.Errorf("service not drained:\n%s", svc)
	}
	if len(results) != 4 {
		t.Fatalf("%d results: %v", len(results), results)
	}
	r := results[0]
	if r.Severity != framework.Info || r.ResourceRef.Kind != "Deployment" || r.ResourceRef.Namespace != "shop" ||
		r.Field.Path != "spec.template.spec.containers[name=nginx].lifecycle.preStop" || r.File.Path != "deployment.yaml" || r.File.Index != 1 {
		t.Errorf("result %+v", r)
	}
	for _, r := range results {
		if r.Tags["code"] == "" {
			t.Errorf("result without a code in its tags: %+v", r)
		}
	}
	if r.Tags["code"] != transformers.CodePreStopSet {
		t.Errorf("result's code %q, want %s", r.Tags["code"], transformers.CodePreStopSet)
	}
}

func TestFunctionError(t *testing.T) {
	in := strings.Replace(resourceList, "profile: nginx", "profile: nginx\n        preStopDelaySeconds: -1", 1)
	var out bytes.Buffer
	err := RunFunction(strings.NewReader(in), &out, Options{})
	if err == nil || !strings.Contains(err.Error(), "preStopDelaySeconds: -1 is out of range") {
		t.Fatalf("error %v", err)
	}
	_, results := readBack(t, out.Bytes())
	if len(results) != 1 || results[0].Severity != framework.Error {
		t.Fatalf("results %v", results)
	}

	broken := strings.Replace(resourceList, "        containers:\n        - name: nginx\n          image: nginx:1.27\n", "        containers: {a: b}\n", 1)
	out.Reset()
	err = RunFunction(strings.NewReader(broken), &out, Options{})
	_, results = readBack(t, out.Bytes())
	if err == nil || len(results) != 1 || results[0].ResourceRef.Name != "web" || results[0].Field.Path != "spec.template.spec.containers" {
		t.Fatalf("error %v, results %v", err, results)
	}
}

// TestFunctionStrict: with spec.strict, warnings become error results and
// the function fails, so kustomize stops.
func TestFunctionStrict(t *testing.T) {
	in := strings.Replace(resourceList, "profile: nginx", "profile: nginx\n        container: missing", 1)
	in = strings.Replace(in, "  spec:\n    provider: aws", "  spec:\n    strict: true\n    provider: aws", 1)
	if !strings.Contains(in, "strict: true") {
		t.Fatal("test input not rewritten")
	}
	var out bytes.Buffer
	err := RunFunction(strings.NewReader(in), &out, Options{})
	if err == nil || !strings.Contains(err.Error(), "--strict") {
		t.Fatalf("error %v", err)
	}
	_, results := readBack(t, out.Bytes())
	found := false
	for _, r := range results {
		if strings.Contains(r.Message, `no container named "missing"`) {
			found = r.Severity == framework.Error
		}
	}
	if !found {
		t.Errorf("the warning is not an error result: %v", results)
	}
}

// trickyCases are the golden cases of issue 7's classes, all rendered with
// `--profile=nginx --provider=aws`, the settings asResourceList gives.
var trickyCases = []string{"patch-values-that-look-like-structure", "anchors-and-aliases", "json-and-yaml-flow", "alias-bombs", "line-ends-and-yaml11-numbers"}

// TestTrickyInputsEveryPath: the tricky cases come out of the Helm 3 SDK's
// post-renderer exactly as from the CLI (the golden file), and out of the KRM
// function with the same values, item by item, keeping every promise.
func TestTrickyInputsEveryPath(t *testing.T) {
	r, err := New(Options{Profile: "nginx", Providers: []string{"aws"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range trickyCases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "testdata", name)
			in, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(dir, "expected.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			helm, err := PostRenderer{Renderer: r}.Run(bytes.NewBuffer(in))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(helm.Bytes(), want) {
				t.Errorf("the Helm post-renderer differs from the CLI:\n%s", helm.Bytes())
			}

			var out bytes.Buffer
			list := asResourceList(in)
			if err := RunFunction(bytes.NewReader(list), &out, Options{}); err != nil {
				t.Fatal(err)
			}
			inItems, outItems := krmItems(t, list), krmItems(t, out.Bytes())
			wantItems := krmItems(t, asResourceList(want))
			if len(outItems) != len(inItems) || len(outItems) != len(wantItems) {
				t.Fatalf("%d items in, %d out, %d from the CLI", len(inItems), len(outItems), len(wantItems))
			}
			for i := range outItems {
				if err := promises.SameValues(inItems[i], outItems[i]); err != nil {
					t.Errorf("item %d: %v", i+1, err)
				}
				if err := promises.SameDocument(wantItems[i], outItems[i]); err != nil {
					t.Errorf("item %d differs from the CLI's document: %v", i+1, err)
				}
			}
		})
	}
}
