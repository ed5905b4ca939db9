package audit

import (
	"strings"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/timeline"
	"github.com/graceful-dev/graceful/transformers"
)

// checkStopSignal: GS213 (explain's GS305), a profiled application that gets
// a signal that stops it fast: not the profile's stop signal (an image whose
// STOPSIGNAL is TERM where nginx wants QUIT), one the profile forbids, or the
// kubelet's after a hook that signalled without waiting. A GS305 that comes
// from an application setting (server.shutdown=immediate) is GS212's, one
// from an nginx quit that does not wait is GS208's.
func (c *checker) checkStopSignal(w *workload) []Finding {
	p := w.profile
	if w.timeline == nil || p == nil {
		return nil
	}
	// GS208 already says it of an nginx quit that does not wait.
	quits := map[string]bool{}
	for _, f := range c.checkNginxQuit(w) {
		quits[f.Field] = true
	}
	var out []Finding
	for _, conf := range w.timeline.Conflicts {
		if conf.Code != timeline.CodeFastStop {
			continue
		}
		ct, ok := w.container(conf.Container)
		if !ok || fromSetting(ct, p, conf) {
			continue
		}
		tc := w.timelineContainer(conf.Container)
		field, fix, line := ct.Path+".lifecycle", "", w.lineOf(ct.Node)
		switch {
		case tc != nil && tc.Signal.Source == "lifecycle.stopSignal":
			field, line = ct.Path+".lifecycle.stopSignal", w.lineOf(node.Lookup(ct.Node, "lifecycle", "stopSignal"))
			fix = "set lifecycle.stopSignal: " + p.StopSignal + ", or remove it where the image's STOPSIGNAL is " + p.StopSignal
		case tc != nil && tc.KubeletSignal != nil:
			field, line = ct.Path+".lifecycle.preStop", w.lineOf(preStopNode(ct))
			if quits[field] {
				continue
			}
			fix = "make the preStop hook wait for the exit after its " + tc.Signal.Name + " (`while kill -0 1 2>/dev/null; do sleep 1; done`), or set lifecycle.stopSignal: " + p.StopSignal + " (Kubernetes 1.33+)"
		case tc != nil && strings.HasPrefix(tc.Signal.Source, "the preStop hook"):
			field, line = ct.Path+".lifecycle.preStop", w.lineOf(preStopNode(ct))
			fix = "send " + p.StopSignal + " from the preStop hook"
		default:
			fix = signalFix(w, ct, p.StopSignal)
		}
		if p.StopSignal == "" {
			fix = "" // no signal to name
		}
		msg := conf.Message
		if fix != "" {
			msg += "; fix: " + fix
		}
		f := finding("GS213", line, field, "%s", msg)
		if tc != nil {
			f.Current = tc.Signal.Name
			if tc.KubeletSignal != nil {
				f.Current += " then " + tc.KubeletSignal.Name
			}
		}
		out = append(out, f)
	}
	return out
}

// signalFix is GS213's fix where nothing sends the stop signal: only what
// applies. An operator does not copy lifecycle.stopSignal from its CR
// (tidb-operator drops it); render writes a signalling hook where there is
// none, and replaces one only with --replace-prestop.
func signalFix(w *workload, ct transformers.Container, sig string) string {
	hook := "a preStop hook that sends it after the delay and waits for the exit (`graceful render` writes one)"
	if !node.IsNull(preStopNode(ct)) {
		hook = "a preStop hook that sends it after the delay and waits for the exit (`graceful render --replace-prestop` replaces the existing one)"
	}
	if w.pod.Template == nil {
		return hook
	}
	return "set lifecycle.stopSignal: " + sig + " (Kubernetes 1.33+, `graceful render --stop-signal-field`), or " + hook
}

// fromSetting: the fast stop is an application setting's (GS212 reports it).
func fromSetting(ct transformers.Container, p *profiles.Profile, conf timeline.Conflict) bool {
	for _, m := range transformers.ContrarySettings(ct, p) {
		if !m.Missing && strings.Contains(conf.Message, m.Spelling) {
			return true
		}
	}
	return false
}

// container is the pod's regular container of a name.
func (w *workload) container(name string) (transformers.Container, bool) {
	for _, ct := range w.pod.Containers {
		if ct.Name == name {
			return ct, true
		}
	}
	return transformers.Container{}, false
}

// timelineContainer is the timeline's row of a container, nil for none.
func (w *workload) timelineContainer(name string) *timeline.Container {
	for i := range w.timeline.Containers {
		if w.timeline.Containers[i].Name == name {
			return &w.timeline.Containers[i]
		}
	}
	return nil
}
