package transformers

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
)

// Provider is how one cloud's load balancer is told to drain connections of a
// deregistered target, as Service annotations.
type Provider struct {
	Name string
	// Enable is set to EnableValue to switch draining on.
	Enable, EnableValue string
	// Timeout holds the drain timeout in seconds, within Min-Max.
	Timeout string
	// Attributes is a comma-separated k=v annotation that AttributeKey is merged into.
	Attributes, AttributeKey string
	Min, Max                 int
	// Requires names an annotation value draining depends on, which graceful
	// does not set because it changes how traffic flows.
	Requires, RequiresValue string
	// Unsupported explains why nothing is written for this provider.
	Unsupported string
	// NotFor names an annotation and the values with which the Service is a
	// load balancer these annotations do not drive, and says what does.
	NotFor, NotForValues, NotForHint string
}

// Providers is every provider graceful knows, by name.
var Providers = map[string]Provider{
	"alibaba": {
		Name:   "alibaba",
		Enable: "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-connection-drain", EnableValue: "on",
		Timeout: "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-connection-drain-timeout", Min: 10, Max: 900,
	},
	"aws": {
		Name:   "aws",
		Enable: "service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled", EnableValue: "true",
		Timeout: "service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout", Min: 1, Max: 3600,
		NotFor: "service.beta.kubernetes.io/aws-load-balancer-type", NotForValues: "nlb nlb-ip external",
		NotForHint: "connection draining is a Classic Load Balancer setting; an NLB drains by its target group's deregistration delay (--provider aws-lbc)",
	},
	"aws-lbc": {
		Name:       "aws-lbc",
		Attributes: "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes", AttributeKey: "deregistration_delay.timeout_seconds",
		Min: 0, Max: 3600,
	},
	"tencent": {
		Name:   "tencent",
		Enable: "service.cloud.tencent.com/enable-grace-shutdown", EnableValue: "true",
		Requires: "service.cloud.tencent.com/direct-access", RequiresValue: "true",
	},
	"huawei": {
		Name:   "huawei",
		Enable: "kubernetes.io/elb.connection-drain-enable", EnableValue: "true",
		Timeout: "kubernetes.io/elb.connection-drain-timeout", Min: 0, Max: 300,
	},
	"gcp": {
		Name:        "gcp",
		Unsupported: "GCP drains through a BackendConfig (spec.connectionDraining.drainingTimeoutSec) named by the cloud.google.com/backend-config annotation; graceful writes no separate objects",
	},
	"azure": {
		Name:        "azure",
		Unsupported: "Azure load balancers have no connection-drain setting",
	},
}

// ProviderNames lists the known provider names, sorted.
func ProviderNames() []string {
	names := make([]string, 0, len(Providers))
	for n := range Providers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupProvider returns the named provider or an error listing the valid names.
func LookupProvider(name string) (Provider, error) {
	if p, ok := Providers[name]; ok {
		return p, nil
	}
	return Provider{}, fmt.Errorf("unknown provider %q (known: %s)", name, strings.Join(ProviderNames(), ", "))
}

// ServiceDrain writes the drain annotations of each provider on a load
// balancer Service. Annotations the Service already has win.
type ServiceDrain struct {
	Providers []Provider
}

// Transform annotates metadata (the Service's, or the service section of a CR)
// with a drain of timeoutSeconds, brought into each provider's range.
func (d ServiceDrain) Transform(metadata *yaml.Node, path string, timeoutSeconds int) ([]Finding, error) {
	field := path + ".annotations"
	var out []Finding
	for _, p := range d.Providers {
		if p.Unsupported != "" {
			out = append(out, warning(field, "provider %s: %s", p.Name, p.Unsupported))
			continue
		}
		if v := node.GetStr(node.Get(metadata, "annotations"), p.NotFor); v != "" && slices.Contains(strings.Fields(p.NotForValues), v) {
			out = append(out, warning(field+"."+p.NotFor, "provider %s: left unchanged, as %s is %q: %s", p.Name, p.NotFor, v, p.NotForHint))
			continue
		}
		annotations, ok := node.EnsureMap(metadata, "annotations")
		if !ok {
			return nil, fieldError(field, "expected a mapping")
		}
		timeout := clamp(timeoutSeconds, p.Min, p.Max)
		set := func(key, value string) {
			annotations.Content = append(annotations.Content, node.NewStr(key), node.NewStr(value))
			f := changed(field+"."+key, "%s", value)
			f.Proposed = value
			out = append(out, f)
		}
		if p.Enable != "" && node.Get(annotations, p.Enable) == nil {
			set(p.Enable, p.EnableValue)
		}
		if p.Timeout != "" && node.Get(annotations, p.Timeout) == nil {
			set(p.Timeout, strconv.Itoa(timeout))
		}
		if p.Attributes != "" {
			f, err := mergeAttribute(annotations, field, p, timeout)
			if err != nil {
				return nil, err
			}
			out = append(out, f...)
		}
		if p.Requires != "" && node.GetStr(annotations, p.Requires) != p.RequiresValue {
			out = append(out, warning(field+"."+p.Requires, "provider %s drains only with %s: %q, which graceful does not set because it changes how traffic reaches the pods",
				p.Name, p.Requires, p.RequiresValue))
		}
	}
	return out, nil
}

// mergeAttribute adds key=timeout to a comma-separated attribute list, unless
// the key is already there.
func mergeAttribute(annotations *yaml.Node, field string, p Provider, timeout int) ([]Finding, error) {
	field += "." + p.Attributes
	value := node.Get(annotations, p.Attributes)
	if value != nil && value.Kind != yaml.ScalarNode {
		return nil, fieldError(field, "expected a string")
	}
	current := strings.TrimSpace(node.Str(value))
	for _, kv := range strings.Split(current, ",") {
		if k, _, _ := strings.Cut(kv, "="); strings.TrimSpace(k) == p.AttributeKey {
			return nil, nil
		}
	}
	add := p.AttributeKey + "=" + strconv.Itoa(timeout)
	proposed := add
	if current != "" {
		proposed = current + "," + add
	}
	merged := node.NewStr(proposed)
	if value != nil {
		merged.Style = value.Style
	}
	node.Set(annotations, p.Attributes, merged)
	f := changed(field, "%s", proposed)
	f.Current, f.Proposed = current, proposed
	return []Finding{f}, nil
}

func clamp(v, lo, hi int) int {
	if hi == 0 {
		return v
	}
	return max(lo, min(v, hi))
}
