package profiles

import (
	"strings"
	"testing"
)

// TestBuiltin: every built-in profile loads, is valid and keeps its own budget.
func TestBuiltin(t *testing.T) {
	want := []string{"caddy", "celery", "elasticsearch", "envoy", "generic-http", "gunicorn", "haproxy", "httpd", "kafka",
		"nginx", "node", "php-fpm", "postgresql", "puma", "rabbitmq", "redis", "sidekiq", "spring-boot", "tidb", "tomcat", "traefik", "uwsgi"}
	if got := Names(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("profiles %v, want %v", got, want)
	}
	for _, name := range want {
		p, err := Builtin().Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if p.TerminationGracePeriodSeconds < p.PreStopDelaySeconds+p.DrainSeconds+p.HeadroomSeconds {
			t.Errorf("%s breaks its budget", name)
		}
		// Kubernetes gives 30 s when the field is absent, and graceful
		// writes the profile's: a shorter one would cut the default.
		if p.TerminationGracePeriodSeconds < 30 {
			t.Errorf("%s: grace period %d s is below Kubernetes' default 30 s", name, p.TerminationGracePeriodSeconds)
		}
		if len(p.Sources) == 0 {
			t.Errorf("%s lists no sources", name)
		}
		for _, k := range p.ImageStopSignals {
			if k.Signal != p.StopSignal {
				t.Errorf("%s: an image STOPSIGNAL %s that is not the profile's %s would not stop it gracefully", name, k.Signal, p.StopSignal)
			}
		}
	}
}

// TestSpecDefaults pins the numbers SPEC.md promises.
func TestSpecDefaults(t *testing.T) {
	for _, c := range []struct {
		name          string
		delay, grace  int
		signal, check string
	}{
		{"tidb", 10, 60, "SIGQUIT", "signals PID 1"},
		{"nginx", 5, 30, "SIGQUIT", "signals PID 1"},
		{"spring-boot", 30, 60, "SIGTERM", ""},
		{"generic-http", 5, 30, "SIGTERM", ""},
	} {
		p, _ := Get(c.name)
		if p.PreStopDelaySeconds != c.delay || p.TerminationGracePeriodSeconds != c.grace || p.StopSignal != c.signal || p.SignalPID1 != (c.check != "") {
			t.Errorf("%s: delay %d grace %d signal %s signals PID 1 %v", c.name, p.PreStopDelaySeconds, p.TerminationGracePeriodSeconds, p.StopSignal, p.SignalPID1)
		}
	}
	spring, _ := Get("spring-boot")
	env := map[string]string{}
	for _, e := range spring.Env {
		env[e.Name] = ExpandEnvValue(e.Value, spring.DrainSeconds)
	}
	// The shutdown phase is grace - delay - headroom: beans close after it.
	if env["SERVER_SHUTDOWN"] != "graceful" || env["SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE"] != "25s" ||
		spring.TerminationGracePeriodSeconds-spring.PreStopDelaySeconds-spring.HeadroomSeconds != spring.DrainSeconds || spring.HeadroomSeconds != 5 {
		t.Errorf("spring env %v, headroom %d", env, spring.HeadroomSeconds)
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":              "stopSignal: SIGTERM\ntypo: 1\n",
		"broken budget":              "stopSignal: SIGTERM\npreStopDelaySeconds: 20\ndrainSeconds: 20\nterminationGracePeriodSeconds: 30\n",
		"negative":                   "stopSignal: SIGTERM\npreStopDelaySeconds: -1\n",
		"bad signal":                 "stopSignal: QUIT\n",
		"signal to any":              "stopSignal: SIGQUIT\nsignalPID1: true\n",
		"unknown signal":             "stopSignal: SIGFOO\nsignalPID1: true\nimages: [x]\n",
		"uncatchable kill":           "stopSignal: SIGKILL\nsignalPID1: true\nimages: [x]\n",
		"uncatchable stop":           "stopSignal: SIGSTOP\nsignalPID1: true\nimages: [x]\n",
		"beyond SIGRTMIN+15":         "stopSignal: SIGRTMIN+16\nsignalPID1: true\nimages: [x]\n",
		"signal nothing delivers":    "stopSignal: SIGINT\n",
		"forbidden own signal":       "stopSignal: SIGQUIT\nforbiddenSignals: [SIGQUIT]\n",
		"condition without test":     "stopSignal: SIGTERM\nrequires: [{message: m}]\n",
		"drain flag without a group": "stopSignal: SIGTERM\ndrainFlags: [{pattern: '-t \\d+'}]\n",
		"bad regexp":                 "stopSignal: SIGTERM\nunsafeWhen: [{command: '(', message: m}]\n",
		"image with registry":        "stopSignal: SIGTERM\nimages: [registry.example.com/team/app]\n",
		"signal to every image":      "stopSignal: SIGQUIT\nsignalPID1: true\nimages: [x, '*']\n",
		"signal to every path":       "stopSignal: SIGQUIT\nsignalPID1: true\nimages: ['*/*']\n",
		"signal to any name":         "stopSignal: SIGQUIT\nsignalPID1: true\nimages: ['?*:1.2']\n",
		"signal to any class":        "stopSignal: SIGQUIT\nsignalPID1: true\nimages: ['team/[a-z]*']\n",
		"bad version":                "stopSignal: SIGQUIT\nimages: [x]\nimageStopSignals: [{images: [x], registries: [docker.io], minVersion: one, signal: SIGQUIT}]\n",
	} {
		if _, err := Parse([]byte(profileDoc(doc))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestSignalImagesAccepted: a signalling profile may glob around a name, and
// a profile that sends nothing to PID 1 may fit every image.
func TestSignalImagesAccepted(t *testing.T) {
	for _, doc := range []string{
		"stopSignal: SIGQUIT\nsignalPID1: true\nimages: ['*nginx*', 'team/*/app', 'ng?nx:1.*']\n",
		"stopSignal: SIGTERM\nimages: ['*']\n",
	} {
		if _, err := Parse([]byte(profileDoc(doc))); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
	_, err := Parse([]byte(profileDoc("stopSignal: SIGQUIT\nsignalPID1: true\nimages: [x, '*/*']\n")))
	if err == nil || !strings.Contains(err.Error(), "spec.images[1]: \"*/*\" fits every image") {
		t.Errorf("error %v, want one naming spec.images[1]", err)
	}
}

// TestStopSignals pins each built-in's signal, and that a profile whose
// signal is not SIGTERM delivers it: by a known image STOPSIGNAL or the hook.
func TestStopSignals(t *testing.T) {
	for name, want := range map[string]string{
		"httpd": "SIGWINCH", "haproxy": "SIGUSR1", "php-fpm": "SIGQUIT", "postgresql": "SIGINT", "nginx": "SIGQUIT", "tidb": "SIGQUIT",
		"caddy": "SIGTERM", "celery": "SIGTERM", "redis": "SIGTERM", "uwsgi": "SIGTERM", "node": "SIGTERM", "sidekiq": "SIGTERM",
	} {
		p, _ := Get(name)
		if p.StopSignal != want {
			t.Errorf("%s: stop signal %s, want %s", name, p.StopSignal, want)
		}
	}
	for _, name := range Names() {
		p, _ := Get(name)
		if p.StopSignal != "SIGTERM" && !p.SignalPID1 {
			t.Errorf("%s: %s is never delivered (no signalPID1)", name, p.StopSignal)
		}
	}
	for image, want := range map[string]string{
		"httpd:2.4.62":            "SIGWINCH",
		"httpd:2.4":               "", // 2.4.0 as far as a version goes: may predate the STOPSIGNAL
		"httpd:2.4.41":            "",
		"php:8.3-apache":          "SIGWINCH",
		"php:8.3-fpm":             "SIGQUIT",
		"php:8.3-fpm-alpine":      "SIGQUIT",
		"php:7.3-fpm":             "",
		"php:8.3-cli":             "",
		"haproxy:3.2":             "SIGUSR1",
		"haproxy:lts-alpine":      "SIGUSR1",
		"haproxy:1.8":             "",
		"postgres:17":             "SIGINT",
		"postgres:13":             "",
		"bitnami/postgresql:17":   "",
		"quay.io/postgres:17":     "",
		"postgres@sha256:0123abc": "",
	} {
		got := ""
		for _, name := range Names() {
			p, _ := Get(name)
			if p.FitsImage(image) {
				got += p.KnownStopSignal(image)
			}
		}
		if got != want {
			t.Errorf("%s: known STOPSIGNAL %q, want %q", image, got, want)
		}
	}
}

// TestImageFits: each official image fits exactly its profile, and look-alikes fit none.
func TestImageFits(t *testing.T) {
	for image, want := range map[string]string{
		"httpd:2.4":                            "httpd",
		"php:8.3-apache-bookworm":              "httpd",
		"php:8.3-fpm":                          "php-fpm",
		"php:8.3-cli":                          "",
		"php":                                  "",
		"haproxy:3.2":                          "haproxy",
		"haproxytech/kubernetes-ingress:3.1":   "",
		"node:22-alpine":                       "node",
		"bitnami/node:22":                      "",
		"tomcat:10":                            "tomcat",
		"docker.io/library/traefik:v3.3":       "traefik",
		"caddy:2":                              "caddy",
		"envoyproxy/envoy:v1.32-latest":        "envoy",
		"docker.io/istio/proxyv2:1.24":         "",
		"redis:7.4":                            "redis",
		"bitnami/redis:7.4":                    "",
		"postgres:17":                          "postgresql",
		"ghcr.io/cloudnative-pg/postgresql:17": "",
		"rabbitmq:4-management":                "rabbitmq",
		"apache/kafka:3.9.0":                   "kafka",
		"docker.elastic.co/elasticsearch/elasticsearch:8.15.0": "elasticsearch",
		"opensearchproject/opensearch:2":                       "elasticsearch",
		"nginx:1.27":                                           "nginx",
		"myregistry.example/httpd:2.4":                         "",
	} {
		var got []string
		for _, name := range Names() {
			if p, _ := Get(name); p.FitsImage(image) {
				got = append(got, name)
			}
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s fits %v, want %q", image, got, want)
		}
	}
}

// TestConditions: node's "never" (a package manager in front of node), and
// "requires" as a profile file may use it.
func TestConditions(t *testing.T) {
	node, _ := Get("node")
	needs, err := Parse([]byte(profileDoc("stopSignal: SIGTERM\nrequires: [{command: '(^|\\s)--die-on-term(\\s|=|$)', env: UWSGI_DIE_ON_TERM, message: m}]\n")))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p      *Profile
		argv   []string
		env    map[string]string
		unsafe bool
	}{
		{needs, []string{"uwsgi", "--ini", "app.ini"}, nil, true},
		{needs, nil, nil, true},
		{needs, []string{"uwsgi", "--ini", "app.ini", "--die-on-term"}, nil, false},
		{needs, []string{"uwsgi", "--die-on-term=true"}, nil, false},
		{needs, []string{"uwsgi", "--die-on-termination"}, nil, true},
		{needs, []string{"uwsgi"}, map[string]string{"UWSGI_DIE_ON_TERM": "true"}, false},
		{needs, []string{"uwsgi"}, map[string]string{"UWSGI_DIE_ON_TERM": "false"}, true},
		{node, []string{"npm", "start"}, nil, true},
		{node, []string{"sh", "-c", "cd /app && yarn run start"}, nil, true},
		{node, []string{"/usr/local/bin/npm", "run-script", "start"}, nil, true},
		{node, []string{"npm", "run", "start:prod"}, nil, true},
		{node, []string{"node", "server.js"}, nil, false},
		{node, []string{"node", "startup.js"}, nil, false},
		{node, []string{"npm", "run", "serve"}, nil, true},
		{node, []string{"yarn", "starter.js"}, nil, false},
	} {
		if got := c.p.Unsafe(c.argv, c.env) != ""; got != c.unsafe {
			t.Errorf("%s %v %v: unsafe %v, want %v", c.p.Name, c.argv, c.env, got, c.unsafe)
		}
	}
}

func TestImageMatching(t *testing.T) {
	nginx := []string{"nginx", "nginx-unprivileged"}
	for image, want := range map[string]bool{
		"nginx":                                  true,
		"nginx:1.27":                             true,
		"docker.io/library/nginx:1.27@sha256:ab": true,
		"docker.io/bitnami/nginx:1.29.1":         true,
		"nginxinc/nginx-unprivileged:1.27":       true,
		"localhost:5000/nginx":                   true,
		"docker.io/bitnami/nginx-exporter:1.4":   false,
		"registry.k8s.io/ingress-nginx/controller:v1.15.1@sha256:59": false,
		"${REPOSITORY_PREFIX}/nginx:latest":                          true,
		"":                                                           false,
	} {
		if got := ImageMatchesAny(image, nginx); got != want {
			t.Errorf("%q: got %v", image, got)
		}
	}
	for image, want := range map[string]bool{
		"pingcap/tidb:v8.5.0":           true,
		"uhub.example.com/pingcap/tidb": true,
		"pingcap/tidb-lightning:v8.5.0": false,
		"pingcap/tidb-binlog:v8.5.0":    false,
	} {
		if got := ImageMatchesAny(image, []string{"pingcap/tidb"}); got != want {
			t.Errorf("%q: got %v", image, got)
		}
	}
}

// profileDoc wraps spec fields, given flat, into a ShutdownProfile named x.
func profileDoc(spec string) string {
	lines := strings.Split(strings.TrimSuffix(spec, "\n"), "\n")
	return "apiVersion: graceful.dev/v1alpha1\nkind: ShutdownProfile\nmetadata: {name: x}\nspec:\n  " + strings.Join(lines, "\n  ") + "\n"
}
