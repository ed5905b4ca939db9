package render

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graceful-dev/graceful/internal/promises"
)

// corpusDir is ../shared/corpus beside the repository: real rendered charts.
func corpusDir(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus missing in CI: %v", err)
		}
		t.Skipf("corpus not found: %v", err)
	}
	return dir
}

// corpusOptions are the option sets every corpus file is rendered with.
var corpusOptions = map[string]Options{
	"generic-http+aws":         {Profile: "generic-http", Providers: []string{"aws"}},
	"nginx+aws-lbc":            {Profile: "nginx", Providers: []string{"aws-lbc"}},
	"spring-boot+alibaba":      {Profile: "spring-boot", Providers: []string{"alibaba", "tencent"}},
	"tidb+huawei+stop-signals": {Profile: "tidb", Providers: []string{"huawei"}, KubeVersion: "1.34", StopSignalField: true},
	"nginx+kube1.29+replace":   {Profile: "nginx", KubeVersion: "1.29", ReplacePreStop: true, Providers: []string{"gcp"}},
	"no profile":               {},
}

// TestCorpus renders every corpus file with every option set: nothing errors,
// every promise holds, and a second run changes nothing.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir(t), "*.yaml"))
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
	dir := corpusDir(t)
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
	t.Run("ingress-nginx keeps its own hook and 300 s grace", func(t *testing.T) {
		out, report := render(t, "ingress-nginx-chart-lb.yaml", Options{Profile: "nginx", Providers: []string{"aws"}})
		mustContain(t, out, "/wait-shutdown", "terminationGracePeriodSeconds: 300")
		mustNotContain(t, out, "nginx -s quit")
		if !hasWarning(report, "kept the existing preStop hook") {
			t.Error("no warning for the kept hook")
		}
		// The admission Jobs are Helm hooks: the default profile leaves them.
		mustNotContain(t, out, "sleep:\n")
	})
	t.Run("bitnami nginx: main container only, bitnami binary", func(t *testing.T) {
		out, _ := render(t, "bitnami-nginx-chart-lb.yaml", Options{Profile: "nginx", Providers: []string{"aws"}})
		mustContain(t, out, "/opt/bitnami/nginx/sbin/nginx -s quit", "aws-load-balancer-connection-draining-timeout: \"30\"")
		if n := strings.Count(out, "nginx -s quit"); n != 1 {
			t.Errorf("want the hook on one container, got %d", n)
		}
	})
	t.Run("ingress-nginx daemonset: aws-lbc merges into existing attributes", func(t *testing.T) {
		out, _ := render(t, "ingress-nginx-chart-daemonset-aws.yaml", Options{Profile: "generic-http", Providers: []string{"aws-lbc"}})
		mustContain(t, out, `"preserve_client_ip.enabled=true,deregistration_delay.timeout_seconds=`)
	})
	t.Run("tidb-operator charts: lightning and binlog are not tidb", func(t *testing.T) {
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
