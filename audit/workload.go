package audit

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/timeline"
	"github.com/graceful-dev/graceful/transformers"
)

// service is a Service of the input and the workloads it selects; what
// it routes where is the timeline's reading (timeline.ReadService).
type service struct {
	timeline.Service
	obj       render.Object
	workloads []*workload
	// publishNotReady: the Service lists pods whatever their readiness.
	publishNotReady bool
	// covered are the providers a drain finding already names: the
	// timeline's GS301 for them says the same (nil: not a load balancer
	// check asks a drain of).
	covered map[string]bool
}

func newService(o render.Object) *service {
	s := &service{Service: timeline.ReadService(o.Node), obj: o}
	s.publishNotReady, _ = node.Bool(node.Lookup(o.Node, "spec", "publishNotReadyAddresses"))
	return s
}

// selects reports whether the Service routes to the workload's pods.
func (s *service) selects(w *workload) bool {
	return s.Selects(w.obj.Ref.Namespace, w.labels)
}

// serving is a container that takes requests, and how we know.
type serving struct {
	c transformers.Container
	// why: "Service web routes to its port 80", "declares containerPort 8080".
	why string
	// routed: a Service of the input sends it traffic. Without one, the
	// container only declares a port, and findings are milder (info).
	routed bool
	// readinessIgnored: the Service routes to it ready or not
	// (publishNotReadyAddresses), as peers of a StatefulSet find each other.
	readinessIgnored bool
}

// metricsPort names a port that only monitoring reads: a scrape that
// fails during a rollout is no dropped user request.
var metricsPort = regexp.MustCompile(`(?i)metric|prom|monitor|health|probe|pprof|profil|debug`)

// servingContainers are the containers that take requests: those a Service
// of the input routes to (by target port), else, under such a Service, those
// that declare a port (or the first); without one, those that declare a port
// other than a metrics port. Never a batch pod, a Helm hook or istio-proxy.
func (w *workload) servingContainers() []serving {
	if w.idle() != "" || len(w.pod.Containers) == 0 {
		return nil
	}
	if w.pod.Template == nil {
		// A TidbCluster: tidb-operator puts its tidb servers behind a Service.
		return []serving{{c: w.pod.Containers[0], routed: true, why: "the tidb server of a TidbCluster, behind the Service tidb-operator makes"}}
	}
	var all []transformers.Container
	for _, c := range w.pod.Containers {
		if c.Name != transformers.IstioProxy {
			all = append(all, c)
		}
	}
	if len(all) == 0 {
		return nil
	}
	var out []serving
	for _, s := range w.services {
		if metricsOnly(s) {
			continue
		}
		for _, c := range all {
			for _, p := range containerPorts(c) {
				if metricsPort.MatchString(p.name) {
					continue // a Service that also exposes the metrics of an exporter sidecar
				}
				if slices.Contains(s.TargetPorts, p.number) || (p.name != "" && slices.Contains(s.TargetPorts, p.name)) {
					if !slices.ContainsFunc(out, func(x serving) bool { return x.c.Name == c.Name }) {
						out = append(out, serving{c: c, routed: true, readinessIgnored: s.publishNotReady,
							why: fmt.Sprintf("Service %s routes to its port %s", s.obj.Ref.Name, p.label())})
					}
				}
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, s := range w.services {
		if metricsOnly(s) {
			continue
		}
		for _, c := range all {
			if len(containerPorts(c)) > 0 {
				out = append(out, serving{c: c, routed: true, readinessIgnored: s.publishNotReady, why: fmt.Sprintf("Service %s selects its pods", s.obj.Ref.Name)})
			}
		}
		if len(out) == 0 {
			out = append(out, serving{c: all[0], routed: true, readinessIgnored: s.publishNotReady, why: fmt.Sprintf("Service %s selects its pods", s.obj.Ref.Name)})
		}
		return out
	}
	for _, c := range all {
		for _, p := range containerPorts(c) {
			if p.protocol != "UDP" && !metricsPort.MatchString(p.name) {
				out = append(out, serving{c: c, why: "declares containerPort " + p.label()})
				break
			}
		}
	}
	return out
}

// metricsOnly: a Service whose every port is a metrics port by name.
func metricsOnly(s *service) bool {
	spec := node.Get(s.obj.Node, "spec")
	ports := node.Get(spec, "ports")
	if !node.IsSeq(ports) || len(ports.Content) == 0 {
		return false
	}
	for _, p := range ports.Content {
		name := node.GetStr(p, "name") + " " + node.GetStr(p, "targetPort")
		if !metricsPort.MatchString(name) {
			return false
		}
	}
	return true
}

type port struct{ number, name, protocol string }

func (p port) label() string {
	if p.name != "" {
		return p.number + "/" + p.name
	}
	return p.number
}

func containerPorts(c transformers.Container) []port {
	var out []port
	if ports := node.Get(c.Node, "ports"); node.IsSeq(ports) {
		for _, p := range ports.Content {
			out = append(out, port{number: node.GetStr(p, "containerPort"), name: node.GetStr(p, "name"), protocol: node.GetStr(p, "protocol")})
		}
	}
	return out
}

// preStopNode is a container's preStop hook, for the line of a finding;
// transformers.ReadPreStop reads what it does.
func preStopNode(c transformers.Container) *yaml.Node {
	return node.Lookup(c.Node, "lifecycle", "preStop")
}

// allContainers are the regular containers and the init containers (native
// sidecars run hooks too).
func (w *workload) allContainers() []transformers.Container {
	out := slices.Clone(w.pod.Containers)
	if init := node.Get(w.pod.Spec, "initContainers"); node.IsSeq(init) {
		for i, c := range init.Content {
			name := node.GetStr(c, "name")
			p := w.pod.SpecPath + ".initContainers[name=" + name + "]"
			if name == "" {
				p = w.pod.SpecPath + ".initContainers[" + strconv.Itoa(i) + "]"
			}
			out = append(out, transformers.Container{Node: c, Path: p, Name: name, Image: node.GetStr(c, "image")})
		}
	}
	return out
}
