package audit

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
)

// defaultGraceSeconds is Kubernetes' terminationGracePeriodSeconds when absent.
const defaultGraceSeconds = 30

// checkGrace: GS202, a grace period that does not cover the preStop delay
// and the application's drain. Where a profile applies, the budget is
// render's (it knows the user's drain settings): render raising the grace
// period, or warning that a rule's value is short, is the finding. Without
// one, the application's drain is unknown, and only a delay that takes the
// whole grace period is sure to cut requests.
func (c *checker) checkGrace(w *workload) []Finding {
	if w.pod.Batch || w.hook {
		return nil
	}
	field := w.pod.SpecPath + ".terminationGracePeriodSeconds"
	set := node.Get(w.pod.Spec, "terminationGracePeriodSeconds")
	grace, ok := node.Int(set)
	if !ok {
		grace = defaultGraceSeconds
	}
	line := w.lineOf(set)
	if set == nil {
		line = w.lineOf(node.Get(w.pod.Template, "spec"))
	}
	if e := c.fixes[keyOf(w.obj.Ref)]; e != nil && w.profile != nil {
		for _, f := range e.Findings {
			if f.Field != field {
				continue
			}
			want, err := strconv.Atoi(f.Proposed)
			if f.Changed && err == nil && want > grace {
				budget := f.Message
				if i := strings.Index(budget, ": "); i >= 0 && strings.Contains(budget, "preStop") {
					budget = budget[i+2:]
				}
				return []Finding{finding("GS202", line, field,
					"the grace period is %d s%s, and the %s profile needs %d s (%s): the kubelet kills the application before it has drained",
					grace, defaulted(set), w.profile.Name, want, budget)}
			}
			if !f.Changed && strings.Contains(f.Message, "does not cover") {
				return []Finding{finding("GS202", line, field, "%s", f.Message)}
			}
		}
		return nil
	}
	delay := w.maxDelay()
	if delay > 0 && delay+2 > grace {
		return []Finding{finding("GS202", line, field,
			"the grace period is %d s%s and the preStop delay %d s: the kubelet counts the hook against the grace period, so the application gets at most 2 s to finish its requests; give it delay + drain",
			grace, defaulted(set), delay)}
	}
	return nil
}

func defaulted(set *yaml.Node) string {
	if node.IsNull(set) {
		return " (Kubernetes' default)"
	}
	return ""
}
