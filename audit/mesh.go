package audit

import (
	"fmt"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/transformers"
)

// checkIstio: GS210, a classic Istio sidecar that leaves before the
// application's preStop delay (and, where a profile applies, its drain) is over.
func (c *checker) checkIstio(w *workload) []Finding {
	if w.pod.Template == nil || w.idle() != "" {
		return nil
	}
	side := transformers.IstioSidecarOf(w.pod.Template, w.pod.TemplatePath)
	if !side.Classic || side.WaitsForConnections || side.Unreadable {
		return nil
	}
	delay := w.maxDelay()
	need, what := delay, fmt.Sprintf("the application's preStop delay of %d s is over", delay)
	if w.profile != nil && delay > 0 {
		need += w.profile.DrainSeconds
		what = fmt.Sprintf("the application's preStop delay of %d s and the %s profile's drain of %d s are over (%d s)", delay, w.profile.Name, w.profile.DrainSeconds, need)
	}
	if delay == 0 || side.DrainSeconds >= need {
		return nil
	}
	line := w.lineOf(node.Get(w.pod.Template, "metadata"))
	f := finding("GS210", line, side.Field,
		"the classic Istio sidecar exits after its terminationDrainDuration of %d s, before %s: the application loses its connections while it still waits or drains; set terminationDrainDuration: %ds in proxy.istio.io/config, or use a native sidecar",
		side.DrainSeconds, what, need)
	f.Current = fmt.Sprintf("terminationDrainDuration %ds", side.DrainSeconds)
	return []Finding{f}
}
