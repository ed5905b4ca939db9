package render

import (
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestEntryProfile: explain and check learn from render's report which
// profile each workload got and on which containers (Entry.Profile, Plan).
func TestEntryProfile(t *testing.T) {
	r, err := New(Options{Profile: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	_, report, err := r.RenderStream([]byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - {name: "a, \"b\"", image: "nginx:1.27.3"}
        - {name: side, image: busybox}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: other}
spec:
  template:
    spec:
      containers: [{name: app, image: example/app}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: named, annotations: {graceful.dev/profile: nginx}}
spec:
  template:
    spec:
      containers: [{name: app, image: example/app}]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		profile    string
		containers []string
	}{
		"web":   {"nginx", []string{`a, "b"`}},
		"other": {"", nil},
		"named": {"nginx", nil}, // no container fits: left unchanged
	}
	if len(report.Entries) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(report.Entries), len(want), report.Entries)
	}
	for _, e := range report.Entries {
		name, containers := e.Profile, e.Plan.ContainerNames()
		w := want[e.Ref.Name]
		if name != w.profile || !reflect.DeepEqual(containers, w.containers) {
			t.Errorf("%s (%q): profile %q containers %q, want %q %q", e.Ref.Name, e.Decision, name, containers, w.profile, w.containers)
		}
	}
}

func TestFindPods(t *testing.T) {
	r, _ := New(Options{})
	for _, tc := range []struct {
		object string
		ok     bool
		batch  bool
	}{
		{`{kind: Deployment, spec: {template: {spec: {containers: [{name: a}]}}}}`, true, false},
		{`{kind: CronJob, spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: a}]}}}}}}`, true, true},
		{`{kind: TidbCluster, spec: {tidb: {baseImage: pingcap/tidb}}}`, true, false},
		{`{kind: Service, spec: {selector: {a: b}}}`, false, false},
		{`{kind: Widget, spec: {template: {spec: {containers: [{name: a}]}}}}`, false, false},
		{`{kind: Widget, metadata: {annotations: {graceful.dev/profile: nginx}}, spec: {template: {spec: {containers: [{name: a}]}}}}`, true, false},
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(tc.object), &n); err != nil {
			t.Fatal(err)
		}
		pods, ok := r.FindPods(n.Content[0])
		if ok != tc.ok || ok && (pods.Batch != tc.batch || len(pods.Containers) != 1) {
			t.Errorf("%s: ok %v pods %+v", tc.object, ok, pods)
		}
	}
}

// TestFindPodsKindGroups: a kind is the one graceful knows only in its own
// API group. A rule naming Deployment does not make a CRD's Deployment a
// workload (its annotation does); a rule naming Rollout names a Rollout of
// any group, as a rule names any CRD.
func TestFindPodsKindGroups(t *testing.T) {
	cfg := &Config{APIVersion: ConfigAPIVersion, Kind: ConfigKind}
	cfg.Spec.Rules = []Rule{{Match: Match{Kinds: []string{"Deployment", "Rollout"}}, Profile: "nginx"}}
	withRule, err := New(Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := New(Options{})
	template := `spec: {template: {spec: {containers: [{name: a}]}}}`
	for _, tc := range []struct {
		object         string
		plain, rule    bool
		kubeDefaulting bool
	}{
		{`{apiVersion: apps/v1, kind: Deployment, ` + template + `}`, true, true, true},
		{`{apiVersion: extensions/v1beta1, kind: Deployment, ` + template + `}`, true, true, true},
		{`{kind: Deployment, ` + template + `}`, true, true, true}, // no apiVersion: read by its kind
		{`{apiVersion: example.com/v1, kind: Deployment, ` + template + `}`, false, false, false},
		{`{apiVersion: example.com/v1, kind: Deployment, metadata: {annotations: {graceful.dev/profile: nginx}}, ` + template + `}`, true, true, false},
		{`{apiVersion: apps/v1, kind: Job, ` + template + `}`, false, false, false},
		{`{apiVersion: argoproj.io/v1alpha1, kind: Rollout, ` + template + `}`, true, true, false},
		{`{apiVersion: example.com/v1, kind: Rollout, ` + template + `}`, false, true, false},
		{`{apiVersion: example.com/v1, kind: TidbCluster, spec: {tidb: {baseImage: pingcap/tidb}}}`, false, false, false},
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(tc.object), &n); err != nil {
			t.Fatal(err)
		}
		_, ok := plain.FindPods(n.Content[0])
		_, okRule := withRule.FindPods(n.Content[0])
		var ref Ref
		setIdentity(&ref, n.Content[0])
		kind, _ := kindOf(ref)
		if ok != tc.plain || okRule != tc.rule || kind.builtin != tc.kubeDefaulting {
			t.Errorf("%s: found %v, with a rule %v, Kubernetes' defaults %v; want %v %v %v", tc.object, ok, okRule, kind.builtin, tc.plain, tc.rule, tc.kubeDefaulting)
		}
	}
}
