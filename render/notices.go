package render

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/internal/plural"
	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/transformers"
)

// noteUndrained keeps a load balancer Service seen without --provider: if
// it selects a profiled workload, the run says it was not drained (the
// cloud keeps sending requests to a stopping pod until its health check
// fails).
func (st *run) noteUndrained(ref Ref, object *yaml.Node) {
	spec := node.Get(object, "spec")
	if node.GetStr(spec, "type") != "LoadBalancer" {
		return
	}
	if selector := node.Labels(node.Get(spec, "selector")); len(selector) > 0 {
		st.undrained = append(st.undrained, lbService{ref: ref, selector: selector})
	}
}

// undrainedNotice is one run notice for all those Services, however many.
func (st *run) undrainedNotice() {
	if len(st.undrained) == 0 {
		return
	}
	join := newPodIndex(st.pods) // the drain pass's linear join
	var names []string
	for _, svc := range st.undrained {
		if join.join(svc.ref.Namespace, svc.selector).matched {
			names = append(names, svc.ref.Name)
		}
	}
	if len(names) == 0 {
		return
	}
	what := fmt.Sprintf("Service %s (type LoadBalancer) selects a profiled workload but is not drained", names[0])
	if len(names) > 1 {
		shown := names
		if len(shown) > 5 {
			shown = append(shown[:5:5], "…")
		}
		what = fmt.Sprintf("%d load balancer Services (%s) select profiled workloads but are not drained", len(names), strings.Join(shown, ", "))
	}
	st.report.Notices = append(st.report.Notices, transformers.Finding{Code: transformers.CodeUndrainedService, Severity: transformers.Info,
		Message: what + ": pass --provider (" + strings.Join(transformers.ProviderNames(), ", ") + ") or spec.provider to set the cloud's drain annotations"})
}

// runNotices says what the run as a whole did not do.
func (st *run) runNotices() {
	rep := &st.report
	if skipped := st.catalog.Skipped(); len(skipped) > 0 {
		rep.Notices = append(rep.Notices, transformers.Finding{Code: transformers.CodeProfilesSkipped, Severity: transformers.Info,
			Message: fmt.Sprintf("profile directories: skipped %s of a kind other than %s: %s", plural.Count(len(skipped), "document", "documents"),
				profiles.Kind, strings.Join(skipped, ", "))})
	}
	switch {
	case st.objects == 0:
		rep.Notices = append(rep.Notices, transformers.Finding{Code: transformers.CodeNoDocuments, Severity: transformers.Info, Message: "no documents in the input"})
	case st.profiled == 0 && (st.workloads == 0 || st.optedOut < st.workloads):
		msg := fmt.Sprintf("no workload selected a profile, so nothing changed: choose one with --profile NAME, a rule in --config, or the annotation %s: NAME (list: graceful profiles)", ProfileAnnotation)
		switch {
		case st.auto && st.ambiguous > 0:
			msg = fmt.Sprintf("--profile auto: no workload got a profile, so nothing changed: the containers of %s fit several profiles (each says which); name one with a rule in --config or the annotation %s: NAME",
				plural.Count(st.ambiguous, "workload", "workloads"), ProfileAnnotation)
		case st.auto:
			msg = fmt.Sprintf("--profile auto: no workload's images fit a profile, so nothing changed; name one with a rule in --config or the annotation %s: NAME (list: graceful profiles)", ProfileAnnotation)
		}
		code := transformers.CodeNoProfile
		if st.workloads == 0 {
			msg = fmt.Sprintf("no workloads among the %s of the input, so nothing changed", plural.Count(st.objects, "object", "objects"))
			code = transformers.CodeNoWorkloads
		}
		rep.Notices = append(rep.Notices, transformers.Finding{Code: code, Severity: transformers.Warning, Message: msg})
	}
}
