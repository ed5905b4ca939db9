package audit

import (
	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/transformers"
)

// checkReadiness: GS209, a serving container without a readiness probe.
// Profiles without a delay (databases, brokers, workers) are left out, as
// for GS201.
func (c *checker) checkReadiness(w *workload) []Finding {
	if w.pod.Template == nil || (w.profile != nil && w.profile.PreStopDelaySeconds == 0) {
		// A TidbCluster: tidb-operator writes the probes.
		return nil
	}
	var out []Finding
	for _, s := range w.servingContainers() {
		if s.readinessIgnored || !node.IsNull(node.Get(s.c.Node, "readinessProbe")) {
			continue
		}
		f := finding("GS209", w.lineOf(s.c.Node), s.c.Path+".readinessProbe",
			"container %q serves traffic (%s) and has no readiness probe: a new pod gets requests before it can serve them", s.c.Name, s.why)
		if !s.routed {
			f.Severity = transformers.Info
		}
		out = append(out, f)
	}
	return out
}
