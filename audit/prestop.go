package audit

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/transformers"
)

// checkPreStopDelay: GS201, a serving container with no preStop delay.
// Profiles without a delay (databases, brokers, workers: nothing routes
// requests to them through an endpoint) are not asked for one.
func (c *checker) checkPreStopDelay(w *workload) []Finding {
	if w.profile != nil && w.profile.PreStopDelaySeconds == 0 {
		return nil
	}
	var out []Finding
	for _, s := range w.servingContainers() {
		h := transformers.ReadPreStop(s.c.Node)
		if !h.Exact() || h.DelaySeconds > 0 {
			continue // a hook graceful cannot time may well wait
		}
		what := "no preStop hook"
		if h.Kind != "none" {
			what = "a preStop hook without a delay"
		}
		f := finding("GS201", w.lineOf(s.c.Node), s.c.Path+".lifecycle.preStop",
			"container %q serves traffic (%s) and has %s: it stops while the endpoint removal is still reaching kube-proxy, ingress controllers and load balancers, which keep sending it requests that are refused",
			s.c.Name, s.why, what)
		if n := preStopNode(s.c); n != nil {
			f.Line = w.lineOf(n)
		}
		if !s.routed {
			f.Severity = transformers.Info
			f.Message += " (if a Service routes to it)"
		}
		out = append(out, f)
	}
	return out
}

// checkShellless: GS205, an exec hook whose program an image without a
// shell does not have.
func (c *checker) checkShellless(w *workload) []Finding {
	var out []Finding
	for _, ct := range w.allContainers() {
		sure, why := transformers.ShelllessImage(ct.Image)
		if why == "" {
			continue
		}
		for _, event := range []string{"preStop", "postStart"} {
			cmd := node.Lookup(ct.Node, "lifecycle", event, "exec", "command")
			if !node.IsSeq(cmd) || len(cmd.Content) == 0 {
				continue
			}
			prog := path.Base(node.Str(cmd.Content[0]))
			if !transformers.ShelllessLacks(prog) {
				continue // the image's own program may well be there
			}
			f := finding("GS205", w.lineOf(cmd), ct.Path+".lifecycle."+event+".exec.command",
				"container %q runs %q in its %s hook, but image %s %s: the hook fails and its delay or signal never happens; use the native sleep action (Kubernetes 1.30+) for a delay",
				ct.Name, prog, event, ct.Image, why)
			if !sure {
				f.Severity = transformers.Info
				f.Message = strings.Replace(f.Message, "the hook fails", "if it has none, the hook fails", 1)
			}
			out = append(out, f)
		}
	}
	return out
}

// checkSleepAction: GS206, lifecycle.*.sleep where the target Kubernetes
// lacks it (before 1.30), or 0 seconds before 1.33.
func (c *checker) checkSleepAction(w *workload) []Finding {
	var out []Finding
	for _, ct := range w.allContainers() {
		for _, event := range []string{"preStop", "postStart"} {
			sleep := node.Lookup(ct.Node, "lifecycle", event, "sleep")
			if sleep == nil {
				continue
			}
			field := ct.Path + ".lifecycle." + event + ".sleep"
			seconds, _ := node.Int(node.Get(sleep, "seconds"))
			before := len(out)
			switch {
			case !c.kube.AtLeast(1, 30):
				out = append(out, finding("GS206", w.lineOf(sleep), field,
					"container %q has a %s sleep action, which Kubernetes %s does not have (on by default from 1.30): the API server rejects or drops it, and the pod has no delay; use an exec hook `sleep %d` or target 1.30+ (--kube-version)",
					ct.Name, event, c.kube, seconds))
			case seconds == 0 && !c.kube.AtLeast(1, 33):
				out = append(out, finding("GS206", w.lineOf(sleep), field,
					"container %q has a %s sleep of 0 seconds, which Kubernetes %s rejects (allowed from 1.33): remove the hook or give it a delay",
					ct.Name, event, c.kube))
			}
			for i := before; i < len(out); i++ {
				out[i].Current = fmt.Sprintf("sleep: {seconds: %d}", seconds)
			}
		}
	}
	return out
}

// pid1 finds a command that signals or waits for PID 1: `kill -QUIT 1`,
// `kill -0 1`, `kill -s TERM 1`, or /proc/1.
var pid1 = regexp.MustCompile(`(^|[;&|\s(])kill(\s+-[A-Za-z0-9]+|\s+-s\s+[A-Za-z0-9]+)*\s+1(\s|$|[;&|)])|/proc/1(/|\s|$)`)

// checkSharedPID1: GS207, a hook that signals or waits for PID 1 in a pod
// that shares its process namespace (PID 1 is the pause process).
func (c *checker) checkSharedPID1(w *workload) []Finding {
	if shared, _ := node.Bool(node.Get(w.pod.Spec, "shareProcessNamespace")); !shared {
		return nil
	}
	var out []Finding
	for _, ct := range w.allContainers() {
		h := transformers.ReadPreStop(ct.Node)
		if h.Kind != "exec" || !pid1.MatchString(h.Text) {
			continue
		}
		out = append(out, finding("GS207", w.lineOf(preStopNode(ct)), ct.Path+".lifecycle.preStop",
			"container %q's preStop hook signals or waits for PID 1 (%q), but the pod has shareProcessNamespace: true, so PID 1 is the pause process: the signal misses the application and a wait lasts the whole grace period; signal the application by name (pkill), use lifecycle.stopSignal (Kubernetes 1.33+), or drop shareProcessNamespace",
			ct.Name, h.Text))
	}
	return out
}

// waitsAfterQuit finds, among the commands after the quit, a wait for the
// exit: a loop (on kill -0, pgrep or /proc), `wait`, or a final sleep.
var waitsAfterQuit = regexp.MustCompile(`while\s|until\s|\bwait\b|sleep\s+\d+\s*$`)

// checkNginxQuit: GS208, a hook that asks nginx to quit and returns at once,
// where the stop signal that follows is not QUIT.
func (c *checker) checkNginxQuit(w *workload) []Finding {
	nginx, _ := profiles.Get("nginx")
	var out []Finding
	for _, ct := range w.pod.Containers {
		h := transformers.ReadPreStop(ct.Node)
		if h.Kind != "exec" || h.Signal != "SIGQUIT" || h.WaitsForExit || waitsAfterQuit.MatchString(strings.Join(h.AfterSignal, "\n")) {
			continue
		}
		if node.GetStr(node.Get(ct.Node, "lifecycle"), "stopSignal") == "SIGQUIT" {
			continue
		}
		known := ""
		if nginx != nil {
			known = nginx.KnownStopSignal(ct.Image)
		}
		if known == "SIGQUIT" {
			continue // the kubelet's own signal is QUIT: it cannot turn the quit into a fast stop
		}
		f := finding("GS208", w.lineOf(preStopNode(ct)), ct.Path+".lifecycle.preStop",
			"container %q's preStop hook runs %q and returns at once; the kubelet then sends the image's stop signal, and where that is SIGTERM (many derived images) nginx's graceful quit becomes a fast stop that cuts requests in flight. Wait for the exit: `sleep 5; kill -QUIT 1; while kill -0 1 2>/dev/null; do sleep 1; done`",
			ct.Name, h.SignalVia)
		if strings.HasPrefix(path.Base(strings.Fields(h.SignalVia)[0]), "nginx") {
			f.Message += " (`nginx -s quit` also fails and leaves the master up when the configuration on disk does not load)"
		}
		if !nginx.FitsImage(ct.Image) {
			f.Message = fmt.Sprintf("%s; image %s: graceful cannot know its STOPSIGNAL, so this may be harmless if it is SIGQUIT", f.Message, ct.Image)
		}
		out = append(out, f)
	}
	return out
}
