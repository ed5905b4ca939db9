package render

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/profiles"
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

// AppliedProfile is the profile the entry's workload got and the containers
// it went on; "" when none (skipped, left alone, or not a workload). It
// reads Decision, which render writes as `NAME (REASON), containers "a", "b"`.
func (e Entry) AppliedProfile() (name string, containers []string) {
	d := e.Decision
	if strings.HasPrefix(d, "skipped") || strings.HasPrefix(d, "load balancer drain") {
		return "", nil
	}
	name, _, ok := strings.Cut(d, " (")
	if !ok {
		return "", nil
	}
	const marker = `), containers "`
	i := strings.LastIndex(d, marker)
	if i < 0 {
		return name, nil // no container fitted: the workload was left unchanged
	}
	rest := d[i+len(marker)-1:]
	for rest != "" {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			break
		}
		c, _ := strconv.Unquote(q)
		containers = append(containers, c)
		rest = strings.TrimPrefix(rest[len(q):], ", ")
	}
	return name, containers
}

// WithoutStrict is the renderer with strict off, for commands that only read
// what render would do.
func (r *Renderer) WithoutStrict() *Renderer {
	c := *r
	c.strict = false
	return &c
}

// Catalog is the catalog the renderer looks every profile up in: the
// built-ins, --profiles and the config's spec.profiles. Readers of its
// decisions (graceful explain) look profiles up here too.
func (r *Renderer) Catalog() *profiles.Catalog { return r.catalog }
