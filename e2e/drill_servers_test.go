package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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

// serverCase is a server Debian packages, run by the drill as a user writes
// its manifest (e2e/testdata/drill/servers/NAME.yaml) and as
// `graceful render --profile PROFILE` rewrites it.
type serverCase struct {
	name, profile string
	servers       []string // the images it needs (cluster.Servers)
	// known: why this case loses requests with graceful too (logged, not
	// an error: README, "Per-server proof").
	known string
}

var serverCases = []serverCase{
	{"apache2", "httpd", []string{"apache2"}, ""},
	{"haproxy", "haproxy", []string{"haproxy"}, ""},
	{"php-fpm", "php-fpm", []string{"php-fpm", "nginx-php"},
		"nginx and PHP-FPM quit together; PHP's socket closes under nginx's kept-alive requests (502)"},
	// The same with the user's own later hook on php.
	{"php-fpm-ordered", "php-fpm", []string{"php-fpm", "nginx-php"}, ""},
	// The same with graceful.dev/stop-after: php=nginx (0 in 5 runs).
	{"php-fpm-stop-after", "php-fpm", []string{"php-fpm", "nginx-php"}, ""},
	{"gunicorn", "gunicorn", []string{"gunicorn"}, ""},
	{"uwsgi", "uwsgi", []string{"uwsgi"}, ""},
	{"puma", "puma", []string{"puma"}, ""},
	{"node", "node", []string{"node"}, ""},
	{"node-handler", "node", []string{"node-handler"}, ""},
	{"caddy", "caddy", []string{"caddy"}, ""},
	{"tomcat", "tomcat", []string{"tomcat"}, ""},
	// Traefik built from the Go module proxy (hack/tools.sh traefik).
	{"traefik", "traefik", []string{"traefik"}, ""},
	// No HTTP drill for databases: stopProof (stopCases) times the stop.
	{"postgresql", "postgresql", []string{"postgresql"}, ""},
	// stopProof: a final save that outlasts 30 s (stopCases).
	{"redis", "redis", []string{"redis"}, ""},
	{"rabbitmq", "rabbitmq", []string{"rabbitmq"}, ""},
	// Workers, no HTTP drill: workerStopProof stops them in a job's middle.
	{"celery", "celery", []string{"celery", "redis"}, ""},
	{"sidekiq", "sidekiq", []string{"sidekiq", "redis"}, ""},
	{"sidekiq-requeue", "sidekiq", []string{"sidekiq", "redis"}, ""},
}

// TestDrillServers is the drill (TestDrill) for servers built from Debian
// packages: GRACEFUL_DRILL_SERVERS=1 runs every case, or names them
// (GRACEFUL_DRILL_SERVERS=apache2,haproxy); GRACEFUL_DRILL_RUNS times each
// (default 1). GRACEFUL_DRILL_SERVERS_OUT names a directory for the per-run
// counts, one NAME.tsv per case.
func TestDrillServers(t *testing.T) {
	sel := os.Getenv("GRACEFUL_DRILL_SERVERS")
	if sel == "" {
		t.Skip("GRACEFUL_DRILL_SERVERS is not set (make drill-servers runs it)")
	}
	runs := 1
	if s := os.Getenv("GRACEFUL_DRILL_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("GRACEFUL_DRILL_RUNS=%q", s)
		}
		runs = n
	}
	var cases []serverCase
	var images []string
	for _, sc := range serverCases {
		if sel == "1" || strings.Contains(","+sel+",", ","+sc.name+",") {
			cases = append(cases, sc)
			for _, s := range sc.servers {
				if !slices.Contains(images, s) { // the workers share the broker's
					images = append(images, s)
				}
			}
		}
	}
	if len(cases) == 0 {
		t.Fatalf("GRACEFUL_DRILL_SERVERS=%q names no case", sel)
	}
	t0 := time.Now()
	c := cluster.Up(t, root)
	t.Logf("cluster up in %v", time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	if err := cluster.BuildServers(cluster.DebianCache(root), t.TempDir(), c.Ctr, images...); err != nil {
		t.Fatal(err)
	}
	t.Logf("server images %v built and imported in %v", images, time.Since(t0).Round(time.Millisecond))
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := os.Getenv("GRACEFUL_DRILL_SERVERS_OUT")
	for _, sc := range cases {
		t.Run(sc.name, func(t *testing.T) {
			var tsv string
			if st, ok := stopCases[sc.name]; ok {
				tsv = stopProof(t, c, client, sc, st, runs)
			} else if _, ok := workerJobs[sc.name]; ok {
				tsv = workerStopProof(t, c, client, sc, runs)
			} else {
				tsv = drillServer(t, c, client, sc, runs)
			}
			if out != "" {
				if err := os.WriteFile(filepath.Join(out, sc.name+".tsv"), []byte(tsv), 0o644); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// serverManifest is the case's manifest as a user writes it.
func serverManifest(sc serverCase) string {
	return filepath.Join(root, "e2e", "testdata", "drill", "servers", sc.name+".yaml")
}

// applyServerCase creates the namespace ns and applies the manifest there:
// as it is, or as `graceful render --profile PROFILE` rewrites it.
func applyServerCase(t *testing.T, c *cluster.Cluster, sc serverCase, manifest, ns string, withGraceful bool) {
	t.Helper()
	if withGraceful {
		res := run(t, nil, "", graceful, "render", "--profile", sc.profile, "--kube-version", "1.34", manifest)
		t.Logf("graceful render --profile %s %s:\n%s", sc.profile, filepath.Base(manifest), res.stderr)
		manifest = filepath.Join(t.TempDir(), sc.name+".yaml")
		if err := os.WriteFile(manifest, []byte(res.must(t)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kubectl(t, c, "create", "namespace", ns)
	kubectl(t, c, "apply", "-n", ns, "-f", manifest)
}

// drillServer deploys a case without and with graceful, restarts both at
// once runs times, and returns the per-run counts as TSV.
func drillServer(t *testing.T, c *cluster.Cluster, client *kubernetes.Clientset, sc serverCase, runs int) string {
	type variant struct {
		graceful bool
		ns, url  string
		reports  []*drill.Report
		errs     []error
	}
	variants := []*variant{{ns: sc.name + "-plain"}, {graceful: true, ns: sc.name + "-graceful"}}
	t0 := time.Now()
	for _, v := range variants {
		applyServerCase(t, c, sc, serverManifest(sc), v.ns, v.graceful)
	}
	for _, v := range variants {
		for _, d := range []string{"backend", "web"} {
			if _, err := client.AppsV1().Deployments(v.ns).Get(context.Background(), d, metav1.GetOptions{}); err == nil {
				// Java and Ruby start slowly on a busy machine: bounded all the same.
				kubectl(t, c, "rollout", "status", "-n", v.ns, "deployment/"+d, "--timeout=180s")
			}
		}
		svc, err := client.CoreV1().Services(v.ns).Get(context.Background(), "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v.url = fmt.Sprintf("http://127.0.0.1:%d", svc.Spec.Ports[0].NodePort)
	}
	t.Logf("deployed in %v", time.Since(t0).Round(time.Millisecond))
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
						Rate: drillRate, ReqTimeout: drillReqTimeout, DownloadTimeout: drillDownloadTimeout},
					Warmup: drillWarmup, Settle: drillSettle, RolloutTimeout: drillRollout,
				})
				v.reports = append(v.reports, rep)
				v.errs = append(v.errs, err)
			}
		}()
	}
	wg.Wait()
	var tsv strings.Builder
	tsv.WriteString("case\tprofile\tgraceful\trun\trequests\tretried\tdownloads\tfailed")
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
			fmt.Fprintf(&tsv, "%s\t%s\t%v\t%d\t%d\t%d\t%d\t%d", sc.name, sc.profile, v.graceful, i+1, rep.Requests, rep.Retried, rep.Downloads, rep.Failed())
			for _, cl := range drill.Classes {
				fmt.Fprintf(&tsv, "\t%d", rep.Failures[cl])
			}
			fmt.Fprintf(&tsv, "\t%.1f\n", rep.Rollout.Seconds())
			var b strings.Builder
			rep.Write(&b)
			t.Logf("%s run %d:\n%s", v.ns, i+1, b.String())
			if v.graceful && rep.Failed() > 0 {
				if sc.known != "" {
					t.Logf("%s run %d: %d failed requests with graceful, known: %s", v.ns, i+1, rep.Failed(), sc.known)
				} else {
					t.Errorf("%s run %d: %d failed requests with graceful", v.ns, i+1, rep.Failed())
				}
			}
		}
		if !v.graceful && total == 0 {
			// A finding, not a defect of the drill: this server's own stop
			// drops nothing under this load.
			t.Logf("%s: no failed request without graceful in %d runs", v.ns, len(v.reports))
		}
	}
	for _, v := range variants {
		kubectl(t, c, "delete", "namespace", v.ns, "--wait=false")
	}
	t.Logf("per run (%v):\n%s", time.Since(t0).Round(time.Second), tsv.String())
	return tsv.String()
}

// TestServersAuto checks that --profile auto picks each drill server's
// profile from its official image (the drill's Debian-built images fit no
// pattern, so the drill names the profile), and leaves alone what it cannot
// know: a Python or Ruby image runs anything, and nginx with php-fpm needs
// both containers named.
func TestServersAuto(t *testing.T) {
	for _, tc := range []struct{ name, images, want string }{
		{"apache2", "httpd:2.4", "Deployment web: httpd (--profile auto: image httpd:2.4 fits httpd)"},
		{"haproxy", "haproxy:2.6", "Deployment web: haproxy (--profile auto: image haproxy:2.6 fits haproxy)"},
		{"caddy", "caddy:2.6", "Deployment web: caddy (--profile auto: image caddy:2.6 fits caddy)"},
		{"node", "node:18", "Deployment web: node (--profile auto: image node:18 fits node)"},
		{"tomcat", "tomcat:10.1", "Deployment web: tomcat (--profile auto: image tomcat:10.1 fits tomcat)"},
		{"traefik", "traefik:v3.7", "Deployment web: traefik (--profile auto: image traefik:v3.7 fits traefik)"},
		{"gunicorn", "python:3.11", "Deployment web: skipped: --profile auto: no profile fits the images python:3.11"},
		{"uwsgi", "python:3.11", "Deployment web: skipped: --profile auto: no profile fits the images python:3.11"},
		{"puma", "ruby:3.1", "Deployment web: skipped: --profile auto: no profile fits the images ruby:3.1"},
		{"php-fpm", "nginx:1.27,php:8.2-fpm", "Deployment web: skipped: --profile auto: containers fit nginx and php-fpm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(root, "e2e", "testdata", "drill", "servers", tc.name+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			// The drill's images, in order, become the official ones.
			manifest := string(b)
			for _, img := range strings.Split(tc.images, ",") {
				i := strings.Index(manifest, "image: graceful.test/")
				if i < 0 {
					t.Fatalf("no graceful.test image left for %s", img)
				}
				end := i + strings.IndexByte(manifest[i:], '\n')
				manifest = manifest[:i] + "image: " + img + manifest[end:]
			}
			res := run(t, nil, manifest, graceful, "render", "--profile", "auto", "--kube-version", "1.34", "-")
			res.must(t)
			if !strings.Contains(res.stderr, tc.want) {
				t.Errorf("render --profile auto: want %q in the summary:\n%s", tc.want, res.stderr)
			}
		})
	}
}
