package render

import (
	"bytes"
	"fmt"
)

// Output is one rendered input.
type Output struct {
	Name    string
	Data    []byte
	Changed bool
}

// Render rewrites streams. The inputs are rendered together, so a Service in
// one file drains for a Deployment in another, and each comes back as its own
// output. Documents no transformer changed are returned byte for byte.
func (r *Renderer) Render(inputs []Input) ([]Output, *Report, error) {
	var docs []*Document
	perInput := make([][]*Document, len(inputs))
	for i, in := range inputs {
		perInput[i] = splitDocuments(in, len(docs)+1)
		if len(perInput[i]) > 0 {
			if err := parseInput(perInput[i], in.Data); err != nil {
				return nil, nil, err
			}
		}
		docs = append(docs, perInput[i]...)
	}
	report, err := r.process(docs, false)
	if err != nil {
		return nil, nil, err
	}
	outputs := make([]Output, len(inputs))
	for i, in := range inputs {
		size := 0
		for _, d := range perInput[i] {
			size += len(d.bytes())
		}
		var buf bytes.Buffer
		buf.Grow(size)
		changed := false
		for _, d := range perInput[i] {
			buf.Write(d.bytes())
			changed = changed || d.changed
		}
		outputs[i] = Output{Name: in.Name, Data: buf.Bytes(), Changed: changed}
	}
	return outputs, report, nil
}

// RenderStream rewrites one stream.
func (r *Renderer) RenderStream(data []byte) ([]byte, *Report, error) {
	out, report, err := r.Render([]Input{{Data: data}})
	if err != nil {
		return nil, nil, err
	}
	return out[0].Data, report, nil
}

// PostRenderer is graceful as a Helm 3 post-renderer in Go: it satisfies
// helm.sh/helm/v3/pkg/postrender.PostRenderer, for programs that install
// charts with the Helm SDK.
type PostRenderer struct {
	Renderer *Renderer
}

// Run renders Helm's manifests. An error names the document, so Helm stops
// instead of applying half a release.
func (p PostRenderer) Run(renderedManifests *bytes.Buffer) (*bytes.Buffer, error) {
	if p.Renderer == nil {
		return nil, fmt.Errorf("graceful: PostRenderer has no Renderer")
	}
	out, _, err := p.Renderer.RenderStream(renderedManifests.Bytes())
	if err != nil {
		return nil, fmt.Errorf("graceful: %w", err)
	}
	return bytes.NewBuffer(out), nil
}
