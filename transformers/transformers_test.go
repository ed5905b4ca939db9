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
		{"aws-lbc", "annotations:\n  service.beta.kubernetes.io/aws-load-balancer-type: external\n  service.beta.kubernetes.io/aws-load-balancer-target-group-attributes: a=b, deregistration_delay.timeout_seconds=7", 30, "a=b, deregistration_delay.timeout_seconds=7\n"},
		{"aws-lbc", "annotations:\n  service.beta.kubernetes.io/aws-load-balancer-type: external\n  service.beta.kubernetes.io/aws-load-balancer-target-group-attributes: 'a=b'", 30, "'a=b,deregistration_delay.timeout_seconds=30'"},
	} {
		p, _ := LookupProvider(c.provider)
		meta := parse(t, c.metadata)
		if _, err := (ServiceDrain{Providers: []Provider{p}}).Transform(meta, "metadata", "", c.timeout); err != nil {
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

// TestSignalOnlyToAnAppAtPID1: the SIGQUIT-and-wait hook goes only where
// PID 1 is the application; elsewhere the delay alone and a warning.
func TestSignalOnlyToAnAppAtPID1(t *testing.T) {
	tidb, _ := profiles.Get("tidb")
	for _, c := range []struct {
		name, spec, container string
		signals               bool
	}{
		{"image entrypoint", "containers: []", "name: tidb\n", true},
		{"shared process namespace", "shareProcessNamespace: true\ncontainers: []", "name: tidb\n", false},
		{"shared process namespace, YAML 1.1", "shareProcessNamespace: yes\ncontainers: []", "name: tidb\n", false},
		{"quoted is not a boolean", "shareProcessNamespace: \"yes\"\ncontainers: []", "name: tidb\n", true},
		{"exec with only a redirection", "containers: []", "name: tidb\ncommand: [sh, -c, 'exec 2>&1; /tidb-server']\n", false},
		{"exec with only redirections, alone", "containers: []", "name: tidb\ncommand: [sh, -c, 'exec > /dev/stdout 2>&1']\n", false},
		{"exec after redirections", "containers: []", "name: tidb\ncommand: [sh, -c, 'exec 2>&1 /tidb-server']\n", true},
		{"sh -c without exec", "containers: []", "name: tidb\ncommand: [sh, -c, 'sleep 1; /tidb-server']\n", false},
		{"bash -ec without exec", "containers: []", "name: tidb\ncommand: [/bin/bash]\nargs: [-ec, '/tidb-server']\n", false},
		{"sh -c exec", "containers: []", "name: tidb\ncommand: [/bin/sh, -c, 'exec /tidb-server --store=tikv']\n", true},
		{"sh -c ending in exec", "containers: []", "name: tidb\ncommand: [/bin/sh, -c, \"cp a b\\nexec /tidb-server\"]\n", true},
		{"sh script file", "containers: []", "name: tidb\ncommand: [/bin/sh, /start.sh]\n", false},
		{"program", "containers: []", "name: tidb\ncommand: [/tidb-server]\n", true},
	} {
		s := &Settings{Profile: tidb, PreStopDelaySeconds: 10, DrainSeconds: 50, TerminationGracePeriodSeconds: 60, NativeSleep: true}
		pod := &Pod{Spec: parse(t, c.spec), SpecPath: "spec",
			Containers: []Container{{Node: parse(t, c.container), Path: "c", Name: "tidb", Image: "pingcap/tidb"}}}
		found, _ := (PreStop{}).Transform(pod, s)
		hook := encode(t, pod.Containers[0].Node)
		if got := strings.Contains(hook, "kill -QUIT 1"); got != c.signals {
			t.Errorf("%s: signals %v, want %v:\n%s", c.name, got, c.signals, hook)
		}
		warned := len(found) == 2 && found[1].Severity == Warning && strings.Contains(found[1].Message, "gets only the delay")
		if !c.signals && (!warned || !strings.Contains(hook, "seconds: 10")) {
			t.Errorf("%s: want the delay and a warning, got %+v\n%s", c.name, found, hook)
		}
	}
}

// TestShellAtPID1WithoutASignal: for a profile that relies on the kubelet's
// own stop signal, a shell at PID 1 is warned about and the output is the same.
func TestShellAtPID1WithoutASignal(t *testing.T) {
	nodeProfile, _ := profiles.Get("node")
	for _, c := range []struct {
		name, container string
		warns           bool
	}{
		{"sh -c without exec", "name: web\ncommand: [sh, -c, 'node server.js']\n", true},
		{"sh -c exec", "name: web\ncommand: [sh, -c, 'exec node server.js']\n", false},
		{"program", "name: web\ncommand: [node, server.js]\n", false},
	} {
		s := &Settings{Profile: nodeProfile, PreStopDelaySeconds: 5, DrainSeconds: 10, TerminationGracePeriodSeconds: 30, NativeSleep: true}
		pod := &Pod{Spec: parse(t, "containers: []"), SpecPath: "spec",
			Containers: []Container{{Node: parse(t, c.container), Path: "c", Name: "web", Image: "node:22"}}}
		found, _ := (PreStop{}).Transform(pod, s)
		warned := false
		for _, f := range found {
			warned = warned || f.Severity == Warning && strings.Contains(f.Message, "reaches the shell, not the application")
		}
		if warned != c.warns {
			t.Errorf("%s: warned %v, want %v: %+v", c.name, warned, c.warns, found)
		}
		if hook := encode(t, pod.Containers[0].Node); !strings.Contains(hook, "seconds: 5") {
			t.Errorf("%s: want the delay written as before:\n%s", c.name, hook)
		}
	}
}

// TestQuietHookWhereTheImageStopsWithTheSignal: nginx images whose
// STOPSIGNAL is known to be SIGQUIT get a plain delay; any image graceful
// cannot be sure of gets the signal-and-wait hook.
func TestQuietHookWhereTheImageStopsWithTheSignal(t *testing.T) {
	nginx, _ := profiles.Get("nginx")
	for image, quiet := range map[string]bool{
		"nginx":                 true,
		"nginx:1.27.3":          true,
		"nginx:1.25-alpine":     true,
		"nginx:stable":          true,
		"nginx:mainline-alpine": true,
		"docker.io/library/nginx:1.27@sha256:abc": true,
		"nginxinc/nginx-unprivileged:1.27-alpine": true,
		"nginx:1.18":                       false,
		"nginx:1.19":                       false,
		"nginx@sha256:abc":                 false,
		"mirror.gcr.io/library/nginx:1.27": false,
		"docker.io/bitnami/nginx:1.29.1":   false,
		"nginx:my-build":                   false,
	} {
		s := &Settings{Profile: nginx, PreStopDelaySeconds: 5, DrainSeconds: 25, TerminationGracePeriodSeconds: 30, NativeSleep: true}
		pod := &Pod{Spec: parse(t, "containers: []"), SpecPath: "spec",
			Containers: []Container{{Node: parse(t, "name: web\n"), Path: "c", Name: "web", Image: image}}}
		found, _ := (PreStop{}).Transform(pod, s)
		hook := encode(t, pod.Containers[0].Node)
		if got := strings.Contains(hook, "seconds: 5") && !strings.Contains(hook, "kill"); got != quiet {
			t.Errorf("%s: quiet %v, want %v: %s", image, got, quiet, hook)
		}
		if quiet && !strings.Contains(found[0].Message, "STOPSIGNAL") || !quiet && !strings.Contains(found[0].Message, "kill -QUIT 1; while kill -0 1") {
			t.Errorf("%s: the summary does not say why: %s", image, found[0].Message)
		}
	}
}

func TestSpringDurations(t *testing.T) {
	for in, want := range map[string]int{"30s": 30, "1m": 60, "PT30S": 30, "pt1m30s": 90, "30000": 30, "1500ms": 2, "2h": 7200, "P1D": 86400} {
		if got, ok := ParseSpringDuration(in); !ok || got != want {
			t.Errorf("%s: %d %v, want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "ten", "P", "PT", "30x", "${TIMEOUT}"} {
		if _, ok := ParseSpringDuration(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestSpringKeepsTheUsersTimeout: a timeout set under any spelling is kept,
// and the budget follows it.
func TestSpringKeepsTheUsersTimeout(t *testing.T) {
	spring, _ := profiles.Get("spring-boot")
	for name, container := range map[string]string{
		"env":          "env: [{name: SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE, value: 1m}]",
		"argument":     "args: ['--spring.lifecycle.timeout-per-shutdown-phase=60s']",
		"shell script": "command: [sh, -c, 'exec java -jar app.jar --spring.lifecycle.timeoutPerShutdownPhase=PT1M']",
		"JVM option":   "env: [{name: JAVA_TOOL_OPTIONS, value: '-Xmx1g -Dspring.lifecycle.timeout-per-shutdown-phase=60000'}]",
		"JSON":         `env: [{name: SPRING_APPLICATION_JSON, value: '{"spring":{"lifecycle":{"timeout-per-shutdown-phase":"60s"}}}'}]`,
	} {
		s := &Settings{Profile: spring, PreStopDelaySeconds: 30, DrainSeconds: 25, TerminationGracePeriodSeconds: 60}
		pod := &Pod{Spec: parse(t, "containers: []"), SpecPath: "spec",
			Containers: []Container{{Node: parse(t, "name: app\n"+container), Path: "c", Name: "app", Image: "spring-app"}}}
		for _, tr := range Workload {
			if _, err := tr.Transform(pod, s); err != nil {
				t.Fatal(err)
			}
		}
		out := encode(t, pod.Containers[0].Node)
		if strings.Contains(out, "value: 25s") || strings.Count(out, "TIMEOUTPERSHUTDOWNPHASE") > 1 {
			t.Errorf("%s: the user's timeout was overridden:\n%s", name, out)
		}
		if got := GraceSeconds(pod); got != 95 {
			t.Errorf("%s: grace %d, want 30 + 60 + 5 = 95", name, got)
		}
	}
}

// TestProviderGuards: each provider writes only where its controller reads.
func TestProviderGuards(t *testing.T) {
	const typ = "service.beta.kubernetes.io/aws-load-balancer-type"
	for _, c := range []struct {
		provider, annotations, class string
		writes                       bool
		says                         string
	}{
		{"aws", "", "", true, ""},
		{"aws", typ + ": nlb", "", false, "cloud-provider-aws"},
		{"aws-lbc", typ + ": nlb", "", false, "cloud-provider-aws"},
		{"aws", typ + ": external", "", false, "--provider aws-lbc"},
		{"aws-lbc", typ + ": external", "", true, ""},
		{"aws-lbc", typ + ": nlb-ip", "", true, ""},
		{"aws-lbc", "", "service.k8s.aws/nlb", true, ""},
		{"aws", "", "service.k8s.aws/nlb", false, "--provider aws-lbc"},
		{"aws-lbc", "", "", false, "cannot know that the AWS Load Balancer Controller manages it"},
		{"alibaba", "", "example.com/lb", false, `"example.com/lb"`},
		{"alibaba", "", "alibabacloud.com/nlb", true, ""},
		{"alibaba", "service.beta.kubernetes.io/alicloud-loadbalancer-connection-drain: \"off\"", "", false, "legacy"},
		{"alibaba", "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-connection-drain: \"off\"", "", false, "kept the user's"},
	} {
		p, _ := LookupProvider(c.provider)
		meta := parse(t, "name: a\nannotations: {"+c.annotations+"}")
		found, err := (ServiceDrain{Providers: []Provider{p}}).Transform(meta, "metadata", c.class, 30)
		if err != nil {
			t.Fatal(err)
		}
		wrote, said := false, c.says == ""
		for _, f := range found {
			wrote = wrote || f.Changed
			said = said || strings.Contains(f.Message, c.says)
		}
		if wrote != c.writes || !said {
			t.Errorf("%s %q %q: wrote %v, findings %+v", c.provider, c.annotations, c.class, wrote, found)
		}
	}
}

// TestShelllessHintFitsTheTarget: a user who already targets 1.30+ is not
// told to use --kube-version 1.30.
func TestShelllessHintFitsTheTarget(t *testing.T) {
	tidb, _ := profiles.Get("tidb")
	for native, want := range map[bool]string{false: "--kube-version 1.30", true: "--stop-signal-field"} {
		s := &Settings{Profile: tidb, PreStopDelaySeconds: 10, DrainSeconds: 50, TerminationGracePeriodSeconds: 60, NativeSleep: native}
		pod := &Pod{Spec: parse(t, "containers: []"), SpecPath: "spec",
			Containers: []Container{{Node: parse(t, "name: tidb\n"), Path: "c", Name: "tidb", Image: "example.com/distroless/pingcap/tidb:v8"}}}
		found, _ := (PreStop{}).Transform(pod, s)
		last := found[len(found)-1]
		if !strings.Contains(last.Message, "shell-less") || !strings.Contains(last.Message, want) ||
			(native && strings.Contains(last.Message, "--kube-version")) {
			t.Errorf("native sleep %v: %s", native, last.Message)
		}
	}
}
