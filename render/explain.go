package render

import (

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/transformers"
)

// Pods is a workload's pods as readers of manifests see them (graceful
// explain): the same view the transformers get, from the one kind table.
type Pods struct {
	// Template is the pod template (metadata and spec); nil for a TidbCluster.
	Template *yaml.Node
	// Spec holds terminationGracePeriodSeconds; spec.tidb for a TidbCluster.
	Spec       *yaml.Node
	Containers []transformers.Container
	// Batch pods (Jobs) run to completion.
	Batch bool
}

// FindPods returns the pods of an object, or false for an object that runs
// none. A kind outside the kind table counts where an annotation or one of
// the renderer's rules names it, as in render.
func (r *Renderer) FindPods(object *yaml.Node) (Pods, bool) {
	kind := node.GetStr(object, "kind")
	explicit := node.Get(node.Lookup(object, "metadata", "annotations"), ProfileAnnotation) != nil
	for _, rule := range r.rules {
		explicit = explicit || contains(rule.Match.Kinds, kind)
	}
	w, err := findWorkload(Ref{Kind: kind}, object, explicit)
	if w == nil || err != nil {
		return Pods{}, false
	}
	return Pods{Template: w.template, Spec: w.podSpec, Containers: w.containers(), Batch: w.batch}, true
}

// WithoutStrict is the renderer with strict off, for commands that only read
// what render would do.
func (r *Renderer) WithoutStrict() *Renderer {
	c := *r
	c.strict = false
	return &c
}
