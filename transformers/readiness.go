package transformers

import (
	"github.com/graceful-dev/graceful/internal/node"
)

// Readiness flags a container without a readiness probe: without one, a new
// pod gets traffic before it can serve, and a rolling update drops requests at
// the start as surely as at the end. It changes nothing.
type Readiness struct{}

var _ Transformer = Readiness{}

func (Readiness) Transform(pod *Pod, s *Settings) ([]Finding, error) {
	if !s.Profile.RequireReadinessProbe || pod.Batch {
		return nil, nil
	}
	var out []Finding
	for _, c := range pod.Containers {
		if node.IsNull(node.Get(c.Node, "readinessProbe")) {
			out = append(out, warning(CodeNoReadinessProbe, c.Path+".readinessProbe", "container %q has no readiness probe: new pods get traffic before they are ready", c.Name))
		}
	}
	return out, nil
}
