package profiles

import (
	"strings"
	"testing"
)

// TestBuiltin: every built-in profile loads, is valid and keeps its own budget.
func TestBuiltin(t *testing.T) {
	want := []string{"generic-http", "nginx", "spring-boot", "tidb"}
	if got := Names(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("profiles %v, want %v", got, want)
	}
	for _, name := range want {
		p, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if p.TerminationGracePeriodSeconds < p.PreStopDelaySeconds+p.DrainSeconds+p.HeadroomSeconds {
			t.Errorf("%s breaks its budget", name)
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
		"unknown field": "name: x\nstopSignal: SIGTERM\ntypo: 1\n",
		"broken budget": "name: x\nstopSignal: SIGTERM\npreStopDelaySeconds: 20\ndrainSeconds: 20\nterminationGracePeriodSeconds: 30\n",
		"negative":      "name: x\nstopSignal: SIGTERM\npreStopDelaySeconds: -1\n",
		"bad signal":    "name: x\nstopSignal: QUIT\n",
		"reserved name": "name: none\nstopSignal: SIGTERM\n",
		"signal to any": "name: x\nstopSignal: SIGQUIT\nsignalPID1: true\n",
		"bad version":   "name: x\nstopSignal: SIGQUIT\nimages: [x]\nimageStopSignals: [{images: [x], registries: [docker.io], minVersion: one, signal: SIGQUIT}]\n",
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
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
