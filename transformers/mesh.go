package transformers

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
)

// Mesh keeps an Istio sidecar alive while the application drains. A classic
// sidecar (a regular container) gets SIGTERM with the application, drains its
// inbound listeners and exits after terminationDrainDuration (5 s): an
// application that waits and drains longer loses its outbound calls. Mesh
// sets terminationDrainDuration to the delay plus the drain in the pod's
// proxy.istio.io/config, merged into the user's value. A native sidecar (an
// init container with restartPolicy: Always) stops after the application and
// needs nothing.
type Mesh struct{}

var _ Transformer = Mesh{}

const (
	istioInject      = "sidecar.istio.io/inject"
	istioNative      = "sidecar.istio.io/nativeSidecar"
	istioProxyConfig = "proxy.istio.io/config"
	// IstioProxy is the name Istio gives its sidecar container.
	IstioProxy = "istio-proxy"
	// istioDefaultDrain is Istio's terminationDrainDuration.
	istioDefaultDrain     = 5
	istioExitOnZero       = "EXIT_ON_ZERO_ACTIVE_CONNECTIONS"
	istioDrainDurationKey = "terminationDrainDuration"
)

func (Mesh) Transform(pod *Pod, s *Settings) ([]Finding, error) {
	if pod.Template == nil {
		return nil, nil
	}
	meta := node.Get(pod.Template, "metadata")
	labels, annotations := node.Labels(node.Get(meta, "labels")), node.Labels(node.Get(meta, "annotations"))
	proxy := namedContainer(node.Get(pod.Spec, "containers"), IstioProxy)
	switch {
	case namedContainer(node.Get(pod.Spec, "initContainers"), IstioProxy) != nil || strings.EqualFold(annotations[istioNative], "true"):
		return nil, nil // a native sidecar outlives the application by itself
	case proxy == nil && (labels[istioInject] == "false" || annotations[istioInject] == "false"):
		return nil, nil
	case proxy == nil && labels[istioInject] != "true" && annotations[istioInject] != "true":
		return nil, nil
	}
	need := s.PreStopDelaySeconds + s.DrainSeconds
	if need <= istioDefaultDrain {
		return nil, nil
	}
	field := strings.TrimPrefix(pod.TemplatePath+".metadata.annotations."+istioProxyConfig, ".")
	if proxy != nil {
		for _, e := range envItems(proxy) {
			if node.GetStr(e, "name") == istioExitOnZero {
				return nil, nil // the user's choice: the proxy waits for the connections to end
			}
		}
	}
	want := fmt.Sprintf("%ds", need)
	config := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if existing, ok := annotations[istioProxyConfig]; ok && strings.TrimSpace(existing) != "" {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(existing), &doc); err != nil || len(doc.Content) != 1 || !node.IsMap(doc.Content[0]) {
			return []Finding{warning(CodeMeshUnreadable, field, "cannot read the existing %s as a YAML mapping, so left it alone: the Istio sidecar leaves after its terminationDrainDuration (default 5 s) while the application needs %d s (delay %d s + drain %d s); add %s: %s to it",
				istioProxyConfig, need, s.PreStopDelaySeconds, s.DrainSeconds, istioDrainDurationKey, want)}, nil
		}
		config = doc.Content[0]
		if v := node.Get(config, istioDrainDurationKey); v != nil {
			d, err := time.ParseDuration(node.Str(v))
			if err != nil || d < time.Duration(need)*time.Second {
				return []Finding{warning(CodeMeshKept, field, "kept the user's %s %s; the application needs the sidecar for %d s (delay %d s + drain %d s)",
					istioDrainDurationKey, node.Str(v), need, s.PreStopDelaySeconds, s.DrainSeconds)}, nil
			}
			return nil, nil
		}
		if v := node.Lookup(config, "proxyMetadata", istioExitOnZero); v != nil {
			return nil, nil
		}
	}
	key, value := node.NewStr(istioDrainDurationKey), node.NewStr(want)
	merged := len(config.Content) > 0
	if config.Style&yaml.FlowStyle != 0 { // the user wrote JSON: it stays JSON
		key.Style, value.Style = yaml.DoubleQuotedStyle, yaml.DoubleQuotedStyle
	}
	config.Content = append(config.Content, key, value)
	out, err := yaml.Marshal(config)
	if err != nil {
		return nil, err
	}
	text := strings.TrimSuffix(string(out), "\n")
	annotationsNode, ok := node.EnsureMap(pod.Template, "metadata")
	if ok {
		annotationsNode, ok = node.EnsureMap(annotationsNode, "annotations")
	}
	if !ok {
		return nil, fieldError(strings.TrimPrefix(pod.TemplatePath+".metadata.annotations", "."), "expected a mapping")
	}
	node.Set(annotationsNode, istioProxyConfig, node.NewStr(text))
	how := "terminationDrainDuration " + want
	if merged {
		how += ", added to the existing value"
	}
	f := changed(CodeMeshDrainSet, field, "%s: the classic Istio sidecar stays for the delay %d s + drain %d s instead of its default 5 s, so the application keeps its outbound calls while it drains; "+
		"the proxy waits that long on every stop (proxyMetadata EXIT_ON_ZERO_ACTIVE_CONNECTIONS: \"true\" lets it leave when its connections end)",
		how, s.PreStopDelaySeconds, s.DrainSeconds)
	f.Proposed = text
	return []Finding{f}, nil
}

// namedContainer finds a container by name in a containers sequence.
func namedContainer(seq *yaml.Node, name string) *yaml.Node {
	if !node.IsSeq(seq) {
		return nil
	}
	for _, c := range seq.Content {
		if node.GetStr(c, "name") == name {
			return c
		}
	}
	return nil
}

func envItems(c *yaml.Node) []*yaml.Node {
	if env := node.Get(c, "env"); node.IsSeq(env) {
		return env.Content
	}
	return nil
}
