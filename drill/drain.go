package drill

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// DrainOptions is one node drain under load: the node is drained (by the
// caller's command, e.g. kubectl drain, which evicts and so respects
// PodDisruptionBudgets), stays out of service for OutOfService, is put back
// (uncordoned), and the load runs until the Deployment is whole again.
type DrainOptions struct {
	Client     kubernetes.Interface
	Namespace  string
	Deployment string
	Load       Load
	Warmup     time.Duration
	Settle     time.Duration
	// Drain drains the node; it must bound itself (kubectl drain --timeout).
	// Its error is reported, not fatal: a budget that blocks an eviction
	// makes kubectl drain time out, which is the budget working.
	Drain func(ctx context.Context) error
	// OutOfService: from the drain's start, how long the node stays
	// cordoned at least (on one node, the evicted pods' replacements cannot
	// start before Uncordon: a real cluster would start them elsewhere).
	OutOfService time.Duration
	Uncordon     func(ctx context.Context) error
	// RecoverTimeout bounds the wait, after Uncordon, for every replica
	// to be available again.
	RecoverTimeout time.Duration
}

// DrainReport is what a drain drill saw.
type DrainReport struct {
	Counts
	Duration time.Duration // of the load
	// DrainTook is how long the drain command ran; DrainErr its error.
	DrainTook time.Duration
	DrainErr  error
	// Evicted counts the pods that went during the drain (before Uncordon).
	Evicted int
	// Recovered: from the drain's start until every replica was available
	// again after Uncordon.
	Recovered time.Duration
	Timeline  []Event
	Start     time.Time
	PodIPs    map[string]string
}

// RunDrain drains under load and reports. Failed requests are counted from
// the load's start until the Deployment is whole again, plus Settle.
func RunDrain(ctx context.Context, o DrainOptions) (*DrainReport, error) {
	deps := o.Client.AppsV1().Deployments(o.Namespace)
	dep, err := deps.Get(ctx, o.Deployment, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	selector := metav1.FormatLabelSelector(dep.Spec.Selector)
	pods := o.Client.CoreV1().Pods(o.Namespace)
	before, old, err := podNames(ctx, pods, selector)
	if err != nil {
		return nil, err
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
	time.Sleep(o.Warmup)

	start := time.Now()
	tl.start = start
	rep := &DrainReport{}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		rep.DrainErr = o.Drain(ctx)
		rep.DrainTook = time.Since(start)
	}()
	// An old pod gone or terminating was evicted.
	evicted := func() int {
		n := 0
		for name := range old {
			if st, ok := tl.seen[name]; !ok || st.terminating {
				n++
			}
		}
		return n
	}
	poll := func() {
		if list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: selector}); err == nil {
			tl.observe(list.Items, false)
		}
	}
	for done := false; !done || time.Since(start) < o.OutOfService; {
		select {
		case <-drained:
			done = true
			drained = nil
		case <-time.After(podPoll):
		}
		poll()
	}
	rep.Evicted = evicted()
	uncordonErr := o.Uncordon(ctx)
	deadline := time.Now().Add(o.RecoverTimeout)
	var recoverErr error
	for {
		poll()
		d, err := deps.Get(ctx, o.Deployment, metav1.GetOptions{})
		if err == nil && d.Status.AvailableReplicas >= want && d.Status.UnavailableReplicas == 0 && tl.terminating() == 0 {
			break
		}
		if time.Now().After(deadline) {
			recoverErr = fmt.Errorf("the Deployment was not whole again within %v of the uncordon", o.RecoverTimeout)
			break
		}
		time.Sleep(podPoll)
	}
	rep.Recovered = time.Since(start)
	time.Sleep(o.Settle)
	rep.Counts = load.stopLoad(false)
	rep.Duration = time.Since(loadStart)
	rep.Timeline, rep.Start, rep.PodIPs = tl.events, start, tl.ips
	if uncordonErr != nil {
		return rep, fmt.Errorf("uncordon: %w", uncordonErr)
	}
	return rep, recoverErr
}

// terminating counts the pods being deleted.
func (t *timeline) terminating() int {
	n := 0
	for _, s := range t.seen {
		if s.terminating {
			n++
		}
	}
	return n
}

// Report is the drain's report in the shape of a restart's, for Write.
func (r *DrainReport) Report() *Report {
	return &Report{Counts: r.Counts, Duration: r.Duration, Rollout: r.Recovered, Timeline: r.Timeline, Start: r.Start, PodIPs: r.PodIPs}
}
