package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/graceful-dev/graceful/transformers"
)

// IsResourceList reports whether a stream is a KRM ResourceList, the input of
// graceful as a kustomize function.
func IsResourceList(data []byte) bool {
	var head struct {
		Kind string `yaml:"kind"`
	}
	_ = yaml.NewDecoder(bytes.NewReader(data)).Decode(&head)
	return head.Kind == kio.ResourceListKind
}

// RunFunction is graceful as a KRM function: it reads a ResourceList, takes
// its settings and rules from the functionConfig (a GracefulShutdown; the
// options fill what it leaves out), rewrites the items and reports every
// decision in results. Every annotation kustomize put on an item is kept.
// An error is reported as a result of severity error and returned, so that
// kustomize stops.
func RunFunction(in io.Reader, out io.Writer, opts Options) error {
	rw := &kio.ByteReadWriter{Reader: in, Writer: out, KeepReaderAnnotations: true}
	return framework.Execute(functionProcessor{opts: opts}, rw)
}

type functionProcessor struct{ opts Options }

func (p functionProcessor) Process(rl *framework.ResourceList) error {
	opts := p.opts
	if rl.FunctionConfig != nil && !rl.FunctionConfig.IsNilOrEmpty() {
		cfg, err := ConfigFromNode(rl.FunctionConfig.YNode())
		if err != nil {
			return failed(rl, nil, fmt.Errorf("functionConfig: %w", err))
		}
		opts.Config = cfg
	}
	r, err := New(opts)
	if err != nil {
		return failed(rl, nil, err)
	}
	docs := make([]*Document, len(rl.Items))
	for i, item := range rl.Items {
		path, _, _ := kioutil.GetFileAnnotations(item)
		docs[i] = &Document{
			Ref:    Ref{Index: i + 1, File: path},
			Node:   &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{item.YNode()}},
			parsed: true,
		}
	}
	report, err := r.process(docs, true)
	if err != nil {
		return failed(rl, docs, err)
	}
	for _, e := range report.Entries {
		rl.Results = append(rl.Results, entryResults(e, docs)...)
	}
	return nil
}

// failed reports err as a result naming its item, and returns the results as
// the error, which makes the function exit non-zero.
func failed(rl *framework.ResourceList, docs []*Document, err error) error {
	result := &framework.Result{Severity: framework.Error, Message: err.Error()}
	var docErr *DocumentError
	if errors.As(err, &docErr) {
		result.ResourceRef = resourceRef(docErr.Ref)
		result.File = fileRef(docErr.Ref, docs)
		if docErr.Field != "" {
			result.Field = &framework.Field{Path: docErr.Field}
		}
	}
	rl.Results = append(rl.Results, result)
	return rl.Results
}

func entryResults(e Entry, docs []*Document) []*framework.Result {
	ref, file := resourceRef(e.Ref), fileRef(e.Ref, docs)
	if len(e.Findings) == 0 {
		return []*framework.Result{{Severity: framework.Info, Message: e.Decision, ResourceRef: ref, File: file}}
	}
	var out []*framework.Result
	for _, f := range e.Findings {
		severity := framework.Info
		switch f.Severity {
		case transformers.Warning:
			severity = framework.Warning
		case transformers.Error:
			severity = framework.Error
		}
		msg := f.Message
		if f.Changed {
			msg = "set: " + msg
		}
		result := &framework.Result{Severity: severity, Message: e.Decision + ": " + msg, ResourceRef: ref, File: file,
			Field: &framework.Field{Path: f.Field}}
		if f.Current != "" {
			result.Field.CurrentValue = f.Current
		}
		if f.Proposed != "" {
			result.Field.ProposedValue = f.Proposed
		}
		out = append(out, result)
	}
	return out
}

func resourceRef(r Ref) *yaml.ResourceIdentifier {
	return &yaml.ResourceIdentifier{
		TypeMeta: yaml.TypeMeta{APIVersion: r.APIVersion, Kind: r.Kind},
		NameMeta: yaml.NameMeta{Name: r.Name, Namespace: r.Namespace},
	}
}

// fileRef is the file and index kustomize recorded for the item, if any.
func fileRef(r Ref, docs []*Document) *framework.File {
	if r.File == "" || r.Index < 1 || r.Index > len(docs) {
		return nil
	}
	_, index, _ := kioutil.GetFileAnnotations(yaml.NewRNode(docs[r.Index-1].root()))
	i, _ := strconv.Atoi(index)
	return &framework.File{Path: r.File, Index: i}
}
