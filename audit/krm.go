package audit

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/render"
)

// graceful check as a kustomize validator: a ResourceList in, the same
// items out, untouched, and every finding in results (kyaml's
// framework.Result: message, severity, resourceRef, field, file, tags). The
// functionConfig, a GracefulShutdown, gives the selection for the fix.

const (
	kustomizePath  = "config.kubernetes.io/path"
	kustomizeIndex = "config.kubernetes.io/index"
)

// RunValidator audits a ResourceList's items and writes the list back with
// the findings as results. opts fill what the functionConfig leaves out.
func RunValidator(data []byte, out io.Writer, opts Options) (*Report, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("reading the ResourceList: %w", err)
	}
	if len(doc.Content) != 1 || node.GetStr(doc.Content[0], "kind") != "ResourceList" {
		return nil, fmt.Errorf("stdin is not a KRM ResourceList")
	}
	list := doc.Content[0]
	if fc := node.Get(list, "functionConfig"); !node.IsNull(fc) {
		cfg, err := render.ConfigFromNode(fc)
		if err != nil {
			return nil, fmt.Errorf("functionConfig: %w", err)
		}
		opts.Render.Config = cfg
	}
	// The items become a stream, one document each, so that check and
	// render number them alike: document i is item i.
	items := node.Get(list, "items")
	var stream bytes.Buffer
	var files []struct {
		path  string
		index int
	}
	if node.IsSeq(items) {
		for _, item := range items.Content {
			b, err := yaml.Marshal(item)
			if err != nil {
				return nil, err
			}
			stream.WriteString("---\n")
			stream.Write(b)
			annotations := node.Lookup(item, "metadata", "annotations")
			f := struct {
				path  string
				index int
			}{path: firstOf(annotations, "internal."+kustomizePath, kustomizePath), index: -1}
			if i, err := strconv.Atoi(firstOf(annotations, "internal."+kustomizeIndex, kustomizeIndex)); err == nil {
				f.index = i
			}
			files = append(files, f)
		}
	}
	report, err := Check([]render.Input{{Data: stream.Bytes()}}, opts)
	if err != nil {
		return nil, err
	}
	var results []*yaml.Node
	for i := range report.Results {
		res := &report.Results[i]
		// Lines of the stream made here mean nothing to the user: the file
		// kustomize read the item from, and its index there, do.
		res.Ref.Line = 0
		for j := range res.Findings {
			res.Findings[j].Line = 0
		}
		var file struct {
			path  string
			index int
		}
		if k := res.Ref.Index - 1; k >= 0 && k < len(files) {
			file = files[k]
		}
		res.Ref.File = file.path
		for _, f := range res.Findings {
			r := node.NewMap("message", f.Code+": "+f.Message, "severity", string(f.Severity))
			ref := node.NewMap("apiVersion", res.Ref.APIVersion, "kind", res.Ref.Kind, "name", res.Ref.Name)
			if res.Ref.Namespace != "" {
				node.Set(ref, "namespace", node.NewStr(res.Ref.Namespace))
			}
			node.Set(r, "resourceRef", ref)
			if f.Field != "" {
				field := node.NewMap("path", f.Field)
				if f.Current != "" {
					node.Set(field, "currentValue", node.NewStr(f.Current))
				}
				if f.Proposed != "" {
					node.Set(field, "proposedValue", node.NewStr(f.Proposed))
				}
				node.Set(r, "field", field)
			}
			if file.path != "" {
				fn := node.NewMap("path", file.path)
				if file.index >= 0 {
					node.Set(fn, "index", node.NewInt(file.index))
				}
				node.Set(r, "file", fn)
			}
			node.Set(r, "tags", node.NewMap("code", f.Code))
			results = append(results, r)
		}
	}
	return report, writeWithResults(out, data, &doc, results)
}

func firstOf(annotations *yaml.Node, keys ...string) string {
	for _, k := range keys {
		if v := node.GetStr(annotations, k); v != "" {
			return v
		}
	}
	return ""
}

// writeWithResults writes the list with results. Where the list is a block
// mapping without results, its bytes are kept and results appended, so the
// items come out byte for byte; else the tree is encoded.
func writeWithResults(out io.Writer, data []byte, doc *yaml.Node, results []*yaml.Node) error {
	list := doc.Content[0]
	seq := make([]any, len(results))
	for i, r := range results {
		seq[i] = r
	}
	if node.Get(list, "results") == nil && list.Style&yaml.FlowStyle == 0 && !bytes.Contains(data, []byte("\n...")) {
		if _, err := out.Write(data); err != nil {
			return err
		}
		if len(results) == 0 {
			return nil
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			if _, err := io.WriteString(out, "\n"); err != nil {
				return err
			}
		}
		enc := yaml.NewEncoder(out)
		enc.SetIndent(2)
		if err := enc.Encode(node.NewMap("results", node.NewSeq(seq...))); err != nil {
			return err
		}
		return enc.Close()
	}
	if len(results) > 0 {
		node.Set(list, "results", node.NewSeq(seq...))
	}
	enc := yaml.NewEncoder(out)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}
