package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/graceful-dev/graceful/drill"
	"github.com/graceful-dev/graceful/e2e/cluster"
)

// drillCase is one workload of e2e/testdata/drill, as a user writes it, and
// the profile graceful renders it with.
type drillCase struct{ name, profile string }

var drillCases = []drillCase{
	{"nginx-term", "nginx"}, // Debian's nginx, STOPSIGNAL TERM: graceful's hook sends QUIT
	{"nginx-quit", "nginx"}, // STOPSIGNAL QUIT, as the official image
	{"generic-http", "generic-http"},
	{"spring-boot", "spring-boot"},
	{"tidb", "tidb"},
}

// The drill's margins.
const (
	// drillWarmup: load before the restart, so every client is connected.
	drillWarmup = 2 * time.Second
	// drillSettle: load after the last old pod is gone, so that a late
	// failure (a stale kube-proxy rule) is still counted.
	drillSettle = 2 * time.Second
	// drillRollout bounds one restart: the slowest profile (spring-boot)
	// waits 30 s before the stop and drains up to 30 s, per old pod.
	drillRollout = 4 * time.Minute
	// drillRate: short requests a second per variant; every variant of a
	// round runs at once on 2 shared cores.
	drillRate = 40
)

// TestDrill restarts each drill workload under load, without and with
// graceful, GRACEFUL_DRILL_RUNS times (default 1), on a real single-node
// cluster (hack/cluster.sh; needs root). Opt in with GRACEFUL_DRILL=1;
// GRACEFUL_DRILL_CASES=nginx-term,tidb picks cases; GRACEFUL_DRILL_OUT
// names a file for the per-run counts (TSV).
func TestDrill(t *testing.T) {
	if os.Getenv("GRACEFUL_DRILL") == "" {
		t.Skip("GRACEFUL_DRILL is not set (make drill runs the drill)")
	}
	runs := 1
	if s := os.Getenv("GRACEFUL_DRILL_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("GRACEFUL_DRILL_RUNS=%q", s)
		}
		runs = n
	}
	cases := drillCases
	if s := os.Getenv("GRACEFUL_DRILL_CASES"); s != "" {
		cases = nil
		for _, c := range drillCases {
			if strings.Contains(","+s+",", ","+c.name+",") {
				cases = append(cases, c)
			}
		}
	}
	t0 := time.Now()
	c := cluster.Up(t, root)
	t.Logf("cluster up and images imported in %v", time.Since(t0).Round(time.Millisecond))
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}

	type variant struct {
		drillCase
		graceful bool
		ns, url  string
		reports  []*drill.Report
		errs     []error
	}
	var variants []*variant
	for _, dc := range cases {
		for _, g := range []bool{false, true} {
			v := &variant{drillCase: dc, graceful: g, ns: dc.name + "-plain"}
			if g {
				v.ns = dc.name + "-graceful"
			}
			variants = append(variants, v)
		}
	}
	t1 := time.Now()
	for _, v := range variants {
		manifest := filepath.Join(root, "e2e", "testdata", "drill", v.name+".yaml")
		if v.graceful {
			// Always what the current profiles write, never a hand-written copy.
			out := run(t, nil, "", graceful, "render", "--quiet", "--profile", v.profile, "--kube-version", "1.34", manifest).must(t)
			manifest = filepath.Join(t.TempDir(), v.name+".yaml")
			if err := os.WriteFile(manifest, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		kubectl(t, c, "create", "namespace", v.ns)
		kubectl(t, c, "apply", "-n", v.ns, "-f", manifest)
	}
	for _, v := range variants {
		kubectl(t, c, "rollout", "status", "-n", v.ns, "deployment/web", "--timeout=120s")
		svc, err := client.CoreV1().Services(v.ns).Get(context.Background(), "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Load goes to 127.0.0.1 only (kube-proxy serves NodePorts there).
		v.url = fmt.Sprintf("http://127.0.0.1:%d", svc.Spec.Ports[0].NodePort)
	}
	t.Logf("%d variants deployed in %v", len(variants), time.Since(t1).Round(time.Millisecond))

	var wg sync.WaitGroup
	for _, v := range variants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < runs; i++ {
				rep, err := drill.Run(context.Background(), drill.Options{
					Client: client, Namespace: v.ns, Deployment: "web",
					Load: drill.Load{URL: v.url, BigPath: "/big", BigBytes: cluster.BigBytes,
						KeepAlive: drill.DefaultKeepAlive, NewConn: drill.DefaultNewConn, Downloads: drill.DefaultDownloads,
						Rate: drillRate, ReadRate: drill.DefaultReadRate},
					Warmup: drillWarmup, Settle: drillSettle, RolloutTimeout: drillRollout,
				})
				v.reports = append(v.reports, rep)
				v.errs = append(v.errs, err)
			}
		}()
	}
	wg.Wait()

	var tsv strings.Builder
	tsv.WriteString("case\tgraceful\trun\trequests\tretried\tdownloads\tfailed")
	for _, cl := range drill.Classes {
		tsv.WriteString("\t" + string(cl))
	}
	tsv.WriteString("\trollout_s\n")
	for _, v := range variants {
		var total int64
		for i, rep := range v.reports {
			if v.errs[i] != nil {
				t.Errorf("%s run %d: %v", v.ns, i+1, v.errs[i])
			}
			if rep == nil {
				continue
			}
			total += rep.Failed()
			fmt.Fprintf(&tsv, "%s\t%v\t%d\t%d\t%d\t%d\t%d", v.name, v.graceful, i+1, rep.Requests, rep.Retried, rep.Downloads, rep.Failed())
			for _, cl := range drill.Classes {
				fmt.Fprintf(&tsv, "\t%d", rep.Failures[cl])
			}
			fmt.Fprintf(&tsv, "\t%.1f\n", rep.Rollout.Seconds())
			var b strings.Builder
			rep.Write(&b)
			t.Logf("%s run %d:\n%s", v.ns, i+1, b.String())
			if v.graceful && rep.Failed() > 0 {
				t.Errorf("%s run %d: %d failed requests with graceful", v.ns, i+1, rep.Failed())
			}
		}
		if !v.graceful && total == 0 {
			t.Errorf("%s: no failed request without graceful in %d runs: the drill cannot tell", v.ns, len(v.reports))
		}
	}
	t.Logf("per run:\n%s", tsv.String())
	if out := os.Getenv("GRACEFUL_DRILL_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(tsv.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

func kubectl(t *testing.T, c *cluster.Cluster, args ...string) string {
	t.Helper()
	cmd := exec.Command(c.Kubectl, append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
