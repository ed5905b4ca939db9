// Package timeline models what happens when a pod stops, read from its
// manifest: the workload's pod spec, the Services that select its pods, and
// its mesh sidecar. Per container: the preStop delay, the stop signal and
// where it comes from, the application's own drain, the grace period and
// SIGKILL; per pod: the load balancers' drain and the sidecar's exit. The
// result is events in time and the conflicts between them (codes GS3xx).
//
// It reads, it never changes: `graceful explain` runs it on render's output
// (or on the input as it is), `graceful check` on the input.
package timeline

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/transformers"
)

// Kubernetes' and the kubelet's own numbers.
const (
	// DefaultGraceSeconds is terminationGracePeriodSeconds when the field is absent.
	DefaultGraceSeconds = 30
	// MinSignalSeconds is what the kubelet gives the stop signal when the
	// grace period ran out during the preStop hook.
	MinSignalSeconds = 2
	// EndpointsSeconds is an estimate, not a measurement: how long the
	// endpoint removal takes to reach kube-proxy, ingress controllers and
	// load balancers, in parallel with the stop. Large clusters take longer.
	EndpointsSeconds = 2
)

// Conflict codes. Each is a way the shutdown drops or cuts requests.
const (
	// CodeLBDrainShort: the load balancer closes the pod's connections
	// before the pod has finished them.
	CodeLBDrainShort = "GS301"
	// CodeMeshDrainShort: a classic Istio sidecar leaves while the
	// application still waits or drains.
	CodeMeshDrainShort = "GS302"
	// CodeGraceShort: SIGKILL comes before the delay and the drain are done.
	CodeGraceShort = "GS303"
	// CodeNoDelay: a serving container stops at once, while the endpoint
	// removal is still on its way: requests go to a stopping pod.
	CodeNoDelay = "GS304"
	// CodeFastStop: the application gets a signal that stops it abruptly.
	CodeFastStop = "GS305"
	// CodeBroken: a piece of the shutdown that graceful check finds broken
	// (a hook that cannot run, a drain setting the controller rejects): the
	// timeline does not count on it.
	CodeBroken = "GS306"
	// CodeSharedPID1 is graceful check's code for a hook that signals PID 1
	// in a pod that shares its process namespace.
	CodeSharedPID1 = "GS207"
)

// Workload is one object that runs pods.
type Workload struct {
	Kind, Namespace, Name string
	// Template is the pod template (metadata and spec); nil where there is
	// none (a TidbCluster's spec.tidb).
	Template *yaml.Node
	// Spec holds the containers and terminationGracePeriodSeconds.
	Spec *yaml.Node
	// Containers are the regular containers; nil: those of Spec.containers.
	Containers []transformers.Container
	// Batch pods (Jobs) run to completion and serve no requests.
	Batch bool
	// File names where the workload was read, for the reader.
	File string
	// Services are the workload's own, whatever their selector (the one
	// tidb-operator makes from a TidbCluster's spec.tidb.service).
	Services []Service
}

// Service is what the timeline needs of a Service.
type Service struct {
	Name, Namespace       string
	Type, Class           string
	Selector, Annotations map[string]string
	// TargetPorts are the ports the Service sends to (targetPort, else
	// port), as numbers or names; empty: unknown, any.
	TargetPorts []string
	// Broken is graceful check's finding on the Service's drain setting
	// (GS204, "CODE: message"), where the controller rejects it.
	Broken string
}

// ReadService reads a Service object.
func ReadService(object *yaml.Node) Service {
	meta, spec := node.Get(object, "metadata"), node.Get(object, "spec")
	return Service{
		Name: node.GetStr(meta, "name"), Namespace: node.GetStr(meta, "namespace"),
		Type: node.GetStr(spec, "type"), Class: node.GetStr(spec, "loadBalancerClass"),
		Selector: node.Labels(node.Get(spec, "selector")), Annotations: node.Labels(node.Get(meta, "annotations")),
		TargetPorts: targetPorts(node.Get(spec, "ports")),
	}
}

func targetPorts(ports *yaml.Node) []string {
	if !node.IsSeq(ports) {
		return nil
	}
	var out []string
	for _, p := range ports.Content {
		target := node.GetStr(p, "targetPort")
		if target == "" {
			target = node.GetStr(p, "port")
		}
		out = append(out, target)
	}
	return out
}

// routesTo reports whether one of the Services sends requests to a port the
// container declares (by number or name).
func routesTo(services []Service, c *yaml.Node) bool {
	ports := node.Get(c, "ports")
	for _, s := range services {
		if len(s.TargetPorts) == 0 {
			return true
		}
		if !node.IsSeq(ports) {
			continue
		}
		for _, p := range ports.Content {
			if slices.Contains(s.TargetPorts, node.GetStr(p, "containerPort")) || node.GetStr(p, "name") != "" && slices.Contains(s.TargetPorts, node.GetStr(p, "name")) {
				return true
			}
		}
	}
	return false
}

// Selects reports whether the Service selects pods with these labels in namespace.
func (s Service) Selects(namespace string, labels map[string]string) bool {
	if len(s.Selector) == 0 || s.Namespace != namespace {
		return false
	}
	for k, v := range s.Selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Options say what graceful knows of the workload beyond its manifest.
type Options struct {
	// Profile is the one render chose (nil: none); its data says how the
	// application stops and how long it drains.
	Profile       *profiles.Profile
	ProfileReason string
	// Containers are the names of the containers the profile applies to.
	Containers []string
	// Services are the input's Services; those that select the pods count.
	Services []Service
	// Providers are the load balancer providers of the run (--provider):
	// a load balancer Service with no drain annotation has their default.
	Providers []string
	// Catalog is where profiles' data is looked up (image stop signals):
	// the one render used; nil: the built-ins.
	Catalog *profiles.Catalog
	// Serving are the containers that take requests, as graceful check
	// reads them (true: a Service routes to it); nil: any that declares a
	// port, a Service routing to it where it selects the pods.
	Serving map[string]bool
	// BrokenHooks are graceful check's findings on a container's preStop
	// hook, by container ("CODE: message"): a hook that fails, is dropped,
	// or signals the wrong process.
	BrokenHooks map[string]string
}

// Timeline is one workload's shutdown. The JSON field names are a stable
// schema (docs/explain.md).
type Timeline struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	File      string `json:"file,omitempty"`
	// Line is the object's line in File; Source the Helm template it came
	// from (its `# Source:` comment). Location is both for people, as
	// graceful check writes it.
	Line     int    `json:"line,omitempty"`
	Source   string `json:"source,omitempty"`
	Location string `json:"location,omitempty"`
	// Unchanged says why graceful render leaves the workload as it is,
	// where it does (after render).
	Unchanged     string `json:"unchanged,omitempty"`
	Profile       string `json:"profile,omitempty"`
	ProfileReason string `json:"profileReason,omitempty"`
	GraceSeconds  int    `json:"gracePeriodSeconds"`
	GraceSource   string `json:"gracePeriodSource"`
	// EndSeconds is when the last container is gone at the latest.
	EndSeconds    int            `json:"endSeconds"`
	Containers    []Container    `json:"containers"`
	Services      []string       `json:"services,omitempty"`
	LoadBalancers []LoadBalancer `json:"loadBalancers,omitempty"`
	Sidecar       *Sidecar       `json:"sidecar,omitempty"`
	Events        []Event        `json:"events"`
	Conflicts     []Conflict     `json:"conflicts"`
	Notes         []string       `json:"notes,omitempty"`
}

// Container is one container's stop.
type Container struct {
	Name  string `json:"name"`
	Image string `json:"image,omitempty"`
	// Profiled: the profile applies to it, so its drain is known.
	Profiled bool    `json:"profiled"`
	PreStop  PreStop `json:"preStop"`
	// Signal is the signal that starts the application's stop.
	Signal Signal `json:"signal"`
	// KubeletSignal is the kubelet's own stop signal, where it reaches the
	// application after a hook that signalled without waiting.
	KubeletSignal *Signal `json:"kubeletSignal,omitempty"`
	// DrainSeconds is the application's drain bound after the signal, where
	// known (DrainSource says from what).
	DrainSeconds *int   `json:"drainSeconds,omitempty"`
	DrainSource  string `json:"drainSource,omitempty"`
	// DrainSetByUser: the drain is the container's own setting (sidekiq -t
	// 50), not the profile's estimate.
	DrainSetByUser bool `json:"drainSetByUser,omitempty"`
	// KillSeconds is when SIGKILL comes if the container still runs.
	KillSeconds int `json:"killSeconds"`
	// StopsBySeconds is when it is gone at the latest: its drain's end, or SIGKILL.
	StopsBySeconds int `json:"stopsBySeconds"`
	// Serving: it declares a port (or the profile applies and delays it).
	Serving bool `json:"serving"`
}

// PreStop is the container's hook as read.
type PreStop struct {
	Kind         string   `json:"kind"`
	DelaySeconds int      `json:"delaySeconds"`
	Exact        bool     `json:"exact"`
	WaitsForExit bool     `json:"waitsForExit,omitempty"`
	Text         string   `json:"text,omitempty"`
	Unknown      []string `json:"unknown,omitempty"`
	// Broken is graceful check's finding on the hook ("CODE: message"): the
	// timeline counts neither its delay nor its signal.
	Broken string `json:"broken,omitempty"`
}

// Signal is a signal, when it comes and from where.
type Signal struct {
	Name      string `json:"name"`
	AtSeconds int    `json:"atSeconds"`
	// AtLeast: the time is a lower bound, after a hook command graceful cannot time.
	AtLeast bool   `json:"atLeast,omitempty"`
	Source  string `json:"source"`
}

// LoadBalancer is a load balancer Service's drain of the pod's connections.
type LoadBalancer struct {
	Service  string `json:"service"`
	Provider string `json:"provider,omitempty"`
	On       bool   `json:"on"`
	// Seconds is the drain after deregistration, where Known.
	Seconds int    `json:"seconds"`
	Known   bool   `json:"known"`
	Source  string `json:"source"`
	// Rejected: graceful check finds the drain setting one the controller
	// rejects (Source says why), so no drain is counted on.
	Rejected bool `json:"rejected,omitempty"`
}

// Sidecar is the pod's Istio proxy.
type Sidecar struct {
	Kind         string `json:"kind"`
	DrainSeconds int    `json:"drainSeconds,omitempty"`
	Source       string `json:"source,omitempty"`
	ExitOnZero   bool   `json:"exitOnZeroActiveConnections,omitempty"`
	// ExitSeconds is when it leaves.
	ExitSeconds int `json:"exitSeconds"`
}

// Event kinds, in the order they are listed at the same second.
const (
	EventDelete       = "delete"
	EventEndpoints    = "endpoints-removed"
	EventPreStopEnd   = "prestop-end"
	EventSignal       = "signal"
	EventDrainEnd     = "drain-end"
	EventSidecarExit  = "sidecar-exit"
	EventLBDrainEnd   = "lb-drain-end"
	EventSIGKILL      = "sigkill"
	eventOrderUnknown = 99
)

var eventOrder = []string{EventDelete, EventEndpoints, EventPreStopEnd, EventSignal, EventDrainEnd, EventSidecarExit, EventLBDrainEnd, EventSIGKILL}

// Event is one moment of the shutdown.
type Event struct {
	AtSeconds int    `json:"atSeconds"`
	Event     string `json:"event"`
	Container string `json:"container,omitempty"`
	// Estimate: the time is not read from the manifest.
	Estimate bool `json:"estimate,omitempty"`
	// AtLeast: the time is a lower bound (a hook command graceful cannot time).
	AtLeast bool   `json:"atLeast,omitempty"`
	Text    string `json:"text"`
}

// Conflict is a way this shutdown drops or cuts requests.
type Conflict struct {
	Code      string `json:"code"`
	Container string `json:"container,omitempty"`
	// AtSeconds is when it bites.
	AtSeconds int    `json:"atSeconds"`
	Message   string `json:"message"`
}

// Build reads the workload's shutdown.
func Build(w Workload, o Options) *Timeline {
	t := &Timeline{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, File: w.File, ProfileReason: o.ProfileReason,
		Containers: []Container{}, Events: []Event{}, Conflicts: []Conflict{}}
	p := o.Profile
	if p != nil {
		t.Profile = p.Name
	}
	t.GraceSeconds, t.GraceSource = DefaultGraceSeconds, "Kubernetes' default, as terminationGracePeriodSeconds is not set"
	if v, ok := node.Int(node.Get(w.Spec, "terminationGracePeriodSeconds")); ok {
		t.GraceSeconds, t.GraceSource = v, "terminationGracePeriodSeconds"
	}
	t.add(Event{Event: EventDelete, Text: "the pod is deleted (a rollout, a scale-in or a node drain): it is marked terminating and its containers' stop begins"})

	labels := node.Labels(node.Lookup(w.Template, "metadata", "labels"))
	selecting := slices.Clone(w.Services)
	for _, s := range w.Services {
		t.Services = append(t.Services, s.Name)
	}
	for _, s := range o.Services {
		if s.Selects(w.Namespace, labels) {
			selecting = append(selecting, s)
			t.Services = append(t.Services, s.Name)
		}
	}
	sidecar := transformers.ReadIstioSidecar(w.Template, w.Spec)
	containers := w.Containers
	if containers == nil {
		containers = containersOf(w.Spec)
	}
	for _, c := range containers {
		if c.Name == transformers.IstioProxy && sidecar.Kind == "classic" {
			continue // the sidecar has its own row
		}
		t.Containers = append(t.Containers, t.container(c, w, o, routesTo(selecting, c.Node)))
	}
	// When the application needs the pod's network until, at the least: a
	// profiled container until its drain ends; another until its signal
	// (its drain is unknown, its hook's wait is not).
	appEnd := 0
	for _, c := range t.Containers {
		t.EndSeconds = max(t.EndSeconds, c.StopsBySeconds)
		if c.Profiled {
			appEnd = max(appEnd, c.StopsBySeconds)
		} else {
			appEnd = max(appEnd, c.Signal.AtSeconds)
		}
	}

	// How long the pod serves, at least: a profiled container until its
	// drain ends; another until its signal (its drain is unknown).
	servingEnd := 0
	for _, c := range t.Containers {
		switch {
		case !c.Serving:
		case c.DrainSeconds != nil:
			servingEnd = max(servingEnd, c.StopsBySeconds)
		default:
			servingEnd = max(servingEnd, c.Signal.AtSeconds)
		}
	}
	if len(selecting) > 0 || slices.ContainsFunc(t.Containers, func(c Container) bool { return c.Serving }) {
		via := "any Service that selects it"
		if len(selecting) > 0 {
			via = "Services " + strings.Join(t.Services, ", ")
		}
		t.add(Event{AtSeconds: EndpointsSeconds, Event: EventEndpoints, Estimate: true, Text: fmt.Sprintf(
			"estimate: the pod's endpoint removal from %s reaches kube-proxy, ingress controllers and load balancers, in parallel with the stop (about 1-2 s; longer in large clusters)", via)})
	}
	t.loadBalancers(selecting, o.Providers, p, servingEnd)
	t.sidecar(sidecar, w, appEnd)
	t.profileNotes(p)
	sort.SliceStable(t.Events, func(i, j int) bool {
		a, b := t.Events[i], t.Events[j]
		if a.AtSeconds != b.AtSeconds {
			return a.AtSeconds < b.AtSeconds
		}
		return order(a.Event) < order(b.Event)
	})
	sort.SliceStable(t.Conflicts, func(i, j int) bool { return t.Conflicts[i].Code < t.Conflicts[j].Code })
	return t
}

func order(kind string) int {
	if i := slices.Index(eventOrder, kind); i >= 0 {
		return i
	}
	return eventOrderUnknown
}

func (t *Timeline) add(e Event) { t.Events = append(t.Events, e) }

func (t *Timeline) conflict(code, container string, at int, format string, args ...any) {
	t.Conflicts = append(t.Conflicts, Conflict{Code: code, Container: container, AtSeconds: at, Message: fmt.Sprintf(format, args...)})
}

// containersOf lists the pod's regular containers.
func containersOf(spec *yaml.Node) []transformers.Container {
	var out []transformers.Container
	if seq := node.Get(spec, "containers"); node.IsSeq(seq) {
		for i, c := range seq.Content {
			if !node.IsMap(c) {
				continue
			}
			out = append(out, transformers.Container{Node: c, Path: "containers[" + strconv.Itoa(i) + "]",
				Name: node.GetStr(c, "name"), Image: node.GetStr(c, "image")})
		}
	}
	return out
}

// container follows one container from the delete to its end.
// routed: a Service selecting the pod sends requests to the container's
// ports, so they reach it through an endpoint.
func (t *Timeline) container(c transformers.Container, w Workload, o Options, routed bool) Container {
	p := o.Profile
	out := Container{Name: c.Name, Image: c.Image, Profiled: p != nil && slices.Contains(o.Containers, c.Name)}
	if !out.Profiled {
		p = nil
	}
	ports := node.Get(c.Node, "ports")
	out.Serving = !w.Batch && (node.IsSeq(ports) && len(ports.Content) > 0 || p != nil && p.PreStopDelaySeconds > 0)
	if o.Serving != nil {
		_, serves := o.Serving[c.Name]
		out.Serving = !w.Batch && (serves || p != nil && p.PreStopDelaySeconds > 0)
		routed = o.Serving[c.Name]
	}
	hook := transformers.ReadPreStop(c.Node)
	out.PreStop = PreStop{Kind: hook.Kind, DelaySeconds: hook.DelaySeconds, Exact: hook.Exact(), WaitsForExit: hook.WaitsForExit, Text: hook.Text, Unknown: hook.Unknown}
	// brokenWait: the hook's wait for PID 1 lasts the grace period, however
	// long: a longer grace period would not help, and GS306 says why (no
	// GS303 of it).
	brokenWait := false
	if broken := o.BrokenHooks[c.Name]; broken != "" {
		// What check calls broken is not drawn as working: no delay, no
		// signal from the hook; the kubelet's own signal comes at once.
		out.PreStop.Broken = broken
		code, _, _ := strings.Cut(broken, ":")
		if code == CodeSharedPID1 && hook.Signal != "" {
			// The hook runs, but its signal reaches the pause process, and
			// a wait for PID 1 to exit lasts until the grace period ends.
			t.conflict(CodeBroken, c.Name, 0, "the %s of %q's preStop hook may miss the application, so the timeline does not count it; graceful check %s", hook.Signal, c.Name, broken)
			hook.Signal, hook.SignalVia = "", ""
			if hook.WaitsForExit {
				hook.DelaySeconds, hook.WaitsForExit, brokenWait = t.GraceSeconds, false, true
			}
		} else {
			t.conflict(CodeBroken, c.Name, 0, "the preStop hook of %q may not run, so the timeline counts neither its delay nor its signal; graceful check %s", c.Name, broken)
			hook = transformers.Hook{Kind: "none", DelayExact: true}
		}
	}
	grace := t.GraceSeconds
	name := c.Name

	// The kubelet's own signal: lifecycle.stopSignal, the image's STOPSIGNAL
	// where a profile knows it, else SIGTERM.
	kubelet := Signal{Name: "SIGTERM", Source: "the kubelet's default; an image STOPSIGNAL graceful does not know would win"}
	if s := node.GetStr(node.Get(c.Node, "lifecycle"), "stopSignal"); s != "" {
		kubelet = Signal{Name: s, Source: "lifecycle.stopSignal"}
	} else if s, who := imageStopSignal(o.Catalog, c.Image); s != "" {
		kubelet = Signal{Name: s, Source: "the image's STOPSIGNAL, " + who}
	}

	// The hook runs first; the kubelet signals when it returns, or when the
	// grace period runs out, giving the signal at least 2 s before SIGKILL.
	hookEnd := hook.DelaySeconds
	kill := grace
	if hookEnd >= grace && hook.Kind != "none" {
		hookEnd = grace
		kill = grace + MinSignalSeconds
	}
	out.KillSeconds = kill
	if hook.Kind != "none" && hook.DelaySeconds > 0 {
		text := fmt.Sprintf("the preStop hook's delay ends (%s)", hook.Text)
		if hook.DelaySeconds >= grace {
			text = fmt.Sprintf("the grace period (%d s) runs out during the preStop hook (%s): the kubelet signals anyway", grace, hook.Text)
		}
		if !hook.Exact() {
			text += "; at the earliest: graceful cannot tell how long " + strings.Join(hook.Unknown, ", ") + " takes"
		}
		t.add(Event{AtSeconds: min(hook.DelaySeconds, grace), AtLeast: !hook.Exact(), Event: EventPreStopEnd, Container: name, Text: text})
	}
	switch {
	case hook.Signal != "":
		out.Signal = Signal{Name: hook.Signal, AtSeconds: min(hook.DelaySeconds, grace), AtLeast: !hook.DelayExact, Source: "the preStop hook: " + hook.SignalVia}
		if !hook.WaitsForExit && hook.Exact() {
			// The hook returns at once, and the kubelet's signal follows.
			k := kubelet
			k.AtSeconds = out.Signal.AtSeconds
			if k.Name != out.Signal.Name {
				out.KubeletSignal = &k
			}
		}
	default:
		out.Signal = kubelet
		out.Signal.AtSeconds, out.Signal.AtLeast = hookEnd, !hook.Exact() && hookEnd < grace
	}
	sigText := fmt.Sprintf("%s to the container's main process; from %s", out.Signal.Name, out.Signal.Source)
	switch {
	case hook.WaitsForExit && hook.Signal != "":
		sigText += "; the hook then waits for it to exit, so the kubelet's own signal never comes first"
	case hook.Signal != "" && !hook.Exact():
		sigText += fmt.Sprintf("; the kubelet's %s follows when the hook returns, after %s, which graceful cannot time", kubelet.Name, strings.Join(hook.Unknown, "; "))
	case out.Signal.AtLeast:
		sigText += "; when the hook returns, after " + strings.Join(hook.Unknown, "; ") + ", which graceful cannot time"
	}
	t.add(Event{AtSeconds: out.Signal.AtSeconds, AtLeast: out.Signal.AtLeast, Event: EventSignal, Container: name, Text: sigText})
	if k := out.KubeletSignal; k != nil {
		t.add(Event{AtSeconds: k.AtSeconds, Event: EventSignal, Container: name, Text: fmt.Sprintf(
			"%s right after, as the hook returned without waiting for the exit; from %s", k.Name, k.Source)})
	}

	out.StopsBySeconds = kill
	if p != nil {
		drain, source, byUser := appDrain(c, p, out.Signal.Name)
		contrary := transformers.ContrarySettings(c, p)
		for _, m := range contrary {
			if !m.Missing {
				// The application stops at once: there is no drain to wait for.
				drain, source, byUser = 0, fmt.Sprintf("%s is %q (%s): it stops at once", m.Name, m.Value, m.Spelling), true
			}
		}
		out.DrainSeconds, out.DrainSource, out.DrainSetByUser = &drain, source, byUser
		end := out.Signal.AtSeconds + drain
		out.StopsBySeconds = min(end, kill)
		text := fmt.Sprintf("the application has drained, at the latest (%d s: %s)", drain, source)
		if end > kill {
			text += fmt.Sprintf("; but SIGKILL comes at %d s", kill)
		}
		t.add(Event{AtSeconds: end, AtLeast: out.Signal.AtLeast, Event: EventDrainEnd, Container: name, Text: text})
		for _, m := range contrary {
			if m.Missing {
				t.Notes = append(t.Notes, fmt.Sprintf("container %q: %s is not set (the %s profile sets it to %s): the application may not drain as the profile expects", name, m.Name, p.Name, m.Want))
				continue
			}
			t.conflict(CodeFastStop, name, out.Signal.AtSeconds, "%q stops at once on %s: %s is %q (%s), not %q, so requests in flight are cut",
				name, out.Signal.Name, m.Name, m.Value, m.Spelling, m.Want)
		}
		t.checkContainer(out, p, hook, kubelet, brokenWait)
	} else if out.Serving && routed && hook.Kind == "none" && out.PreStop.Broken == "" && c.Name != transformers.IstioProxy {
		t.conflict(CodeNoDelay, name, 0, "container %q serves a Service (it declares a port) and has no preStop delay: it gets %s at once, while the endpoint removal is still on its way, so requests reach a stopping process",
			name, out.Signal.Name)
	}
	// Without a profile the drain is unknown: only a hook that leaves the
	// application less than the kubelet's minimum is sure to cut requests.
	if p == nil && !brokenWait && hook.DelaySeconds > 0 && hook.DelaySeconds+MinSignalSeconds > grace {
		t.conflict(CodeGraceShort, name, grace, "the preStop hook of %q waits %d s, and the grace period is %d s: the application gets its signal only %d s before SIGKILL; give the grace period the delay and the drain",
			name, hook.DelaySeconds, grace, kill-min(hook.DelaySeconds, grace))
	}
	t.add(Event{AtSeconds: kill, Event: EventSIGKILL, Container: name, Text: fmt.Sprintf("SIGKILL if %q still runs: the grace period of %d s ends (%s)", name, grace, t.GraceSource)})
	return out
}

// checkContainer finds the conflicts of a profiled container.
func (t *Timeline) checkContainer(c Container, p *profiles.Profile, hook transformers.Hook, kubelet Signal, brokenWait bool) {
	name := c.Name
	drain := *c.DrainSeconds
	need := hook.DelaySeconds + drain + p.HeadroomSeconds
	if need > t.GraceSeconds && !brokenWait {
		budget := fmt.Sprintf("delay %d s + drain %d s", hook.DelaySeconds, drain)
		if p.HeadroomSeconds > 0 {
			budget += fmt.Sprintf(" + headroom %d s", p.HeadroomSeconds)
		}
		t.conflict(CodeGraceShort, name, t.GraceSeconds, "grace period %d s is shorter than %s = %d s: SIGKILL cuts the application's drain",
			t.GraceSeconds, budget, need)
	}
	// A hook graceful cannot read before its signal may well wait: no guess there.
	if p.PreStopDelaySeconds > 0 && c.Signal.AtSeconds == 0 && hook.DelayExact {
		t.conflict(CodeNoDelay, name, 0, "no preStop delay: %q gets %s at once, while the endpoint removal is still on its way, so requests reach a stopping process (the %s profile waits %d s)",
			name, c.Signal.Name, p.Name, p.PreStopDelaySeconds)
	}
	for _, s := range []*Signal{&c.Signal, c.KubeletSignal} {
		if s == nil {
			continue
		}
		switch {
		case p.Forbids(s.Name):
			t.conflict(CodeFastStop, name, s.AtSeconds, "%q gets %s (%s), which the %s profile never sends: it stops the application abruptly; it stops gracefully on %s",
				name, s.Name, s.Source, p.Name, p.StopSignal)
		case !p.DrainsOn(s.Name) && (p.SignalPID1 || s == c.KubeletSignal):
			t.conflict(CodeFastStop, name, s.AtSeconds, "%q gets %s (%s), not %s, which the %s profile stops it with: %s",
				name, s.Name, s.Source, p.StopSignal, p.Name, fastStopWhy(p, s == c.KubeletSignal))
		}
	}
}

func fastStopWhy(p *profiles.Profile, afterHook bool) string {
	if afterHook {
		return "it comes while the application is still stopping gracefully, and turns that into a fast stop"
	}
	return "the application may treat it as a fast stop"
}

// appDrain is the application's drain bound: a setting the container makes
// (the profile's drain env var or a drain flag), else the profile's own, on
// the signal that starts it; byUser says it is the container's setting.
func appDrain(c transformers.Container, p *profiles.Profile, signal string) (seconds int, source string, byUser bool) {
	if secs, spelling, ok := transformers.UserDrain(c, p); ok {
		return secs, spelling, true
	}
	if d := p.DrainOn(signal); d < p.DrainSeconds {
		return d, fmt.Sprintf("the %s profile's drainingSignalsSeconds: at most %d s on %s", p.Name, d, signal), false
	}
	return p.DrainSeconds, "the " + p.Name + " profile's drainSeconds", false
}

// imageStopSignal is the STOPSIGNAL a profile's data knows the image to
// have, and which profile knows it.
func imageStopSignal(catalog *profiles.Catalog, image string) (signal, profile string) {
	if catalog == nil {
		catalog = profiles.Builtin()
	}
	for _, name := range catalog.Names() {
		p, _ := catalog.Get(name)
		if s := p.KnownStopSignal(image); s != "" {
			return s, "as the " + name + " profile's imageStopSignals know it"
		}
	}
	return "", ""
}

// loadBalancers reads the drain of each load balancer Service selecting the pod.
func (t *Timeline) loadBalancers(services []Service, providers []string, p *profiles.Profile, servingEnd int) {
	for _, s := range services {
		if s.Type != "LoadBalancer" {
			continue
		}
		drains := transformers.ReadServiceDrain(s.Annotations, s.Class)
		if s.Broken != "" {
			// The controller rejects the setting: no drain to count on.
			t.LoadBalancers = append(t.LoadBalancers, LoadBalancer{Service: s.Name, Rejected: true,
				Source: "graceful check " + s.Broken})
			t.conflict(CodeBroken, "", 0, "load balancer %s may not drain at all, as the controller rejects its drain setting; graceful check %s", s.Name, s.Broken)
			continue
		}
		if len(drains) == 0 {
			for _, name := range providers {
				if d, ok := transformers.DefaultServiceDrain(name, s.Annotations, s.Class); ok {
					drains = append(drains, d)
				}
			}
		}
		if len(drains) == 0 {
			t.LoadBalancers = append(t.LoadBalancers, LoadBalancer{Service: s.Name,
				Source: "no drain annotation of any provider graceful knows: the load balancer's default (often none: connections end at deregistration)"})
			continue
		}
		for _, d := range drains {
			lb := LoadBalancer{Service: s.Name, Provider: d.Provider, On: d.On, Seconds: d.Seconds, Known: d.Known, Source: d.Source}
			if d.UntilGone {
				lb.Seconds, lb.Known = max(t.EndSeconds, servingEnd), true
				lb.Source += " (drains until the pod is gone)"
			}
			t.LoadBalancers = append(t.LoadBalancers, lb)
			if !lb.Known {
				continue
			}
			what := fmt.Sprintf("load balancer %s (%s) ends its drain: connections still open to the pod are closed (%s)", s.Name, d.Provider, lb.Source)
			if !lb.On {
				what = fmt.Sprintf("load balancer %s (%s) drains nothing: connections to the pod end at deregistration (%s)", s.Name, d.Provider, lb.Source)
			}
			if d.Provider == "aws" {
				targets := "a classic load balancer's targets are nodes"
				if strings.TrimSpace(s.Annotations[transformers.Providers["aws"].TypeAnnotation]) == "nlb" {
					targets = "an NLB of cloud-provider-aws registers nodes (instance targets)"
				}
				what += "; " + targets + ", so this is what a node drain or scale-in does to the pods on it"
			}
			t.add(Event{AtSeconds: lb.Seconds, Event: EventLBDrainEnd, Text: what})
			if (p == nil || p.TakesLoadBalancerDrain()) && lb.Seconds < servingEnd {
				drains := fmt.Sprintf("drains for %d s", lb.Seconds)
				if !lb.On {
					drains = "does not drain"
				}
				t.conflict(CodeLBDrainShort, "", lb.Seconds, "load balancer %s (%s) %s, but the pod serves until %d s: it closes connections the pod is still finishing (the drain should be at least the grace period, %d s)",
					s.Name, d.Provider, drains, servingEnd, t.GraceSeconds)
			}
		}
	}
}

// sidecar places the Istio proxy's exit.
func (t *Timeline) sidecar(sc transformers.Sidecar, w Workload, appEnd int) {
	switch sc.Kind {
	case "":
		return
	case "native":
		t.Sidecar = &Sidecar{Kind: "native", ExitSeconds: t.EndSeconds, Source: "a native sidecar stops after the application's containers"}
		t.add(Event{AtSeconds: t.EndSeconds, Event: EventSidecarExit, Text: "the native Istio sidecar stops, after the application's containers"})
		return
	}
	delay := 0
	for _, c := range containersOf(w.Spec) {
		if c.Name == transformers.IstioProxy {
			delay = transformers.ReadPreStop(c.Node).DelaySeconds
		}
	}
	s := &Sidecar{Kind: "classic", DrainSeconds: sc.DrainSeconds, Source: sc.DrainSource, ExitOnZero: sc.ExitOnZero, ExitSeconds: delay + sc.DrainSeconds}
	t.Sidecar = s
	if sc.Unreadable != "" {
		s.Source = "Istio's default; graceful cannot read proxy.istio.io/config " + strconv.Quote(sc.Unreadable)
	}
	if sc.ExitOnZero {
		s.ExitSeconds = max(s.ExitSeconds, appEnd)
		t.add(Event{AtSeconds: s.ExitSeconds, Event: EventSidecarExit, Text: "the Istio sidecar leaves once its connections have ended (EXIT_ON_ZERO_ACTIVE_CONNECTIONS)"})
		return
	}
	t.add(Event{AtSeconds: s.ExitSeconds, Event: EventSidecarExit, Text: fmt.Sprintf("the classic Istio sidecar leaves after its terminationDrainDuration of %d s (%s): no traffic in or out of the pod after this", sc.DrainSeconds, s.Source)})
	t.EndSeconds = max(t.EndSeconds, s.ExitSeconds)
	if s.ExitSeconds < appEnd {
		t.conflict(CodeMeshDrainShort, "", s.ExitSeconds, "the classic Istio sidecar leaves at %d s, but the application waits and drains until %d s: its requests in flight and outbound calls fail after %d s (set terminationDrainDuration: %ds in proxy.istio.io/config)",
			s.ExitSeconds, appEnd, s.ExitSeconds, appEnd)
	}
}

// profileNotes say, from the profile's data, why a stateful or worker
// profile takes no load balancer drain, no delay and a long grace period.
func (t *Timeline) profileNotes(p *profiles.Profile) {
	if p == nil {
		return
	}
	if !p.TakesLoadBalancerDrain() {
		t.Notes = append(t.Notes, "no load balancer drain: "+p.NoLoadBalancerDrain)
	}
	if p.PreStopDelaySeconds == 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("no preStop delay: the %s profile stops at once, as its clients do not reach it through an endpoint that must be drained first", p.Name))
	}
	if !p.TakesLoadBalancerDrain() || p.TerminationGracePeriodSeconds > DefaultGraceSeconds {
		budget := fmt.Sprintf("drain %d s", p.DrainSeconds)
		if p.PreStopDelaySeconds > 0 {
			budget = fmt.Sprintf("delay %d s + ", p.PreStopDelaySeconds) + budget
		}
		if p.HeadroomSeconds > 0 {
			budget += fmt.Sprintf(" + headroom %d s", p.HeadroomSeconds)
		}
		t.Notes = append(t.Notes, fmt.Sprintf("grace period: the %s profile's default budget is %d s (%s): %s", p.Name, p.TerminationGracePeriodSeconds, budget, p.Description))
	}
	for _, n := range p.Notes {
		t.Notes = append(t.Notes, "the "+p.Name+" profile: "+n)
	}
}
