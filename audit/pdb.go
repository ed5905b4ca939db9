package audit

import (
	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/transformers"
)

// unprotected keys the workloads of several replicas that no
// PodDisruptionBudget of the input selects, by render's rule (the rule
// `render --pdb` adds budgets by), with where the count comes from.
func unprotected(objects []render.Object) map[key]render.Unprotected {
	out := map[key]render.Unprotected{}
	for _, u := range render.UnprotectedWorkloads(objects) {
		out[keyOf(u.Ref)] = u
	}
	return out
}

// checkPDB: GS214, a workload of several replicas without a
// PodDisruptionBudget that selects it: a node drain may evict every replica
// at once. A workload that serves nothing loses work, not requests: info.
func (c *checker) checkPDB(w *workload) []Finding {
	u, ok := c.unprotected[keyOf(w.obj.Ref)]
	if !ok || w.idle() != "" {
		return nil
	}
	line := w.obj.LineOf(node.Lookup(w.obj.Node, "spec", "replicas"))
	if line == 0 {
		line = w.obj.Ref.Line
	}
	f := finding("GS214", line, "spec.replicas",
		"%s and no PodDisruptionBudget selects its pods: a node drain may evict them all at once; render --pdb adds one (maxUnavailable: 1)", u.Why)
	serving := false
	for _, s := range w.options.Serving {
		serving = serving || s
	}
	if !serving {
		f.Severity = transformers.Info
	}
	f.Proposed = "PodDisruptionBudget " + u.Ref.Name + render.PDBSuffix + " (maxUnavailable: 1)"
	return []Finding{f}
}
