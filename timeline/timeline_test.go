package timeline

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/profiles"
)

// build reads a Deployment and its Services from a YAML stream and explains
// it with the named profile (or none) applied to the named containers.
func build(t *testing.T, stream, profile string, containers ...string) *Timeline {
	t.Helper()
	return buildWith(t, stream, Options{}, profile, containers...)
}

// buildWith is build with more of what graceful knows (o).
func buildWith(t *testing.T, stream string, o Options, profile string, containers ...string) *Timeline {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(stream))
	var w Workload
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			break
		}
		obj := doc.Content[0]
		switch node.GetStr(obj, "kind") {
		case "Service":
			o.Services = append(o.Services, ReadService(obj))
		default:
			meta := node.Get(obj, "metadata")
			w = Workload{Kind: node.GetStr(obj, "kind"), Name: node.GetStr(meta, "name"), Namespace: node.GetStr(meta, "namespace"),
				Template: node.Lookup(obj, "spec", "template"), Spec: node.Lookup(obj, "spec", "template", "spec")}
		}
	}
	if profile != "" {
		p, ok := profiles.Get(profile)
		if !ok {
			t.Fatalf("no profile %s", profile)
		}
		o.Profile, o.Containers = p, containers
	}
	return Build(w, o)
}

func codes(tl *Timeline) string {
	var out []string
	for _, c := range tl.Conflicts {
		out = append(out, c.Code)
	}
	return strings.Join(out, ",")
}

func event(tl *Timeline, kind, container string) (Event, bool) {
	for _, e := range tl.Events {
		if e.Event == kind && e.Container == container {
			return e, true
		}
	}
	return Event{}, false
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
%s
`

func pod(spec string) string {
	lines := strings.Split(strings.TrimSpace(spec), "\n")
	for i := range lines {
		lines[i] = "      " + lines[i]
	}
	return strings.Replace(deployment, "%s", strings.Join(lines, "\n"), 1)
}

func TestNginxRendered(t *testing.T) {
	tl := build(t, pod(`
terminationGracePeriodSeconds: 30
containers:
  - name: nginx
    image: nginx:1.27.3
    ports: [{containerPort: 80}]
    lifecycle: {preStop: {sleep: {seconds: 5}}}
`), "nginx", "nginx")
	if got := codes(tl); got != "" {
		t.Fatalf("conflicts %s: %+v", got, tl.Conflicts)
	}
	c := tl.Containers[0]
	if c.Signal.Name != "SIGQUIT" || c.Signal.AtSeconds != 5 || !strings.Contains(c.Signal.Source, "STOPSIGNAL") {
		t.Errorf("signal %+v", c.Signal)
	}
	if e, ok := event(tl, EventDrainEnd, "nginx"); !ok || e.AtSeconds != 30 {
		t.Errorf("drain end %+v", e)
	}
	if e, ok := event(tl, EventSIGKILL, "nginx"); !ok || e.AtSeconds != 30 {
		t.Errorf("sigkill %+v", e)
	}
}

func TestNginxHookSignalsAndWaits(t *testing.T) {
	tl := build(t, pod(`
containers:
  - name: nginx
    image: bitnami/nginx:1.25
    lifecycle:
      preStop:
        exec:
          command: ["/bin/sh", "-c", "sleep 5; kill -QUIT 1; while kill -0 1 2>/dev/null; do sleep 1; done"]
`), "nginx", "nginx")
	c := tl.Containers[0]
	if c.Signal.Name != "SIGQUIT" || c.Signal.AtSeconds != 5 || !strings.Contains(c.Signal.Source, "preStop hook") || c.KubeletSignal != nil || !c.PreStop.WaitsForExit || !c.PreStop.Exact {
		t.Fatalf("container %+v", c)
	}
	if tl.GraceSeconds != 30 || !strings.Contains(tl.GraceSource, "default") {
		t.Errorf("grace %d %s", tl.GraceSeconds, tl.GraceSource)
	}
	if got := codes(tl); got != "" {
		t.Fatalf("conflicts %s: %+v", got, tl.Conflicts)
	}
}

// A hook whose wait for PID 1 lasts the grace period (check's GS207) is
// GS306 only: a longer grace period would not help, so no GS303 (and no
// GS202 in check), with a profile's drain or without one.
func TestBrokenWaitIsNotGraceShort(t *testing.T) {
	stream := pod(`
shareProcessNamespace: true
containers:
  - name: nginx
    image: nginx:1.27
    lifecycle:
      preStop:
        exec:
          command: ["/bin/sh", "-c", "sleep 5; kill -QUIT 1; while kill -0 1 2>/dev/null; do sleep 1; done"]
`)
	broken := Options{BrokenHooks: map[string]string{"nginx": CodeSharedPID1 + ": PID 1 is the pause process"}}
	for _, profile := range []string{"nginx", ""} {
		tl := buildWith(t, stream, broken, profile, "nginx")
		if got := codes(tl); got != CodeBroken {
			t.Errorf("profile %q: conflicts %s, want %s only: %+v", profile, got, CodeBroken, tl.Conflicts)
		}
		if e, ok := event(tl, EventPreStopEnd, "nginx"); !ok || e.AtSeconds != 30 {
			t.Errorf("profile %q: the wait should last the grace period: %+v", profile, e)
		}
	}
}

// Each conflict, and that it goes away when the manifest is right.
func TestConflicts(t *testing.T) {
	for _, tc := range []struct {
		name, stream, profile, want string
	}{
		{"quit then TERM: fast stop", pod(`
containers:
  - name: nginx
    image: registry.example/nginx:1
    lifecycle: {preStop: {exec: {command: ["sh", "-c", "sleep 5 && nginx -s quit"]}}}
`), "nginx", CodeFastStop},
		{"no hook on nginx of unknown STOPSIGNAL", pod(`
containers:
  - name: nginx
    image: registry.example/nginx:1
`), "nginx", CodeNoDelay + "," + CodeFastStop},
		{"no profile: the hook leaves less than the kubelet's 2 s", pod(`
terminationGracePeriodSeconds: 20
containers:
  - name: app
    image: example.com/app:1
    lifecycle: {preStop: {sleep: {seconds: 19}}}
`), "", CodeGraceShort},
		{"no profile: the hook leaves 2 s", pod(`
terminationGracePeriodSeconds: 20
containers:
  - name: app
    image: example.com/app:1
    lifecycle: {preStop: {sleep: {seconds: 18}}}
`), "", ""},
		{"no profile: istio leaves before the hook's wait ends", strings.Replace(pod(`
containers:
  - name: app
    image: example.com/app:1
    lifecycle: {preStop: {sleep: {seconds: 10}}}
  - name: istio-proxy
    image: istio/proxyv2:1.22.0
`), "labels: {app: web}", "labels: {app: web}\n      annotations: {proxy.istio.io/config: 'terminationDrainDuration: 5s'}", 1), "", CodeMeshDrainShort},
		{"grace too short", pod(`
terminationGracePeriodSeconds: 20
containers:
  - name: nginx
    image: nginx:1.27.3
    lifecycle: {preStop: {sleep: {seconds: 5}}}
`), "nginx", CodeGraceShort},
		{"istio drain short", strings.Replace(pod(`
terminationGracePeriodSeconds: 30
containers:
  - name: nginx
    image: nginx:1.27.3
    lifecycle: {preStop: {sleep: {seconds: 5}}}
  - name: istio-proxy
    image: istio/proxyv2:1.22.0
`), "labels: {app: web}", "labels: {app: web}\n      annotations: {proxy.istio.io/config: 'terminationDrainDuration: 10s'}", 1), "nginx", CodeMeshDrainShort},
		{"istio drain long enough", strings.Replace(pod(`
terminationGracePeriodSeconds: 30
containers:
  - name: nginx
    image: nginx:1.27.3
    lifecycle: {preStop: {sleep: {seconds: 5}}}
  - name: istio-proxy
    image: istio/proxyv2:1.22.0
`), "labels: {app: web}", "labels: {app: web}\n      annotations: {proxy.istio.io/config: 'terminationDrainDuration: 30s'}", 1), "nginx", ""},
		{"lb drain short", pod(`
terminationGracePeriodSeconds: 30
containers:
  - name: nginx
    image: nginx:1.27.3
    lifecycle: {preStop: {sleep: {seconds: 5}}}
`) + `---
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled: "true"
    service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout: "10"
spec: {type: LoadBalancer, selector: {app: web}}
`, "nginx", CodeLBDrainShort},
		{"lb drain enough", pod(`
terminationGracePeriodSeconds: 30
containers:
  - name: nginx
    image: nginx:1.27.3
    lifecycle: {preStop: {sleep: {seconds: 5}}}
`) + `---
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled: "true"
    service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout: "30"
spec: {type: LoadBalancer, selector: {app: web}}
`, "nginx", ""},
		{"redis takes no lb drain", pod(`
terminationGracePeriodSeconds: 60
containers:
  - name: redis
    image: redis:7
`) + `---
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled: "false"
spec: {type: LoadBalancer, selector: {app: web}}
`, "redis", ""},
		{"no profile, serving a Service, no hook", pod(`
containers:
  - name: app
    image: example/app
    ports: [{containerPort: 8080}]
`) + `---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}}
`, "", CodeNoDelay},
		{"no profile, the Service routes to another port", pod(`
containers:
  - name: app
    image: example/app
    ports: [{containerPort: 8080}]
  - name: metrics
    image: example/exporter
    ports: [{containerPort: 9100, name: metrics}]
`) + `---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
`, "", CodeNoDelay},
		{"no profile, no Service selects it", pod(`
containers:
  - name: app
    image: example/app
    ports: [{containerPort: 8080}]
`), "", ""},
		{"nginx quits at once from its hook", pod(`
containers:
  - name: nginx
    image: nginx
    lifecycle: {preStop: {exec: {command: ["/bin/sh", "-c", "nginx -s quit; while killall -0 nginx; do sleep 1; done"]}}}
`), "nginx", CodeNoDelay},
		{"a hook graceful cannot read before the signal", pod(`
containers:
  - name: nginx
    image: nginx
    lifecycle: {preStop: {exec: {command: ["/wait-shutdown"]}}}
`), "nginx", ""},
		{"no profile, hook longer than grace", pod(`
terminationGracePeriodSeconds: 10
containers:
  - name: app
    image: example/app
    lifecycle: {preStop: {sleep: {seconds: 15}}}
`), "", CodeGraceShort},
		{"caddy forbidden QUIT", pod(`
containers:
  - name: caddy
    image: caddy:2
    lifecycle: {stopSignal: SIGQUIT, preStop: {sleep: {seconds: 5}}}
`), "caddy", CodeFastStop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var containers []string
			if tc.profile != "" {
				containers = []string{tc.profile} // each case names its container after its profile
			}
			tl := build(t, tc.stream, tc.profile, containers...)
			if got := codes(tl); got != tc.want {
				t.Fatalf("conflicts %q, want %q: %+v", got, tc.want, tl.Conflicts)
			}
		})
	}
}

func TestRedisNotes(t *testing.T) {
	tl := build(t, pod(`
terminationGracePeriodSeconds: 60
containers:
  - name: redis
    image: redis:7
    args: ["--shutdown-timeout", "20"]
`), "redis", "redis")
	notes := strings.Join(tl.Notes, "\n")
	for _, want := range []string{"no load balancer drain: Redis clients", "no preStop delay", "grace period: the redis profile's default budget is 60 s (drain 50 s + headroom 10 s)"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	c := tl.Containers[0]
	if c.DrainSeconds == nil || *c.DrainSeconds != 20 || !strings.Contains(c.DrainSource, "--shutdown-timeout") {
		t.Errorf("drain %v %q", c.DrainSeconds, c.DrainSource)
	}
}

// A setting that makes the application stop at once is a fast stop; one
// that is missing is only a note (Spring Boot 3.4 drains by default).
func TestSpringShutdownSetting(t *testing.T) {
	for _, tc := range []struct{ env, want, note string }{
		{"[{name: SERVER_SHUTDOWN, value: immediate}]", CodeFastStop, ""},
		{"[{name: JAVA_OPTS, value: -Dserver.shutdown=immediate}]", CodeFastStop, ""},
		{"[{name: SERVER_SHUTDOWN, value: graceful}]", "", ""},
		{"[]", "", "server.shutdown is not set"},
	} {
		tl := build(t, pod(`
terminationGracePeriodSeconds: 60
containers:
  - name: app
    image: example/spring-app
    env: `+tc.env+`
    lifecycle: {preStop: {sleep: {seconds: 30}}}
`), "spring-boot", "app")
		if got := codes(tl); got != tc.want {
			t.Errorf("%s: conflicts %q, want %q: %+v", tc.env, got, tc.want, tl.Conflicts)
		}
		if drain := *tl.Containers[0].DrainSeconds; (tc.want == CodeFastStop) != (drain == 0) {
			t.Errorf("%s: drain %d s", tc.env, drain)
		}
		if notes := strings.Join(tl.Notes, "\n"); !strings.Contains(notes, tc.note) {
			t.Errorf("%s: notes lack %q:\n%s", tc.env, tc.note, notes)
		}
	}
}

func TestSpringDrainFromEnv(t *testing.T) {
	tl := build(t, pod(`
terminationGracePeriodSeconds: 60
containers:
  - name: app
    image: example/spring-app
    env:
      - {name: SERVER_SHUTDOWN, value: graceful}
      - {name: SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE, value: 40s}
    lifecycle: {preStop: {sleep: {seconds: 30}}}
`), "spring-boot", "app")
	c := tl.Containers[0]
	if *c.DrainSeconds != 40 {
		t.Fatalf("drain %d", *c.DrainSeconds)
	}
	if got := codes(tl); got != CodeGraceShort {
		t.Fatalf("conflicts %q: 30 + 40 + 5 > 60", got)
	}
}
