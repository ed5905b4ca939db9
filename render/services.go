package render

import (
	"fmt"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/transformers"
	"go.yaml.in/yaml/v3"
)

// service records a load balancer Service for pass 2.
func (st *run) service(d *Document, ref Ref, object *yaml.Node) bool {
	if len(st.drain.Providers) == 0 {
		st.noteUndrained(ref, object)
		return false
	}
	spec := node.Get(object, "spec")
	if node.GetStr(spec, "type") != "LoadBalancer" {
		return false
	}
	selector := node.Labels(node.Get(spec, "selector"))
	if len(selector) == 0 {
		st.record(d, Entry{Ref: ref, Decision: "load balancer drain: skipped", Findings: []transformers.Finding{{
			Severity: transformers.Info, Field: "spec.selector",
			Message: "no selector, so graceful cannot tell which pods it serves; add the drain annotations yourself"}}})
		return false
	}
	svc := lbService{doc: d, ref: ref, selector: selector}
	waits := ref.Item > 0 || st.keepNodes
	if waits {
		svc.object = object
	}
	st.services = append(st.services, svc)
	return waits
}

// drainServices is pass 2: each load balancer Service that selects profiled
// pods in its namespace gets the drain annotations, with a timeout that fits
// the shortest-lived of those pods.
func (st *run) drainServices() error {
	join := newPodIndex(st.pods)
	for _, svc := range st.services {
		found := join.join(svc.ref.Namespace, svc.selector)
		timeout, matched := found.timeout, found.matched
		if !matched && found.undrained != nil {
			st.record(svc.doc, Entry{Ref: svc.ref, Decision: "load balancer drain: skipped", Findings: []transformers.Finding{{
				Severity: transformers.Info, Field: "spec.selector",
				Message: fmt.Sprintf("its pods run the %s profile, which takes no load balancer drain: %s", found.undrained.Name, found.undrained.NoLoadBalancerDrain)}}})
			continue
		}
		if !matched {
			st.record(svc.doc, Entry{Ref: svc.ref, Decision: "load balancer drain: skipped", Findings: []transformers.Finding{{
				Severity: transformers.Info, Field: "spec.selector",
				Message: "selects no workload a profile applies to in this input, so no drain annotations; profile the workload behind it"}}})
			continue
		}
		if svc.object == nil {
			if err := svc.doc.parse(); err != nil {
				return err
			}
			svc.object = svc.doc.root()
		}
		if err := checkServiceDuplicates(svc.ref, svc.object); err != nil {
			return err
		}
		if svc.object.Style&yaml.FlowStyle == 0 {
			node.BlockStyle(node.Get(svc.object, "metadata")) // annotations go in as a person adds them
		}
		guard := svc.doc.sharedGuard()
		meta, ok := node.EnsureMap(svc.object, "metadata")
		if !ok {
			return &DocumentError{Ref: svc.ref, Field: "metadata", Err: fmt.Errorf("expected a mapping")}
		}
		node.Unshare(meta, "annotations") // `annotations: *common` gets its own copy
		class := node.GetStr(node.Get(svc.object, "spec"), "loadBalancerClass")
		drained, err := st.drain.Transform(meta, "metadata", class, timeout)
		if err != nil {
			return &DocumentError{Ref: svc.ref, Err: err}
		}
		entry := &Entry{Ref: svc.ref, Decision: "load balancer drain", Findings: drained}
		guard.check(entry, "metadata.annotations")
		if len(entry.Findings) > 0 {
			st.record(svc.doc, *entry)
		}
		if svc.ref.Item == 0 {
			if err := st.finish(svc.doc); err != nil { // written now: its tree goes
				return err
			}
		}
	}
	return nil
}
