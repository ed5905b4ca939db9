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
				Node: &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{item}}, inputPos: inputPos{parsed: true}}
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
	tags := KRMTags{}
	for _, f := range report.Notices {
		n := node.NewMap("message", f.Message, "severity", string(f.Severity))
		if f.Code != "" {
			node.Set(n, "tags", tags.of(f.Code))
		}
		results = append(results, n)
	}
	for _, e := range report.Entries {
		results = append(results, entryResults(e, docs, tags)...)
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
		cfg, err := configFromNode(fc, opts.Catalog)
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
	r := KRMResult{Severity: "error", Message: err.Error(), Ref: docErr.Ref, Field: docErr.Field}
	return []any{result(r, docs, nil)}, err
}

// KRMResult is one entry of ResourceList.results (kyaml's
// framework.Result), for render's function and check's validator alike.
// The finding's code goes in tags, the one free-form field of the schema;
// the schema's file has a path and an index, but no line.
type KRMResult struct {
	Severity, Message        string
	Ref                      Ref
	Field, Current, Proposed string
	Code                     string
	// FilePath and FileIndex name the file kustomize read the item from
	// (FileIndex -1: not said); "" leaves file out.
	FilePath  string
	FileIndex int
}

// KRMTags are the results' tags by code: thousands of results share a
// few codes, and their tags are only read once made.
type KRMTags map[string]*yaml.Node

func (t KRMTags) of(code string) *yaml.Node {
	n, ok := t[code]
	if !ok {
		n = node.NewMap("code", code)
		t[code] = n
	}
	return n
}

// Node is the result as YAML; tags shares the tags of a code.
func (r KRMResult) Node(tags KRMTags) *yaml.Node {
	n := node.NewMap("message", r.Message, "severity", r.Severity)
	ref := node.NewMap("apiVersion", r.Ref.APIVersion, "kind", r.Ref.Kind, "name", r.Ref.Name)
	if r.Ref.Namespace != "" {
		node.Set(ref, "namespace", node.NewStr(r.Ref.Namespace))
	}
	node.Set(n, "resourceRef", ref)
	if r.Field != "" {
		field := node.NewMap("path", r.Field)
		if r.Current != "" {
			node.Set(field, "currentValue", node.NewStr(r.Current))
		}
		if r.Proposed != "" {
			node.Set(field, "proposedValue", node.NewStr(r.Proposed))
		}
		node.Set(n, "field", field)
	}
	if r.FilePath != "" {
		file := node.NewMap("path", r.FilePath)
		if r.FileIndex >= 0 {
			node.Set(file, "index", node.NewInt(r.FileIndex))
		}
		node.Set(n, "file", file)
	}
	if r.Code != "" {
		node.Set(n, "tags", tags.of(r.Code))
	}
	return n
}

// result is a result of an object of the run, named in the file kustomize
// read it from.
func result(r KRMResult, docs []*Document, tags KRMTags) *yaml.Node {
	r.FilePath, r.FileIndex = "", -1
	if r.Ref.File != "" && r.Ref.Index >= 1 && r.Ref.Index <= len(docs) {
		r.FilePath, r.FileIndex = r.Ref.File, docs[r.Ref.Index-1].fileIndex
	}
	return r.Node(tags)
}

func entryResults(e Entry, docs []*Document, tags KRMTags) []any {
	if len(e.Findings) == 0 {
		return []any{result(KRMResult{Severity: "info", Message: e.Decision, Ref: e.Ref}, docs, tags)}
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
		out = append(out, result(KRMResult{Severity: severity, Message: e.Decision + ": " + msg, Ref: e.Ref,
			Field: f.Field, Current: f.Current, Proposed: f.Proposed, Code: f.Code}, docs, tags))
	}
	return out
}
