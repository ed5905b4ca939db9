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
	text := istioDrainDurationKey + ": " + want
	annotationsNode, ok := node.EnsureMap(pod.Template, "metadata")
	if ok {
		annotationsNode, ok = node.EnsureMap(annotationsNode, "annotations")
	}
	if !ok {
		return nil, fieldError(strings.TrimPrefix(pod.TemplatePath+".metadata.annotations", "."), "expected a mapping")
	}
	value := node.NewStr(text)
	existing, merged := annotations[istioProxyConfig], false
	if strings.TrimSpace(existing) != "" {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(existing), &doc); err != nil || len(doc.Content) != 1 || !node.IsMap(doc.Content[0]) {
			return []Finding{warning(CodeMeshUnreadable, field, "cannot read the existing %s as a YAML mapping, so left it alone: the Istio sidecar leaves after its terminationDrainDuration (default 5 s) while the application needs %d s (delay %d s + drain %d s); add %s: %s to it",
				istioProxyConfig, need, s.PreStopDelaySeconds, s.DrainSeconds, istioDrainDurationKey, want)}, nil
		}
		config := doc.Content[0]
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
		if text, ok = addDrainDuration(existing, config, want); !ok {
			return []Finding{warning(CodeMeshUnreadable, field, "cannot add %s to the existing %s without rewriting it, so left it alone: the Istio sidecar leaves after its terminationDrainDuration (default 5 s) while the application needs %d s (delay %d s + drain %d s); add %s: %s to it",
				istioDrainDurationKey, istioProxyConfig, need, s.PreStopDelaySeconds, s.DrainSeconds, istioDrainDurationKey, want)}, nil
		}
		// The user's value keeps its style: only the added line is new.
		value = node.NewStr(text)
		if old := node.Get(annotationsNode, istioProxyConfig); old != nil && old.Kind == yaml.ScalarNode {
			value.Style = old.Style
		}
		if strings.Contains(text, "\n") && value.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
			value.Style = yaml.LiteralStyle // a one-line value that became two
		}
		merged = true
	}
	node.Set(annotationsNode, istioProxyConfig, value)
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

// addDrainDuration adds terminationDrainDuration to the user's proxy config
// as text: every other byte stays as the user wrote it. A JSON-like flow
// mapping gains an entry before its closing brace (on a line of its own when
// the brace is on one); a block mapping a line after its last one, at its
// keys' indentation. ok is false when the result does not read back as the
// user's mapping plus that one entry.
func addDrainDuration(existing string, config *yaml.Node, want string) (string, bool) {
	var text string
	if config.Style&yaml.FlowStyle != 0 {
		brace := strings.LastIndex(existing, "}")
		if brace < 0 {
			return "", false
		}
		entry := istioDrainDurationKey + ": " + want
		if len(config.Content) > 0 && config.Content[0].Style&yaml.DoubleQuotedStyle != 0 {
			entry = fmt.Sprintf("%q: %q", istioDrainDurationKey, want) // the user wrote JSON: it stays JSON
		}
		last := len(strings.TrimRight(existing[:brace], " \t\r\n"))
		switch {
		case len(config.Content) == 0:
			text = existing[:last] + entry + existing[last:]
		case strings.Contains(existing[last:brace], "\n"):
			lineStart := strings.LastIndex(existing[:last], "\n") + 1
			indent := existing[lineStart : lineStart+len(existing[lineStart:last])-len(strings.TrimLeft(existing[lineStart:last], " \t"))]
			text = existing[:last] + ",\n" + indent + entry + existing[last:]
		default:
			text = existing[:last] + ", " + entry + existing[last:]
		}
	} else {
		lines := strings.Split(existing, "\n")
		end := len(lines) - 1
		for end > 0 && strings.TrimSpace(lines[end]) == "" {
			end--
		}
		indent := strings.Repeat(" ", max(config.Content[0].Column-1, 0))
		added := indent + istioDrainDurationKey + ": " + want
		lines = append(lines[:end+1], append([]string{added}, lines[end+1:]...)...)
		text = strings.Join(lines, "\n")
	}
	var doc yaml.Node
	if yaml.Unmarshal([]byte(text), &doc) != nil || len(doc.Content) != 1 {
		return "", false
	}
	got := doc.Content[0]
	if got.Kind != yaml.MappingNode || len(got.Content) != len(config.Content)+2 {
		return "", false
	}
	for i, n := range config.Content {
		if !node.Equal(got.Content[i], n) {
			return "", false
		}
	}
	k, v := got.Content[len(got.Content)-2], got.Content[len(got.Content)-1]
	return text, k.Value == istioDrainDurationKey && v.Value == want
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
