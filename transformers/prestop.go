package transformers

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
)

// PreStop adds the preStop hook: a wait, and for profiles whose application
// needs a signal other than the kubelet's, that signal and a wait for the exit.
type PreStop struct{}

var _ Transformer = PreStop{}

// waitForExit blocks until PID 1 is gone, so the kubelet's stop signal that
// follows the hook cannot turn a graceful quit into a fast stop.
const waitForExit = "while kill -0 1 2>/dev/null; do sleep 1; done"

func (PreStop) Transform(pod *Pod, s *Settings) ([]Finding, error) {
	var out []Finding
	for _, c := range pod.Containers {
		want, summary := preStopHook(c.Image, s, !s.UsesStopSignalField(pod))
		if want == nil {
			continue
		}
		field := c.Path + ".lifecycle.preStop"
		lifecycle, ok := node.EnsureMap(c.Node, "lifecycle")
		if !ok {
			return nil, fieldError(c.Path+".lifecycle", "expected a mapping")
		}
		have := node.Get(lifecycle, "preStop")
		switch {
		case node.Equal(have, want):
			continue
		case !node.IsNull(have) && !s.ReplacePreStop:
			out = append(out, warning(field, "kept the existing preStop hook of container %q; replacePreStop (--replace-prestop) replaces it with: %s", c.Name, summary))
			continue
		}
		node.Set(lifecycle, "preStop", want)
		f := changed(field, "%s", summary)
		f.Proposed = summary
		out = append(out, f)
		if strings.Contains(summary, "waits for the exit") && node.GetStr(pod.Spec, "shareProcessNamespace") == "true" {
			out = append(out, warning(field, "the pod shares its process namespace, so PID 1 is the pause process, not %q: the hook's signal and wait miss it; use --stop-signal-field, or a rule with another hook", c.Name))
		}
		if node.Get(want, "exec") != nil && looksShellless(c.Image) {
			out = append(out, warning(field, "image %s looks shell-less (distroless): an exec hook fails there; the native sleep action needs --kube-version 1.30 or later", c.Image))
		}
	}
	return out, nil
}

// looksShellless reports images that say they have no shell.
func looksShellless(image string) bool {
	return strings.Contains(image, "distroless") || strings.Contains(image, "paketo-buildpacks/run-tiny")
}

// preStopHook builds the hook for a container, or nil when none is needed.
// The native sleep action is preferred: images without a shell cannot run exec hooks.
func preStopHook(image string, s *Settings, sendSignal bool) (hook *yaml.Node, summary string) {
	delay := s.PreStopDelaySeconds
	stop := ""
	if sendSignal && s.Profile.StopCommand != "" {
		stop = strings.ReplaceAll(s.Profile.StopCommand, "{binary}", s.Profile.BinaryFor(image))
	}
	switch {
	case stop != "":
		script := fmt.Sprintf("sleep %d; %s; %s", delay, stop, waitForExit)
		if delay == 0 {
			script = fmt.Sprintf("%s; %s", stop, waitForExit)
		}
		return node.NewMap("exec", node.NewMap("command", node.NewSeq("/bin/sh", "-c", script))),
			fmt.Sprintf("exec %q (%s after %ds, then waits for the exit)", script, s.Profile.StopSignal, delay)
	case delay == 0:
		return nil, ""
	case s.NativeSleep:
		return node.NewMap("sleep", node.NewMap("seconds", delay)), fmt.Sprintf("sleep %ds (native action)", delay)
	default:
		script := fmt.Sprintf("sleep %d", delay)
		return node.NewMap("exec", node.NewMap("command", node.NewSeq("/bin/sh", "-c", script))),
			fmt.Sprintf("exec %q (no native sleep before Kubernetes 1.30)", script)
	}
}
