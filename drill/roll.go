package drill

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
)

// Options is one drill: restart Deployment while Load runs.
type Options struct {
	Client     kubernetes.Interface
	Namespace  string
	Deployment string
	Load       Load
	// Warmup: load before the restart, so that connections are established
	// and the baseline is clean.
	Warmup time.Duration
	// Settle: load after the last old pod is gone, to catch late failures.
	Settle time.Duration
	// MinDuration: the load runs at least this long in all.
	MinDuration time.Duration
	// RolloutTimeout bounds the restart (new pods ready, old pods gone).
	RolloutTimeout time.Duration
	Progress       io.Writer // a line a second; nil = quiet
}

// Event is a pod changing during the drill.
type Event struct {
	At   time.Duration // since the restart
	Pod  string
	What string // "created", "ready", "terminating", "gone"
}

// Report is what a drill saw.
type Report struct {
	Counts
	Duration time.Duration // of the load
	Rollout  time.Duration // restart to last old pod gone
	Timeline []Event
	// Start is when the restart began (Event.At counts from it); PodIPs
	// names the pod of each IP seen, to attribute a timed-out request.
	Start  time.Time
	PodIPs map[string]string
}

// Before the drill, the URL must answer servingStreak requests in a row
// (within servingTimeout): a Service just created has no rules in
// kube-proxy yet, and those refusals are not the rollout's.
const (
	servingStreak  = 20
	servingTimeout = time.Minute
)

// Polling the API every podPoll is cheap and catches each change within it.
const podPoll = 200 * time.Millisecond

// Run restarts the Deployment (as `kubectl rollout restart` does) under
// load, waits until the new pods are available and every old pod is gone,
// and reports. The load is bounded: it stops after the rollout, or at
// RolloutTimeout at the latest.
func Run(ctx context.Context, o Options) (*Report, error) {
	deps := o.Client.AppsV1().Deployments(o.Namespace)
	dep, err := deps.Get(ctx, o.Deployment, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	selector := metav1.FormatLabelSelector(dep.Spec.Selector)
	pods := o.Client.CoreV1().Pods(o.Namespace)
	before, old, err := podNames(ctx, pods, selector)
	if err != nil {
		return nil, err
	}
	if o.RolloutTimeout == 0 {
		o.RolloutTimeout = 5 * time.Minute
	}

	small := o.Load.smallURL()
	if err := waitServing(ctx, small, servingStreak, servingTimeout); err != nil {
		return nil, err
	}
	loadStart := time.Now()
	load := startLoad(o.Load)
	defer load.cancel()
	tl := &timeline{seen: map[string]podState{}, ips: map[string]string{}}
	tl.observe(before.Items, true)
	progress := func(now time.Time) {
		if o.Progress == nil {
			return
		}
		c := load.c.snapshot()
		el := now.Sub(loadStart)
		fmt.Fprintf(o.Progress, "%5.1fs  %6d requests (%4.0f/s)  %d failed  %d retried  downloads %d/%d  pods %s\n",
			el.Seconds(), c.Requests, float64(c.Requests)/el.Seconds(), c.Failed(), c.Retried, c.DownloadsOK, c.Downloads, tl.summary())
	}
	sleep := func(d time.Duration) error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	}
	if err := sleep(o.Warmup); err != nil {
		load.stopLoad(true)
		return nil, err
	}
	restart := time.Now()
	tl.start = restart
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`, restart.Format(time.RFC3339Nano))
	if _, err := deps.Patch(ctx, o.Deployment, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		load.stopLoad(true)
		return nil, fmt.Errorf("restart: %w", err)
	}
	deadline := restart.Add(o.RolloutTimeout)
	lastProgress := time.Now()
	var rolloutErr error
	for {
		list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err == nil {
			tl.observe(list.Items, false)
		}
		done, derr := rolledOut(ctx, deps, o.Deployment, old, list, err)
		if derr == nil && done {
			break
		}
		if time.Now().After(deadline) {
			rolloutErr = fmt.Errorf("the rollout did not finish within %v", o.RolloutTimeout)
			break
		}
		if time.Since(lastProgress) >= time.Second {
			lastProgress = time.Now()
			progress(lastProgress)
		}
		if err := sleep(podPoll); err != nil {
			load.stopLoad(true)
			return nil, err
		}
	}
	rollout := time.Since(restart)
	for end := time.Now().Add(o.Settle); time.Now().Before(end) || time.Since(loadStart) < o.MinDuration; {
		if time.Since(lastProgress) >= time.Second {
			lastProgress = time.Now()
			progress(lastProgress)
		}
		if err := sleep(podPoll); err != nil {
			break
		}
	}
	// Downloads in flight finish (at their read rate) before the count.
	counts := load.stopLoad(false)
	return &Report{Counts: counts, Duration: time.Since(loadStart), Rollout: rollout, Timeline: tl.events, Start: restart, PodIPs: tl.ips}, rolloutErr
}

// rolledOut: the Deployment's new pods are all available and no old pod
// (one that existed before the restart) is left, terminating or not.
func rolledOut(ctx context.Context, deps interface {
	Get(context.Context, string, metav1.GetOptions) (*appsv1.Deployment, error)
}, name string, old map[string]bool, pods *corev1.PodList, listErr error) (bool, error) {
	if listErr != nil {
		return false, listErr
	}
	for _, p := range pods.Items {
		if old[p.Name] {
			return false, nil
		}
	}
	d, err := deps.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.Replicas == want &&
		s.AvailableReplicas == want && s.UnavailableReplicas == 0, nil
}

type podState struct{ ready, terminating bool }

type timeline struct {
	start  time.Time
	seen   map[string]podState
	events []Event
	ips    map[string]string // pod IP → pod name
}

func (t *timeline) add(pod, what string) {
	t.events = append(t.events, Event{At: time.Since(t.start), Pod: pod, What: what})
}

// observe records how pods changed since the last call; the first call
// (initial) only learns the pods as the restart finds them.
func (t *timeline) observe(pods []corev1.Pod, initial bool) {
	now := map[string]bool{}
	for _, p := range pods {
		now[p.Name] = true
		if p.Status.PodIP != "" && t.ips != nil {
			t.ips[p.Status.PodIP] = p.Name
		}
		st := podState{terminating: p.DeletionTimestamp != nil}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				st.ready = true
			}
		}
		prev, known := t.seen[p.Name]
		t.seen[p.Name] = st
		if initial {
			continue
		}
		if !known {
			t.add(p.Name, "created")
		}
		if st.ready && !prev.ready {
			t.add(p.Name, "ready")
		}
		if st.terminating && !prev.terminating {
			t.add(p.Name, "terminating")
		}
	}
	for name := range t.seen {
		if !now[name] {
			t.add(name, "gone")
			delete(t.seen, name)
		}
	}
}

func (t *timeline) summary() string {
	var ready, notReady, term int
	for _, s := range t.seen {
		switch {
		case s.terminating:
			term++
		case s.ready:
			ready++
		default:
			notReady++
		}
	}
	return fmt.Sprintf("%d ready, %d starting, %d terminating", ready, notReady, term)
}

// Write prints the report: rate, failures by class, the pods' timeline.
func (r *Report) Write(w io.Writer) {
	secs := r.Duration.Seconds()
	fmt.Fprintf(w, "load: %v, %d short requests (%.0f/s), %d ok, %d retried by the client on a new connection\n",
		r.Duration.Round(100*time.Millisecond), r.Requests, float64(r.Requests)/secs, r.OK, r.Retried)
	fmt.Fprintf(w, "downloads: %d started, %d complete\n", r.Downloads, r.DownloadsOK)
	fmt.Fprintf(w, "rollout: %v from the restart to the last old pod gone\n", r.Rollout.Round(100*time.Millisecond))
	var parts []string
	for _, c := range Classes {
		parts = append(parts, fmt.Sprintf("%s %d", c, r.Failures[c]))
	}
	fmt.Fprintf(w, "failed: %d (%s)\n", r.Failed(), strings.Join(parts, ", "))
	classes := make([]string, 0, len(r.Examples))
	for c := range r.Examples {
		classes = append(classes, string(c))
	}
	sort.Strings(classes)
	for _, c := range classes {
		fmt.Fprintf(w, "  e.g. %s: %s\n", c, r.Examples[Class(c)])
	}
	fmt.Fprintln(w, "timeline (from the restart):")
	for _, e := range r.Timeline {
		fmt.Fprintf(w, "  %6.1fs  %-40s %s\n", e.At.Seconds(), e.Pod, e.What)
	}
}

// podNames lists the pods the selector selects now, the pods a roll or a
// drain is to replace, with their names as a set.
func podNames(ctx context.Context, pods typedcorev1.PodInterface, selector string) (*corev1.PodList, map[string]bool, error) {
	list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, nil, err
	}
	names := map[string]bool{}
	for _, p := range list.Items {
		names[p.Name] = true
	}
	return list, names, nil
}
