package render

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/transformers"
)

// workload runs the transformers on a workload and records what its pods need
// from a load balancer.
func (st *run) workload(w *workload) (*Entry, error) {
	dec, err := st.decide(w)
	if err != nil {
		return nil, err
	}
	entry := &Entry{Ref: w.ref}
	if dec.optedOut {
		st.optedOut++
	}
	if dec.profile == nil {
		if dec.reason == "" {
			return nil, nil
		}
		entry.Decision = "skipped: " + dec.reason
		if dec.note != "" {
			entry.Findings = append(entry.Findings, transformers.Finding{Severity: transformers.Info, Message: dec.note})
		}
		return entry, nil
	}
	st.profiled++
	entry.Decision = dec.profile.Name + " (" + dec.reason + ")"
	if w.isTidbCluster() && dec.profile.Name != "tidb" {
		entry.Findings = append(entry.Findings, transformers.Finding{Severity: transformers.Warning, Field: w.podSpecPath,
			Message: fmt.Sprintf("a TidbCluster takes only the tidb profile, not %s; left unchanged", dec.profile.Name)})
		return entry, nil
	}
	s := st.settings(dec.profile, dec.rule)
	pod := &transformers.Pod{Spec: w.podSpec, SpecPath: w.podSpecPath, Template: w.template, TemplatePath: w.templatePath,
		StopSignalField: !w.isTidbCluster(), Batch: w.batch}
	var notes []transformers.Finding
	if err := w.checkDuplicates(); err != nil {
		return nil, err
	}
	pod.Containers, notes = chooseContainers(w, dec.profile, dec.rule)
	entry.Findings = append(entry.Findings, notes...)
	pod.Containers, notes = safeContainers(pod.Containers, dec.profile)
	entry.Findings = append(entry.Findings, notes...)
	if len(pod.Containers) > 0 {
		entry.Decision += ", containers " + containerNames(pod.Containers)
	}
	if len(pod.Containers) == 0 {
		return entry, nil
	}
	entry.Findings = append(entry.Findings, undelayedPeers(w, pod.Containers, s)...)
	w.blockStyleContainers()
	w.unshare(pod.Containers)
	for _, t := range transformers.Workload {
		found, err := t.Transform(pod, s)
		if err != nil {
			return nil, &DocumentError{Ref: w.ref, Err: err}
		}
		entry.Findings = append(entry.Findings, found...)
	}
	for _, n := range dec.profile.Notes {
		entry.Findings = append(entry.Findings, transformers.Finding{Severity: transformers.Info,
			Message: "the " + dec.profile.Name + " profile: " + n})
	}
	// Connections cannot outlive the pod, and a shorter drain cuts requests
	// the pod is still finishing: the pod's grace period, unless a rule says.
	drainSeconds := transformers.GraceSeconds(pod)
	if s.ServiceDrainSeconds > 0 {
		drainSeconds = s.ServiceDrainSeconds
	}
	if w.isTidbCluster() {
		found, err := st.drainTidbService(w, drainSeconds)
		if err != nil {
			return nil, err
		}
		entry.Findings = append(entry.Findings, found...)
	}
	if labels := w.podLabels(); len(labels) > 0 {
		st.pods = append(st.pods, podSummary{namespace: w.ref.Namespace, labels: labels,
			drainSeconds: drainSeconds, profile: dec.profile})
	}
	return entry, nil
}

// drainTidbService annotates the load balancer tidb-operator makes from
// spec.tidb.service: the operator copies its annotations to the Service.
func (st *run) drainTidbService(w *workload, drainSeconds int) ([]transformers.Finding, error) {
	svc := node.Get(w.podSpec, "service")
	if len(st.drain.Providers) == 0 || node.GetStr(svc, "type") != "LoadBalancer" {
		return nil, nil
	}
	found, err := st.drain.Transform(svc, w.podSpecPath+".service", node.GetStr(svc, "loadBalancerClass"), drainSeconds)
	if err != nil {
		return nil, &DocumentError{Ref: w.ref, Err: err}
	}
	return found, nil
}

// settings resolves a profile with a rule's overrides and the run's options.
func (st *run) settings(p *profiles.Profile, rule *Rule) *transformers.Settings {
	s := &transformers.Settings{
		Profile:                       p,
		PreStopDelaySeconds:           p.PreStopDelaySeconds,
		DrainSeconds:                  p.DrainSeconds,
		TerminationGracePeriodSeconds: p.TerminationGracePeriodSeconds,
		ReplacePreStop:                st.replacePreStop,
		NativeSleep:                   st.kube.AtLeast(1, 30),
		StopSignalField:               st.stopSignalField,
	}
	if rule == nil {
		return s
	}
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	set(&s.PreStopDelaySeconds, rule.PreStopDelaySeconds)
	set(&s.DrainSeconds, rule.DrainSeconds)
	set(&s.TerminationGracePeriodSeconds, rule.TerminationGracePeriodSeconds)
	set(&s.ServiceDrainSeconds, rule.ServiceDrainSeconds)
	s.GraceFromUser = rule.TerminationGracePeriodSeconds != nil
	for i := range st.rules {
		if &st.rules[i] == rule {
			s.GraceSource = fmt.Sprintf("rule %d's terminationGracePeriodSeconds", i+1)
		}
	}
	// Where graceful writes the application's drain time, a rule that sets
	// the grace period but not the drain gives it what the delay and the
	// headroom leave (Spring: phase = grace - delay - 5 s).
	if s.GraceFromUser && rule.DrainSeconds == nil && p.HasDrainSetting() {
		if d := s.TerminationGracePeriodSeconds - s.PreStopDelaySeconds - p.HeadroomSeconds; d > 0 {
			s.DrainSeconds = d
		}
	}
	if rule.ReplacePreStop != nil {
		s.ReplacePreStop = *rule.ReplacePreStop
	}
	return s
}

// chooseContainers picks the containers a profile applies to: those a rule
// or the workload's graceful.dev/container annotation names; else those whose
// image fits the profile. A profile whose hook signals PID 1 stops there: a
// signal meant for nginx kills a Go program. The others fall back to the
// containers that serve traffic (declare a port), else the first.
func chooseContainers(w *workload, p *profiles.Profile, rule *Rule) ([]transformers.Container, []transformers.Finding) {
	all := w.containers()
	if len(all) == 0 {
		return nil, nil
	}
	field := w.podSpecPath + ".containers"
	names, source := []string(nil), ""
	if rule != nil && rule.Container != "" {
		names, source = splitList(rule.Container), "the rule's container"
	} else if v, _ := w.annotation(ContainerAnnotation); node.Str(v) != "" && !w.isTidbCluster() {
		v := node.Str(v)
		names, source = splitList(v), "annotation "+ContainerAnnotation
	}
	if len(names) > 0 {
		var named []transformers.Container
		var missing []string
		for _, n := range names {
			i := slices.IndexFunc(all, func(c transformers.Container) bool { return c.Name == n })
			if i < 0 {
				missing = append(missing, n)
				continue
			}
			named = append(named, all[i])
		}
		if len(missing) > 0 {
			return nil, []transformers.Finding{{Severity: transformers.Warning, Field: field,
				Message: fmt.Sprintf("left unchanged: no container named %s (%s); the containers are %s",
					strings.Join(quoteAll(missing), ", "), source, containerNames(all))}}
		}
		return named, nil
	}
	var fit []transformers.Container
	for _, c := range all {
		if w.isTidbCluster() || p.FitsImage(c.Image) {
			fit = append(fit, c)
		}
	}
	if len(fit) > 0 {
		return fit, nil
	}
	if p.SignalPID1 {
		return nil, []transformers.Finding{{Severity: transformers.Warning, Field: field,
			Message: fmt.Sprintf("left unchanged: no container image fits the %s profile (images %s; here %s), and its hook sends %s to PID 1, which would stop another program abruptly. "+
				"If one of them runs %s, name it: annotation %s: NAME on the workload, or container: NAME in a rule",
				p.Name, strings.Join(p.Images, ", "), containerImages(all), p.StopSignal, p.Name, ContainerAnnotation)}}
	}
	if len(p.Images) == 0 {
		return servingContainers(all), nil
	}
	chosen := servingContainers(all)
	return chosen, []transformers.Finding{{Severity: transformers.Info, Field: field,
		Message: fmt.Sprintf("no container image fits the %s profile (images %s); applied to %s, which %s; name others with annotation %s: NAME or a rule's container:",
			p.Name, strings.Join(p.Images, ", "), containerNames(chosen), servingReason(all, chosen), ContainerAnnotation)}}
}

// safeContainers drops the containers the profile cannot be made safe for
// from their manifest alone (node under npm), saying what to change.
func safeContainers(cs []transformers.Container, p *profiles.Profile) ([]transformers.Container, []transformers.Finding) {
	var safe []transformers.Container
	var notes []transformers.Finding
	for _, c := range cs {
		if why := p.Unsafe(transformers.ContainerArgv(c), transformers.ContainerEnv(c)); why != "" {
			notes = append(notes, transformers.Finding{Severity: transformers.Warning, Field: c.Path,
				Message: fmt.Sprintf("container %q left unchanged: %s", c.Name, why)})
			continue
		}
		safe = append(safe, c)
	}
	return safe, notes
}

// undelayedPeers notes the pod's other serving containers (they declare a
// port and have no preStop hook of their own): they get the stop signal at
// once while the chosen ones wait and drain, so a proxy among the chosen
// would send requests to a backend that is already stopping. graceful cannot
// know whether one forwards to the other, so it only says so.
func undelayedPeers(w *workload, chosen []transformers.Container, s *transformers.Settings) []transformers.Finding {
	if s.PreStopDelaySeconds == 0 || w.isTidbCluster() {
		return nil
	}
	var peers []transformers.Container
	for _, c := range w.containers() {
		if c.Name == transformers.IstioProxy || slices.ContainsFunc(chosen, func(k transformers.Container) bool { return k.Name == c.Name }) {
			continue
		}
		ports := node.Get(c.Node, "ports")
		if node.IsSeq(ports) && len(ports.Content) > 0 && node.IsNull(node.Lookup(c.Node, "lifecycle", "preStop")) {
			peers = append(peers, c)
		}
	}
	if len(peers) == 0 {
		return nil
	}
	return []transformers.Finding{{Severity: transformers.Info, Field: w.podSpecPath + ".containers",
		Message: fmt.Sprintf("the pod's other serving containers (%s) get no delay and stop at once, while %s is delayed %d s and then drains; if it forwards requests to them, give them a preStop sleep of at least %d s",
			containerNames(peers), containerNames(chosen), s.PreStopDelaySeconds, s.PreStopDelaySeconds+s.DrainSeconds)}}
}

// servingContainers are the containers that declare a port, else the first;
// never an injected Istio proxy.
func servingContainers(all []transformers.Container) []transformers.Container {
	if i := slices.IndexFunc(all, func(c transformers.Container) bool { return c.Name == transformers.IstioProxy }); i >= 0 && len(all) > 1 {
		all = slices.Delete(slices.Clone(all), i, i+1)
	}
	var out []transformers.Container
	for _, c := range all {
		if ports := node.Get(c.Node, "ports"); node.IsSeq(ports) && len(ports.Content) > 0 {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return all[:1]
	}
	return out
}

func servingReason(all, chosen []transformers.Container) string {
	if ports := node.Get(chosen[0].Node, "ports"); node.IsSeq(ports) && len(ports.Content) > 0 {
		return "serve traffic (declare a containerPort)"
	}
	return "is the first, as none declares a containerPort"
}

func containerNames(cs []transformers.Container) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = strconv.Quote(c.Name)
	}
	return strings.Join(names, ", ")
}

func containerImages(cs []transformers.Container) string {
	images := make([]string, len(cs))
	for i, c := range cs {
		images[i] = c.Image
		if images[i] == "" {
			images[i] = "(no image)"
		}
	}
	return strings.Join(images, ", ")
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strconv.Quote(s)
	}
	return out
}
