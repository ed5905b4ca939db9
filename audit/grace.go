package audit

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/transformers"
)

// renderDrain reads the drain from render's grace period message
// ("30 s: preStop 5 s + drain 25 s").
var renderDrain = regexp.MustCompile(`\bdrain (\d+) s`)

// defaultGraceSeconds is Kubernetes' terminationGracePeriodSeconds when absent.
const defaultGraceSeconds = 30

// checkGrace: GS202, a grace period that does not cover the preStop delay
// and the application's drain. Where a profile applies, the budget is
// render's (it knows the user's drain settings): render raising the grace
// period, or warning that a rule's value is short, is the finding. Without
// one, the application's drain is unknown, and only a delay that takes the
// whole grace period is sure to cut requests.
func (c *checker) checkGrace(w *workload) []Finding {
	out := c.graceFindings(w)
	for i := range out {
		grace, ok := node.Int(node.Get(w.pod.Spec, "terminationGracePeriodSeconds"))
		if !ok {
			grace = defaultGraceSeconds
		}
		out[i].Current = strconv.Itoa(grace)
	}
	return out
}

func (c *checker) graceFindings(w *workload) []Finding {
	if w.idle() != "" {
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
		line = w.lineOf(w.pod.Spec)
	}
	delay := w.maxDelay()
	if p := w.profile; p != nil {
		drain, source := p.DrainSeconds, "the "+p.Name+" profile's"
		if e := c.fixes[keyOf(w.obj.Ref)]; e != nil {
			for _, f := range e.Findings {
				if f.Field != field {
					continue
				}
				if !f.Changed && strings.Contains(f.Message, "does not cover") {
					return []Finding{finding("GS202", line, field, "%s", f.Message)}
				}
				// render's budget names the drain it found: a drain flag or
				// Spring timeout of the user's wins over the profile's.
				if m := renderDrain.FindStringSubmatch(f.Message); m != nil {
					if d, _ := strconv.Atoi(m[1]); d != drain {
						drain, source = d, "the application's (as the manifest sets it)"
					}
				}
			}
		}
		need := delay + drain + p.HeadroomSeconds
		if grace >= need || drain == 0 {
			return nil
		}
		budget := fmt.Sprintf("preStop %d s + %s drain %d s", delay, source, drain)
		if p.HeadroomSeconds > 0 {
			budget += fmt.Sprintf(" + headroom %d s", p.HeadroomSeconds)
		}
		f := finding("GS202", line, field,
			"the grace period is %d s%s, below %s = %d s: the kubelet kills the application before it has drained",
			grace, defaulted(set), budget, need)
		if p.PreStopDelaySeconds == 0 {
			// Databases, brokers, workers: what is cut short is a final save,
			// a checkpoint or running tasks, not requests through an endpoint.
			f.Severity = transformers.Info
			f.Message = fmt.Sprintf("the grace period is %d s%s, below %s = %d s: the kubelet may kill %s before its shutdown (final save, checkpoint or running tasks) is done",
				grace, defaulted(set), budget, need, p.Name)
		}
		return []Finding{f}
	}
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
