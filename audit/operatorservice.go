package audit

import (
	"github.com/graceful-dev/graceful/internal/node"
)

// The load balancer checks of an operator's Service run after the
// workload checks (workloadChecks is in audit.go; this adds itself).
// checkOperatorService: GS203, GS204 and GS211 on the service section of an
// operator's CR (TidbCluster's spec.tidb.service): tidb-operator copies its
// type and annotations onto the load balancer Service it makes, so they are
// checked as that Service's, and reported on the CR, where render's fix
// goes. The Service is the one the timeline reads (its first).
func (c *checker) checkOperatorService(w *workload) []Finding {
	if w.pod.Template != nil || w.timeline == nil || len(w.timeline.Services) == 0 {
		return nil
	}
	section := node.Get(w.pod.Spec, "service")
	if !node.IsMap(section) {
		return nil
	}
	s := &lbService{service: &service{obj: w.obj, workloads: []*workload{w}}, meta: section, metaPath: w.pod.SpecPath + ".service"}
	s.Name, s.Namespace = w.timeline.Services[0], w.obj.Ref.Namespace
	s.Type, s.Class = node.GetStr(section, "type"), node.GetStr(section, "loadBalancerClass")
	s.Annotations = node.Labels(node.Get(section, "annotations"))
	return c.checkLB(s)
}
