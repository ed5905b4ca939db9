package audit

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/render"
)

// ParseIgnore reads codes to ignore (--ignore, the annotation's value):
// comma-separated, each a check code (GS201).
func ParseIgnore(list []string) (map[string]bool, error) {
	out := map[string]bool{}
	var unknown []string
	for _, item := range list {
		for _, code := range strings.Split(item, ",") {
			code = strings.ToUpper(strings.TrimSpace(code))
			if code == "" {
				continue
			}
			if _, ok := RuleFor(code); !ok {
				unknown = append(unknown, code)
				continue
			}
			out[code] = true
		}
	}
	if len(unknown) > 0 {
		codes := make([]string, len(Rules))
		for i, r := range Rules {
			codes[i] = r.Code
		}
		return out, fmt.Errorf("%s: not a check code (%s)", strings.Join(unknown, ", "), strings.Join(codes, ", "))
	}
	return out, nil
}

// unignored drops the findings whose code --ignore or the object's
// graceful.dev/check-ignore names, counting them in ignored.
func (c *checker) unignored(o render.Object, fs []Finding) []Finding {
	skip := c.objectIgnore(o)
	return slices.DeleteFunc(fs, func(f Finding) bool {
		if skip[f.Code] {
			c.ignored++
			return true
		}
		return false
	})
}

// objectIgnore is --ignore with the codes of the object's
// graceful.dev/check-ignore (on the object, or its pod template, as render
// reads its own annotations), read once per object. A code there that is no
// check is noted, so that a typo does not silence nothing without a word.
func (c *checker) objectIgnore(o render.Object) map[string]bool {
	k := keyOf(o.Ref)
	if skip, ok := c.objectIgnores[k]; ok {
		return skip
	}
	skip := c.ignore
	metas := []*yaml.Node{node.Get(o.Node, "metadata")}
	if pod, ok := c.renderer.FindPods(o.Node); ok && pod.Template != nil {
		metas = append(metas, node.Get(pod.Template, "metadata"))
	}
	for _, meta := range metas {
		v := node.Get(node.Get(meta, "annotations"), render.CheckIgnoreAnnotation)
		if v == nil {
			continue
		}
		codes, err := ParseIgnore([]string{node.Str(v)})
		if err != nil {
			c.ignoreNotes[k] = append(c.ignoreNotes[k], render.CheckIgnoreAnnotation+": "+err.Error())
		}
		skip = mergeSets(skip, codes)
	}
	c.objectIgnores[k] = skip
	return skip
}

func mergeSets(a, b map[string]bool) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
