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
// A drain the annotations set off or shorter than the pods serve is the
// timeline's GS301 (GS203), whatever the --provider.
func (c *checker) checkService(svc *service) []Finding {
	return c.checkLB(&lbService{service: svc, meta: node.Get(svc.obj.Node, "metadata"), metaPath: "metadata"})
}

// checkServiceDrain: the timeline's GS301 on a Service (GS203), once the
// workloads' timelines are read; checkService ran before them, as a drain
// setting the controller rejects is not counted on by the timelines.
func (c *checker) checkServiceDrain(svc *service) []Finding {
	if svc.Type != "LoadBalancer" || svc.covered == nil {
		return nil
	}
	return c.drainConflicts(&lbService{service: svc, meta: node.Get(svc.obj.Node, "metadata"), metaPath: "metadata"}, svc.covered)
}

// lbService is a load balancer Service as checked: its annotations are in
// meta, at metaPath: the Service's metadata, or an operator CR's service
// section (TidbCluster's spec.tidb.service), which the operator copies.
type lbService struct {
	*service
	meta     *yaml.Node
	metaPath string
}

func (c *checker) checkLB(s *lbService) []Finding {
	if s.Type != "LoadBalancer" {
		return nil
	}
	for _, w := range s.workloads {
		if w.profile != nil && !w.profile.TakesLoadBalancerDrain() {
			return nil // render says why: nothing routes requests to it through an endpoint
		}
	}
	// covered are the providers a finding already names: the timeline's
	// GS301 for them says the same.
	s.covered = map[string]bool{}
	out := c.providerChecks(s, s.covered)
	if s.metaPath != "metadata" {
		// An operator's service section is checked with its workload,
		// whose timeline is read by then.
		out = append(out, c.drainConflicts(s, s.covered)...)
	}
	return out
}

// providerChecks are checkService's findings per --provider.
func (c *checker) providerChecks(s *lbService, covered map[string]bool) []Finding {
	if len(c.providers) == 0 {
		return nil
	}
	meta := s.meta
	annotations := node.Get(meta, "annotations")
	class := s.Class
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
			out = append(out, milder(finding("GS204", line, s.metaPath+".annotations", "provider %s: %v", p.Name, err)))
			covered[p.Name] = true
			continue
		}
		var missing []string
		for _, f := range found {
			switch {
			case f.Changed:
				missing = append(missing, strings.TrimPrefix(f.Field, "metadata.annotations."))
			case f.Severity == transformers.Warning && strings.Contains(f.Message, "left unchanged"):
				g := finding("GS211", line, s.field(f.Field), "%s", f.Message)
				out = append(out, g)
			case f.Severity == transformers.Warning:
				out = append(out, milder(finding("GS204", line, s.field(f.Field), "%s", f.Message)))
			}
		}
		if len(missing) > 0 {
			out = append(out, finding("GS203", line, s.metaPath+".annotations",
				"load balancer Service for provider %s has no connection drain (%s): the load balancer cuts the connections of a stopping pod at once instead of letting them finish",
				p.Name, strings.Join(missing, ", ")))
			covered[p.Name] = true
		}
		ranges := append(c.enableChecks(s, p, annotations), c.rangeChecks(s, p, annotations)...)
		if len(ranges) > 0 {
			covered[p.Name] = true
		}
		out = append(out, ranges...)
	}
	out = append(out, c.awsAttributes(s, annotations, class)...)
	return out
}

// rangeChecks: GS204, a drain timeout the controller does not take.
func (c *checker) rangeChecks(s *lbService, p transformers.Provider, annotations *yaml.Node) []Finding {
	if p.Timeout == "" || node.Get(annotations, p.Timeout) == nil {
		return nil
	}
	v := node.Get(annotations, p.Timeout)
	field := s.metaPath + ".annotations." + p.Timeout
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

// enableChecks: GS204, an enable annotation cloud-provider-aws cannot read.
// It reads connection-draining-enabled with strconv.ParseBool ("true",
// "1", "t"...; not "yes", "on") and fails the whole load balancer on
// another value (aws.go, "error parsing service annotation"): the load
// balancer is not created or no longer updated.
func (c *checker) enableChecks(s *lbService, p transformers.Provider, annotations *yaml.Node) []Finding {
	v := node.Get(annotations, p.Enable)
	if p.Name != "aws" || v == nil {
		return nil
	}
	if _, err := strconv.ParseBool(node.Str(v)); err == nil {
		return nil
	}
	f := finding("GS204", s.obj.LineOf(v), s.metaPath+".annotations."+p.Enable,
		"provider %s: %q is not a boolean cloud-provider-aws reads (it takes \"true\" or \"false\"): it fails to build the load balancer, which gets no drain and no further update", p.Name, node.Str(v))
	f.Current, f.Proposed = node.Str(v), p.EnableValue
	return []Finding{f}
}

// drainConflicts: GS203 (explain's GS301), a load balancer whose drain the
// annotations set shorter than the pod serves (off, or a timeout below it):
// it closes the connections the pod is still finishing. The timeline of
// each workload the Service selects says it; a provider another finding
// names already is not said twice.
func (c *checker) drainConflicts(s *lbService, covered map[string]bool) []Finding {
	var out []Finding
	for _, w := range s.workloads {
		if w.timeline == nil {
			continue
		}
		for _, conf := range w.timeline.Conflicts {
			provider, ok := lbOfConflict(conf, s.Name)
			if !ok || covered[provider] {
				continue
			}
			covered[provider] = true
			field, v := s.metaPath+".annotations", (*yaml.Node)(nil)
			if p, ok := transformers.Providers[provider]; ok {
				order := []string{p.Attributes, p.Timeout, p.Enable}
				if strings.Contains(conf.Message, "does not drain") {
					order = []string{p.Attributes, p.Enable, p.Timeout}
				}
				for _, a := range order {
					if a != "" && v == nil {
						if v = node.Lookup(s.meta, "annotations", a); v != nil {
							field = s.metaPath + ".annotations." + a
						}
					}
				}
			}
			line := s.obj.LineOf(v)
			if line == 0 {
				line = s.obj.Ref.Line
			}
			f := finding("GS203", line, field, "%s (workload %s %s)", conf.Message, w.obj.Ref.Kind, w.obj.Ref.Name)
			if v != nil {
				f.Current = node.Str(v)
			}
			out = append(out, f)
		}
	}
	return out
}

// lbOfConflict is the provider of a timeline GS301 on the load balancer
// Service of a name: the timeline's message names it "load balancer NAME
// (PROVIDER)".
func lbOfConflict(conf timeline.Conflict, service string) (string, bool) {
	if conf.Code != timeline.CodeLBDrainShort {
		return "", false
	}
	rest, ok := strings.CutPrefix(conf.Message, "load balancer "+service+" (")
	if !ok {
		return "", false
	}
	provider, _, ok := strings.Cut(rest, ")")
	return provider, ok
}

// field is a field of render's scratch copy ("metadata.annotations.X") as
// the Service's own.
func (s *lbService) field(scratch string) string {
	if rest, ok := strings.CutPrefix(scratch, "metadata"); ok {
		return s.metaPath + rest
	}
	return scratch
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
func (c *checker) awsAttributes(s *lbService, annotations *yaml.Node, class string) []Finding {
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
	f := finding("GS204", s.obj.LineOf(v), s.metaPath+".annotations."+lbc.Attributes,
		"target-group attributes %s on %s: cloud-provider-aws rejects them and stops updating the load balancer; for the AWS Load Balancer Controller set %s: external or spec.loadBalancerClass: service.k8s.aws/nlb",
		strings.Join(bad, ", "), owner, lbc.TypeAnnotation)
	f.Current = node.Str(v)
	return []Finding{f}
}
