package transformers

import (
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/profiles"
)

// This file reads back what the transformers write (and what users write in
// their place): a container's preStop hook, its Istio sidecar, a Service's
// drain annotations. `graceful explain` and `graceful check` build on it, so
// the knowledge of each hook's shape lives next to the code that writes it.

// Hook is what a container's preStop hook does, as far as graceful can read it.
type Hook struct {
	// Kind is none, sleep (the native action), exec, httpGet or tcpSocket.
	Kind string
	// DelaySeconds is the time the hook sleeps before it signals (or in all,
	// when it sends no signal).
	DelaySeconds int
	// Signal is what the hook sends to PID 1 (kill -QUIT 1), "" for none;
	// SignalVia says how (the command).
	Signal, SignalVia string
	// WaitsForExit: after the signal, the hook waits until PID 1 is gone, so
	// the kubelet's own stop signal never reaches the application.
	WaitsForExit bool
	// AfterSignal are the commands the hook runs after its signal, other
	// than the wait for the exit: where there are none, the hook returns at
	// once and the kubelet's signal follows.
	AfterSignal []string
	// Unknown are the commands whose duration or effect graceful cannot read:
	// the delay is then a lower bound.
	Unknown []string
	// DelayExact: nothing unknown runs before the signal (or in the whole
	// hook, when it sends none), so DelaySeconds is exact.
	DelayExact bool
	// Text is the hook in one line, for messages.
	Text string
}

// Exact reports whether the hook does nothing graceful cannot read.
func (h Hook) Exact() bool {
	return len(h.Unknown) == 0 && h.Kind != "httpGet" && h.Kind != "tcpSocket"
}

var (
	// waitForExitLoop is waitForExit, or a loop like it with another sleep.
	waitForExitLoop = lazyRegexp(`while\s+kill\s+-0\s+1(?:\s+2>\s*/dev/null)?\s*;\s*do\s+sleep\s+[0-9.]+\s*;\s*done`)
	sleepCommand    = lazyRegexp(`^(?:/usr)?(?:/bin/)?sleep\s+([0-9]+)s?$`)
	killPID1        = lazyRegexp(`^(?:/usr)?(?:/bin/)?kill\s+(?:(?:-s\s+|-n\s+|-)(?:SIG)?([A-Z][A-Z0-9]+|[0-9]+)\s+)?1$`)
	nginxSignal     = lazyRegexp(`^(?:\S*/)?nginx\s+(?:\S+\s+)*-s\s+(quit|stop)$`)
)

// signalNumbers are the Linux numbers of the signals a hook may name by number.
var signalNumbers = map[string]string{"1": "SIGHUP", "2": "SIGINT", "3": "SIGQUIT", "9": "SIGKILL", "10": "SIGUSR1", "12": "SIGUSR2", "15": "SIGTERM", "28": "SIGWINCH"}

// ReadPreStop reads a container's lifecycle.preStop. It is conservative:
// a command it does not know makes the delay a lower bound (Unknown), never a guess.
func ReadPreStop(container *yaml.Node) Hook {
	pre := node.Lookup(container, "lifecycle", "preStop")
	switch {
	case node.IsNull(pre):
		return Hook{Kind: "none", DelayExact: true}
	case node.Get(pre, "sleep") != nil:
		raw := node.Lookup(pre, "sleep", "seconds")
		secs, ok := node.Int(raw)
		if !ok {
			// No delay claim: an unreadable number is not 0 s.
			return Hook{Kind: "sleep", Text: "sleep action, seconds " + node.Str(raw) + " (unreadable)", Unknown: []string{"sleep.seconds " + node.Str(raw)}}
		}
		return Hook{Kind: "sleep", DelaySeconds: secs, DelayExact: true, Text: "sleep action, " + strconv.Itoa(secs) + " s"}
	case node.Get(pre, "httpGet") != nil:
		return Hook{Kind: "httpGet", Text: "httpGet " + node.GetStr(node.Get(pre, "httpGet"), "path"), Unknown: []string{"an HTTP request"}}
	case node.Get(pre, "tcpSocket") != nil:
		return Hook{Kind: "tcpSocket", Text: "tcpSocket", Unknown: []string{"a TCP connection"}}
	}
	var argv []string
	if cmd := node.Lookup(pre, "exec", "command"); node.IsSeq(cmd) {
		for _, a := range cmd.Content {
			argv = append(argv, a.Value)
		}
	}
	h := Hook{Kind: "exec", Text: strings.Join(argv, " ")}
	script := strings.Join(argv, " ")
	if len(argv) >= 3 && isShell(argv[0]) && strings.HasPrefix(argv[1], "-") && strings.Contains(argv[1], "c") {
		script = argv[2]
		h.Text = script
	}
	if waitForExitLoop().MatchString(script) {
		h.WaitsForExit = true
		script = waitForExitLoop().ReplaceAllString(script, ";")
	}
	elapsed, unknownFirst := 0, false
	for _, c := range splitCommands(script) {
		c = strings.Join(strings.Fields(c), " ")
		if h.Signal != "" {
			h.AfterSignal = append(h.AfterSignal, c)
		}
		if m := sleepCommand().FindStringSubmatch(c); m != nil {
			n, err := strconv.Atoi(m[1])
			if err == nil && n <= 86400 {
				elapsed += n
				if h.Signal == "" {
					h.DelaySeconds = elapsed
				}
				continue
			}
		}
		if h.Signal == "" {
			if m := killPID1().FindStringSubmatch(c); m != nil {
				h.Signal, h.SignalVia = signalName(m[1]), c
				continue
			}
			if m := nginxSignal().FindStringSubmatch(c); m != nil {
				// nginx -s signals the master, PID 1 in the images nginx's profile fits.
				h.Signal, h.SignalVia = map[string]string{"quit": "SIGQUIT", "stop": "SIGTERM"}[m[1]], c
				continue
			}
		}
		h.Unknown = append(h.Unknown, c)
		if h.Signal == "" {
			unknownFirst = true
		}
	}
	h.DelayExact = !unknownFirst
	if h.WaitsForExit && h.Signal == "" {
		// It blocks until PID 1 exits, which nothing asks it to: until the
		// grace period ends, not for its sleep alone.
		h.Unknown = append(h.Unknown, "a wait for PID 1 to exit, with no signal")
		h.DelayExact = false
	}
	return h
}

func isShell(arg string) bool {
	switch path.Base(arg) {
	case "sh", "bash", "ash", "dash", "zsh", "ksh":
		return true
	}
	return false
}

func signalName(s string) string {
	switch {
	case s == "":
		return "SIGTERM" // kill's default
	case signalNumbers[s] != "":
		return signalNumbers[s]
	case strings.HasPrefix(s, "SIG"):
		return s
	}
	return "SIG" + s
}

// Sidecar is a pod's Istio proxy as the manifest shows it.
type Sidecar struct {
	// Kind is "" (none seen), classic (a regular container, stopped with the
	// application) or native (an init container with restartPolicy: Always,
	// stopped after the application).
	Kind string
	// DrainSeconds is terminationDrainDuration: a classic proxy leaves that
	// long after its SIGTERM. DrainSource says where it was read.
	DrainSeconds int
	DrainSource  string
	// ExitOnZero: EXIT_ON_ZERO_ACTIVE_CONNECTIONS, the proxy leaves when its
	// connections end (after the drain duration at the least).
	ExitOnZero bool
	// Unreadable holds a proxy.istio.io/config graceful cannot read.
	Unreadable string
}

// IstioDefaultDrainSeconds is Istio's terminationDrainDuration.
const IstioDefaultDrainSeconds = istioDefaultDrain

// ReadIstioSidecar reads the pod template's Istio proxy: the same signs the
// Mesh transformer acts on.
func ReadIstioSidecar(template, spec *yaml.Node) Sidecar {
	meta := node.Get(template, "metadata")
	labels, annotations := node.Labels(node.Get(meta, "labels")), node.Labels(node.Get(meta, "annotations"))
	proxy := namedContainer(node.Get(spec, "containers"), IstioProxy)
	switch {
	case namedContainer(node.Get(spec, "initContainers"), IstioProxy) != nil || strings.EqualFold(annotations[istioNative], "true"):
		return Sidecar{Kind: "native"}
	case proxy == nil && (labels[istioInject] == "false" || annotations[istioInject] == "false"):
		return Sidecar{}
	case proxy == nil && labels[istioInject] != "true" && annotations[istioInject] != "true":
		return Sidecar{}
	}
	sc := Sidecar{Kind: "classic", DrainSeconds: istioDefaultDrain, DrainSource: "Istio's default; a mesh-wide meshConfig may set another"}
	if proxy != nil {
		for _, e := range envItems(proxy) {
			if node.GetStr(e, "name") == istioExitOnZero && !strings.EqualFold(node.GetStr(e, "value"), "false") {
				sc.ExitOnZero = true
			}
		}
	}
	existing := strings.TrimSpace(annotations[istioProxyConfig])
	if existing == "" {
		return sc
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(existing), &doc); err != nil || len(doc.Content) != 1 || !node.IsMap(doc.Content[0]) {
		sc.Unreadable = existing
		return sc
	}
	config := doc.Content[0]
	if v := node.Get(config, istioDrainDurationKey); v != nil {
		d, err := time.ParseDuration(node.Str(v))
		if err != nil {
			sc.Unreadable = istioDrainDurationKey + ": " + node.Str(v)
			return sc
		}
		sc.DrainSeconds = int((d + time.Second - 1) / time.Second)
		sc.DrainSource = "annotation " + istioProxyConfig + " " + istioDrainDurationKey + ": " + node.Str(v)
	}
	if v := node.Lookup(config, "proxyMetadata", istioExitOnZero); v != nil && !strings.EqualFold(node.Str(v), "false") {
		sc.ExitOnZero = true
	}
	return sc
}

// LBDrain is a load balancer's connection drain for the targets of a Service,
// as its annotations set it.
type LBDrain struct {
	Provider string
	// On: draining is on; Seconds is how long the load balancer keeps
	// serving a deregistered target's connections, where Known.
	On      bool
	Seconds int
	Known   bool
	// UntilGone: the drain lasts as long as the pod (Tencent's grace shutdown).
	UntilGone bool
	// Source names the annotation, or the provider's default.
	Source string
}

// ReadServiceDrain reads every provider's drain annotations on a Service
// (annotations and spec.loadBalancerClass). Providers it finds no sign of
// are left out; the result is sorted by provider.
func ReadServiceDrain(annotations map[string]string, class string) []LBDrain {
	var out []LBDrain
	for _, name := range ProviderNames() {
		p := Providers[name]
		if p.Unsupported != "" {
			continue
		}
		enable, timeout := p.Enable, p.Timeout
		if len(p.Legacy) == 2 && annotations[p.Enable] == "" && annotations[p.Timeout] == "" {
			enable, timeout = p.Legacy[0], p.Legacy[1]
		}
		switch {
		case p.Attributes != "":
			for _, kv := range strings.Split(annotations[p.Attributes], ",") {
				if k, v, _ := strings.Cut(kv, "="); strings.TrimSpace(k) == p.AttributeKey {
					if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
						out = append(out, LBDrain{Provider: name, Seconds: n, On: n > 0, Known: true, Source: p.Attributes + ": " + strings.TrimSpace(kv)})
					}
				}
			}
			if len(out) == 0 || out[len(out)-1].Provider != name {
				typ := strings.TrimSpace(annotations[awsType])
				if class == p.Class || slices.Contains(p.Manages, typ) && typ != "" {
					out = append(out, LBDrain{Provider: name, Seconds: 300, On: true, Known: true, Source: "AWS's default deregistration delay (no " + p.AttributeKey + ")"})
				}
			}
		case annotations[enable] != "" || annotations[timeout] != "" && timeout != "":
			d := LBDrain{Provider: name, Source: enable + ": " + strconv.Quote(annotations[enable])}
			if annotations[enable] == "" {
				d.Source = enable + " not set"
			}
			d.On = annotations[enable] == p.EnableValue
			if p.EnableValue == "true" {
				// cloud-provider-aws reads it with strconv.ParseBool: "True" and "1" are on too.
				d.On, _ = strconv.ParseBool(annotations[enable])
			}
			switch n, err := strconv.Atoi(strings.TrimSpace(annotations[timeout])); {
			case !d.On:
				d.Known = true // off: connections end at deregistration
			case timeout == "":
				d.UntilGone = true
			case err == nil:
				d.Seconds, d.Known = n, true
				d.Source += ", " + timeout + ": " + strconv.Quote(annotations[timeout])
			default:
				d.Source += " (no readable " + timeout + ": the controller's default)"
			}
			out = append(out, d)
		}
	}
	return out
}

// UserDrain is the drain time a container sets for its application, where
// the profile knows the setting: its drain env var under any spelling
// (Spring's timeout-per-shutdown-phase), or a drain flag (gunicorn
// --graceful-timeout). spelling says where it was read.
func UserDrain(c Container, p *profiles.Profile) (seconds int, spelling string, ok bool) {
	for _, v := range p.Env {
		if !v.Drain {
			continue
		}
		if set, found, err := userSetting(c, p, v); err == nil && found {
			if secs, parsed := ParseSpringDuration(set.value); parsed {
				return secs, set.spelling + " = " + set.value, true
			}
		}
	}
	argv, env := ContainerArgv(c), ContainerEnv(c)
	for i := range p.DrainFlags {
		if secs, spelling, found := p.DrainFlags[i].Seconds(argv, env); found {
			return secs, spelling, true
		}
	}
	return 0, "", false
}

// AppSetting is one of a profile's in-app settings (other than the drain
// time) as a container makes it, where it differs from the profile's.
type AppSetting struct {
	// Name is the setting (server.shutdown), Want the profile's value.
	Name, Want string
	// Missing: the container does not make it; else Value is what it sets, and Spelling where.
	Missing         bool
	Value, Spelling string
}

// ContrarySettings lists the profile's in-app settings (other than the
// drain time) that the container does not make, or makes otherwise: there
// the application may not stop as the profile expects (Spring with
// server.shutdown=immediate stops at once).
func ContrarySettings(c Container, p *profiles.Profile) []AppSetting {
	var out []AppSetting
	for _, v := range p.Env {
		if v.Drain {
			continue
		}
		name := v.Name
		if v.Property != "" {
			name = v.Property
		}
		switch set, found, err := userSetting(c, p, v); {
		case err != nil || set.value == "(valueFrom)":
		case !found:
			out = append(out, AppSetting{Name: name, Want: v.Value, Missing: true})
		case set.value != v.Value:
			out = append(out, AppSetting{Name: name, Want: v.Value, Value: set.value, Spelling: set.spelling})
		}
	}
	return out
}

// DefaultServiceDrain is the drain of a Service that sets none, where the
// provider's controller manages it: off for the providers with an enable
// annotation (their default), AWS's 300 s for the AWS Load Balancer
// Controller and for an NLB of cloud-provider-aws.
func DefaultServiceDrain(provider string, annotations map[string]string, class string) (LBDrain, bool) {
	p, ok := Providers[provider]
	if !ok || p.Unsupported != "" {
		return LBDrain{}, false
	}
	meta := node.NewMap()
	if len(annotations) > 0 {
		a := node.NewMap()
		for _, k := range slices.Sorted(maps.Keys(annotations)) {
			a.Content = append(a.Content, node.NewStr(k), node.NewStr(annotations[k]))
		}
		node.Set(meta, "annotations", a)
	}
	if (provider == "aws" || provider == "aws-lbc") && class == "" && strings.TrimSpace(annotations[awsType]) == "nlb" {
		// cloud-provider-aws creates an NLB's target groups without a
		// deregistration delay (ensureTargetGroup): AWS's default holds.
		return LBDrain{Provider: "aws", On: true, Seconds: 300, Known: true, Source: "an NLB of cloud-provider-aws (" + awsType + ": nlb) sets no deregistration delay: AWS's default of 300 s"}, true
	}
	if _, manages := p.guard(node.Get(meta, "annotations"), class, "metadata"); !manages {
		return LBDrain{}, false
	}
	if p.Enable == "" {
		return LBDrain{Provider: provider, On: true, Seconds: 300, Known: true, Source: "AWS's default deregistration delay (no " + p.AttributeKey + ")"}, true
	}
	return LBDrain{Provider: provider, Known: true, Source: "no " + p.Enable + ": the provider's default, off"}, true
}
