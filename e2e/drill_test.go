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
	// drillRate: short requests a second per variant.
	drillRate = 40
	// drillReqTimeout bounds a short request. On loopback it takes
	// milliseconds, but this 2-core machine, shared and at a load of 15-20,
	// stalled a few for over 5 s (2 of 50 graceful runs, no other failure
	// in them). A request sent to a pod whose network is gone hangs for
	// good, so 10 s still catches every such loss.
	drillReqTimeout = 10 * time.Second
	// drillDownloadTimeout bounds one download of /big: 10 s at the
	// servers' pace, twice that on a busy machine, plus 5 s. Shorter than
	// every profile's drain (25 s and more), so a graceful stop must let
	// every download started before it finish.
	drillDownloadTimeout = 25 * time.Second
	// drainTimeout bounds kubectl drain (--timeout): long enough for the
	// first pod to go (a 5 s delay, then downloads finish), after which a
	// budget keeps refusing the second eviction.
	drainTimeout = 20 * time.Second
	// drainOutOfService: the node stays cordoned this long from the
	// drain's start, with or without graceful, so that both variants are
	// measured over the same outage of the node.
	drainOutOfService = 25 * time.Second
)

// drainCase is the node drain: generic-http's manifest as a user writes it
// (no budget) and rendered with --pdb (a budget, maxUnavailable 1).
var drainCase = drillCase{"generic-http", "generic-http"}

// TestDrill restarts each drill workload under load, without and with
// graceful, GRACEFUL_DRILL_RUNS times (default 1), on a real single-node
// cluster (hack/cluster.sh; needs root), then drains the node of
// generic-http's pods without and with graceful --pdb. Opt in with
// GRACEFUL_DRILL=1 (hack/test.sh sets it under CI=true);
// GRACEFUL_DRILL_CASES=nginx-term,tidb,drain picks cases; GRACEFUL_DRILL_OUT
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
	cases, drain := drillCases, true
	if s := os.Getenv("GRACEFUL_DRILL_CASES"); s != "" {
		cases = nil
		for _, c := range drillCases {
			if strings.Contains(","+s+",", ","+c.name+",") {
				cases = append(cases, c)
			}
		}
		drain = strings.Contains(","+s+",", ",drain,")
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
		graceful     bool
		drain        bool
		ns, url      string
		reports      []*drill.Report
		drainReports []*drill.DrainReport
		errs         []error
		// live counts, per run, the timeouts of requests a live pod
		// received (attributeTimeouts): slow, not lost.
		live []int64
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
	var drains []*variant
	if drain {
		drains = []*variant{{drillCase: drainCase, drain: true, ns: "drain-plain"}, {drillCase: drainCase, drain: true, graceful: true, ns: "drain-graceful"}}
	}
	t1 := time.Now()
	for _, v := range append(append([]*variant{}, variants...), drains...) {
		manifest := filepath.Join(root, "e2e", "testdata", "drill", v.name+".yaml")
		if v.graceful {
			// Always what the current profiles write, never a hand-written copy.
			args := []string{"render", "--quiet", "--profile", v.profile, "--kube-version", "1.34", manifest}
			if v.drain {
				args = append(args, "--pdb")
			}
			out := run(t, nil, "", graceful, args...).must(t)
			if orig, _ := os.ReadFile(manifest); out == string(orig) {
				t.Fatalf("graceful %s left %s unchanged: the drill would compare it with itself", strings.Join(args, " "), manifest)
			}
			manifest = filepath.Join(t.TempDir(), v.name+".yaml")
			if err := os.WriteFile(manifest, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		kubectl(t, c, "create", "namespace", v.ns)
		kubectl(t, c, "apply", "-n", v.ns, "-f", manifest)
	}
	for _, v := range append(append([]*variant{}, variants...), drains...) {
		kubectl(t, c, "rollout", "status", "-n", v.ns, "deployment/web", "--timeout=120s")
		svc, err := client.CoreV1().Services(v.ns).Get(context.Background(), "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Load goes to 127.0.0.1 only (kube-proxy serves NodePorts there).
		v.url = fmt.Sprintf("http://127.0.0.1:%d", svc.Spec.Ports[0].NodePort)
	}
	t.Logf("%d variants deployed in %v", len(variants), time.Since(t1).Round(time.Millisecond))

	// graceful drill, exactly as a user runs it against this cluster: one
	// variant without graceful (must fail: exit 1), one with (exit 0).
	// It runs first, alone, so its restarts do not overlap the table's.
	t.Run("graceful drill", func(t *testing.T) {
		drillBin := filepath.Join(filepath.Dir(graceful), "graceful-drill")
		build := exec.Command("go", "build", "-o", drillBin, "./cmd/graceful-drill")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build ./cmd/graceful-drill: %v\n%s", err, out)
		}
		for _, v := range variants {
			if v.name != "generic-http" {
				continue
			}
			res := run(t, []string{"KUBECONFIG=" + c.Kubeconfig}, "", graceful, "drill", "deployment/web", "-n", v.ns,
				"--url", v.url, "--download-path", "/big", "--rate", "40", "--duration", "15s")
			code := 0
			if ee, ok := res.err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if res.err != nil {
				t.Fatal(res.err)
			}
			want := 1
			if v.graceful {
				want = 0
			}
			t.Logf("graceful drill deployment/web -n %s --url %s: exit %d\n%s", v.ns, v.url, code, res.stdout)
			if code != want {
				t.Errorf("%s: exit %d, want %d\nstderr:\n%s", v.ns, code, want, res.stderr)
			}
			if !strings.Contains(res.stderr, "requests (") || !strings.Contains(res.stdout, "timeline") {
				t.Errorf("%s: no progress or no report:\nstdout:\n%s\nstderr:\n%s", v.ns, res.stdout, res.stderr)
			}
		}
	})

	// A case's two variants run at once (each its own pods and NodePort);
	// cases run one after another: 2 cores saturated by every case at once
	// slowed the downloads past what a profile's drain allows.
	for i := 0; i < len(variants); i += 2 {
		var wg sync.WaitGroup
		for _, v := range variants[i : i+2] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for run := 0; run < runs; run++ {
					rep, err := drill.Run(context.Background(), drill.Options{
						Client: client, Namespace: v.ns, Deployment: "web",
						Load: drill.Load{URL: v.url, BigPath: "/big", BigBytes: cluster.BigBytes,
							KeepAlive: drill.DefaultKeepAlive, NewConn: drill.DefaultNewConn, Downloads: drill.DefaultDownloads,
							Rate: drillRate, ReqTimeout: drillReqTimeout, DownloadTimeout: drillDownloadTimeout, TraceTimeouts: true},
						Warmup: drillWarmup, Settle: drillSettle, RolloutTimeout: drillRollout,
					})
					v.reports = append(v.reports, rep)
					v.errs = append(v.errs, err)
					v.live = append(v.live, attributeTimeouts(t, v.ns, rep))
				}
			}()
		}
		wg.Wait()
	}
	t.Logf("%d runs of %d variants in %v", runs, len(variants), time.Since(t1).Round(time.Millisecond))

	// The node drain: one variant at a time, as both share the one node.
	if len(drains) > 0 {
		t2 := time.Now()
		nodes, err := client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
		if err != nil || len(nodes.Items) != 1 {
			t.Fatalf("want the one node: %v", err)
		}
		node := nodes.Items[0].Name
		for run := 0; run < runs; run++ {
			for _, v := range drains {
				rep, err := drainOnce(t, c, client, node, v.ns, v.url)
				v.drainReports = append(v.drainReports, rep)
				v.errs = append(v.errs, err)
				var r *drill.Report
				if rep != nil {
					r = rep.Report()
				}
				v.live = append(v.live, attributeTimeouts(t, v.ns, r))
			}
		}
		t.Logf("%d drains of %d variants in %v", runs, len(drains), time.Since(t2).Round(time.Millisecond))
	}

	var tsv strings.Builder
	tsv.WriteString("case\tgraceful\trun\trequests\tretried\tdownloads\tfailed")
	for _, cl := range drill.Classes {
		tsv.WriteString("\t" + string(cl))
	}
	tsv.WriteString("\trollout_s\ttimeout_live\n") // rollout_s for a drain: until the Deployment was whole again
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
			fmt.Fprintf(&tsv, "\t%.1f\t%d\n", rep.Rollout.Seconds(), v.live[i])
			var b strings.Builder
			rep.Write(&b)
			t.Logf("%s run %d:\n%s", v.ns, i+1, b.String())
			if v.graceful && rep.Failed()-v.live[i] > 0 {
				t.Errorf("%s run %d: %d failed requests with graceful (%d more timed out on a live pod)", v.ns, i+1, rep.Failed()-v.live[i], v.live[i])
			}
		}
		if !v.graceful && total == 0 {
			t.Errorf("%s: no failed request without graceful in %d runs: the drill cannot tell", v.ns, len(v.reports))
		}
	}
	for _, v := range drains {
		var total int64
		for i, rep := range v.drainReports {
			if v.errs[i] != nil {
				t.Errorf("%s run %d: %v", v.ns, i+1, v.errs[i])
			}
			if rep == nil {
				continue
			}
			total += rep.Failed()
			fmt.Fprintf(&tsv, "drain\t%v\t%d\t%d\t%d\t%d\t%d", v.graceful, i+1, rep.Requests, rep.Retried, rep.Downloads, rep.Failed())
			for _, cl := range drill.Classes {
				fmt.Fprintf(&tsv, "\t%d", rep.Failures[cl])
			}
			fmt.Fprintf(&tsv, "\t%.1f\t%d\n", rep.Recovered.Seconds(), v.live[i])
			var b strings.Builder
			rep.Report().Write(&b)
			t.Logf("%s run %d: kubectl drain ran %v (%v), %d of 2 pods evicted; uncordoned after %v, whole again after %v (the \"rollout\" below)\n%s", v.ns, i+1,
				rep.DrainTook.Round(100*time.Millisecond), rep.DrainErr, rep.Evicted, drainOutOfService, rep.Recovered.Round(100*time.Millisecond), b.String())
			if v.graceful && (rep.Failed()-v.live[i] > 0 || rep.Evicted != 1) {
				t.Errorf("%s run %d: %d failed requests (%d more timed out on a live pod), %d pods evicted at once with graceful --pdb (want 0 and 1)", v.ns, i+1, rep.Failed()-v.live[i], v.live[i], rep.Evicted)
			}
		}
		if !v.graceful && total == 0 {
			t.Errorf("%s: no failed request without a budget in %d drains: the drill cannot tell", v.ns, len(v.drainReports))
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

// drainOnce drains the node of one variant's pods under load (kubectl
// drain has no namespace filter: the variant's pods get a label its
// --pod-selector names; their replacements do not carry it), keeps the node
// cordoned for drainOutOfService, uncordons it, and waits for recovery.
func drainOnce(t *testing.T, c *cluster.Cluster, client kubernetes.Interface, node, ns, url string) (*drill.DrainReport, error) {
	label := "graceful.test/drain=" + ns
	kubectl(t, c, "label", "pods", "-n", ns, "-l", "app=web", label, "--overwrite")
	kubectlCtx := func(ctx context.Context, args ...string) error {
		cmd := exec.CommandContext(ctx, c.Kubectl, append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("kubectl %s: %v: %s", args[0], err, strings.TrimSpace(lastLines(string(out), 3)))
		}
		return nil
	}
	return drill.RunDrain(context.Background(), drill.DrainOptions{
		Client: client, Namespace: ns, Deployment: "web",
		Load: drill.Load{URL: url, BigPath: "/big", BigBytes: cluster.BigBytes,
			KeepAlive: drill.DefaultKeepAlive, NewConn: drill.DefaultNewConn, Downloads: drill.DefaultDownloads,
			Rate: drillRate, ReqTimeout: drillReqTimeout, DownloadTimeout: drillDownloadTimeout, TraceTimeouts: true},
		Warmup: drillWarmup, Settle: drillSettle,
		Drain: func(ctx context.Context) error {
			return kubectlCtx(ctx, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data",
				"--pod-selector", label, fmt.Sprintf("--timeout=%ds", int(drainTimeout.Seconds())))
		},
		OutOfService:   drainOutOfService,
		Uncordon:       func(ctx context.Context) error { return kubectlCtx(ctx, "uncordon", node) },
		RecoverTimeout: 2 * time.Minute,
	})
}

// attributeTimeouts asks the kernel's connection tracking where each
// timed-out short request went (the NodePort's DNAT to a pod IP) and counts
// those a live pod received: a pod that was not stopping until the request
// timed out lost nothing to a shutdown; the request was slow (the machine
// was too busy). Every other timeout, unknown ones included, stays a failure.
func attributeTimeouts(t *testing.T, ns string, rep *drill.Report) (live int64) {
	if rep == nil {
		return 0
	}
	for _, to := range rep.TimedOut {
		ip := conntrackPodIP(to.LocalPort)
		a := rep.Attribute(to, ip)
		what := "lost: the pod was stopping or gone, or unknown"
		if a.Live {
			live++
			what = "slow: a live pod had it"
		}
		t.Logf("%s: timeout at %.1fs-%.1fs from the restart, port %d, pod %s (%s): %s", ns,
			to.Start.Sub(rep.Start).Seconds(), to.End.Sub(rep.Start).Seconds(), to.LocalPort, a.Pod, ip, what)
	}
	return live
}

// conntrackPodIP is where connection tracking says the connection from
// 127.0.0.1:port went (the reply's source), "" if unknown or ambiguous.
func conntrackPodIP(port int) string {
	if port == 0 {
		return ""
	}
	out, err := exec.Command("conntrack", "-L", "-p", "tcp", "--sport", strconv.Itoa(port)).Output()
	if err != nil {
		return ""
	}
	ips := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		var srcs []string
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "src="); ok {
				srcs = append(srcs, v)
			}
		}
		if len(srcs) == 2 && srcs[0] == "127.0.0.1" && strings.Contains(line, "sport="+strconv.Itoa(port)+" ") {
			ips[srcs[1]] = true
		}
	}
	if len(ips) != 1 {
		return ""
	}
	for ip := range ips {
		return ip
	}
	return ""
}
