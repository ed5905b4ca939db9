package audit

import (
	"fmt"
	"strings"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/timeline"
)

// checkIstio: GS210 (explain's GS302), a classic Istio sidecar that leaves
// before the application's preStop delay (and, where a profile applies, its
// drain) is over.
func (c *checker) checkIstio(w *workload) []Finding {
	conf := w.conflict(timeline.CodeMeshDrainShort)
	if conf == nil || w.timeline.Sidecar == nil {
		return nil
	}
	line := w.lineOf(node.Get(w.pod.Template, "metadata"))
	field := strings.TrimPrefix(w.pod.TemplatePath+".metadata.annotations.proxy.istio.io/config", ".")
	msg := conf.Message
	if strings.HasSuffix(msg, ")") {
		msg = strings.TrimSuffix(msg, ")") + ", or use a native sidecar)"
	}
	f := finding("GS210", line, field, "%s", msg)
	f.Current = fmt.Sprintf("terminationDrainDuration %ds", w.timeline.Sidecar.DrainSeconds)
	return []Finding{f}
}
