package transformers

import (
	"strings"

	"github.com/graceful-dev/graceful/internal/node"
)

// StopSignal sets lifecycle.stopSignal when the user opted in (feature gate
// ContainerStopSignals). The API server rejects the field unless spec.os.name
// is set, so it sets that to linux when absent.
type StopSignal struct{}

var _ Transformer = StopSignal{}

func (StopSignal) Transform(pod *Pod, s *Settings) ([]Finding, error) {
	if !s.UsesStopSignalField(pod) {
		return nil, nil
	}
	signal := s.Profile.StopSignal
	var out []Finding
	osField := pod.SpecPath + ".os.name"
	switch osName := node.GetStr(node.Get(pod.Spec, "os"), "name"); osName {
	case "linux":
	case "":
		osNode, ok := node.EnsureMap(pod.Spec, "os")
		if !ok {
			return nil, fieldError(pod.SpecPath+".os", "expected a mapping")
		}
		node.Set(osNode, "name", node.NewStr("linux"))
		out = append(out, changed(CodeOSLinuxSet, osField, "set to linux: lifecycle.stopSignal requires spec.os.name"))
	default:
		return append(out, warning(CodeStopSignalOS, osField, "pod OS is %q, where only SIGTERM and SIGKILL are allowed: %s not set", osName, signal)), nil
	}
	for _, c := range pod.Containers {
		field := c.Path + ".lifecycle.stopSignal"
		lifecycle, ok := node.EnsureMap(c.Node, "lifecycle")
		if !ok {
			return nil, fieldError(c.Path+".lifecycle", "expected a mapping")
		}
		switch have := node.GetStr(lifecycle, "stopSignal"); have {
		case signal:
		case "":
			node.Set(lifecycle, "stopSignal", node.NewStr(signal))
			out = append(out, changed(CodeStopSignalSet, field, "%s", signal))
			if why := pid1IsNotApp(pod, c); strings.Contains(why, "shell") {
				out = append(out, warning(CodeStopSignalShell, field, "container %q: %s, which receives %s, not the application; start the program with exec", c.Name, why, signal))
			}
		default:
			out = append(out, warning(CodeStopSignalKept, field, "kept %s of container %q; the %s profile stops with %s", have, c.Name, s.Profile.Name, signal))
		}
	}
	return out, nil
}
