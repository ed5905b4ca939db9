package transformers

import (
	"fmt"
	"strconv"

	"github.com/graceful-dev/graceful/internal/node"
)

// GracePeriod makes terminationGracePeriodSeconds cover the preStop delay plus
// the application's drain. The kubelet counts the hook against this budget. A
// longer period already in the manifest is never lowered.
type GracePeriod struct{}

var _ Transformer = GracePeriod{}

func (GracePeriod) Transform(pod *Pod, s *Settings) ([]Finding, error) {
	field := pod.SpecPath + ".terminationGracePeriodSeconds"
	if s.GraceLeft {
		return nil, nil // PreStop said why (CodeHookDelayAbsurd)
	}
	headroom := s.Profile.HeadroomSeconds
	need := s.PreStopDelaySeconds + s.DrainSeconds + headroom
	budget := fmt.Sprintf("preStop %d s + drain %d s", s.PreStopDelaySeconds, s.DrainSeconds)
	if s.PreStopSource != "" {
		budget = fmt.Sprintf("preStop %d s (%s) + drain %d s", s.PreStopDelaySeconds, s.PreStopSource, s.DrainSeconds)
	}
	if headroom > 0 {
		budget += fmt.Sprintf(" + headroom %d s", headroom)
	}
	want := s.TerminationGracePeriodSeconds
	if !s.GraceFromUser && want < need {
		want = need
	}
	var out []Finding
	existing := node.Get(pod.Spec, "terminationGracePeriodSeconds")
	have, isSet := 0, !node.IsNull(existing)
	if isSet {
		var ok bool
		if have, ok = node.Int(existing); !ok {
			return nil, fieldError(field, "expected an integer, found %q", existing.Value)
		}
	}
	final := have
	if !isSet && !s.GraceFromUser && want <= defaultGraceSeconds && pod.KubernetesDefaults {
		// The default already covers the budget: writing it changes nothing
		// but the manifest (a flow-style one would be rewritten for it).
		out = append(out, note(CodeGraceDefault, field, "not set: Kubernetes' default of %d s covers %s = %d s", defaultGraceSeconds, budget, need))
		isSet, have, final = true, defaultGraceSeconds, defaultGraceSeconds
	}
	if !isSet || have < want {
		final = want
		node.Set(pod.Spec, "terminationGracePeriodSeconds", node.NewInt(want))
		f := changed(CodeGraceSet, field, "%d s: %s", want, budget)
		if want > need && !s.GraceFromUser {
			f = changed(CodeGraceSet, field, "%d s, the %s profile's (the budget needs %s = %d s)", want, s.Profile.Name, budget, need)
		}
		if s.GraceFromUser {
			f = changed(CodeGraceSet, field, "%d s (%s; the budget needs %s = %d s)", want, graceSource(s), budget, need)
		}
		if isSet {
			f.Message = "raised from " + strconv.Itoa(have) + " to " + f.Message
			f.Current = strconv.Itoa(have)
		}
		f.Proposed = strconv.Itoa(want)
		out = append(out, f)
	}
	if final < need {
		f := warning(CodeGraceShort, field, "%d s does not cover %s = %d s: the kubelet will kill the application before it has drained",
			final, budget, need)
		if s.GraceFromUser && final == want {
			f.Message += "; written as " + graceSource(s) + " says"
		}
		out = append(out, f)
	}
	if s.GraceFromUser && !isSet && want < defaultGraceSeconds {
		out = append(out, warning(CodeGraceBelowDefault, field, "%d s (%s) is below Kubernetes' default of %d s, which applied while the manifest set none: the pods get less time to stop than before",
			want, graceSource(s), defaultGraceSeconds))
	}
	return out, nil
}

// defaultGraceSeconds is Kubernetes' terminationGracePeriodSeconds when the field is absent.
const defaultGraceSeconds = 30

func graceSource(s *Settings) string {
	if s.GraceSource != "" {
		return s.GraceSource
	}
	return "a rule's terminationGracePeriodSeconds"
}

// GraceSeconds is the grace period a pod spec ends up with (Kubernetes' default 30 when absent).
func GraceSeconds(pod *Pod) int {
	if v, ok := node.Int(node.Get(pod.Spec, "terminationGracePeriodSeconds")); ok {
		return v
	}
	return defaultGraceSeconds
}
