package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestPlan: each workload's plan names its profile and where it came from,
// every number with its source, and each container with why it was chosen.
func TestPlan(t *testing.T) {
	in := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: annotated
  annotations: {graceful.dev/profile: nginx}
spec:
  template:
    spec:
      containers:
      - {name: proxy, image: nginx:1.27, ports: [{containerPort: 80}]}
      - {name: app, image: app:1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ruled}
spec:
  template:
    spec:
      containers:
      - {name: app, image: app:1, ports: [{containerPort: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: long-grace}
spec:
  template:
    spec:
      terminationGracePeriodSeconds: 600
      containers:
      - {name: a, image: a:1}
      - {name: b, image: b:1}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: spring
  annotations: {graceful.dev/profile: spring-boot}
spec:
  template:
    spec:
      containers:
      - name: app
        image: shop-spring:1
        env: [{name: SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE, value: 90s}]
---
apiVersion: pingcap.com/v1alpha1
kind: TidbCluster
metadata:
  name: tidb
  annotations: {graceful.dev/profile: auto}
spec:
  tidb: {baseImage: pingcap/tidb}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: opted-out
  annotations: {graceful.dev/profile: none}
spec:
  template:
    spec:
      containers: [{name: app, image: app:1}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kept-hook
spec:
  template:
    spec:
      containers: [{name: app, image: app:1, lifecycle: {preStop: {exec: {command: [sleep, "20"]}}}}]
`
	seven, sixty := 7, 60
	r, err := New(Options{Profile: "generic-http", StopSignalField: true, KubeVersion: "1.34", Config: &Config{Spec: ConfigSpec{Rules: []Rule{{
		Match: Match{Names: []string{"ruled"}}, Profile: "generic-http", PreStopDelaySeconds: &seven, TerminationGracePeriodSeconds: &sixty}}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, rep, err := r.RenderStream([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*Plan{}
	for _, e := range rep.Entries {
		if e.Plan == nil {
			t.Errorf("%s: no plan", e.Ref)
			continue
		}
		if e.Profile != e.Plan.Profile {
			t.Errorf("%s: Entry.Profile %q, plan's %q", e.Ref, e.Profile, e.Plan.Profile)
		}
		got[e.Ref.Name] = e.Plan
	}
	container := func(name, path, image, reason string) []PlannedContainer {
		return []PlannedContainer{{Name: name, Path: path, Image: image, Reason: reason}}
	}
	want := map[string]*Plan{
		"annotated": {Profile: "nginx", Source: "annotation graceful.dev/profile",
			PreStopDelay: Setting{5, SourceProfile}, Drain: Setting{25, SourceProfile}, Grace: Setting{30, SourceProfile},
			StopSignal: "SIGQUIT", StopSignalBy: SignalByField, LoadBalancerDrain: Setting{30, SourceGracePeriod},
			Containers: container("proxy", "spec.template.spec.containers[name=proxy]", "nginx:1.27", reasonImageFits)},
		"ruled": {Profile: "generic-http", Source: "rule 1",
			PreStopDelay: Setting{7, "rule 1"}, Drain: Setting{25, SourceProfile}, Grace: Setting{60, "rule 1"},
			StopSignal: "SIGTERM", StopSignalBy: SignalByKubelet, LoadBalancerDrain: Setting{60, SourceGracePeriod},
			Containers: container("app", "spec.template.spec.containers[name=app]", "app:1", reasonServes)},
		"long-grace": {Profile: "generic-http", Source: "--profile",
			PreStopDelay: Setting{5, SourceProfile}, Drain: Setting{25, SourceProfile}, Grace: Setting{600, SourceManifest},
			StopSignal: "SIGTERM", StopSignalBy: SignalByKubelet, LoadBalancerDrain: Setting{600, SourceGracePeriod},
			Containers: container("a", "spec.template.spec.containers[name=a]", "a:1", reasonFirst)},
		"spring": {Profile: "spring-boot", Source: "annotation graceful.dev/profile",
			PreStopDelay: Setting{30, SourceProfile}, Drain: Setting{90, SourceContainer}, Grace: Setting{125, SourceBudget},
			StopSignal: "SIGTERM", StopSignalBy: SignalByKubelet, LoadBalancerDrain: Setting{125, SourceGracePeriod},
			Containers: container("app", "spec.template.spec.containers[name=app]", "shop-spring:1", reasonImageFits)},
		"tidb": {Profile: "tidb", Source: "annotation graceful.dev/profile: auto: a TidbCluster",
			PreStopDelay: Setting{10, SourceProfile}, Drain: Setting{50, SourceProfile}, Grace: Setting{60, SourceProfile},
			StopSignal: "SIGQUIT", StopSignalBy: SignalByHook, LoadBalancerDrain: Setting{60, SourceGracePeriod},
			Containers: container("tidb", "spec.tidb", "pingcap/tidb", reasonSection)},
		"opted-out": {Source: "annotation graceful.dev/profile", OptedOut: true},
		"kept-hook": {Profile: "generic-http", Source: "--profile",
			PreStopDelay: Setting{20, SourceKeptHook}, Drain: Setting{25, SourceProfile}, Grace: Setting{45, SourceBudget},
			StopSignal: "SIGTERM", StopSignalBy: SignalByKubelet, LoadBalancerDrain: Setting{45, SourceGracePeriod},
			Containers: container("app", "spec.template.spec.containers[name=app]", "app:1", reasonFirst)},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Plan{})); diff != "" {
		t.Errorf("plans (-want +got):\n%s", diff)
	}
}
