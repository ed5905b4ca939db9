package transformers

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
)

// IstioSidecar is what a pod template says of its classic Istio sidecar's
// drain, read as Mesh reads it: for audits that change nothing.
type IstioSidecar struct {
	// Classic: a sidecar that gets SIGTERM with the application (not native).
	Classic bool
	// DrainSeconds is its terminationDrainDuration: the user's, else Istio's 5 s.
	DrainSeconds int
	// Field is where the drain is set (or would be).
	Field string
	// WaitsForConnections: EXIT_ON_ZERO_ACTIVE_CONNECTIONS, the proxy stays
	// while connections are open, so no fixed drain applies.
	WaitsForConnections bool
	// Unreadable: proxy.istio.io/config or its duration cannot be read.
	Unreadable bool
}

// IstioSidecarOf reads a pod template (metadata and spec) at templatePath.
func IstioSidecarOf(template *yaml.Node, templatePath string) IstioSidecar {
	meta, spec := node.Get(template, "metadata"), node.Get(template, "spec")
	labels, annotations := node.Labels(node.Get(meta, "labels")), node.Labels(node.Get(meta, "annotations"))
	proxy := namedContainer(node.Get(spec, "containers"), IstioProxy)
	s := IstioSidecar{DrainSeconds: istioDefaultDrain,
		Field: strings.TrimPrefix(templatePath+".metadata.annotations."+istioProxyConfig, ".")}
	switch {
	case namedContainer(node.Get(spec, "initContainers"), IstioProxy) != nil || strings.EqualFold(annotations[istioNative], "true"):
		return s
	case proxy == nil && labels[istioInject] != "true" && annotations[istioInject] != "true":
		return s
	}
	s.Classic = true
	for _, e := range envItems(proxy) {
		if node.GetStr(e, "name") == istioExitOnZero {
			s.WaitsForConnections = true
		}
	}
	existing := strings.TrimSpace(annotations[istioProxyConfig])
	if existing == "" {
		return s
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(existing), &doc); err != nil || len(doc.Content) != 1 || !node.IsMap(doc.Content[0]) {
		s.Unreadable = true
		return s
	}
	config := doc.Content[0]
	if node.Lookup(config, "proxyMetadata", istioExitOnZero) != nil {
		s.WaitsForConnections = true
	}
	if v := node.Get(config, istioDrainDurationKey); v != nil {
		d, err := time.ParseDuration(node.Str(v))
		if err != nil {
			s.Unreadable = true
			return s
		}
		s.DrainSeconds = int(d / time.Second)
	}
	return s
}
