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

// Why a container was chosen (PlannedContainer.Reason).
const (
	reasonNamedByRule       = "named by the rule's container"
	reasonNamedByAnnotation = "named by the annotation " + ContainerAnnotation
	reasonSection           = "the operator section's one container"
	reasonImageFits         = "its image fits the profile"
	reasonServes            = "it serves traffic (declares a containerPort)"
	reasonFirst             = "the first container; none declares a containerPort"
)

// chooseContainers picks the containers a profile applies to: those a rule
// or the workload's graceful.dev/container annotation names; else those whose
// image fits the profile. A profile whose hook signals PID 1 stops there: a
// signal meant for nginx kills a Go program. The others fall back to the
// containers that serve traffic (declare a port), else the first.
func chooseContainers(w *workload, p *profiles.Profile, rule *Rule) ([]transformers.Container, string, []transformers.Finding) {
	all := w.containers()
	if len(all) == 0 {
		return nil, "", nil
	}
	field := w.podSpecPath + ".containers"
	names, source, reason := []string(nil), "", ""
	if rule != nil && rule.Container != "" {
		names, source, reason = splitList(rule.Container), "the rule's container", reasonNamedByRule
	} else if v, _ := w.annotation(ContainerAnnotation); node.Str(v) != "" && w.section == nil {
		names, source, reason = splitList(node.Str(v)), "annotation "+ContainerAnnotation, reasonNamedByAnnotation
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
			return nil, "", []transformers.Finding{{Code: transformers.CodeNoContainer, Severity: transformers.Warning, Field: field,
				Message: fmt.Sprintf("left unchanged: no container named %s (%s); the containers are %s",
					strings.Join(quoteAll(missing), ", "), source, containerNames(all))}}
		}
		return named, reason, nil
	}
	if w.section != nil {
		return all, reasonSection, nil
	}
	var fit []transformers.Container
	for _, c := range all {
		if p.FitsImage(c.Image) && !(p.SignalPID1 && (c.Name == transformers.IstioProxy || c.Name == "linkerd-proxy")) { // never signal a mesh sidecar's PID 1
			fit = append(fit, c)
		}
	}
	if len(fit) > 0 {
		return fit, reasonImageFits, nil
	}
	if p.SignalPID1 {
		return nil, "", []transformers.Finding{{Code: transformers.CodeNoImageSignal, Severity: transformers.Warning, Field: field,
			Message: fmt.Sprintf("left unchanged: no container image fits the %s profile (images %s; here %s), and its hook sends %s to PID 1, which would stop another program abruptly. "+
				"If one of them runs %s, name it: annotation %s: NAME on the workload, or container: NAME in a rule",
				p.Name, strings.Join(p.Images, ", "), containerImages(all), p.StopSignal, p.Name, ContainerAnnotation)}}
	}
	chosen := servingContainers(all)
	reason = reasonServes
	if !declaresPort(chosen[0]) {
		reason = reasonFirst
	}
	if len(p.Images) == 0 {
		return chosen, reason, nil
	}
	return chosen, reason, []transformers.Finding{{Code: transformers.CodeServingFallback, Severity: transformers.Info, Field: field,
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
			notes = append(notes, transformers.Finding{Code: transformers.CodeUnsafeContainer, Severity: transformers.Warning, Field: c.Path,
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
// know whether one forwards to the other, so it says how to tell it:
// graceful.dev/stop-after.
func undelayedPeers(w *workload, chosen []transformers.Container, s *transformers.Settings) []transformers.Finding {
	if s.PreStopDelaySeconds == 0 || w.section != nil {
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
	return []transformers.Finding{{Code: transformers.CodeUndelayedPeers, Severity: transformers.Info, Field: w.podSpecPath + ".containers",
		Message: fmt.Sprintf("the pod's other serving containers (%s) get no delay and stop at once, while %s is delayed %d s and then drains; if it forwards requests to them, give them a preStop sleep of at least %d s, or, where the profile suits them too, name them (annotation %s) and order the stops: annotation %s: \"%s=%s\"",
			containerNames(peers), containerNames(chosen), s.PreStopDelaySeconds, s.PreStopDelaySeconds+s.DrainSeconds, ContainerAnnotation, StopAfterAnnotation, peers[0].Name, chosen[0].Name)}}
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

// declaresPort reports whether a container declares a port: it serves traffic.
func declaresPort(c transformers.Container) bool {
	ports := node.Get(c.Node, "ports")
	return node.IsSeq(ports) && len(ports.Content) > 0
}

func servingReason(all, chosen []transformers.Container) string {
	if declaresPort(chosen[0]) {
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
