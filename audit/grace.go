package audit

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/timeline"
	"github.com/graceful-dev/graceful/transformers"
)

// The timing checks are the conflicts of the workload's timeline (read in
// timeline.go, the one graceful explain --as-is draws), under check's
// codes: check and explain read one model, so they cannot disagree.

// conflict is the timeline's first conflict of a code, nil for none and
// for a workload check asks nothing of (graceful explain leaves it out).
func (w *workload) conflict(code string) *timeline.Conflict {
	if w.timeline == nil || w.idle() != "" {
		return nil
	}
	for i := range w.timeline.Conflicts {
		if w.timeline.Conflicts[i].Code == code {
			return &w.timeline.Conflicts[i]
		}
	}
	return nil
}

// checkGrace: GS202 (explain's GS303), a grace period that does not cover
// the preStop delay and the application's drain. Where a profile applies,
// the drain is its own or the one the container sets; without one, the
// drain is unknown, and only a delay that leaves the application less than
// the kubelet's 2 s is sure to cut requests.
func (c *checker) checkGrace(w *workload) []Finding {
	conf := w.conflict(timeline.CodeGraceShort)
	if conf == nil {
		return nil
	}
	field := w.pod.SpecPath + ".terminationGracePeriodSeconds"
	set := node.Get(w.pod.Spec, "terminationGracePeriodSeconds")
	line := w.lineOf(set)
	if set == nil {
		line = w.lineOf(w.pod.Spec)
	}
	f := finding("GS202", line, field, "%s%s", conf.Message, defaulted(set, w.pod.Template == nil))
	if p := w.profile; p != nil && p.PreStopDelaySeconds == 0 {
		// Databases, brokers, workers: what is cut short is a final save,
		// a checkpoint or running tasks, not requests through an endpoint.
		// Their drain is the profile's estimate (info), unless the container
		// sets it itself (sidekiq -t 50): then SIGKILL surely cuts it.
		f.Message += fmt.Sprintf("; for %s that is its shutdown (final save, checkpoint or running tasks), not requests", p.Name)
		if !drainSetByUser(w) {
			f.Severity = transformers.Info
		}
	}
	f.Current = strconv.Itoa(w.timeline.GraceSeconds)
	return []Finding{f}
}

// defaulted says whose default an unset grace period is: Kubernetes' in a
// pod template; an operator's in its CR's section (operator, true), which
// the API server does not default.
func defaulted(set *yaml.Node, operator bool) string {
	switch {
	case !node.IsNull(set):
	case operator:
		return " (not set: the operator's default applies, which graceful does not know; it assumes Kubernetes' 30 s)"
	default:
		return " (the grace period is Kubernetes' default)"
	}
	return ""
}

// drainSetByUser reports whether a profiled container sets its own drain.
func drainSetByUser(w *workload) bool {
	for _, c := range w.timeline.Containers {
		if c.Profiled && c.DrainSetByUser {
			return true
		}
	}
	return false
}
