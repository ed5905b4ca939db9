package transformers

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/internal/suggest"
)

// Provider is how one cloud's load balancer is told to drain connections of a
// deregistered target, as Service annotations, and which Services its
// controller reads them on.
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
	// Legacy are keys the controller also reads: a Service with one of them
	// has the user's own drain setting, and gets nothing from graceful.
	Legacy []string
	// Class is the spec.loadBalancerClass the provider's controller owns; a
	// Service with any other class belongs to another controller.
	Class string
	// TypeAnnotation, when set, tells which controller owns the Service:
	// Manages lists the values this provider's controller handles ("" for
	// no annotation), Elsewhere says, per other value, who does.
	TypeAnnotation string
	Manages        []string
	Elsewhere      map[string]string
}

const awsType = "service.beta.kubernetes.io/aws-load-balancer-type"

// awsNLB is what both AWS providers say of a cloud-provider-aws NLB.
const awsNLB = "an NLB that cloud-provider-aws manages (%s: nlb): it rejects target-group attributes other than preserve_client_ip and proxy_protocol_v2 and then stops updating the load balancer, and it has no drain annotation; its targets deregister with AWS's 300 s default delay"

// Providers is every provider graceful knows, by name.
var Providers = map[string]Provider{
	"alibaba": {
		Name:   "alibaba",
		Enable: "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-connection-drain", EnableValue: "on",
		Timeout: "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-connection-drain-timeout", Min: 10, Max: 900,
		// An NLB is a Service of this class (CCM 2.5+); its server groups
		// take the same connection-drain annotations as a CLB's.
		Class: "alibabacloud.com/nlb",
		Legacy: []string{"service.beta.kubernetes.io/alicloud-loadbalancer-connection-drain",
			"service.beta.kubernetes.io/alicloud-loadbalancer-connection-drain-timeout"},
	},
	"aws": {
		Name:   "aws",
		Enable: "service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled", EnableValue: "true",
		Timeout: "service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout", Min: 1, Max: 3600,
		TypeAnnotation: awsType, Manages: []string{""},
		Elsewhere: map[string]string{
			"nlb":                       fmt.Sprintf(awsNLB, awsType),
			"external":                  "the AWS Load Balancer Controller manages it (" + awsType + ": external): use --provider aws-lbc",
			"nlb-ip":                    "the AWS Load Balancer Controller manages it (" + awsType + ": nlb-ip): use --provider aws-lbc",
			"class:service.k8s.aws/nlb": "the AWS Load Balancer Controller manages it (spec.loadBalancerClass: service.k8s.aws/nlb): use --provider aws-lbc",
		},
	},
	"aws-lbc": {
		Name:       "aws-lbc",
		Attributes: "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes", AttributeKey: "deregistration_delay.timeout_seconds",
		Min: 0, Max: 3600,
		Class:          "service.k8s.aws/nlb",
		TypeAnnotation: awsType, Manages: []string{"external", "nlb-ip"},
		Elsewhere: map[string]string{
			"nlb": fmt.Sprintf(awsNLB, awsType),
			// The controller's webhook may give such a Service its class when
			// it is created, but the manifest cannot tell, and a classic load
			// balancer of cloud-provider-aws stops being updated when it
			// meets a target-group attribute.
			"": "the Service names no controller (no " + awsType + ", no spec.loadBalancerClass), so graceful cannot know that the AWS Load Balancer Controller manages it; " +
				"say so with " + awsType + ": external or spec.loadBalancerClass: service.k8s.aws/nlb (or use --provider aws for a classic load balancer)",
		},
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
	hint := ""
	if near := suggest.Nearest(name, ProviderNames()); near != "" {
		hint = "; did you mean " + near + "?"
	}
	return Provider{}, fmt.Errorf("unknown provider %q%s (known: %s)", name, hint, strings.Join(ProviderNames(), ", "))
}

// ServiceTransformer changes a load balancer Service, as a Transformer changes
// a pod. metadata holds the annotations the Service's controller reads (the
// Service's own metadata, or the section of an operator's CR whose
// annotations the operator copies onto the Service), path is its field path,
// class the Service's spec.loadBalancerClass, and timeoutSeconds how long the
// pods behind it take to stop.
type ServiceTransformer interface {
	Transform(metadata *yaml.Node, path, class string, timeoutSeconds int) ([]Finding, error)
}

// ServiceDrain writes the drain annotations of each provider on a load
// balancer Service. Annotations the Service already has win.
type ServiceDrain struct {
	Providers []Provider
}

var _ ServiceTransformer = ServiceDrain{}

// Transform annotates metadata (the Service's, or the service section of a CR)
// with a drain of timeoutSeconds, brought into each provider's range, where
// the provider's controller reads the annotations (class is the Service's
// spec.loadBalancerClass).
func (d ServiceDrain) Transform(metadata *yaml.Node, path, class string, timeoutSeconds int) ([]Finding, error) {
	field := path + ".annotations"
	var out []Finding
	for _, p := range d.Providers {
		if p.Unsupported != "" {
			out = append(out, warning(CodeLBUnsupported, field, "provider %s: %s", p.Name, p.Unsupported))
			continue
		}
		existing := node.Get(metadata, "annotations")
		if notHere, ok := p.guard(existing, class, path); !ok {
			out = append(out, notHere)
			continue
		}
		if key := firstPresent(existing, p.Legacy); key != "" {
			out = append(out, Finding{Code: CodeLBLegacyKept, Severity: Info, Field: field + "." + key, Message: fmt.Sprintf(
				"provider %s: kept the user's drain setting %s: %q (a legacy key the controller still reads); nothing added, as a key of the new prefix would override it",
				p.Name, key, node.GetStr(existing, key))})
			continue
		}
		if p.Enable != "" {
			if v := node.GetStr(existing, p.Enable); node.Get(existing, p.Enable) != nil && v != p.EnableValue {
				out = append(out, Finding{Code: CodeLBEnableKept, Severity: Info, Field: field + "." + p.Enable, Message: fmt.Sprintf(
					"provider %s: kept the user's %s: %q; nothing added", p.Name, p.Enable, v)})
				continue
			}
		}
		annotations, ok := node.EnsureMap(metadata, "annotations")
		if !ok {
			return nil, fieldError(field, "expected a mapping")
		}
		timeout := clamp(timeoutSeconds, p.Min, p.Max)
		set := func(key, value string) {
			annotations.Content = append(annotations.Content, node.NewStr(key), node.NewStr(value))
			f := changed(CodeLBDrainSet, field+"."+key, "%s", value)
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
			out = append(out, warning(CodeLBRequires, field+"."+p.Requires, "provider %s drains only with %s: %q, which graceful does not set because it changes how traffic reaches the pods",
				p.Name, p.Requires, p.RequiresValue))
		}
	}
	return out, nil
}

// guard decides whether the provider's controller reads annotations on this
// Service. When it does not, or graceful cannot know, the finding says who
// does and what to do.
func (p Provider) guard(annotations *yaml.Node, class, path string) (f Finding, ok bool) {
	classField := path + ".loadBalancerClass"
	if path == "metadata" {
		classField = "spec.loadBalancerClass"
	}
	if class != "" && class != p.Class {
		if why, ok := p.Elsewhere["class:"+class]; ok {
			return warning(CodeLBOtherClass, classField, "provider %s: left unchanged: %s", p.Name, why), false
		}
		return warning(CodeLBOtherClass, classField, "provider %s: left unchanged: the Service's loadBalancerClass %q belongs to another controller, which does not read %s's annotations; set its drain by that controller's own means",
			p.Name, class, p.Name), false
	}
	if p.TypeAnnotation == "" || class != "" {
		return Finding{}, true
	}
	typ := strings.TrimSpace(node.GetStr(annotations, p.TypeAnnotation))
	if slices.Contains(p.Manages, typ) {
		return Finding{}, true
	}
	why, known := p.Elsewhere[typ]
	if !known {
		why = fmt.Sprintf("graceful does not know which controller manages %s: %q", p.TypeAnnotation, typ)
	}
	field := path + ".annotations"
	if typ != "" {
		field += "." + p.TypeAnnotation
	}
	return warning(CodeLBOtherController, field, "provider %s: left unchanged: %s", p.Name, why), false
}

func firstPresent(annotations *yaml.Node, keys []string) string {
	for _, k := range keys {
		if node.Get(annotations, k) != nil {
			return k
		}
	}
	return ""
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
	f := changed(CodeLBDrainSet, field, "%s", proposed)
	f.Current, f.Proposed = current, proposed
	return []Finding{f}, nil
}

func clamp(v, lo, hi int) int {
	if hi == 0 {
		return v
	}
	return max(lo, min(v, hi))
}
