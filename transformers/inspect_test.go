package transformers

import (
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/profiles"
)

func TestReadPreStop(t *testing.T) {
	for _, tc := range []struct {
		container string
		want      Hook
	}{
		{`{name: a}`, Hook{Kind: "none", DelayExact: true}},
		{`{lifecycle: {preStop: {sleep: {seconds: 7}}}}`, Hook{Kind: "sleep", DelaySeconds: 7, DelayExact: true, Text: "sleep action, 7 s"}},
		{`{lifecycle: {preStop: {exec: {command: [sleep, "15"]}}}}`, Hook{Kind: "exec", DelaySeconds: 15, DelayExact: true, Text: "sleep 15"}},
		// what PreStop writes for nginx and tidb
		{`{lifecycle: {preStop: {exec: {command: [/bin/sh, -c, "sleep 5; kill -QUIT 1; while kill -0 1 2>/dev/null; do sleep 1; done"]}}}}`,
			Hook{Kind: "exec", DelaySeconds: 5, Signal: "SIGQUIT", SignalVia: "kill -QUIT 1", WaitsForExit: true, DelayExact: true,
				Text: "sleep 5; kill -QUIT 1; while kill -0 1 2>/dev/null; do sleep 1; done"}},
		{`{lifecycle: {preStop: {exec: {command: [sh, -c, "sleep 3 && kill -s SIGWINCH 1"]}}}}`,
			Hook{Kind: "exec", DelaySeconds: 3, Signal: "SIGWINCH", SignalVia: "kill -s SIGWINCH 1", DelayExact: true, Text: "sleep 3 && kill -s SIGWINCH 1"}},
		{`{lifecycle: {preStop: {exec: {command: [bash, -c, "kill -3 1"]}}}}`,
			Hook{Kind: "exec", Signal: "SIGQUIT", SignalVia: "kill -3 1", DelayExact: true, Text: "kill -3 1"}},
		// a command graceful cannot time: the delay before it is a lower bound
		{`{lifecycle: {preStop: {exec: {command: [sh, -c, "curl -s localhost/drain; sleep 5"]}}}}`,
			Hook{Kind: "exec", DelaySeconds: 5, Unknown: []string{"curl -s localhost/drain"}, Text: "curl -s localhost/drain; sleep 5"}},
		{`{lifecycle: {preStop: {exec: {command: [sh, -c, "nginx -s quit; while killall -0 nginx; do sleep 1; done"]}}}}`,
			Hook{Kind: "exec", Signal: "SIGQUIT", SignalVia: "nginx -s quit", DelayExact: true,
				AfterSignal: []string{"while killall -0 nginx", "do sleep 1", "done"},
				Unknown:     []string{"while killall -0 nginx", "do sleep 1", "done"}, Text: "nginx -s quit; while killall -0 nginx; do sleep 1; done"}},
		// a signal then a sleep: the hook does not return at once
		{`{lifecycle: {preStop: {exec: {command: [sh, -c, "/usr/sbin/nginx -c /etc/nginx/x.conf -s quit; sleep 20"]}}}}`,
			Hook{Kind: "exec", Signal: "SIGQUIT", SignalVia: "/usr/sbin/nginx -c /etc/nginx/x.conf -s quit", DelayExact: true,
				AfterSignal: []string{"sleep 20"}, Text: "/usr/sbin/nginx -c /etc/nginx/x.conf -s quit; sleep 20"}},
		// an unreadable number makes no delay claim, not 0 s
		{`{lifecycle: {preStop: {sleep: {seconds: 9223372036854775807}}}}`, Hook{Kind: "sleep",
			Text: "sleep action, seconds 9223372036854775807 (unreadable)", Unknown: []string{"sleep.seconds 9223372036854775807"}}},
		// a wait for PID 1 with no signal blocks until the grace period ends: not exact
		{`{lifecycle: {preStop: {exec: {command: [sh, -c, "sleep 5; while kill -0 1; do sleep 1; done"]}}}}`, Hook{Kind: "exec",
			DelaySeconds: 5, WaitsForExit: true, Unknown: []string{"a wait for PID 1 to exit, with no signal"},
			Text: "sleep 5; while kill -0 1; do sleep 1; done"}},
		{`{lifecycle: {preStop: {httpGet: {path: /drain, port: 8080}}}}`, Hook{Kind: "httpGet", Text: "httpGet /drain", Unknown: []string{"an HTTP request"}}},
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(tc.container), &n); err != nil {
			t.Fatal(err)
		}
		if got := ReadPreStop(n.Content[0]); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.container, got, tc.want)
		}
	}
}

func TestReadServiceDrain(t *testing.T) {
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		class       string
		want        []LBDrain
	}{
		{"none", nil, "", nil},
		{"aws on", map[string]string{
			"service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled": "true",
			"service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout": "45"}, "",
			[]LBDrain{{Provider: "aws", On: true, Seconds: 45, Known: true, Source: `service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled: "true", service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout: "45"`}}},
		{"aws timeout without enabled: off", map[string]string{
			"service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout": "45"}, "",
			[]LBDrain{{Provider: "aws", Known: true, Source: "service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled not set"}}},
		{"aws-lbc attribute", map[string]string{
			"service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": "preserve_client_ip.enabled=true, deregistration_delay.timeout_seconds=120"}, "",
			[]LBDrain{{Provider: "aws-lbc", On: true, Seconds: 120, Known: true, Source: "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes: deregistration_delay.timeout_seconds=120"}}},
		{"aws-lbc default", map[string]string{"service.beta.kubernetes.io/aws-load-balancer-type": "external"}, "",
			[]LBDrain{{Provider: "aws-lbc", On: true, Seconds: 300, Known: true, Source: "AWS's default deregistration delay (no deregistration_delay.timeout_seconds)"}}},
		{"alibaba legacy", map[string]string{
			"service.beta.kubernetes.io/alicloud-loadbalancer-connection-drain":         "on",
			"service.beta.kubernetes.io/alicloud-loadbalancer-connection-drain-timeout": "30"}, "",
			[]LBDrain{{Provider: "alibaba", On: true, Seconds: 30, Known: true, Source: `service.beta.kubernetes.io/alicloud-loadbalancer-connection-drain: "on", service.beta.kubernetes.io/alicloud-loadbalancer-connection-drain-timeout: "30"`}}},
		{"tencent until gone", map[string]string{"service.cloud.tencent.com/enable-grace-shutdown": "true"}, "",
			[]LBDrain{{Provider: "tencent", On: true, UntilGone: true, Source: `service.cloud.tencent.com/enable-grace-shutdown: "true"`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReadServiceDrain(tc.annotations, tc.class); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestReadIstioSidecar(t *testing.T) {
	for _, tc := range []struct {
		template string
		want     Sidecar
	}{
		{`{metadata: {labels: {app: a}}, spec: {containers: [{name: app}]}}`, Sidecar{}},
		{`{metadata: {labels: {sidecar.istio.io/inject: "true"}}, spec: {containers: [{name: app}]}}`,
			Sidecar{Kind: "classic", DrainSeconds: 5, DrainSource: "Istio's default; a mesh-wide meshConfig may set another"}},
		{`{metadata: {annotations: {sidecar.istio.io/inject: "true", proxy.istio.io/config: "terminationDrainDuration: 35s"}}, spec: {containers: [{name: app}]}}`,
			Sidecar{Kind: "classic", DrainSeconds: 35, DrainSource: "annotation proxy.istio.io/config terminationDrainDuration: 35s"}},
		{`{metadata: {annotations: {proxy.istio.io/config: '{"proxyMetadata": {"EXIT_ON_ZERO_ACTIVE_CONNECTIONS": "true"}}'}}, spec: {containers: [{name: app}, {name: istio-proxy}]}}`,
			Sidecar{Kind: "classic", DrainSeconds: 5, DrainSource: "Istio's default; a mesh-wide meshConfig may set another", ExitOnZero: true}},
		{`{spec: {initContainers: [{name: istio-proxy, restartPolicy: Always}], containers: [{name: app}]}}`, Sidecar{Kind: "native"}},
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(tc.template), &n); err != nil {
			t.Fatal(err)
		}
		tmpl := n.Content[0]
		spec := tmpl.Content[len(tmpl.Content)-1]
		if got := ReadIstioSidecar(tmpl, spec); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.template, got, tc.want)
		}
	}
}

// TestReadBackWhatPreStopWrites: for every profile, ReadPreStop reads the
// hook PreStop writes, native or exec, with or without a signal, as exactly
// the delay and signal the profile asks for.
func TestReadBackWhatPreStopWrites(t *testing.T) {
	for _, name := range profiles.Names() {
		p, _ := profiles.Get(name)
		for _, native := range []bool{true, false} {
			c := Container{Node: parseNode(t, `{name: app, image: registry.example/app:1}`), Name: "app", Image: "registry.example/app:1"}
			pod := &Pod{Spec: parseNode(t, `{}`), Containers: []Container{c}, StopSignalField: true}
			s := &Settings{Profile: p, PreStopDelaySeconds: p.PreStopDelaySeconds, NativeSleep: native}
			if _, err := (PreStop{}).Transform(pod, s); err != nil {
				t.Fatal(err)
			}
			h := ReadPreStop(c.Node)
			if !h.Exact() || !h.DelayExact || h.DelaySeconds != p.PreStopDelaySeconds {
				t.Errorf("%s (native %v): read %+v", name, native, h)
			}
			if p.SignalPID1 && (h.Signal != p.StopSignal || !h.WaitsForExit) {
				t.Errorf("%s: the hook's signal read as %q (waits %v), want %s and a wait", name, h.Signal, h.WaitsForExit, p.StopSignal)
			}
			if !p.SignalPID1 && h.Signal != "" {
				t.Errorf("%s: read a signal %s from a plain delay", name, h.Signal)
			}
		}
	}
}

func parseNode(t *testing.T, text string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(text), &n); err != nil {
		t.Fatal(err)
	}
	return n.Content[0]
}
