package render

import (
	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/transformers"
)

// A workload goes through three stages, each a function of its own:
//
//	select (select.go): which profile, from where (annotation, rule N,
//	        --profile, auto), or why none;
//	plan   (plan.go):   the numbers resolved with their sources, the
//	        containers chosen with their reasons; nothing changes yet;
//	apply  (below):     the transformers change the pod as the plan says.
//
// The fourth, write, is the document's: its original bytes, or its changed
// tree patched into them (patch.go, encode.go). pass.go schedules the stages
// over the stream; services.go drains the load balancers in a second pass.

// workload takes a workload through select, plan and apply, and records
// what its pods need from a load balancer. The entry is nil when there is
// nothing to report.
func (st *run) workload(w *workload) (*Entry, error) {
	sel, err := st.selectProfile(w)
	if err != nil {
		return nil, err
	}
	if sel.optedOut {
		st.optedOut++
	}
	if sel.code == transformers.CodeAutoAmbiguous {
		st.ambiguous++
	}
	if sel.profile == nil {
		if sel.reason == "" {
			return nil, nil
		}
		decision := "skipped: " + sel.reason
		if sel.optedOut {
			decision += ": " + profiles.None // the annotation's or rule's value, said whole
		}
		return &Entry{Ref: w.ref, Decision: decision, Findings: sel.noteFinding(),
			Plan: &Plan{Source: sel.reason, OptedOut: sel.optedOut}}, nil
	}
	st.profiled++
	plan, findings, err := st.plan(w, sel)
	if err != nil {
		return nil, err
	}
	defer plan.release()
	entry := &Entry{Ref: w.ref, Profile: plan.Profile, Plan: plan, Decision: plan.Profile + " (" + sel.reason + ")", Findings: findings}
	if len(plan.Containers) > 0 {
		entry.Decision += ", containers " + containerNames(plan.work.pod.Containers)
	}
	if !plan.applies() {
		return entry, nil
	}
	found, err := st.apply(w, plan)
	if err != nil {
		return nil, err
	}
	entry.Findings = append(entry.Findings, found...)
	if labels := w.podLabels(); len(labels) > 0 {
		st.pods = append(st.pods, podSummary{namespace: w.ref.Namespace, labels: labels,
			drainSeconds: plan.LoadBalancerDrain.Seconds, profile: plan.profile})
	}
	return entry, nil
}

// apply runs the transformers on the plan's containers and pod, then the
// load balancer drain of an operator's service section.
func (st *run) apply(w *workload, plan *Plan) ([]transformers.Finding, error) {
	w.blockStyleContainers()
	w.unshare(plan.work.pod.Containers)
	var out []transformers.Finding
	for _, t := range transformers.Workload {
		found, err := t.Transform(&plan.work.pod, &plan.work.settings)
		if err != nil {
			return nil, &DocumentError{Ref: w.ref, Err: err}
		}
		out = append(out, found...)
	}
	for _, n := range plan.profile.Notes {
		out = append(out, transformers.Finding{Code: transformers.CodeProfileNote, Severity: transformers.Info,
			Message: "the " + plan.profile.Name + " profile: " + n})
	}
	plan.settle()
	found, err := st.drainSection(w, plan.LoadBalancerDrain.Seconds)
	if err != nil {
		return nil, err
	}
	return append(out, found...), nil
}
