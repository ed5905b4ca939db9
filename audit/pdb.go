package audit

import (
	"strings"

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

// budgetsRenderAdds is what render --pdb does with each workload, read from
// a render with PDB on (the check's own render when it had --pdb): GS214
// says "render --pdb adds one" only where it would.
func budgetsRenderAdds(inputs []render.Input, opts render.Options, rendered *render.Report, needed bool) (map[key]transformers.Finding, error) {
	out := map[key]transformers.Finding{}
	if !needed {
		return out, nil
	}
	if !opts.PDB {
		opts.PDB = true
		r, err := render.New(opts)
		if err != nil {
			return nil, err
		}
		// A strict render still reports; its error is the first render's too.
		if _, rendered, _ = r.Render(inputs); rendered == nil {
			return out, nil
		}
	}
	for _, e := range rendered.Entries {
		for _, f := range e.Findings {
			if strings.HasPrefix(f.Code, "GS4") {
				out[keyOf(e.Ref)] = f
			}
		}
	}
	return out, nil
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
	fix := "add a PodDisruptionBudget (maxUnavailable: 1) that selects its pods"
	proposed := "" // render adds none: no fix of graceful's to name
	switch b, ok := c.budgets[keyOf(w.obj.Ref)]; {
	case ok && b.Code == transformers.CodePDBAdded:
		fix = "render --pdb adds one (maxUnavailable: 1)"
		proposed = "PodDisruptionBudget " + u.Ref.Name + render.PDBSuffix + " (maxUnavailable: 1)"
	case ok:
		fix += " (render --pdb adds none: " + strings.TrimPrefix(b.Message, "no PodDisruptionBudget added: ") + ")"
	}
	f := finding("GS214", line, "spec.replicas",
		"%s and no PodDisruptionBudget selects its pods: a node drain may evict them all at once; %s", u.Why, fix)
	serving := false
	for _, s := range w.options.Serving {
		serving = serving || s
	}
	if !serving {
		f.Severity = transformers.Info
	}
	f.Proposed = proposed
	return []Finding{f}
}
