package render

import (
	"sort"

	"github.com/graceful-dev/graceful/profiles"
)

// podIndex joins Service selectors to pods in linear time: pods are indexed
// by namespace and label, a selector looks only at the pods of its rarest
// label, and Services with the same selector share one answer.
type podIndex struct {
	pods    []podSummary
	byLabel map[string][]int
	memo    map[string]joinResult
}

// joinResult is what a selector finds: the shortest drain of the pods it
// selects that take a load balancer drain, and, when none do, a profile of
// the pods that take none (databases, workers), to say why.
type joinResult struct {
	timeout   int
	matched   bool
	undrained *profiles.Profile
}

func newPodIndex(pods []podSummary) *podIndex {
	x := &podIndex{pods: pods, byLabel: map[string][]int{}, memo: map[string]joinResult{}}
	for i, p := range pods {
		for k, v := range p.labels {
			key := labelKey(p.namespace, k, v)
			x.byLabel[key] = append(x.byLabel[key], i)
		}
	}
	return x
}

// join is the shortest drain of the pods a selector selects.
func (x *podIndex) join(namespace string, selector map[string]string) joinResult {
	keys := make([]string, 0, len(selector))
	for k := range selector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	memoKey := namespace
	var candidates []int
	for i, k := range keys {
		memoKey += "\x00" + k + "\x00" + selector[k]
		pods := x.byLabel[labelKey(namespace, k, selector[k])]
		if i == 0 || len(pods) < len(candidates) {
			candidates = pods
		}
	}
	if r, ok := x.memo[memoKey]; ok {
		return r
	}
	var r joinResult
	for _, i := range candidates {
		p := x.pods[i]
		if !selects(selector, p.labels) {
			continue
		}
		if !p.profile.TakesLoadBalancerDrain() {
			r.undrained = p.profile
			continue
		}
		if !r.matched || p.drainSeconds < r.timeout {
			r.timeout = p.drainSeconds
		}
		r.matched = true
	}
	x.memo[memoKey] = r
	return r
}

func labelKey(namespace, k, v string) string { return namespace + "\x00" + k + "\x00" + v }

func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
