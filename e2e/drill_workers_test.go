package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/graceful-dev/graceful/e2e/cluster"
)

// workerJob is what a worker case runs at the stop: one job of seconds,
// pushed on queue (a Redis list) as the worker's own client would.
type workerJob struct {
	queue   string
	seconds int
	// want is the job's outcome with graceful: "done" (finished before
	// the worker exited) or "requeued" (back on the queue).
	want string
}

// The margins, stop measured from the deletion, which comes within a
// second or two of the job's start: a job of 40-45 s outlives the
// default grace period of 30 s by 10 s or more, and ends well inside the
// profile's (celery 300 s; sidekiq -t 50 + 5 s headroom = 55 s).
var workerJobs = map[string]workerJob{
	// Default acks: the task is acknowledged as it starts, so SIGKILL at
	// 30 s loses it; the profile's 300 s lets the warm shutdown finish it.
	"celery": {queue: "celery", seconds: 45, want: "done"},
	// -t 50 > 30 s: Sidekiq is still waiting when SIGKILL comes, and a job
	// taken with BRPOP is in no Redis list, so it is lost; graceful reads
	// -t 50 and gives 55 s.
	"sidekiq": {queue: "queue:default", seconds: 40, want: "done"},
	// -t 10 < the job: Sidekiq pushes the job back after 10 s (+0.5 s
	// pause, +3 s at most for the threads) and exits, inside the profile's
	// budget of 15 s (render keeps Kubernetes' 30 s).
	"sidekiq-requeue": {queue: "queue:default", seconds: 40, want: "requeued"},
}

// workerStopProof is the proof for a worker, which takes no requests: a
// job runs when the worker is stopped (its Deployment scaled to 0, so no
// new worker takes a job that was pushed back before the test looks), and
// the question is whether the job finished, was handed back to the
// broker, or was lost. Both variants run at once, each with its own
// broker; the TSV has the stop's seconds, exit code and reason, the grace
// period the pod had, and the job's outcome.
func workerStopProof(t *testing.T, c *cluster.Cluster, client *kubernetes.Clientset, sc serverCase, runs int) string {
	job, ok := workerJobs[sc.name]
	if !ok {
		t.Fatalf("no workerJobs entry for %s", sc.name)
	}
	type variant struct {
		graceful bool
		ns, addr string
		rows     []string
	}
	variants := []*variant{{ns: sc.name + "-plain"}, {graceful: true, ns: sc.name + "-graceful"}}
	for _, v := range variants {
		applyServerCase(t, c, sc, serverManifest(sc), v.ns, v.graceful)
		kubectl(t, c, "rollout", "status", "-n", v.ns, "deployment/broker", "--timeout=180s")
		svc, err := client.CoreV1().Services(v.ns).Get(context.Background(), "broker", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v.addr = fmt.Sprintf("127.0.0.1:%d", svc.Spec.Ports[0].NodePort)
		// kube-proxy's rule for the NodePort may come after the pod is ready.
		var ping error
		for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
			if _, ping = redisCommand(v.addr, "PING"); ping == nil {
				break
			}
		}
		if ping != nil {
			t.Fatalf("%s: the broker does not answer on %s: %v", v.ns, v.addr, ping)
		}
	}
	// The first job waits for the worker all the same; this says when a
	// slow start is the trouble. Bounded, generously: both variants'
	// Python or Ruby start at once on a busy machine.
	t0 := time.Now()
	for _, v := range variants {
		kubectl(t, c, "rollout", "status", "-n", v.ns, "deployment/worker", "--timeout=300s")
	}
	t.Logf("workers up in %v", time.Since(t0).Round(100*time.Millisecond))
	var wg sync.WaitGroup
	for _, v := range variants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= runs; i++ {
				r, err := workerStop(client, v.ns, v.addr, sc, job, i)
				if err != nil {
					t.Errorf("%s run %d: %v\nthe worker's log:\n%s", v.ns, i, err, workerLog(c, v.ns))
					return
				}
				row := fmt.Sprintf("%d\t%d\t%.1f\t%d\t%s\t%s\t%s", job.seconds, r.grace, r.stop.Seconds(), r.exit, r.reason, r.outcome, r.queued)
				t.Logf("%s run %d: %s", v.ns, i, row)
				v.rows = append(v.rows, fmt.Sprintf("%s\t%s\t%v\t%d\t%s\n", sc.name, sc.profile, v.graceful, i, row))
				switch {
				case v.graceful && (r.outcome != job.want || r.exit != 0):
					t.Errorf("%s run %d: with graceful, the job was %s (want %s), the worker's exit %d", v.ns, i, r.outcome, job.want, r.exit)
				case !v.graceful && r.outcome == "done":
					// A finding, not a defect of the proof: the job outlived
					// nothing it should have.
					t.Logf("%s run %d: the job finished without graceful", v.ns, i)
				}
			}
		}()
	}
	wg.Wait()
	var tsv strings.Builder
	tsv.WriteString("case\tprofile\tgraceful\trun\tjob_s\tgrace_s\tstop_s\texit_code\treason\tjob_outcome\tqueued\n")
	for _, v := range variants {
		for _, r := range v.rows {
			tsv.WriteString(r)
		}
		kubectl(t, c, "delete", "namespace", v.ns, "--wait=false")
	}
	t.Logf("per run:\n%s", tsv.String())
	return tsv.String()
}

// workerStopped is how one stop went.
type workerStopped struct {
	grace   int64 // the pod's grace period, s
	stop    time.Duration
	exit    int // -1: the container's end was not seen
	reason  string
	outcome string // done, requeued, unacked or lost
	queued  string // the queue's length after the stop
}

// workerStop runs one job on the worker and stops the worker in the middle
// of it. kubectl and t.Fatal are not for goroutines: it scales through
// client-go and returns errors.
func workerStop(client *kubernetes.Clientset, ns, addr string, sc serverCase, job workerJob, n int) (workerStopped, error) {
	var r workerStopped
	ctx := context.Background()
	scale := func(replicas int) error {
		_, err := client.AppsV1().Deployments(ns).Patch(ctx, "worker", types.MergePatchType,
			[]byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)), metav1.PatchOptions{})
		return err
	}
	// The job waits on the queue for a worker that starts: a Celery 5.2.6
	// worker (kombu 5.2.4) here takes the jobs queued when it connects, but
	// left a job pushed while it was up on the queue for good in 5 runs
	// (the message still in the list 3 min later): a matter of fetching,
	// not of the stop this proves.
	if err := scale(0); err != nil {
		return r, err
	}
	for end := time.Now().Add(6 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=worker"})
		if err != nil {
			return r, err
		}
		if len(pods.Items) == 0 {
			break
		}
		if time.Now().After(end) {
			return r, fmt.Errorf("the idle worker did not stop")
		}
	}
	id := fmt.Sprintf("%s-%d-%d", ns, n, time.Now().UnixNano())
	msg, err := jobMessage(sc.profile, id, job.seconds)
	if err != nil {
		return r, err
	}
	pushed := time.Now()
	if _, err := redisCommand(addr, "LPUSH", job.queue, msg); err != nil {
		return r, fmt.Errorf("enqueue: %v", err)
	}
	if err := scale(1); err != nil {
		return r, err
	}
	// The worker takes the job: bounded.
	var started bool
	for end := time.Now().Add(3 * time.Minute); !started && time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		s, err := redisCommand(addr, "GET", "started:"+id)
		started = err == nil && s != ""
	}
	if !started {
		keys, _ := redisCommand(addr, "KEYS", "*")
		queued, _ := redisCommand(addr, "LLEN", job.queue)
		return r, fmt.Errorf("the job never started (no started:%s in the broker; pushed at %s; %s holds %s; keys: %q)",
			id, pushed.Format("15:04:05.000"), job.queue, queued, keys)
	}
	pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=worker"})
	if err != nil || len(pods.Items) != 1 {
		return r, fmt.Errorf("want one worker pod: %v %d", err, len(pods.Items))
	}
	pod := pods.Items[0]
	grace := int64(30)
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	// A watch from the listed version sees the container's end even when
	// the pod is gone a moment later (a quick, clean exit).
	wctx, cancel := context.WithTimeout(ctx, time.Duration(grace+60)*time.Second)
	defer cancel()
	t0 := time.Now()
	if err := scale(0); err != nil {
		return r, err
	}
	exit, reason, rv, gone := -1, "", pod.ResourceVersion, false
	for !gone {
		w, err := client.CoreV1().Pods(ns).Watch(wctx, metav1.ListOptions{FieldSelector: "metadata.name=" + pod.Name, ResourceVersion: rv})
		if err != nil {
			return r, fmt.Errorf("pod %s, %v after the stop: %v", pod.Name, time.Since(t0), err)
		}
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			rv = p.ResourceVersion
			for _, cs := range p.Status.ContainerStatuses {
				if cs.Name == "worker" && cs.State.Terminated != nil {
					exit, reason = int(cs.State.Terminated.ExitCode), cs.State.Terminated.Reason
				}
			}
			if ev.Type == watch.Deleted {
				gone = true
				break
			}
		}
		w.Stop()
	}
	stop := time.Since(t0)
	// No worker runs now: the job either finished, is on the queue, or
	// is nowhere (celery's Redis transport keeps a delivered, unacked
	// message in the hash "unacked" until its visibility timeout, 1 h).
	done, err := redisCommand(addr, "GET", "done:"+id)
	if err != nil {
		return r, err
	}
	queued, err := redisCommand(addr, "LLEN", job.queue)
	if err != nil {
		return r, err
	}
	unacked, err := redisCommand(addr, "HLEN", "unacked")
	if err != nil {
		return r, err
	}
	outcome := "lost"
	switch {
	case done != "":
		outcome = "done"
	case queued != "0":
		outcome = "requeued"
	case unacked != "0":
		outcome = "unacked"
	}
	if queued != "0" {
		// The next run's job must be the only one.
		if _, err := redisCommand(addr, "DEL", job.queue); err != nil {
			return r, err
		}
	}
	return workerStopped{grace, stop, exit, reason, outcome, queued}, nil
}

// jobMessage is the message the worker's own client would push for the
// test's job (id, seconds): a Sidekiq job hash, or a Celery task message
// (protocol 2, as kombu's Redis transport stores it: the body base64 JSON
// [args, kwargs, embed]).
func jobMessage(profile, id string, seconds int) (string, error) {
	now := float64(time.Now().UnixNano()) / 1e9
	var m any
	switch profile {
	case "sidekiq":
		m = map[string]any{"class": "SlowJob", "args": []any{id, seconds}, "queue": "default", "retry": false,
			"jid": strconv.FormatInt(time.Now().UnixNano(), 16), "created_at": now, "enqueued_at": now}
	case "celery":
		body, err := json.Marshal([]any{[]any{id, seconds}, map[string]any{},
			map[string]any{"callbacks": nil, "errbacks": nil, "chain": nil, "chord": nil}})
		if err != nil {
			return "", err
		}
		m = map[string]any{
			"body":             base64.StdEncoding.EncodeToString(body),
			"content-encoding": "utf-8",
			"content-type":     "application/json",
			"headers": map[string]any{"lang": "py", "task": "tasks.work", "id": id, "root_id": id, "parent_id": nil,
				"retries": 0, "timelimit": []any{nil, nil}, "eta": nil, "expires": nil, "group": nil,
				"argsrepr": fmt.Sprintf("(%q, %d)", id, seconds), "kwargsrepr": "{}", "origin": "graceful-e2e"},
			"properties": map[string]any{"correlation_id": id, "reply_to": "", "delivery_mode": 2, "priority": 0,
				"delivery_info": map[string]any{"exchange": "", "routing_key": "celery"},
				"body_encoding": "base64", "delivery_tag": id},
		}
	default:
		return "", fmt.Errorf("no job message for profile %s", profile)
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// workerLog is the end of the last worker container's log in ns (the
// kubelet writes them under the cluster's directory; kubectl logs needs
// the kubelet's server, which this cluster does not expose).
func workerLog(c *cluster.Cluster, ns string) string {
	files, _ := filepath.Glob(filepath.Join(c.Dir, "pod-logs", ns+"_worker-*", "worker", "*.log"))
	var out strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		out.WriteString(f + ":\n" + strings.Join(lines[max(0, len(lines)-30):], "\n") + "\n")
	}
	return out.String()
}
