package audit

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/transformers"
)

// service is a Service of the input and the workloads it selects.
type service struct {
	obj       render.Object
	typ       string
	selector  map[string]string
	targets   []string // target ports: numbers or names
	workloads []*workload
	// publishNotReady: the Service lists pods whatever their readiness.
	publishNotReady bool
}

func newService(o render.Object) *service {
	spec := node.Get(o.Node, "spec")
	s := &service{obj: o, typ: node.GetStr(spec, "type"), selector: node.Labels(node.Get(spec, "selector"))}
	s.publishNotReady, _ = node.Bool(node.Get(spec, "publishNotReadyAddresses"))
	if ports := node.Get(spec, "ports"); node.IsSeq(ports) {
		for _, p := range ports.Content {
			t := node.GetStr(p, "targetPort")
			if t == "" {
				t = node.GetStr(p, "port")
			}
			s.targets = append(s.targets, t)
		}
	}
	return s
}

// selects reports whether the Service routes to the workload's pods.
func (s *service) selects(w *workload) bool {
	if len(s.selector) == 0 || len(w.labels) == 0 || s.obj.Ref.Namespace != w.obj.Ref.Namespace {
		return false
	}
	for k, v := range s.selector {
		if got, ok := w.labels[k]; !ok || got != v {
			return false
		}
	}
	return true
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
				if slices.Contains(s.targets, p.number) || (p.name != "" && slices.Contains(s.targets, p.name)) {
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

// hook is a container's preStop hook as check reads it.
type hook struct {
	node *yaml.Node
	// kind: "", "sleep", "exec", "httpGet", "tcpSocket".
	kind string
	// argv of an exec hook; script is the shell script where argv is
	// `sh -c SCRIPT`, else argv joined.
	argv   []string
	script string
	shell  bool
	// delay is the wait before anything else the hook does; known is false
	// where the hook does something check cannot read (a script file).
	delay int
	known bool
}

func preStopOf(c transformers.Container) hook {
	n := node.Lookup(c.Node, "lifecycle", "preStop")
	h := hook{node: n, known: true}
	if node.IsNull(n) {
		return h
	}
	switch {
	case node.Get(n, "sleep") != nil:
		h.kind = "sleep"
		h.delay, h.known = node.Int(node.Lookup(n, "sleep", "seconds"))
	case node.Get(n, "exec") != nil:
		h.kind = "exec"
		if seq := node.Lookup(n, "exec", "command"); node.IsSeq(seq) {
			for _, a := range seq.Content {
				h.argv = append(h.argv, node.Str(a))
			}
		}
		h.script = strings.Join(h.argv, " ")
		if len(h.argv) >= 3 && isShell(h.argv[0]) && strings.HasPrefix(h.argv[1], "-") && strings.Contains(h.argv[1], "c") {
			h.script, h.shell = h.argv[2], true
		}
		h.delay, h.known = scriptDelay(h.script)
	case node.Get(n, "httpGet") != nil:
		h.kind, h.known = "httpGet", false
	default:
		h.kind, h.known = "other", false
	}
	return h
}

func isShell(argv0 string) bool {
	switch path.Base(argv0) {
	case "sh", "bash", "ash", "dash", "zsh", "ksh", "busybox":
		return true
	}
	return false
}

// plainCommands are the commands whose effect on the timing check can read:
// anything else (a script file, a curl) may wait for its own reasons.
var plainCommands = map[string]bool{"sleep": true, "kill": true, "nginx": true, "while": true, "do": true, "done": true,
	"wait": true, "true": true, "exit": true, "echo": true, "until": true}

// scriptDelay is the total of the `sleep N` commands a script starts with;
// known is false where it runs something else check cannot time.
func scriptDelay(script string) (delay int, known bool) {
	known = true
	leading := true
	for _, cmd := range splitCommands(script) {
		words := strings.Fields(cmd)
		if len(words) == 0 {
			continue
		}
		name := path.Base(words[0])
		if name == "sleep" && leading && len(words) == 2 {
			if n, err := strconv.ParseFloat(strings.TrimSuffix(words[1], "s"), 64); err == nil {
				delay += int(n)
				continue
			}
		}
		leading = false
		if !plainCommands[name] {
			known = false
		}
	}
	return delay, known
}

// splitCommands splits a shell script at newlines, `;`, `&&` and `||`
// outside quotes.
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
		case (r == '&' || r == '|') && i+1 < len(runes) && runes[i+1] == r:
			flush()
			i++
			continue
		}
		cur.WriteRune(r)
	}
	flush()
	return out
}

// maxDelay is the longest known preStop delay of the pod's regular containers.
func (w *workload) maxDelay() int {
	d := 0
	for _, c := range w.pod.Containers {
		if c.Name == transformers.IstioProxy {
			continue
		}
		if h := preStopOf(c); h.delay > d {
			d = h.delay
		}
	}
	return d
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
