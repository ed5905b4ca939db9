package patches

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// entries is the `patches:` list of a kustomization or of a HelmRelease's
// kustomize post-renderer: target first, the patch as a literal block.
func entries(ps []Patch, path func(i int) string) *yaml.Node {
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for i, p := range ps {
		e := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		var target yaml.Node
		if err := target.Encode(p.Target); err != nil {
			panic(err)
		}
		e.Content = append(e.Content, scalar("target"), &target)
		if path != nil {
			e.Content = append(e.Content, scalar("path"), scalar(path(i)))
		} else {
			body := scalar(p.Body)
			body.Style = yaml.LiteralStyle
			e.Content = append(e.Content, scalar("patch"), body)
		}
		list.Content = append(list.Content, e)
	}
	return list
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func writeDoc(w io.Writer, header string, keyvals ...any) error {
	doc := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(keyvals); i += 2 {
		v, ok := keyvals[i+1].(*yaml.Node)
		if !ok {
			v = scalar(keyvals[i+1].(string))
		}
		doc.Content = append(doc.Content, scalar(keyvals[i].(string)), v)
	}
	if _, err := io.WriteString(w, header); err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

// WriteFlux writes a HelmRelease `spec.postRenderers` block, to paste
// under the HelmRelease's spec.
func WriteFlux(w io.Writer, ps []Patch) error {
	kustomize := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{scalar("patches"), entries(ps, nil)}}
	renderer := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{scalar("kustomize"), kustomize}}
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{renderer}}
	return writeDoc(w, "# HelmRelease spec.postRenderers from `graceful patches`: paste under spec.\n"+Marker+"\n",
		"postRenderers", list)
}

// WriteKustomize writes a kustomization `patches:` list.
func WriteKustomize(w io.Writer, ps []Patch) error {
	return writeDoc(w, "# kustomization patches from `graceful patches`.\n"+Marker+"\n", "patches", entries(ps, nil))
}

// WriteDir writes one file per patch and a kustomization.yaml that is a
// kustomize Component listing them: `components: [DIR]` in the
// kustomization that has the chart's output as resources applies them.
// Patch files an earlier run wrote (they start with Marker) are removed.
func WriteDir(dir string, ps []Patch) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range old {
		if data, err := os.ReadFile(f); err == nil && strings.HasPrefix(string(data), Marker) {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	files := make([]string, len(ps))
	used := map[string]int{}
	for i, p := range ps {
		name := strings.ToLower(p.Target.Kind + "-" + unquote(p.Target.Name))
		if p.Target.Namespace != "" {
			name = strings.ToLower(p.Target.Kind + "-" + unquote(p.Target.Namespace) + "-" + unquote(p.Target.Name))
		}
		if used[name]++; used[name] > 1 {
			name = fmt.Sprintf("%s-%d", name, used[name])
		}
		files[i] = name + ".yaml"
		if err := os.WriteFile(filepath.Join(dir, files[i]), []byte(p.Body), 0o644); err != nil {
			return err
		}
	}
	f, err := os.Create(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return err
	}
	err = writeDoc(f, Marker+"\n# A Component: list this directory under `components:` of the kustomization\n# whose resources are the chart's output (helm template).\n",
		"apiVersion", "kustomize.config.k8s.io/v1alpha1", "kind", "Component",
		"patches", entries(ps, func(i int) string { return files[i] }))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
