package render

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/transformers"
)

// Object is one object of the inputs as Render numbers it: a document, or an
// item of a List. Readers that audit rather than rewrite (graceful check)
// use it, so that their findings name the same document as render's.
type Object struct {
	// Ref names the object; Ref.Line is the line of its first key.
	Ref  Ref
	Node *yaml.Node
	// lineOffset turns a node's line into its input's line.
	lineOffset int
}

// LineOf is the input line of a node of the object, 0 for nil.
func (o Object) LineOf(n *yaml.Node) int {
	if n == nil || n.Line == 0 {
		return 0
	}
	return n.Line + o.lineOffset
}

// Objects reads every object of the inputs, in order. Bad input is a
// *DocumentError, as in Render.
func Objects(inputs []Input) ([]Object, error) {
	var out []Object
	order := 1
	for _, in := range inputs {
		docs := splitDocuments(in, order)
		order += len(docs)
		for _, d := range docs {
			if err := d.parse(); err != nil {
				return nil, err
			}
			root := d.root()
			if root == nil {
				continue
			}
			if root.Kind != yaml.MappingNode {
				return nil, &DocumentError{Ref: d.Ref, Err: fmt.Errorf("a document must be an object (a mapping), found a %s", kindName(root))}
			}
			if err := d.checkAliases(); err != nil {
				return nil, err
			}
			offset := d.line - d.lineBase
			ref := d.Ref
			setIdentity(&ref, root)
			items := node.Get(root, "items")
			if !strings.HasSuffix(ref.Kind, "List") || !node.IsSeq(items) {
				ref.Line = firstKeyLine(root) + offset
				out = append(out, Object{Ref: ref, Node: root, lineOffset: offset})
				continue
			}
			for i, item := range items.Content {
				r := ref
				r.Item = i + 1
				if item.Kind != yaml.MappingNode {
					return nil, &DocumentError{Ref: r, Err: fmt.Errorf("a List item must be an object, found a %s", kindName(item))}
				}
				setIdentity(&r, item)
				r.Line = firstKeyLine(item) + offset
				out = append(out, Object{Ref: r, Node: item, lineOffset: offset})
			}
		}
	}
	return out, nil
}

func firstKeyLine(m *yaml.Node) int {
	if len(m.Content) > 0 {
		return m.Content[0].Line
	}
	return m.Line
}

// Pods is where an object keeps its pods, as render finds them: the same
// view the transformers get, from the one kind table. check and explain
// read workloads through it.
type Pods struct {
	// Template is the pod template (metadata and spec); nil for a TidbCluster.
	Template     *yaml.Node
	TemplatePath string
	// Spec holds terminationGracePeriodSeconds; spec.tidb for a TidbCluster.
	Spec     *yaml.Node
	SpecPath string
	// Batch pods run to completion (Jobs, CronJobs).
	Batch      bool
	Containers []transformers.Container
}

// FindPods returns the pods of an object, or false for an object that runs
// none. A kind outside the kind table counts where an annotation or one of
// the renderer's rules names it, as in render; a CRD's look-alike of a
// Kubernetes kind (example.com/v1 Deployment) only where its annotation does.
func (r *Renderer) FindPods(object *yaml.Node) (*Pods, bool) {
	var ref Ref
	setIdentity(&ref, object)
	w, err := findWorkload(ref, object, r.namesKind(ref, object))
	if w == nil || err != nil {
		return nil, false
	}
	return &Pods{Template: w.template, TemplatePath: w.templatePath, Spec: w.podSpec, SpecPath: w.podSpecPath,
		Batch: w.batch, Containers: w.containers()}, true
}
