package render

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/transformers"
)

// The load balancer drain: a LoadBalancer Service that selects profiled pods
// gets its cloud's drain annotations (Renderer.lbDrain, from --provider),
// with a timeout the shortest-lived of those pods allows. Pass 1 finds the
// Services (loadBalancerSelector), pass 2 joins them to the pods
// (joinService) and annotates them (drainService); pass.go schedules both.

// skippedDrain is the decision on a Service that gets no drain.
const skippedDrain = "load balancer drain: skipped"

// loadBalancerSelector is the selector of a LoadBalancer Service that pass 2
// may drain; nil with an entry that says why not, or nil alone for a Service
// that is no load balancer.
func loadBalancerSelector(ref Ref, object *yaml.Node) (map[string]string, *Entry) {
	spec := node.Get(object, "spec")
	if node.GetStr(spec, "type") != "LoadBalancer" {
		return nil, nil
	}
	selector := node.Labels(node.Get(spec, "selector"))
	if len(selector) == 0 {
		return nil, &Entry{Ref: ref, Decision: skippedDrain, Findings: []transformers.Finding{{
			Code: transformers.CodeLBNoSelector, Severity: transformers.Info, Field: "spec.selector",
			Message: "no selector, so graceful cannot tell which pods it serves; add the drain annotations yourself"}}}
	}
	return selector, nil
}

// joinService finds the pods a Service selects: the drain timeout they
// allow, or an entry that says why the Service gets no drain.
func joinService(join *podIndex, svc lbService) (timeout int, skipped *Entry) {
	found := join.join(svc.ref.Namespace, svc.selector)
	switch {
	case found.matched:
		return found.timeout, nil
	case found.undrained != nil:
		return 0, &Entry{Ref: svc.ref, Decision: skippedDrain, Findings: []transformers.Finding{{
			Code: transformers.CodeLBNoDrainProfile, Severity: transformers.Info, Field: "spec.selector",
			Message: fmt.Sprintf("its pods run the %s profile, which takes no load balancer drain: %s", found.undrained.Name, found.undrained.NoLoadBalancerDrain)}}}
	}
	return 0, &Entry{Ref: svc.ref, Decision: skippedDrain, Findings: []transformers.Finding{{
		Code: transformers.CodeLBNoProfiledPods, Severity: transformers.Info, Field: "spec.selector",
		Message: "selects no workload a profile applies to in this input, so no drain annotations; profile the workload behind it"}}}
}

// drainService annotates a parsed load balancer Service.
func (st *run) drainService(svc lbService, timeout int) (*Entry, error) {
	if err := checkServiceDuplicates(svc.ref, svc.object); err != nil {
		return nil, err
	}
	if svc.object.Style&yaml.FlowStyle == 0 {
		node.BlockStyle(node.Get(svc.object, "metadata")) // annotations go in as a person adds them
	}
	guard := svc.doc.sharedGuard()
	meta, ok := node.EnsureMap(svc.object, "metadata")
	if !ok {
		return nil, &DocumentError{Ref: svc.ref, Field: "metadata", Err: fmt.Errorf("expected a mapping")}
	}
	node.Unshare(meta, "annotations") // `annotations: *common` gets its own copy
	class := node.GetStr(node.Get(svc.object, "spec"), "loadBalancerClass")
	drained, err := st.lbDrain.Transform(meta, "metadata", class, timeout)
	if err != nil {
		return nil, &DocumentError{Ref: svc.ref, Err: err}
	}
	entry := &Entry{Ref: svc.ref, Decision: "load balancer drain", Findings: drained}
	guard.check(entry, "metadata.annotations")
	return entry, nil
}

// drainSection annotates the service section of an operator's CR
// (TidbCluster's spec.tidb.service), whose annotations the operator copies
// onto the load balancer Service it makes.
func (st *run) drainSection(w *workload, drainSeconds int) ([]transformers.Finding, error) {
	if w.section == nil || w.section.service == "" || st.lbDrain == nil {
		return nil, nil
	}
	svc := node.Get(w.podSpec, w.section.service)
	if node.GetStr(svc, "type") != "LoadBalancer" {
		return nil, nil
	}
	found, err := st.lbDrain.Transform(svc, w.podSpecPath+"."+w.section.service, node.GetStr(svc, "loadBalancerClass"), drainSeconds)
	if err != nil {
		return nil, &DocumentError{Ref: w.ref, Err: err}
	}
	return found, nil
}
