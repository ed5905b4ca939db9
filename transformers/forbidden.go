package transformers

import (
	"strings"

	"github.com/graceful-dev/graceful/internal/node"
)

// Forbidden warns where a container is set to stop with a signal its profile
// forbids (Caddy on SIGQUIT exits at once): in lifecycle.stopSignal, or sent
// by a preStop hook graceful keeps. It changes nothing: the user chose it.
type Forbidden struct{}

var _ Transformer = Forbidden{}

// killSignal finds the signal names a shell `kill -SIG`, `kill -s SIG` or `kill -n SIG` sends.
var killSignal = lazyRegexp(`\bkill\s+(?:-s\s+|-n\s+|-)(?:SIG)?([A-Z][A-Z0-9]+)\b`)

func (Forbidden) Transform(pod *Pod, s *Settings) ([]Finding, error) {
	p := s.Profile
	if len(p.ForbiddenSignals) == 0 {
		return nil, nil
	}
	var out []Finding
	for _, c := range pod.Containers {
		lifecycle := node.Get(c.Node, "lifecycle")
		if sig := node.GetStr(lifecycle, "stopSignal"); p.Forbids(sig) {
			out = append(out, warning(CodeForbiddenStopSignal, c.Path+".lifecycle.stopSignal", "container %q stops with %s, which the %s profile must never send: it stops the application abruptly; remove it, or set %s",
				c.Name, sig, p.Name, p.StopSignal))
		}
		var script []string
		if cmd := node.Lookup(lifecycle, "preStop", "exec", "command"); node.IsSeq(cmd) {
			for _, a := range cmd.Content {
				script = append(script, a.Value)
			}
		}
		for _, m := range killSignal().FindAllStringSubmatch(strings.Join(script, " "), -1) {
			if sig := "SIG" + m[1]; p.Forbids(sig) {
				out = append(out, warning(CodeForbiddenHookSignal, c.Path+".lifecycle.preStop", "the preStop hook of container %q sends %s, which the %s profile must never send: it stops the application abruptly",
					c.Name, sig, p.Name))
			}
		}
	}
	return out, nil
}
