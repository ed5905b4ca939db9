package patches

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// entry is one element of a `patches:` list as a user's file has it.
type entry struct {
	Target *Target `yaml:"target"`
	Patch  string  `yaml:"patch"`
	Path   string  `yaml:"path"`
}

// Read returns the patches graceful wrote (those that start with Marker)
// in a committed file: a HelmRelease (spec.postRenderers), a bare
// postRenderers block, a kustomization or Component, or a directory holding
// a kustomization.yaml. A file with no `patches:` list at all is an error.
func Read(path string) ([]Patch, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if info.IsDir() {
		dir, path = path, filepath.Join(path, "kustomization.yaml")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var lists [][]entry
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc struct {
			Patches       []entry `yaml:"patches"`
			PostRenderers []struct {
				Kustomize struct {
					Patches []entry `yaml:"patches"`
				} `yaml:"kustomize"`
			} `yaml:"postRenderers"`
			Spec struct {
				PostRenderers []struct {
					Kustomize struct {
						Patches []entry `yaml:"patches"`
					} `yaml:"kustomize"`
				} `yaml:"postRenderers"`
			} `yaml:"spec"`
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if doc.Patches != nil {
			lists = append(lists, doc.Patches)
		}
		for _, pr := range doc.PostRenderers {
			lists = append(lists, pr.Kustomize.Patches)
		}
		for _, pr := range doc.Spec.PostRenderers {
			lists = append(lists, pr.Kustomize.Patches)
		}
	}
	if lists == nil {
		return nil, fmt.Errorf("%s: no kustomize patches (patches:, postRenderers: or a HelmRelease's spec.postRenderers)", path)
	}
	var ps []Patch
	for _, list := range lists {
		for _, e := range list {
			body := e.Patch
			if e.Path != "" {
				b, err := os.ReadFile(filepath.Join(dir, e.Path))
				if err != nil {
					return nil, err
				}
				body = string(b)
			}
			if !strings.HasPrefix(body, Marker) || e.Target == nil {
				continue // the user's own patch
			}
			ps = append(ps, Patch{Target: *e.Target, Body: body})
		}
	}
	return ps, nil
}

// Compare lists how the committed patches differ from the current ones,
// one line per object; none when they are the same.
func Compare(committed, current []Patch) []string {
	var diffs []string
	have := map[Target]Patch{}
	for _, p := range committed {
		have[p.Target] = p
	}
	for _, p := range current {
		c, ok := have[p.Target]
		delete(have, p.Target)
		switch {
		case !ok:
			diffs = append(diffs, "missing: "+p.Target.String())
		case !sameBody(c.Body, p.Body):
			diffs = append(diffs, "stale: "+p.Target.String())
		}
	}
	for _, p := range committed {
		if _, ok := have[p.Target]; ok {
			diffs = append(diffs, "no longer needed: "+p.Target.String())
		}
	}
	return diffs
}

func sameBody(a, b string) bool {
	var na, nb yaml.Node
	if yaml.Unmarshal([]byte(a), &na) != nil || yaml.Unmarshal([]byte(b), &nb) != nil {
		return a == b
	}
	va, errA := fromNode(&na)
	vb, errB := fromNode(&nb)
	return errA == nil && errB == nil && equal(va, vb)
}
