package audit

import (
	"bytes"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/render"
)

// graceful check as a kustomize validator: a ResourceList in, the same
// items out, untouched, and every finding in results (kyaml's
// framework.Result: message, severity, resourceRef, field, file, tags). The
// functionConfig, a GracefulShutdown, gives the selection for the fix.

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
	type file struct {
		path  string
		index int
	}
	var files []file
	if node.IsSeq(items) {
		for _, item := range items.Content {
			b, err := yaml.Marshal(item)
			if err != nil {
				return nil, err
			}
			stream.WriteString("---\n")
			stream.Write(b)
			var f file
			f.path, f.index = render.KustomizeFile(item)
			files = append(files, f)
		}
	}
	report, err := Check([]render.Input{{Data: stream.Bytes()}}, opts)
	if err != nil {
		return nil, err
	}
	var results []*yaml.Node
	tags := render.KRMTags{}
	for i := range report.Results {
		res := &report.Results[i]
		// Lines of the stream made here mean nothing to the user: the file
		// kustomize read the item from, and its index there, do.
		res.Ref.Line = 0
		for j := range res.Findings {
			res.Findings[j].Line = 0
		}
		f := file{index: -1}
		if k := res.Ref.Index - 1; k >= 0 && k < len(files) {
			f = files[k]
		}
		res.Ref.File = f.path
		for _, fd := range res.Findings {
			results = append(results, render.KRMResult{Severity: string(fd.Severity), Message: fd.Code + ": " + fd.Message, Ref: res.Ref,
				Field: fd.Field, Current: fd.Current, Proposed: fd.Proposed, Code: fd.Code, FilePath: f.path, FileIndex: f.index}.Node(tags))
		}
	}
	return report, writeWithResults(out, data, &doc, results)
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
