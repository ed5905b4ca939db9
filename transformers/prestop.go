package transformers

import (
	"fmt"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/profiles"
)

// PreStop adds the preStop hook: a wait, and for profiles whose application
// needs a signal other than the kubelet's, that signal to PID 1 and a wait for
// the exit, where PID 1 is the application and its image does not already
// stop with that signal.
type PreStop struct{}

var _ Transformer = PreStop{}

// waitForExit blocks until PID 1 is gone, so the kubelet's stop signal that
// follows the hook cannot turn a graceful quit into a fast stop.
const waitForExit = "while kill -0 1 2>/dev/null; do sleep 1; done"

func (PreStop) Transform(pod *Pod, s *Settings) ([]Finding, error) {
	var out []Finding
	// The grace period and the sidecar must cover the hooks the pod will
	// run: a kept hook's own delay where it can be read, not the profile's.
	delay, sources := 0, []string(nil)
	ordered, orderedSeconds := "", 0
	defer func() {
		if ordered != "" && orderedSeconds >= delay {
			s.PreStopOrdered = true
			sources = append(sources, ordered)
		}
		if sources != nil {
			s.PreStopDelaySeconds, s.PreStopSource = delay, strings.Join(sources, ", ")
		}
	}()
	for _, c := range pod.Containers {
		planned := s.DelayFor(c.Name)
		// plannedDelay counts the hook graceful gives c, ordered or not.
		plannedDelay := func() {
			delay = max(delay, planned)
			if d, ok := s.OrderedDelays[c.Name]; ok && d.Seconds > orderedSeconds {
				ordered, orderedSeconds = fmt.Sprintf("container %q waits for %s", c.Name, d.Why), d.Seconds
			}
		}
		if !signalsPID1(pod, s) {
			// The kubelet's own stop signal must reach the application; a
			// shell at PID 1 (dash does not exec a lone -c command) ignores it.
			if shell := shellIsPID1(c); shell != "" {
				out = append(out, warning(CodeShellPID1, c.Path, "container %q: %s: the stop signal reaches the shell, not the application, which cannot drain and is killed when the grace period ends; start the program with exec (`exec program ...`)", c.Name, shell))
			}
		}
		want, summary, notes := preStopHook(pod, c, s)
		if want == nil {
			if !node.IsNull(node.Lookup(c.Node, "lifecycle", "preStop")) {
				kept, source, _ := keptDelay(c, s.Profile.Name, planned, s.OrderedDelays[c.Name].Why)
				if f, absurd := absurdDelay(c, s, kept); absurd {
					out = append(out, f)
					continue
				}
				delay, sources = max(delay, kept), append(sources, source)
			}
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
			plannedDelay()
			continue
		case !node.IsNull(have) && !s.ReplacePreStop:
			kept, source, timing := keptDelay(c, s.Profile.Name, planned, s.OrderedDelays[c.Name].Why)
			if f, absurd := absurdDelay(c, s, kept); absurd {
				out = append(out, f)
				timing = ""
			} else {
				delay, sources = max(delay, kept), append(sources, source)
			}
			out = append(out, warning(CodePreStopKept, field, "kept the existing preStop hook of container %q%s; replacePreStop (--replace-prestop) replaces it with: %s", c.Name, timing, summary))
			continue
		}
		plannedDelay()
		node.Set(lifecycle, "preStop", want)
		f := changed(CodePreStopSet, field, "%s", summary)
		f.Proposed = summary
		out = append(out, f)
		for _, n := range notes {
			n.Field = field
			out = append(out, n)
		}
		if _, why := ShelllessImage(c.Image); why != "" && node.Get(want, "exec") != nil {
			hint := "--kube-version 1.30 or later gives the native sleep action, which needs no shell"
			if s.NativeSleep {
				hint = "--stop-signal-field (Kubernetes 1.33+) lets the hook be a native sleep, or annotate the workload graceful.dev/profile: generic-http for a delay alone"
			}
			out = append(out, warning(CodeShellless, field, "image %s looks shell-less: it %s; an exec hook fails there; %s", c.Image, why, hint))
		}
	}
	return out, nil
}

// absurdDelay reports a kept hook whose delay no sane grace period covers
// (profiles.MaxGraceSeconds with the drain): the grace period is not raised
// for it, only left as the manifest has it (s.GraceLeft).
func absurdDelay(c Container, s *Settings, kept int) (Finding, bool) {
	if kept+s.DrainSeconds+s.Profile.HeadroomSeconds <= profiles.MaxGraceSeconds {
		return Finding{}, false
	}
	s.GraceLeft = true
	return warning(CodeHookDelayAbsurd, c.Path+".lifecycle.preStop", "container %q's own hook waits %d s, more than a day: the grace period was left as the manifest has it, not raised for it; shorten the hook", c.Name, kept), true
}

// keptDelay is how long a container's own preStop hook waits before the
// stop signal, with where that number comes from and what the summary says
// about it. A hook graceful cannot time is taken to wait the planned delay
// (or its readable part, when longer): the grace period is never lowered,
// so that errs on the longer side. why says what an ordered delay waits for
// (graceful.dev/stop-after), "" for the profile's.
func keptDelay(c Container, profile string, planned int, why string) (seconds int, source, timing string) {
	h := ReadPreStop(c.Node)
	what := fmt.Sprintf("container %q's own hook", c.Name)
	if !h.DelayExact {
		seconds = max(h.DelaySeconds, planned)
		return seconds, what + ", untimed",
			fmt.Sprintf(" (%s: graceful cannot tell how long it waits, so the grace period counts it as %d s; raise terminationGracePeriodSeconds if it takes longer)", h.Text, seconds)
	}
	seconds = h.DelaySeconds
	timing = fmt.Sprintf(" (%s: waits %d s", h.Text, seconds)
	switch {
	case h.Kind == "sleep":
		timing = " (" + h.Text
	case h.Signal != "":
		timing += " before its " + h.Signal
	}
	if seconds < planned {
		timing += fmt.Sprintf(", shorter than the %d s the %s profile waits for endpoints and load balancers to let the pod go: requests may still arrive after the stop signal", planned, profile)
		if why != "" {
			timing = fmt.Sprintf(" (%s: waits %d s, shorter than the %d s it must wait for %s: it may stop while requests still come", h.Text, seconds, planned, why)
		}
	}
	return seconds, what, timing + ")"
}

// preStopHook builds the hook for a container, or nil when none is needed,
// with a summary that says which hook and why, and any warnings about it.
func preStopHook(pod *Pod, c Container, s *Settings) (hook *yaml.Node, summary string, notes []Finding) {
	p := s.Profile
	delay := s.DelayFor(c.Name)
	why := ""
	if d, ok := s.OrderedDelays[c.Name]; ok {
		defer func() {
			if hook != nil {
				summary += fmt.Sprintf("; container %q waits %d s: %s", c.Name, d.Seconds, d.Why)
			}
		}()
	}
	if signalsPID1(pod, s) {
		signal := strings.TrimPrefix(p.StopSignal, "SIG")
		notPID1 := pid1IsNotApp(pod, c)
		switch {
		case p.KnownStopSignal(c.Image) == p.StopSignal:
			why = fmt.Sprintf("; image %s stops with %s already (its STOPSIGNAL), so the kubelet's own signal quits gracefully after the delay", c.Image, p.StopSignal)
		case notPID1 != "":
			why = "; no " + p.StopSignal + ": " + notPID1
			hint := "start the program with exec, or name a container whose PID 1 is the application"
			if strings.Contains(notPID1, "pause process") {
				hint = "--stop-signal-field (Kubernetes 1.33+) has the runtime send " + p.StopSignal + " to the container's own process, or set shareProcessNamespace: false"
			}
			notes = append(notes, Finding{Code: CodeDelayOnly, Severity: Warning, Message: fmt.Sprintf(
				"container %q gets only the delay, no %s: %s. A signal to PID 1 would miss the application, and the wait would block for the whole grace period; %s",
				c.Name, p.StopSignal, notPID1, hint)})
		default:
			script := fmt.Sprintf("sleep %d; kill -%s 1; %s", delay, signal, waitForExit)
			if delay == 0 {
				script = fmt.Sprintf("kill -%s 1; %s", signal, waitForExit)
			}
			// The kubelet kills the hook still waiting when PID 1 exits, and
			// records that as a failed hook: say so before kubectl get events does.
			event := "; the kubelet records a FailedPreStopHook event on every stop as it ends the waiting hook, harmlessly"
			if pod.StopSignalField {
				event += ", which --stop-signal-field (Kubernetes 1.33+) avoids"
			}
			return node.NewMap("exec", node.NewMap("command", node.NewSeq("/bin/sh", "-c", script))),
				fmt.Sprintf("exec %q (%s to PID 1 after %ds, then waits for the exit: graceful cannot know that image %s stops with %s by itself%s)",
					script, p.StopSignal, delay, c.Image, p.StopSignal, event), nil
		}
	}
	switch {
	case delay == 0:
		return nil, "", notes
	case s.NativeSleep:
		return node.NewMap("sleep", node.NewMap("seconds", delay)), fmt.Sprintf("sleep %ds (native action)%s", delay, why), notes
	default:
		script := fmt.Sprintf("sleep %d", delay)
		return node.NewMap("exec", node.NewMap("command", node.NewSeq("/bin/sh", "-c", script))),
			fmt.Sprintf("exec %q (no native sleep before Kubernetes 1.30)%s", script, why), notes
	}
}

// signalsPID1 reports whether the hook itself sends the profile's signal to
// PID 1, instead of the runtime sending the stop signal.
func signalsPID1(pod *Pod, s *Settings) bool {
	return s.Profile.SignalPID1 && !s.UsesStopSignalField(pod)
}

// pid1IsNotApp says why PID 1 of the container is not its application, or "".
func pid1IsNotApp(pod *Pod, c Container) string {
	if shared, _ := node.Bool(node.Get(pod.Spec, "shareProcessNamespace")); shared {
		return "the pod shares its process namespace (shareProcessNamespace: true), so PID 1 is the pause process"
	}
	return shellIsPID1(c)
}

// shellIsPID1 says why the container's own process is a shell rather than
// its application, or "".
func shellIsPID1(c Container) string {
	var argv []string
	for _, field := range []string{"command", "args"} {
		if seq := node.Get(c.Node, field); node.IsSeq(seq) {
			for _, a := range seq.Content {
				argv = append(argv, a.Value)
			}
		}
	}
	if node.IsNull(node.Get(c.Node, "command")) || len(argv) == 0 {
		return "" // the image's entrypoint: the application's own image runs it as PID 1
	}
	switch path.Base(argv[0]) {
	case "sh", "bash", "ash", "dash", "zsh", "ksh":
	default:
		return ""
	}
	for i, a := range argv[1:] {
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "c") {
			if i+2 < len(argv) && execsLast(argv[i+2]) {
				return ""
			}
			return fmt.Sprintf("its command is a shell script (%s -c) that does not exec the program, so PID 1 is the shell", path.Base(argv[0]))
		}
	}
	return fmt.Sprintf("its command is a shell (%s), so PID 1 is the shell", path.Base(argv[0]))
}

// execsLast reports whether a shell script replaces the shell with its first
// or last command (`exec program`), which then is PID 1.
func execsLast(script string) bool {
	commands := splitCommands(script)
	if len(commands) == 0 {
		return false
	}
	return execsProgram(commands[0]) || execsProgram(commands[len(commands)-1])
}

// redirection is a shell redirection word: `2>&1`, `>/dev/stdout`, `>`, `3<>f`.
var redirection = lazyRegexp(`^([0-9]*|&)(>>|>&|<&|<>|>\||>|<)(.*)$`)

// execsProgram reports whether a command is `exec` with a command word: an
// `exec` with only redirections (`exec 2>&1`) keeps the shell.
func execsProgram(command string) bool {
	words := strings.Fields(command)
	if len(words) == 0 || words[0] != "exec" {
		return false
	}
	for i := 1; i < len(words); i++ {
		m := redirection().FindStringSubmatch(words[i])
		if m == nil {
			return true
		}
		if m[3] == "" {
			i++ // the target is the next word: `> /dev/null`
		}
	}
	return false
}

// splitCommands splits a shell script at newlines, `;` and `&&` outside quotes.
func splitCommands(script string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, t)
		}
		cur.Reset()
	}
	runes := []rune(script)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '\n' || r == ';':
			flush()
			continue
		case r == '&' && i+1 < len(runes) && runes[i+1] == '&':
			flush()
			i++
			continue
		}
		cur.WriteRune(r)
	}
	flush()
	return out
}
