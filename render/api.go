package render

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/graceful-dev/graceful/profiles"
)

// Output is one rendered input, held as its documents' bytes so that a
// large stream is not copied once more to be written.
type Output struct {
	Name    string
	Changed bool
	pieces  [][]byte
	size    int
}

// Bytes is the rendered stream.
func (o *Output) Bytes() []byte {
	buf := make([]byte, 0, o.size)
	for _, p := range o.pieces {
		buf = append(buf, p...)
	}
	return buf
}

// WriteTo writes the rendered stream.
func (o *Output) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	var n int64
	for _, p := range o.pieces {
		m, err := bw.Write(p)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}

// StartsDocument reports whether the output begins with a `---` line.
func (o *Output) StartsDocument() bool {
	return len(o.pieces) > 0 && bytes.HasPrefix(o.pieces[0], []byte("---"))
}

// EndsLine reports whether the output is empty or ends with a newline.
func (o *Output) EndsLine() bool {
	if len(o.pieces) == 0 {
		return true
	}
	last := o.pieces[len(o.pieces)-1]
	return len(last) == 0 || last[len(last)-1] == '\n'
}

// Render rewrites streams. The inputs are rendered together, so a Service in
// one file drains for a Deployment in another, and each comes back as its own
// output. Documents no transformer changed are returned byte for byte.
func (r *Renderer) Render(inputs []Input) ([]Output, *Report, error) {
	var docs []*Document
	perInput := make([][]*Document, len(inputs))
	for i, in := range inputs {
		perInput[i] = splitDocuments(in, len(docs)+1)
		if !hasOtherLineBreaks(in.Data) {
			// One decoder for the input; where the parser counts lines this
			// splitter does not (a lone CR), each document is parsed alone.
			newInputParser(perInput[i], in.Data)
		}
		docs = append(docs, perInput[i]...)
	}
	report, err := r.process(docs, false)
	if err != nil {
		return nil, nil, err
	}
	if err := r.strictCheck(report); err != nil {
		return nil, report, err
	}
	outputs := make([]Output, len(inputs))
	for i, in := range inputs {
		out := Output{Name: in.Name, pieces: make([][]byte, 0, len(perInput[i]))}
		for _, d := range perInput[i] {
			out.pieces = append(out.pieces, d.bytes())
			out.size += len(d.bytes())
			out.Changed = out.Changed || d.changed
			if added := d.addedBytes(); added != nil {
				out.pieces = append(out.pieces, added)
				out.size += len(added)
				out.Changed = true
			}
		}
		outputs[i] = out
	}
	return outputs, report, nil
}

// RenderStream rewrites one stream.
func (r *Renderer) RenderStream(data []byte) ([]byte, *Report, error) {
	out, report, err := r.Render([]Input{{Data: data}})
	if err != nil {
		return nil, nil, err
	}
	return out[0].Bytes(), report, nil
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

// validateGoConfig runs ParseConfig's validation on a Config built in Go,
// which may leave out apiVersion and kind: a rule with profile "nignx" or a
// negative delay is an error there as in a file. It returns the profiles of
// base (nil: the built-ins) with the config's own.
func validateGoConfig(c *Config, base *profiles.Catalog) (*profiles.Catalog, error) {
	v := *c
	if v.APIVersion == "" && v.Kind == "" {
		v.APIVersion, v.Kind = ConfigAPIVersion, ConfigKind
	}
	catalog, err := v.validate(base)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return catalog, nil
}

// TargetKube is the run's target Kubernetes: --kube-version, else the
// config's spec.kubernetesVersion, else DefaultKubeVersion.
func (o Options) TargetKube() (KubeVersion, error) {
	var configured string
	if o.Config != nil {
		configured = o.Config.Spec.KubernetesVersion
	}
	v, err := ParseKubeVersion(firstNonEmpty(o.KubeVersion, configured, DefaultKubeVersion))
	if err != nil {
		return v, fmt.Errorf("--kube-version: %w", err)
	}
	return v, nil
}

// ProviderNames are the run's load balancer providers: --provider, else
// the config's spec.provider.
func (o Options) ProviderNames() []string {
	if len(o.Providers) > 0 || o.Config == nil {
		return o.Providers
	}
	return splitList(o.Config.Spec.Provider)
}
