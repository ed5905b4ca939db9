package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/transformers"
)

// The KRM function protocol, as kustomize speaks it (config.kubernetes.io/v1).
// graceful reads and writes the ResourceList with kyaml's YAML engine
// directly: kyaml's fn/framework package links kube-openapi, whose start-up
// alone costs more than rendering a typical chart. A test reads graceful's
// output back with kyaml's framework.
const (
	resourceListKind = "ResourceList"
	pathAnnotations  = "internal.config.kubernetes.io/path config.kubernetes.io/path"
	indexAnnotations = "internal.config.kubernetes.io/index config.kubernetes.io/index"
)

// IsResourceList reports whether a stream is a KRM ResourceList, the input of
// graceful as a kustomize function.
func IsResourceList(data []byte) bool {
	var head struct {
		Kind string `yaml:"kind"`
	}
	if s, ok := splitResourceList(data); ok {
		data = s.withoutItems() // the items are most of it: the kind is in the rest
	}
	_ = yaml.NewDecoder(bytes.NewReader(data)).Decode(&head)
	return head.Kind == resourceListKind
}

// RunFunction is graceful as a KRM function: it reads a ResourceList, takes
// its settings and rules from the functionConfig (a GracefulShutdown; the
// options fill what it leaves out), rewrites the items and reports every
// decision in results. Every annotation kustomize put on an item is kept.
// An error is reported as a result of severity error and returned, so that
// kustomize stops.
func RunFunction(in io.Reader, out io.Writer, opts Options) error {
	data, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	if ok, err := runStreamed(data, out, opts); ok {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("reading the ResourceList: %w", err)
	}
	if isEmptyDocument(&doc) || node.GetStr(doc.Content[0], "kind") != resourceListKind {
		return fmt.Errorf("stdin is not a KRM ResourceList")
	}
	list := doc.Content[0]
	results, runErr := runOnList(list, opts)
	if len(results) > 0 {
		node.Set(list, "results", node.NewSeq(results...))
	}
	enc := yaml.NewEncoder(out)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	keepNulls(&doc, false)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	return runErr
}

// runOnList renders the items of a parsed ResourceList in place.
func runOnList(list *yaml.Node, opts Options) (results []any, err error) {
	items := node.Get(list, "items")
	if !node.IsNull(items) && !node.IsSeq(items) {
		return failed(nil, fmt.Errorf("items: expected a sequence"))
	}
	var docs []*Document
	if items != nil {
		for i, item := range items.Content {
			d := &Document{Ref: Ref{Index: i + 1, order: i + 1},
				Node: &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{item}}, parsed: true}
			d.krmAnnotations()
			docs = append(docs, d)
		}
	}
	r, report, results, err := renderItems(list, docs, opts)
	if err != nil {
		return results, err
	}
	if items != nil {
		items.Content = items.Content[:0]
		for _, d := range docs {
			items.Content = append(items.Content, d.root())
			items.Content = append(items.Content, d.added...)
		}
	}
	return itemResults(r, report, docs)
}

// itemResults are the results of rendered items: the run's notices, then
// each object's findings. With --strict every warning is an error, so
// kustomize stops.
func itemResults(r *Renderer, report *Report, docs []*Document) ([]any, error) {
	var results []any
	for _, f := range report.Notices {
		results = append(results, node.NewMap("message", f.Message, "severity", string(f.Severity)))
	}
	for _, e := range report.Entries {
		results = append(results, entryResults(e, docs)...)
	}
	if err := r.strictCheck(report); err != nil {
		for _, res := range results {
			if sev := node.Get(res.(*yaml.Node), "severity"); sev != nil && sev.Value == "warning" {
				sev.Value = "error"
			}
		}
		return results, err
	}
	return results, nil
}

// renderItems renders a ResourceList's items with the settings of its
// functionConfig (a GracefulShutdown; the options fill what it leaves out)
// and returns its report, or the results that say what went wrong. Items given as trees keep them (the list is
// encoded whole); items given as text are patched like CLI documents.
func renderItems(list *yaml.Node, docs []*Document, opts Options) (*Renderer, *Report, []any, error) {
	if fc := node.Get(list, "functionConfig"); !node.IsNull(fc) {
		cfg, err := ConfigFromNode(fc)
		if err != nil {
			results, err := failed(nil, fmt.Errorf("functionConfig: %w", err))
			return nil, nil, results, err
		}
		opts.Config = cfg
	}
	r, err := New(opts)
	if err != nil {
		results, err := failed(nil, err)
		return nil, nil, results, err
	}
	keepNodes := len(docs) > 0 && docs[0].Raw == nil
	report, err := r.process(docs, keepNodes)
	if err != nil {
		results, err := failed(docs, err)
		return nil, nil, results, err
	}
	return r, report, nil, nil
}
func firstAnnotation(annotations *yaml.Node, keys string) string {
	for _, k := range bytes.Fields([]byte(keys)) {
		if v := node.GetStr(annotations, string(k)); v != "" {
			return v
		}
	}
	return ""
}

// failed reports err as a result naming its item.
func failed(docs []*Document, err error) ([]any, error) {
	var docErr *DocumentError
	if !errors.As(err, &docErr) {
		return []any{node.NewMap("message", err.Error(), "severity", "error")}, err
	}
	r := result{severity: "error", message: err.Error(), ref: docErr.Ref, field: docErr.Field}
	return []any{r.node(docs)}, err
}

// result is one entry of ResourceList.results.
type result struct {
	severity, message        string
	ref                      Ref
	field, current, proposed string
}

func (r result) node(docs []*Document) *yaml.Node {
	n := node.NewMap("message", r.message, "severity", r.severity)
	ref := node.NewMap("apiVersion", r.ref.APIVersion, "kind", r.ref.Kind, "name", r.ref.Name)
	if r.ref.Namespace != "" {
		node.Set(ref, "namespace", node.NewStr(r.ref.Namespace))
	}
	node.Set(n, "resourceRef", ref)
	if r.field != "" {
		field := node.NewMap("path", r.field)
		if r.current != "" {
			node.Set(field, "currentValue", node.NewStr(r.current))
		}
		if r.proposed != "" {
			node.Set(field, "proposedValue", node.NewStr(r.proposed))
		}
		node.Set(n, "field", field)
	}
	if r.ref.File != "" && r.ref.Index >= 1 && r.ref.Index <= len(docs) {
		file := node.NewMap("path", r.ref.File)
		if d := docs[r.ref.Index-1]; d.fileIndex >= 0 {
			node.Set(file, "index", node.NewInt(d.fileIndex))
		}
		node.Set(n, "file", file)
	}
	return n
}

func entryResults(e Entry, docs []*Document) []any {
	if len(e.Findings) == 0 {
		return []any{result{severity: "info", message: e.Decision, ref: e.Ref}.node(docs)}
	}
	var out []any
	for _, f := range e.Findings {
		severity := "info"
		switch f.Severity {
		case transformers.Warning:
			severity = "warning"
		case transformers.Error:
			severity = "error"
		}
		msg := f.Message
		if f.Changed {
			msg = "set: " + msg
		}
		out = append(out, result{severity: severity, message: e.Decision + ": " + msg, ref: e.Ref,
			field: f.Field, current: f.Current, proposed: f.Proposed}.node(docs))
	}
	return out
}
