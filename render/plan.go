package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/transformers"
)

// Plan is what render decided for one workload: its profile and where that
// came from, the numbers resolved from the profile and the rules with the
// source of each, and the containers the profile goes on with the reason.
// It is made before anything changes, and is what the transformers apply;
// once they ran, Drain, Grace and LoadBalancerDrain hold what the pod ends
// up with. graceful explain reads it from Report.Entries[i].Plan.
type Plan struct {
	// Profile is the profile's name; "" when none applies.
	Profile string
	// Source says where the profile came from: "annotation graceful.dev/profile",
	// "rule 2", "--profile", "--profile auto: image nginx:1.27 fits nginx".
	// Without a profile it says why none applies (an opt-out, a Helm hook).
	Source string
	// OptedOut: an annotation or rule said none.
	OptedOut bool
	// PreStopDelay is the wait before the stop signal, while endpoints and
	// load balancers let the pod go.
	PreStopDelay Setting
	// Drain is how long the application takes to finish its work after the
	// stop signal; a drain time the user set in the container wins (Source
	// SourceContainer).
	Drain Setting
	// Grace is terminationGracePeriodSeconds; a longer one in the manifest is
	// kept (Source SourceManifest).
	Grace Setting
	// StopSignal is the signal that starts the application's drain, and
	// StopSignalBy what sends it: SignalByHook, SignalByField or SignalByKubelet.
	StopSignal, StopSignalBy string
	// LoadBalancerDrain is how long a load balancer keeps the connections of
	// a deregistered pod: the grace period unless a rule says. A profile that
	// takes no load balancer drain (profiles.Profile.NoLoadBalancerDrain)
	// gets none on its Services; a Service gets it only with --provider.
	// It is 0 where no container was chosen: then nothing is applied.
	LoadBalancerDrain Setting
	// Containers are the containers the profile applies to, each with the reason.
	Containers []PlannedContainer

	profile *profiles.Profile
	// work is what the transformers get; it goes once they ran, so that
	// the plans a report keeps stay small.
	work *planWork
}

// planWork is the transformers' view of a plan: the resolved settings and
// the pod with the chosen containers.
type planWork struct {
	settings transformers.Settings
	pod      transformers.Pod
}

// Setting is one resolved number and where it came from.
type Setting struct {
	Seconds int
	// Source is SourceProfile, a rule ("rule 2"), SourceBudget,
	// SourceContainer, SourceManifest, SourceGracePeriod, SourceKeptHook or
	// SourceStopAfter.
	Source string
}

// Where a Plan's numbers come from.
const (
	// SourceProfile: the plan's profile.
	SourceProfile = "profile"
	// SourceBudget: the delay plus the drain plus the profile's headroom.
	SourceBudget = "budget"
	// SourceContainer: a drain time the user set in the container (an env
	// var, a command-line flag).
	SourceContainer = "container"
	// SourceManifest: the manifest's own value, longer than the plan's, kept.
	SourceManifest = "manifest"
	// SourceGracePeriod: the pod's grace period.
	SourceGracePeriod = "grace period"
	// SourceKeptHook: the container's own preStop hook, kept in place of
	// graceful's (the Settings' PreStopSource names it).
	SourceKeptHook = "kept hook"
	// SourceStopAfter: the longest delay of a container told to stop after
	// another (graceful.dev/stop-after, a rule's stopAfter).
	SourceStopAfter = "stop after"
)

// How a Plan's stop signal reaches the application.
const (
	// SignalByHook: the preStop hook sends it to PID 1 after the delay.
	SignalByHook = "preStop hook"
	// SignalByField: lifecycle.stopSignal, sent by the container runtime (--stop-signal-field).
	SignalByField = "lifecycle.stopSignal"
	// SignalByKubelet: the kubelet's stop after the hook (SIGTERM, or the image's STOPSIGNAL).
	SignalByKubelet = "kubelet"
)

// PlannedContainer is a container the profile applies to.
type PlannedContainer struct {
	Name  string
	Path  string
	Image string
	// Reason says why it was chosen, e.g. "named by the rule's container".
	Reason string
}

// ProfileOf is the catalog's profile the plan applies (a user's profile
// too), nil where none applies: readers of the report (check, explain) use
// the profile render used rather than looking the name up again.
func (p *Plan) ProfileOf() *profiles.Profile {
	if p == nil {
		return nil
	}
	return p.profile
}

// ContainerNames are the names of the containers the profile applies to.
func (p *Plan) ContainerNames() []string {
	if p == nil || len(p.Containers) == 0 {
		return nil
	}
	names := make([]string, len(p.Containers))
	for i, c := range p.Containers {
		names[i] = c.Name
	}
	return names
}

// release drops the plan's hold on the document's tree: the report keeps
// the plan, and the stream writer lets each tree go once it is written.
func (p *Plan) release() { p.work = nil }

// applies reports whether the transformers have anything to work on.
func (p *Plan) applies() bool { return p.work != nil && len(p.work.pod.Containers) > 0 }

// plan is the second stage: it resolves the selected profile with the rule's
// overrides and the run's options, and chooses the containers. It changes
// nothing; its findings say what it left out and why.
func (st *run) plan(w *workload, sel selection) (*Plan, []transformers.Finding, error) {
	p := sel.profile
	plan := &Plan{Profile: p.Name, Source: sel.reason, profile: p}
	if sec := w.section; sec != nil && len(sec.profiles) > 0 && !slices.ContainsFunc(sec.profiles, func(name string) bool { return st.catalog.Refines(p, name) }) {
		return plan, []transformers.Finding{{Code: transformers.CodeKindProfile, Severity: transformers.Warning, Field: w.podSpecPath,
			Message: fmt.Sprintf("a %s takes only the %s profile or one based on it, not %s; left unchanged", w.ref.Kind, strings.Join(sec.profiles, " or "), p.Name)}}, nil
	}
	plan.work = &planWork{}
	s := &plan.work.settings
	st.settings(s, p, sel)
	plan.resolve(s, sel)
	pod := &plan.work.pod
	*pod = transformers.Pod{Spec: w.podSpec, SpecPath: w.podSpecPath, Template: w.template, TemplatePath: w.templatePath,
		StopSignalField: w.section == nil, KubernetesDefaults: w.builtin, Batch: w.batch}
	plan.StopSignal, plan.StopSignalBy = p.StopSignal, SignalByKubelet
	switch {
	case s.UsesStopSignalField(pod):
		plan.StopSignalBy = SignalByField
	case p.SignalPID1:
		plan.StopSignalBy = SignalByHook
	}
	if err := w.checkDuplicates(); err != nil {
		return nil, nil, err
	}
	var findings, notes []transformers.Finding
	var reason string
	pod.Containers, reason, findings = chooseContainers(w, p, sel.rule)
	pod.Containers, notes = safeContainers(pod.Containers, p)
	findings = append(findings, notes...)
	if len(pod.Containers) == 0 {
		return plan, findings, nil
	}
	plan.Containers = make([]PlannedContainer, len(pod.Containers))
	for i, c := range pod.Containers {
		plan.Containers[i] = PlannedContainer{Name: c.Name, Path: c.Path, Image: c.Image, Reason: reason}
	}
	ruleName := ""
	if sel.rule != nil {
		ruleName = st.ruleNames[sel.ruleIndex-1]
	}
	s.OrderedDelays, notes = stopOrder(w, pod.Containers, s, sel.rule, ruleName)
	findings = append(findings, notes...)
	findings = append(findings, undelayedPeers(w, pod.Containers, s)...)
	return plan, findings, nil
}

// settings resolves a profile with a rule's overrides and the run's options.
func (st *run) settings(s *transformers.Settings, p *profiles.Profile, sel selection) {
	*s = transformers.Settings{
		Profile:                       p,
		PreStopDelaySeconds:           p.PreStopDelaySeconds,
		DrainSeconds:                  p.DrainSeconds,
		TerminationGracePeriodSeconds: p.TerminationGracePeriodSeconds,
		ReplacePreStop:                st.replacePreStop,
		NativeSleep:                   st.kube.AtLeast(1, 30),
		StopSignalField:               st.stopSignalField,
	}
	rule := sel.rule
	if rule == nil {
		return
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
	if s.GraceFromUser {
		s.GraceSource = st.ruleNames[sel.ruleIndex-1] + "'s terminationGracePeriodSeconds"
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
}

// resolve records the settings' numbers in the plan, each with its source.
func (plan *Plan) resolve(s *transformers.Settings, sel selection) {
	source := func(ruleSets *int) string {
		if ruleSets != nil {
			return sel.reason
		}
		return SourceProfile
	}
	var r Rule
	if sel.rule != nil {
		r = *sel.rule
	}
	plan.PreStopDelay = Setting{s.PreStopDelaySeconds, source(r.PreStopDelaySeconds)}
	plan.Drain = Setting{s.DrainSeconds, source(r.DrainSeconds)}
	if r.DrainSeconds == nil && s.DrainSeconds != sel.profile.DrainSeconds {
		plan.Drain.Source = SourceBudget // what the rule's grace period leaves
	}
	plan.Grace = graceWanted(s, source(r.TerminationGracePeriodSeconds))
	plan.LoadBalancerDrain = Setting{0, SourceGracePeriod}
	if r.ServiceDrainSeconds != nil && *r.ServiceDrainSeconds > 0 {
		plan.LoadBalancerDrain = Setting{*r.ServiceDrainSeconds, sel.reason}
	}
}

// graceWanted is the grace period the GracePeriod transformer writes unless
// the manifest has a longer one: the budget, unless a rule set it.
func graceWanted(s *transformers.Settings, source string) Setting {
	need := s.PreStopDelaySeconds + s.DrainSeconds + s.Profile.HeadroomSeconds
	if !s.GraceFromUser && s.TerminationGracePeriodSeconds < need {
		return Setting{need, SourceBudget}
	}
	return Setting{s.TerminationGracePeriodSeconds, source}
}

// settle records, after the transformers ran, what the pod ended up with:
// the user's own drain time, a longer grace period kept, and the load
// balancer drain that follows from it.
func (plan *Plan) settle() {
	s := &plan.work.settings
	if s.PreStopSource != "" {
		plan.PreStopDelay = Setting{s.PreStopDelaySeconds, SourceKeptHook}
		if s.PreStopOrdered {
			plan.PreStopDelay.Source = SourceStopAfter
		}
		plan.Grace = graceWanted(s, plan.Grace.Source)
	}
	if s.DrainSeconds != plan.Drain.Seconds {
		plan.Drain = Setting{s.DrainSeconds, SourceContainer}
		plan.Grace = graceWanted(s, plan.Grace.Source)
	}
	if final := transformers.GraceSeconds(&plan.work.pod); final != plan.Grace.Seconds {
		plan.Grace = Setting{final, SourceManifest}
	}
	// Connections cannot outlive the pod, and a shorter drain cuts requests
	// the pod is still finishing: the pod's grace period, unless a rule says.
	if plan.LoadBalancerDrain.Source == SourceGracePeriod {
		plan.LoadBalancerDrain.Seconds = plan.Grace.Seconds
	}
}
