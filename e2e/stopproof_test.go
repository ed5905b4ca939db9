package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/graceful-dev/graceful/e2e/cluster"
)

// A stopCase is a database's stop proof: what stopProof loads before it
// deletes the db pod (label app=db, Service db), and what it reads from the
// next pod. A rolling update cannot keep a single instance serving, so
// instead of the HTTP drill the proof is how the stop ended and what it
// kept.
type stopCase struct {
	workloads []string // waited for before each run (kubectl rollout status)
	container string   // the db container, whose exit is recorded
	// hostPath, if set, is the manifest's data directory, replaced by a
	// fresh directory per variant owned by uid, so that the next pod finds
	// what the stopped one left.
	hostPath string
	uid      int
	// load waits (bounded) until the db serves, loads it and returns the
	// values of loadCols. addrs maps the db Service's port names to
	// 127.0.0.1:NodePort.
	loadCols []string
	load     func(t *testing.T, addrs map[string]string) []string
	// after, if set, reads from the next pod (ready, a new uid) and the
	// data directory what survived: the values of afterCols (after
	// start_s, how long the next pod took to be ready).
	afterCols []string
	after     func(t *testing.T, addrs map[string]string, dir string) []string
	// check says what is wrong with a stop with graceful.
	check func(r stopRun) error
}

type stopRun struct {
	stop        time.Duration
	exit        int
	reason      string
	load, after []string
}

var stopCases = map[string]stopCase{
	// PostgreSQL's SIGTERM (smart shutdown) waits for every session to end,
	// so only the kubelet's SIGKILL ends the pod (exit 137, crash recovery at
	// the next start); the profile's SIGINT (fast shutdown) ends the
	// sessions and stops cleanly.
	"postgresql": {
		workloads: []string{"deployment/db", "deployment/client"},
		container: "postgres",
		loadCols:  []string{"sessions"},
		load:      pgSession,
		check: func(r stopRun) error {
			if r.exit != 0 || r.stop > 20*time.Second {
				return fmt.Errorf("the stop took %v and ended with exit %d", r.stop, r.exit)
			}
			return nil
		},
	},
	"redis": {
		workloads: []string{"statefulset/db"},
		container: "redis",
		hostPath:  "/var/lib/graceful-drill/redis",
		uid:       999,
		loadCols:  []string{"keys"},
		load:      redisLoad,
		afterCols: []string{"save_s", "keys_after"},
		after:     redisAfter,
		check: func(r stopRun) error {
			if r.exit != 0 || r.after[2] != r.load[0] {
				return fmt.Errorf("exit %d after %v; %s of %s keys back", r.exit, r.stop, r.after[2], r.load[0])
			}
			// The proof shows nothing unless the save outlasts Kubernetes'
			// default 30 s grace period.
			if s, _ := strconv.ParseFloat(r.after[1], 64); s < 30 {
				return fmt.Errorf("the final save took %s s, not over 30 s: load more", r.after[1])
			}
			return nil
		},
	},
	"rabbitmq": {
		workloads: []string{"statefulset/db"},
		container: "rabbitmq",
		hostPath:  "/var/lib/graceful-drill/rabbitmq",
		uid:       999,
		loadCols:  []string{"messages"},
		load:      rabbitLoad,
		afterCols: []string{"messages_after", "recovery"},
		after:     rabbitAfter,
		// Messages still in flight (not confirmed) when the node closes the
		// publishers' connections may be lost by any stop: counted, not
		// checked.
		check: func(r stopRun) error {
			if r.exit != 0 || r.after[2] != "clean" {
				return fmt.Errorf("exit %d after %v; %s start", r.exit, r.stop, r.after[2])
			}
			return nil
		},
	},
}

// stopProof deletes the db pod once loaded, runs times, without and with
// graceful, and records how long the stop took, how the container ended
// and what the next pod kept; it returns the runs as TSV.
func stopProof(t *testing.T, c *cluster.Cluster, client *kubernetes.Clientset, sc serverCase, st stopCase, runs int) string {
	ctx := context.Background()
	var tsv strings.Builder
	cols := append(append([]string{"case", "profile", "graceful", "run"}, st.loadCols...), "stop_s", "exit_code", "reason")
	if st.after != nil {
		cols = append(cols, "start_s")
	}
	tsv.WriteString(strings.Join(append(cols, st.afterCols...), "\t") + "\n")
	for _, g := range []bool{false, true} {
		ns := sc.name + "-plain"
		manifest := serverManifest(sc)
		b, err := os.ReadFile(manifest)
		if err != nil {
			t.Fatal(err)
		}
		dir := ""
		if st.hostPath != "" {
			dir = stopDataDir(t, st.uid)
			manifest = filepath.Join(t.TempDir(), sc.name+".yaml")
			if err := os.WriteFile(manifest, []byte(strings.ReplaceAll(string(b), st.hostPath, dir)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if g {
			ns = sc.name + "-graceful"
		}
		applyServerCase(t, c, sc, manifest, ns, g)
		for i := 0; i < runs; i++ {
			for _, w := range st.workloads {
				kubectl(t, c, "rollout", "status", "-n", ns, w, "--timeout=180s")
			}
			pod := stopPod(t, client, ns, "")
			addrs := stopAddrs(t, client, ns)
			r := stopRun{load: st.load(t, addrs)}
			t0 := time.Now()
			if err := client.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			r.exit = -1
			// A StatefulSet's next pod has the same name: gone is a new uid.
			for end := t0.Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
				p, err := client.CoreV1().Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{})
				if apierrors.IsNotFound(err) || err == nil && p.UID != pod.UID {
					break
				}
				if err != nil || time.Now().After(end) {
					t.Fatalf("%s: pod %s: %v", ns, pod.Name, err)
				}
				for _, cs := range p.Status.ContainerStatuses {
					if cs.Name == st.container && cs.State.Terminated != nil {
						r.exit, r.reason = int(cs.State.Terminated.ExitCode), cs.State.Terminated.Reason
					}
				}
			}
			r.stop = time.Since(t0)
			if st.after != nil {
				// start_s: from the old pod gone to the next one ready.
				t1 := time.Now()
				stopPod(t, client, ns, pod.UID)
				r.after = append([]string{fmt.Sprintf("%.1f", time.Since(t1).Seconds())}, st.after(t, addrs, dir)...)
			}
			t.Logf("%s run %d: %s %v; stop took %v, exit %d %s; start_s,%s %v", ns, i+1, strings.Join(st.loadCols, ","), r.load,
				r.stop.Round(100*time.Millisecond), r.exit, r.reason, strings.Join(st.afterCols, ","), r.after)
			row := append(append([]string{sc.name, sc.profile, strconv.FormatBool(g), strconv.Itoa(i + 1)}, r.load...),
				fmt.Sprintf("%.1f", r.stop.Seconds()), strconv.Itoa(r.exit), r.reason)
			tsv.WriteString(strings.Join(append(row, r.after...), "\t") + "\n")
			if g {
				if err := st.check(r); err != nil {
					t.Errorf("%s run %d: with graceful, %v", ns, i+1, err)
				}
			}
		}
		// The data directory goes at the end: its pod must be gone first.
		kubectl(t, c, "delete", "namespace", ns, fmt.Sprintf("--wait=%v", dir != ""), "--timeout=180s")
	}
	t.Logf("per run:\n%s", tsv.String())
	return tsv.String()
}

// stopPod waits (bounded) for the running, ready db pod whose uid is not
// old, and returns it.
func stopPod(t *testing.T, client *kubernetes.Clientset, ns string, old types.UID) corev1.Pod {
	for end := time.Now().Add(3 * time.Minute); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		pods, err := client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=db"})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil || p.UID == old {
				continue
			}
			for _, cond := range p.Status.Conditions {
				if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
					return p
				}
			}
		}
	}
	t.Fatalf("%s: no ready db pod in 3 min", ns)
	return corev1.Pod{}
}

// stopAddrs maps the db Service's port names to 127.0.0.1:NodePort.
func stopAddrs(t *testing.T, client *kubernetes.Clientset, ns string) map[string]string {
	svc, err := client.CoreV1().Services(ns).Get(context.Background(), "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	addrs := map[string]string{}
	for _, p := range svc.Spec.Ports {
		addrs[p.Name] = fmt.Sprintf("127.0.0.1:%d", p.NodePort)
	}
	return addrs
}

// stopDataDir is a fresh hostPath directory owned by uid (the pod's
// runAsUser), removed at the end.
func stopDataDir(t *testing.T, uid int) string {
	dir, err := os.MkdirTemp("", "graceful-stop-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, uid, uid); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pgSession waits until the client pod's long query runs, asking from
// 127.0.0.1 through the NodePort (kubectl exec needs the kubelet's server,
// which this cluster does not expose), and returns the sessions open.
func pgSession(t *testing.T, addrs map[string]string) []string {
	host, port, _ := strings.Cut(addrs[""], ":")
	sessions, psqlErr := "0", ""
	for end := time.Now().Add(90 * time.Second); time.Now().Before(end); time.Sleep(time.Second) {
		cmd := exec.Command("psql", "-h", host, "-p", port, "-U", "postgres", "-Atc",
			"select count(*) from pg_stat_activity where query like 'select pg_sleep%'")
		cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=3")
		out, err := cmd.CombinedOutput()
		if sessions = strings.TrimSpace(string(out)); err == nil && sessions != "0" {
			return []string{sessions}
		}
		psqlErr = fmt.Sprint(err, ": ", sessions)
	}
	t.Fatalf("the client's session never started (psql: %s)", psqlErr)
	return nil
}

// Redis's stop: on SIGTERM, with a save point set, Redis 7.0 saves the
// whole dataset in the foreground and exits 0 (server.c finishShutdown);
// a SIGKILL first loses every key written since the last save. A dataset
// whose save takes about 40 s (several GB on real disks) is stood in for by
// redisKeys keys and Redis's own test setting rdb-key-save-delay (a sleep
// per key saved, rdb.c rdbSaveKeyValuePair). Margins: 2000 sleeps of 20 ms
// are 40 s, 10 s over Kubernetes' default 30 s grace period (a sleep is
// never shorter), and 20 s under the profile's 60 s (no replica to wait
// for before saving); a busy machine lengthens each sleep by about 1 ms
// (measured: 4000 sleeps of 10 ms took 44.3 s), so few long sleeps.
const (
	redisKeys      = 2000
	redisSaveDelay = 20 * time.Millisecond
)

// redisLoad empties the db with a save (FLUSHALL saves when a save point
// is set: the last save now holds nothing), sets the save delay and adds
// redisKeys keys, written after that save.
func redisLoad(t *testing.T, addrs map[string]string) []string {
	addr := addrs[""]
	redisWait(t, addr)
	for _, cmd := range [][]string{
		{"FLUSHALL"},
		{"CONFIG", "SET", "rdb-key-save-delay", strconv.Itoa(int(redisSaveDelay / time.Microsecond))},
		{"DEBUG", "POPULATE", strconv.Itoa(redisKeys)},
	} {
		if _, err := redisCommand(addr, cmd...); err != nil {
			t.Fatalf("redis %v: %v", cmd, err)
		}
	}
	n, err := redisCommand(addr, "DBSIZE")
	if err != nil {
		t.Fatal(err)
	}
	return []string{n}
}

// redisAfter reads the keys the next pod loaded and, from the log on the
// data directory, how long the stopped pod's final save took ("-" when it
// never finished).
func redisAfter(t *testing.T, addrs map[string]string, dir string) []string {
	addr := addrs[""]
	redisWait(t, addr)
	n, err := redisCommand(addr, "DBSIZE")
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(filepath.Join(dir, "redis.log"))
	if err != nil {
		t.Fatal(err)
	}
	return []string{redisSaveSeconds(string(log)), n}
}

// redisWait waits (bounded) until Redis answers PING (not LOADING).
func redisWait(t *testing.T, addr string) {
	var err error
	for end := time.Now().Add(90 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		if _, err = redisCommand(addr, "PING"); err == nil {
			return
		}
	}
	t.Fatalf("redis at %s: %v", addr, err)
}

// redisSaveSeconds is the duration of the last final save in a Redis log,
// from "Saving the final RDB snapshot" to "DB saved on disk" before the
// next start, formatted in seconds, or "-".
func redisSaveSeconds(log string) string {
	lines := strings.Split(log, "\n")
	start := -1
	for i, l := range lines {
		if strings.Contains(l, "Saving the final RDB snapshot") {
			start = i
		}
	}
	if start < 0 {
		return "-"
	}
	// 1:M 25 Nov 2026 02:30:01.123 * message
	stamp := func(l string) (time.Time, bool) {
		f := strings.Fields(l)
		if len(f) < 5 {
			return time.Time{}, false
		}
		ts, err := time.Parse("2 Jan 2006 15:04:05.000", strings.Join(f[1:5], " "))
		return ts, err == nil
	}
	t0, ok := stamp(lines[start])
	if !ok {
		return "-"
	}
	for _, l := range lines[start+1:] {
		if strings.Contains(l, "Redis is starting") {
			break
		}
		if strings.Contains(l, "DB saved on disk") {
			if t1, ok := stamp(l); ok {
				return fmt.Sprintf("%.1f", t1.Sub(t0).Seconds())
			}
		}
	}
	return "-"
}

// RabbitMQ's stop: the rabbitmq-server script (PID 1) passes SIGTERM to
// the Erlang VM, which stops the node (init:stop: listeners, connections,
// then every queue and the message store write their state) and exits 0;
// after a SIGKILL the next start rebuilds the message store's indices from
// scratch and what was not yet on disk is lost. At rest the stop takes
// about 7 s (1M small messages or 5000 queues; 16 s for 20000 queues,
// near this machine's 20000 open files); what lengthens it is data just
// published: the queues and the message store write it before they stop.
// The load: rabbitQueues durable queues, rabbitMessages persistent
// messages of rabbitBody bytes (4.8 GB) from 4 publishers, the pod deleted
// as the last one is sent, as when producers are busy during a restart.
// Measured here with the pod deleted so: 200000 messages (3.2 GB in 9.5 s)
// stopped in 22.7 and 26.7 s, under 30 s; 400000 (6.4 GB in 22 s) in 89.5 s
// with the profile, killed at 30 s without it (123068 messages back).
const (
	rabbitQueues   = 100
	rabbitMessages = 300000
	rabbitBody     = 16 << 10
)

// rabbitLoad empties the queues (deletes and declares them) and publishes.
func rabbitLoad(t *testing.T, addrs map[string]string) []string {
	addr := addrs[""]
	body := []byte(strings.Repeat("graceful", rabbitBody/8))
	errs := make(chan error, 4)
	t0 := time.Now()
	for w := 0; w < 4; w++ {
		go func() {
			a, err := rabbitDial(addr)
			if err != nil {
				errs <- err
				return
			}
			for q := w; q < rabbitQueues; q += 4 {
				name := fmt.Sprintf("q%d", q)
				if err := a.remove(name); err != nil {
					errs <- err
					return
				}
				if _, err := a.declare(name, false); err != nil {
					errs <- err
					return
				}
				for i := 0; i < rabbitMessages/rabbitQueues; i++ {
					a.publish(name, body)
				}
			}
			errs <- a.close()
		}()
	}
	for w := 0; w < 4; w++ {
		if err := <-errs; err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	t.Logf("published %d messages of %d bytes in %v", rabbitMessages, rabbitBody, time.Since(t0).Round(100*time.Millisecond))
	return []string{strconv.Itoa(rabbitMessages)}
}

// rabbitAfter counts the messages the next pod has and says whether its
// start found a clean stop or rebuilt the message store's indices.
func rabbitAfter(t *testing.T, addrs map[string]string, dir string) []string {
	a, err := rabbitDial(addrs[""])
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	total := 0
	for q := 0; q < rabbitQueues; q++ {
		n, err := a.declare(fmt.Sprintf("q%d", q), true)
		if err != nil {
			t.Fatalf("q%d: %v", q, err)
		}
		total += n
	}
	log, err := os.ReadFile(filepath.Join(dir, "rabbit.log"))
	if err != nil {
		t.Fatal(err)
	}
	start := string(log)
	if i := strings.LastIndex(start, "Starting RabbitMQ"); i >= 0 {
		start = start[i:]
	}
	recovery := "clean"
	if strings.Contains(start, "rebuilding indices from scratch") {
		recovery = "rebuilt"
	}
	return []string{strconv.Itoa(total), recovery}
}

// rabbitDial connects (bounded: the listener opens last in the boot).
func rabbitDial(addr string) (*amqpConn, error) {
	var err error
	for end := time.Now().Add(90 * time.Second); time.Now().Before(end); time.Sleep(time.Second) {
		var a *amqpConn
		if a, err = amqpDial(addr); err == nil {
			return a, nil
		}
	}
	return nil, err
}

// TestRedisSaveSeconds: the redis proof's save time comes from Redis 7.0's
// own log lines; a save the SIGKILL cut has none.
func TestRedisSaveSeconds(t *testing.T) {
	saved := `1:M 25 Nov 2026 02:20:01.100 * DB saved on disk
1:M 25 Nov 2026 02:20:05.000 # Received SIGTERM scheduling shutdown...
1:M 25 Nov 2026 02:20:05.050 * Saving the final RDB snapshot before exiting.
1:M 25 Nov 2026 02:20:45.350 * DB saved on disk
1:M 25 Nov 2026 02:20:45.351 # Redis is now ready to exit, bye bye...
1:C 25 Nov 2026 02:20:47.000 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo
`
	killed := `1:M 25 Nov 2026 02:20:05.050 * Saving the final RDB snapshot before exiting.
1:C 25 Nov 2026 02:20:47.000 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo
1:M 25 Nov 2026 02:20:48.000 * DB saved on disk
`
	for log, want := range map[string]string{saved: "40.3", killed: "-", "": "-"} {
		if got := redisSaveSeconds(log); got != want {
			t.Errorf("redisSaveSeconds = %q, want %q in:\n%s", got, want, log)
		}
	}
}
