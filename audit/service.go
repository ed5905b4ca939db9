package audit

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/timeline"
	"github.com/graceful-dev/graceful/transformers"
)

// checkService: the load balancer drain of a type LoadBalancer Service, for
// each --provider. What the provider's controller reads, and where, is
// transformers' provider table: check asks render's own ServiceDrain what
// it would add to a copy of the Service (GS203), which controller owns it
// (GS211), and checks the values already there against its range (GS204).
func (c *checker) checkService(s *service) []Finding {
	if s.Type != "LoadBalancer" || len(c.providers) == 0 {
		return nil
	}
	for _, w := range s.workloads {
		if w.profile != nil && !w.profile.TakesLoadBalancerDrain() {
			return nil // render says why: nothing routes requests to it through an endpoint
		}
	}
	meta := node.Get(s.obj.Node, "metadata")
	annotations := node.Get(meta, "annotations")
	class := node.GetStr(node.Get(s.obj.Node, "spec"), "loadBalancerClass")
	line := s.obj.LineOf(annotations)
	if line == 0 {
		line = s.obj.Ref.Line
	}
	var out []Finding
	for _, p := range c.providers {
		if p.Unsupported != "" {
			continue // render's summary says it, once per Service it would drain
		}
		scratch := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if meta != nil {
			scratch = node.Copy(node.Resolve(meta))
		}
		found, err := transformers.ServiceDrain{Providers: []transformers.Provider{p}}.Transform(scratch, "metadata", class, timeline.DefaultGraceSeconds)
		if err != nil {
			out = append(out, milder(finding("GS204", line, "metadata.annotations", "provider %s: %v", p.Name, err)))
			continue
		}
		var missing []string
		for _, f := range found {
			switch {
			case f.Changed:
				missing = append(missing, strings.TrimPrefix(f.Field, "metadata.annotations."))
			case f.Severity == transformers.Warning && strings.Contains(f.Message, "left unchanged"):
				g := finding("GS211", line, f.Field, "%s", f.Message)
				out = append(out, g)
			case f.Severity == transformers.Warning:
				out = append(out, milder(finding("GS204", line, f.Field, "%s", f.Message)))
			}
		}
		if len(missing) > 0 {
			out = append(out, finding("GS203", line, "metadata.annotations",
				"load balancer Service for provider %s has no connection drain (%s): the load balancer cuts the connections of a stopping pod at once instead of letting them finish",
				p.Name, strings.Join(missing, ", ")))
		}
		out = append(out, c.rangeChecks(s, p, annotations)...)
	}
	out = append(out, c.awsAttributes(s, annotations, class)...)
	return out
}

// rangeChecks: GS204, a drain timeout the controller does not take.
func (c *checker) rangeChecks(s *service, p transformers.Provider, annotations *yaml.Node) []Finding {
	if p.Timeout == "" || node.Get(annotations, p.Timeout) == nil {
		return nil
	}
	v := node.Get(annotations, p.Timeout)
	field := "metadata.annotations." + p.Timeout
	n, err := strconv.Atoi(strings.TrimSpace(node.Str(v)))
	switch {
	case err != nil:
		f := finding("GS204", s.obj.LineOf(v), field, "provider %s: drain timeout %q is not a number of seconds: the controller rejects it", p.Name, node.Str(v))
		f.Current = node.Str(v)
		return []Finding{milder(f)}
	case n < p.Min || (p.Max > 0 && n > p.Max):
		f := finding("GS204", s.obj.LineOf(v), field, "provider %s: drain timeout %d s is out of the controller's range %d–%d s: it rejects the value", p.Name, n, p.Min, p.Max)
		f.Current = node.Str(v)
		return []Finding{milder(f)}
	}
	return nil
}

// milder makes a GS204 a warning: the load balancer lacks its drain, but
// its controller still manages it (the error is one it stops updating).
func milder(f Finding) Finding {
	f.Severity = transformers.Warning
	return f
}

// cloudProviderAWSAttributes are the only target-group attributes
// cloud-provider-aws accepts on load balancers it manages itself (v1.34
// aws_validations.go); any other makes it stop updating the load balancer.
var cloudProviderAWSAttributes = map[string]bool{"preserve_client_ip.enabled": true, "proxy_protocol_v2.enabled": true}

// awsAttributes: GS204, target-group attributes on a load balancer that
// cloud-provider-aws manages (no loadBalancerClass; no type annotation, or
// "nlb"): it rejects them and stops reconciling the load balancer.
func (c *checker) awsAttributes(s *service, annotations *yaml.Node, class string) []Finding {
	onAWS := false
	for _, p := range c.providers {
		onAWS = onAWS || p.Name == "aws" || p.Name == "aws-lbc"
	}
	lbc := transformers.Providers["aws-lbc"]
	v := node.Get(annotations, lbc.Attributes)
	if !onAWS || v == nil || class != "" {
		return nil
	}
	typ := strings.TrimSpace(node.GetStr(annotations, lbc.TypeAnnotation))
	if typ != "" && typ != "nlb" {
		return nil
	}
	var bad []string
	for _, kv := range strings.Split(node.Str(v), ",") {
		k, _, _ := strings.Cut(kv, "=")
		if k = strings.TrimSpace(k); k != "" && !cloudProviderAWSAttributes[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	owner := "a classic load balancer of cloud-provider-aws (no " + lbc.TypeAnnotation + ")"
	if typ == "nlb" {
		owner = "an NLB of cloud-provider-aws (" + lbc.TypeAnnotation + ": nlb)"
	}
	f := finding("GS204", s.obj.LineOf(v), "metadata.annotations."+lbc.Attributes,
		"target-group attributes %s on %s: cloud-provider-aws rejects them and stops updating the load balancer; for the AWS Load Balancer Controller set %s: external or spec.loadBalancerClass: service.k8s.aws/nlb",
		strings.Join(bad, ", "), owner, lbc.TypeAnnotation)
	f.Current = node.Str(v)
	return []Finding{f}
}
