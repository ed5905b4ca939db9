package transformers

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/profiles"
)

func parse(t *testing.T, text string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(text), &n); err != nil {
		t.Fatal(err)
	}
	return n.Content[0]
}

func encode(t *testing.T, n *yaml.Node) string {
	t.Helper()
	out, err := yaml.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestDrainTimeoutFitsTheProvider: the timeout is brought into each
// provider's range, and values already there win.
func TestDrainTimeoutFitsTheProvider(t *testing.T) {
	for _, c := range []struct {
		provider, metadata string
		timeout            int
		want               string
	}{
		{"alibaba", "name: a", 5, `connection-drain-timeout: "10"`},
		{"alibaba", "name: a", 1000, `connection-drain-timeout: "900"`},
		{"huawei", "name: a", 600, `connection-drain-timeout: "300"`},
		{"aws", "name: a", 0, `connection-draining-timeout: "1"`},
		{"aws", "annotations:\n  service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout: \"120\"", 30, `connection-draining-timeout: "120"`},
		{"aws-lbc", "annotations:\n  service.beta.kubernetes.io/aws-load-balancer-target-group-attributes: a=b, deregistration_delay.timeout_seconds=7", 30, "a=b, deregistration_delay.timeout_seconds=7\n"},
		{"aws-lbc", "annotations:\n  service.beta.kubernetes.io/aws-load-balancer-target-group-attributes: 'a=b'", 30, "'a=b,deregistration_delay.timeout_seconds=30'"},
	} {
		p, _ := LookupProvider(c.provider)
		meta := parse(t, c.metadata)
		if _, err := (ServiceDrain{Providers: []Provider{p}}).Transform(meta, "metadata", c.timeout); err != nil {
			t.Fatal(err)
		}
		if got := encode(t, meta); !strings.Contains(got, c.want) {
			t.Errorf("%s %d: want %q in\n%s", c.provider, c.timeout, c.want, got)
		}
	}
}

// TestGraceBudget: derived grace covers delay and drain; a user's grace is
// taken but warned about; an existing longer grace is never lowered.
func TestGraceBudget(t *testing.T) {
	nginx, _ := profiles.Get("nginx")
	for _, c := range []struct {
		name     string
		spec     string
		settings Settings
		want     int
		warns    bool
	}{
		{"derived", "containers: []", Settings{PreStopDelaySeconds: 20, DrainSeconds: 25, TerminationGracePeriodSeconds: 30}, 45, false},
		{"user's, too short", "containers: []", Settings{PreStopDelaySeconds: 5, DrainSeconds: 25, TerminationGracePeriodSeconds: 20, GraceFromUser: true}, 20, true},
		{"never lowered", "terminationGracePeriodSeconds: 300", Settings{PreStopDelaySeconds: 5, DrainSeconds: 25, TerminationGracePeriodSeconds: 30}, 300, false},
		{"raised", "terminationGracePeriodSeconds: 10 # why", Settings{PreStopDelaySeconds: 5, DrainSeconds: 25, TerminationGracePeriodSeconds: 30}, 30, false},
	} {
		c.settings.Profile = nginx
		pod := &Pod{Spec: parse(t, c.spec), SpecPath: "spec"}
		found, err := GracePeriod{}.Transform(pod, &c.settings)
		if err != nil {
			t.Fatal(err)
		}
		warned := false
		for _, f := range found {
			warned = warned || f.Severity == Warning
		}
		if got := GraceSeconds(pod); got != c.want || warned != c.warns {
			t.Errorf("%s: grace %d (want %d), warned %v", c.name, got, c.want, warned)
		}
		if c.name == "raised" && node.Get(pod.Spec, "terminationGracePeriodSeconds").LineComment != "# why" {
			t.Error("the line comment of a raised value was lost")
		}
	}
}

// TestHookIsRecognized: a hook graceful wrote is not reported again, and a
// user's hook is kept unless replacing is asked for.
func TestHookIsRecognized(t *testing.T) {
	nginx, _ := profiles.Get("nginx")
	s := &Settings{Profile: nginx, PreStopDelaySeconds: 5, DrainSeconds: 25, TerminationGracePeriodSeconds: 30, NativeSleep: true}
	c := parse(t, "name: web\nimage: nginx\n")
	pod := &Pod{Spec: parse(t, "containers: []"), SpecPath: "spec", Containers: []Container{{Node: c, Path: "c", Name: "web", Image: "nginx"}}}
	if found, _ := (PreStop{}).Transform(pod, s); len(found) != 1 || !found[0].Changed {
		t.Fatalf("first run: %+v", found)
	}
	if found, _ := (PreStop{}).Transform(pod, s); len(found) != 0 {
		t.Fatalf("second run reported %+v", found)
	}
	pod.Containers[0].Node = parse(t, "name: web\nlifecycle:\n  preStop:\n    exec: {command: [sleep, '3']}\n")
	if found, _ := (PreStop{}).Transform(pod, s); len(found) != 1 || found[0].Severity != Warning {
		t.Fatalf("user's hook: %+v", found)
	}
	s.ReplacePreStop = true
	if found, _ := (PreStop{}).Transform(pod, s); len(found) != 1 || !found[0].Changed {
		t.Fatalf("replace: %+v", found)
	}
}

func TestExecHookOnShelllessImage(t *testing.T) {
	generic, _ := profiles.Get("generic-http")
	s := &Settings{Profile: generic, PreStopDelaySeconds: 5, DrainSeconds: 25, TerminationGracePeriodSeconds: 30, NativeSleep: false}
	image := "quay.io/prometheus/node-exporter:v1.12.1-distroless"
	pod := &Pod{Spec: parse(t, "containers: []"), SpecPath: "spec", Containers: []Container{{Node: parse(t, "name: a\n"), Path: "c", Name: "a", Image: image}}}
	found, _ := (PreStop{}).Transform(pod, s)
	if len(found) != 2 || found[1].Severity != Warning || !strings.Contains(found[1].Message, "shell-less") {
		t.Fatalf("%+v", found)
	}
}

func TestSharedProcessNamespace(t *testing.T) {
	tidb, _ := profiles.Get("tidb")
	s := &Settings{Profile: tidb, PreStopDelaySeconds: 10, DrainSeconds: 50, TerminationGracePeriodSeconds: 60, NativeSleep: true}
	pod := &Pod{Spec: parse(t, "shareProcessNamespace: true\ncontainers: []"), SpecPath: "spec",
		Containers: []Container{{Node: parse(t, "name: tidb\n"), Path: "c", Name: "tidb", Image: "pingcap/tidb"}}}
	found, _ := (PreStop{}).Transform(pod, s)
	if len(found) != 2 || !strings.Contains(found[1].Message, "pause process") {
		t.Fatalf("%+v", found)
	}
}
