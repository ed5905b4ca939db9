package patches

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestBuiltinKindsHaveKustomizeSchema: a strategic-merge patch is written
// only for kinds kustomize has a schema for (it merges containers and env
// by name there); the workload CRDs render knows get JSON patches.
func TestBuiltinKindsHaveKustomizeSchema(t *testing.T) {
	for key := range builtin {
		i := strings.LastIndex(key, "/")
		tm := yaml.TypeMeta{APIVersion: key[:i], Kind: key[i+1:]}
		if openapi.SchemaForResourceType(tm) == nil {
			t.Errorf("%s: kustomize has no schema for it, so it would replace lists whole", key)
		}
	}
	for _, crd := range []yaml.TypeMeta{
		{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout"},
		{APIVersion: "apps.kruise.io/v1alpha1", Kind: "CloneSet"},
		{APIVersion: "pingcap.com/v1alpha1", Kind: "TidbCluster"},
	} {
		if openapi.SchemaForResourceType(crd) != nil || hasSchema(crd.APIVersion, crd.Kind) {
			t.Errorf("%s: expected no kustomize schema", crd.Kind)
		}
	}
}

// TestDiffShapes: which patch each kind of change gets.
func TestDiffShapes(t *testing.T) {
	before := `apiVersion: apps/v1
kind: Deployment
metadata: {name: a.b, namespace: x}
spec:
  template:
    spec:
      containers:
        - name: one
          ports: [{containerPort: 80, name: http}, {containerPort: 80, name: alt}]
`
	after := strings.Replace(before, "          ports:", "          lifecycle: {preStop: {sleep: {seconds: 5}}}\n          ports:", 1)
	ps, err := Diff([]byte(before), []byte(after))
	if err != nil || len(ps) != 1 {
		t.Fatalf("%v %v", ps, err)
	}
	// Two ports kustomize's merge would fold into one: a JSON patch.
	if !ps[0].JSON6902 || ps[0].Target.Name != `a\.b` || ps[0].Target.Namespace != "x" {
		t.Errorf("want a JSON patch for a\\.b in x, got %+v", ps[0])
	}
	if !strings.Contains(ps[0].Body, "op: test") || !strings.HasPrefix(ps[0].Body, Marker) {
		t.Errorf("JSON patch lacks the name test or the marker:\n%s", ps[0].Body)
	}

	// With protocols that tell them apart (an empty one matches any).
	distinct := strings.NewReplacer("name: http", "name: http, protocol: TCP", "name: alt", "name: alt, protocol: UDP")
	ps, err = Diff([]byte(distinct.Replace(before)), []byte(distinct.Replace(after)))
	if err != nil || len(ps) != 1 || ps[0].JSON6902 {
		t.Fatalf("want a strategic-merge patch, got %+v %v", ps, err)
	}

	// Two objects one target would select: an error, not a patch for both.
	twice := before + "---\n" + strings.Replace(before, "namespace: x", "namespace: y", 1)
	noNS := strings.ReplaceAll(twice, ", namespace: x", "")
	if _, err := Diff([]byte(noNS), []byte(strings.Replace(noNS, "          ports:", "          lifecycle: {preStop: {sleep: {seconds: 5}}}\n          ports:", 1))); err == nil {
		t.Error("want an error for a target that selects two objects")
	}
}
