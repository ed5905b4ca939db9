package render

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/corpus"
	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/internal/promises"
	"github.com/graceful-dev/graceful/profiles"
)

// corpusOptions are the option sets every corpus file is rendered with.
var corpusOptions = map[string]Options{
	"generic-http+aws":         {Profile: "generic-http", Providers: []string{"aws"}},
	"nginx+aws-lbc":            {Profile: "nginx", Providers: []string{"aws-lbc"}},
	"spring-boot+alibaba":      {Profile: "spring-boot", Providers: []string{"alibaba", "tencent"}},
	"tidb+huawei+stop-signals": {Profile: "tidb", Providers: []string{"huawei"}, KubeVersion: "1.34", StopSignalField: true},
	"nginx+kube1.29+replace":   {Profile: "nginx", KubeVersion: "1.29", ReplacePreStop: true, Providers: []string{"gcp"}},
	"no profile":               {},
	"auto+aws":                 {Profile: "auto", Providers: []string{"aws"}},
}

// TestCorpus renders every corpus file with every option set: nothing errors,
// every promise holds, and a second run changes nothing.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpus.Dir(t), "*.yaml"))
	if len(files) == 0 {
		t.Fatal("corpus has no files")
	}
	t.Cleanup(func() {
		t.Logf("%d patches verified by a second parse", patchesVerified.Load())
		if n := patchesRejected.Load(); n > 0 {
			t.Errorf("%d patches did not parse back to the transformed tree", n)
		}
	})
	for name, opts := range corpusOptions {
		r, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			t.Run(name+"/"+filepath.Base(f), func(t *testing.T) {
				in, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				out, report, err := r.RenderStream(in)
				if err != nil {
					t.Fatal(err)
				}
				if err := promises.Check(in, out); err != nil {
					t.Fatal(err)
				}
				if opts.Profile == "" && !bytes.Equal(in, out) {
					t.Errorf("without a profile nothing may change; %d documents did", report.Changed)
				}
				again, _, err := r.RenderStream(out)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(out, again) {
					t.Errorf("second run changed the output:\n%s", cmp.Diff(string(out), string(again)))
				}
			})
		}
	}
}

// TestCorpusExpert checks, on real charts, the decisions an expert would make.
func TestCorpusExpert(t *testing.T) {
	dir := corpus.Dir(t)
	render := func(t *testing.T, file string, opts Options) (string, *Report) {
		t.Helper()
		in, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		r, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		out, report, err := r.RenderStream(in)
		if err != nil {
			t.Fatal(err)
		}
		return string(out), report
	}
	t.Run("ingress-nginx: the controller is not nginx, so no SIGQUIT, and it says why", func(t *testing.T) {
		out, report := render(t, "ingress-nginx-chart-lb.yaml", Options{Profile: "nginx", Providers: []string{"aws"}})
		mustContain(t, out, "/wait-shutdown", "terminationGracePeriodSeconds: 300")
		mustNotContain(t, out, "kill -QUIT", "sleep:\n")
		if !hasWarning(report, `left unchanged: no container image fits the nginx profile`) {
			t.Error("no notice for the controller left alone")
		}
	})
	t.Run("podinfo with --profile nginx: nothing changes, and it says how to name a container", func(t *testing.T) {
		out, report := render(t, "podinfo-chart-lb.yaml", Options{Profile: "nginx", Providers: []string{"aws"}})
		if report.Changed != 0 {
			t.Errorf("changed %d documents:\n%s", report.Changed, out)
		}
		if !hasWarning(report, "annotation graceful.dev/container: NAME") {
			t.Error("no notice that says how to name the container")
		}
	})
	t.Run("bitnami nginx: main container only, SIGQUIT to PID 1 as its STOPSIGNAL is unknown", func(t *testing.T) {
		out, _ := render(t, "bitnami-nginx-chart-lb.yaml", Options{Profile: "nginx", Providers: []string{"aws"}})
		mustContain(t, out, "sleep 5; kill -QUIT 1; while kill -0 1 2>/dev/null; do sleep 1; done", "aws-load-balancer-connection-draining-timeout: \"30\"")
		mustNotContain(t, out, "nginx -s quit", "/opt/bitnami/nginx/sbin")
		if n := strings.Count(out, "kill -QUIT 1"); n != 1 {
			t.Errorf("want the hook on one container, got %d", n)
		}
	})
	t.Run("ingress-nginx daemonset: no target-group attribute on the cloud-provider-aws NLB", func(t *testing.T) {
		for _, provider := range []string{"aws", "aws-lbc"} {
			out, report := render(t, "ingress-nginx-chart-daemonset-aws.yaml", Options{Profile: "generic-http", Providers: []string{provider}})
			mustNotContain(t, out, "preserve_client_ip.enabled=true,deregistration_delay", "connection-draining-enabled: \"true\"\n    service.beta.kubernetes.io/aws-load-balancer-type: nlb")
			if !hasWarning(report, "cloud-provider-aws manages (service.beta.kubernetes.io/aws-load-balancer-type: nlb)") {
				t.Errorf("%s: no warning for the NLB", provider)
			}
		}
	})
	t.Run("tidb profile on the tidb-operator charts: never the operator, scheduler, webhook, lightning or drainer", func(t *testing.T) {
		out, report := render(t, "tidb-operator-charts.yaml", Options{Profile: "tidb"})
		mustNotContain(t, out, "kill -QUIT 1", "preStop")
		for _, name := range []string{"tidb-admission-webhook", "tidb-controller-manager", "tidb-scheduler", "tidb-lightning", "drainer"} {
			if !hasWarningFor(report, name, "left unchanged: no container image fits the tidb profile") {
				t.Errorf("%s: no notice", name)
			}
		}
	})
	t.Run("generic-http on kube-prometheus-stack: grafana, not its k8s-sidecar containers", func(t *testing.T) {
		_, report := render(t, "kube-prometheus-stack-chart.yaml", Options{Profile: "generic-http"})
		for _, e := range report.Entries {
			if e.Ref.Name != "kps-grafana" || e.Ref.Kind != "Deployment" {
				continue
			}
			for _, f := range e.Findings {
				if f.Changed && strings.Contains(f.Field, "preStop") && !strings.Contains(f.Field, "containers[name=grafana]") {
					t.Errorf("hook on %s", f.Field)
				}
			}
			if !strings.Contains(e.Decision, `containers "grafana"`) {
				t.Errorf("decision %q", e.Decision)
			}
			return
		}
		t.Error("grafana not found")
	})
	t.Run("tidb-operator charts: a rule by image touches nothing either", func(t *testing.T) {
		out, _ := render(t, "tidb-operator-charts.yaml", Options{Config: &Config{Spec: ConfigSpec{Rules: []Rule{
			{Match: Match{Images: []string{"pingcap/tidb"}}, Profile: "tidb"}}}}})
		mustNotContain(t, out, "kill -QUIT 1")
	})
	t.Run("TidbCluster examples get the hook in spec.tidb", func(t *testing.T) {
		out, report := render(t, "tidb-operator-tidbcluster-examples.yaml", Options{Profile: "tidb"})
		if n := strings.Count(out, "kill -QUIT 1"); n != 5 {
			t.Errorf("want 5 TidbClusters with the tidb hook, got %d", n)
		}
		mustContain(t, out, "# terminationGracePeriodSeconds: 30")
		if report.Changed != 5 {
			t.Errorf("changed %d documents, want 5", report.Changed)
		}
	})
	t.Run("TiDBGroup v2 is not a pod template", func(t *testing.T) {
		out, report := render(t, "tidb-operator-v2-examples.yaml", Options{Profile: "tidb"})
		if report.Changed != 0 {
			t.Errorf("changed %d documents:\n%s", report.Changed, out)
		}
	})
	t.Run("spring petclinic keeps its hooks and gets graceful settings", func(t *testing.T) {
		out, _ := render(t, "spring-petclinic-cloud-k8s.yaml", Options{Profile: "spring-boot", Providers: []string{"alibaba"}})
		mustContain(t, out, `command: ["sh", "-c", "sleep 10"]`, "SERVER_SHUTDOWN", "connection-drain: \"on\"")
	})
	t.Run("argo-cd: only workloads change", func(t *testing.T) {
		_, report := render(t, "argo-cd-install.yaml", Options{Profile: "generic-http"})
		if report.Changed != 7 {
			t.Errorf("changed %d documents, want the 6 Deployments and 1 StatefulSet", report.Changed)
		}
	})
	t.Run("distroless images get the native sleep, never a shell", func(t *testing.T) {
		out, _ := render(t, "kube-prometheus-stack-chart.yaml", Options{Profile: "generic-http"})
		mustNotContain(t, out, "/bin/sh\n                  - -c\n                  - sleep")
		mustContain(t, out, "sleep:\n                seconds: 5")
	})
}

// TestCorpusAuto: --profile auto puts a hook only on a container whose image
// fits a profile, and a signal only where that profile sends it; every
// workload says what was picked or why it was left alone.
func TestCorpusAuto(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpus.Dir(t), "*.yaml"))
	r, err := New(Options{Profile: "auto", Providers: []string{"aws"}})
	if err != nil {
		t.Fatal(err)
	}
	picked := map[string]int{}
	for _, f := range files {
		in, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, report, err := r.RenderStream(in)
		if err != nil {
			t.Fatal(err)
		}
		before := containersByPath(t, in)
		for where, c := range containersByPath(t, out) {
			was := before[where]
			if was == nil {
				t.Fatalf("%s: %s is not in the input", filepath.Base(f), where)
			}
			if node.Equal(c, was) {
				continue
			}
			image := node.GetStr(c, "image")
			fitting := profiles.FittingImage(image)
			if len(fitting) != 1 {
				t.Errorf("%s: %s changed, but its image %s fits %d profiles", filepath.Base(f), where, image, len(fitting))
				continue
			}
			hook := node.Lookup(c, "lifecycle", "preStop", "exec", "command")
			if hook != nil && len(hook.Content) > 0 && strings.Contains(hook.Content[len(hook.Content)-1].Value, "kill -") {
				p := fitting[0]
				if !p.SignalPID1 || !strings.Contains(hook.Content[len(hook.Content)-1].Value, "kill -"+strings.TrimPrefix(p.StopSignal, "SIG")+" 1") {
					t.Errorf("%s: %s got a signal its profile %s does not send", filepath.Base(f), where, p.Name)
				}
			}
		}
		for _, e := range report.Entries {
			if !strings.Contains(e.Decision, "--profile auto") && !strings.Contains(e.Decision, "Helm hook") && !strings.HasPrefix(e.Decision, "load balancer drain") {
				t.Errorf("%s: %s %s: decision %q does not say how auto decided", filepath.Base(f), e.Ref.Kind, e.Ref.Name, e.Decision)
			}
			if e.Profile != "" && strings.HasPrefix(e.Plan.Source, "--profile auto: ") {
				picked[e.Profile]++
			}
		}
	}
	// The corpus holds nginx, redis, postgres, Spring and TiDB images.
	for _, name := range []string{"nginx", "redis", "postgresql", "spring-boot", "tidb"} {
		if picked[name] == 0 {
			t.Errorf("auto never picked %s on the corpus: %v", name, picked)
		}
	}
	if picked["generic-http"] > 0 {
		t.Errorf("auto fell back to generic-http %d times", picked["generic-http"])
	}
}

// containersByPath maps "document/item/container" to each pod template's
// containers, for comparing an input with its output.
func containersByPath(t *testing.T, stream []byte) map[string]*yaml.Node {
	t.Helper()
	out := map[string]*yaml.Node{}
	dec := yaml.NewDecoder(bytes.NewReader(stream))
	for i := 0; ; i++ {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			break
		}
		if len(doc.Content) == 0 {
			continue
		}
		objects := []*yaml.Node{doc.Content[0]}
		if items := node.Get(doc.Content[0], "items"); node.IsSeq(items) {
			objects = items.Content
		}
		for j, o := range objects {
			for _, spec := range []*yaml.Node{node.Lookup(o, "spec", "template", "spec"), node.Lookup(o, "spec", "jobTemplate", "spec", "template", "spec"), node.Get(o, "spec")} {
				if cs := node.Get(spec, "containers"); node.IsSeq(cs) {
					for k, c := range cs.Content {
						out[fmt.Sprintf("document %d item %d container %d (%s)", i+1, j, k, node.GetStr(c, "name"))] = c
					}
					break
				}
			}
		}
	}
	return out
}

func mustContain(t *testing.T, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("output lacks %q", w)
		}
	}
}

func mustNotContain(t *testing.T, s string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(s, w) {
			t.Errorf("output has %q", w)
		}
	}
}

func hasWarningFor(r *Report, name, text string) bool {
	for _, e := range r.Entries {
		for _, f := range e.Findings {
			if strings.Contains(e.Ref.Name, name) && f.Severity == "warning" && strings.Contains(f.Message, text) {
				return true
			}
		}
	}
	return false
}

func hasWarning(r *Report, text string) bool {
	for _, e := range r.Entries {
		for _, f := range e.Findings {
			if f.Severity == "warning" && strings.Contains(f.Message, text) {
				return true
			}
		}
	}
	return false
}
