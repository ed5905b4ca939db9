package render

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/internal/suggest"
	"github.com/graceful-dev/graceful/transformers"
)

// annotationPrefix is the domain of graceful's own annotations.
const annotationPrefix = "graceful.dev/"

var knownAnnotations = []string{ProfileAnnotation, ContainerAnnotation, StopAfterAnnotation, CheckIgnoreAnnotation}

// annotation reads one of graceful's annotations from the workload's
// metadata, else from its pod template's: charts often expose only
// podAnnotations. The workload's own wins. field is where it was found.
func (w *workload) annotation(key string) (value *yaml.Node, field string) {
	if v := node.Get(node.Lookup(w.object, "metadata", "annotations"), key); v != nil {
		return v, "metadata.annotations." + key
	}
	if w.template != nil {
		if v := node.Get(node.Lookup(w.template, "metadata", "annotations"), key); v != nil {
			return v, w.templatePath + ".metadata.annotations." + key
		}
	}
	return nil, ""
}

// unknownAnnotations warns of graceful.dev/ keys graceful does not read: a
// misspelt profile annotation would otherwise be ignored without a word.
func (w *workload) unknownAnnotations() []transformers.Finding {
	var out []transformers.Finding
	check := func(meta *yaml.Node, path string) {
		annotations := node.Get(meta, "annotations")
		if !node.IsMap(annotations) {
			return
		}
		var keys []string
		for i := 0; i+1 < len(annotations.Content); i += 2 {
			k := annotations.Content[i].Value
			if strings.HasPrefix(k, annotationPrefix) && !contains(knownAnnotations, k) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			msg := fmt.Sprintf("unknown annotation %s, ignored", k)
			if near := suggest.Nearest(k, knownAnnotations); near != "" {
				msg += "; did you mean " + near + "?"
			} else {
				last := len(knownAnnotations) - 1
				msg += fmt.Sprintf(" (graceful reads %s and %s)", strings.Join(knownAnnotations[:last], ", "), knownAnnotations[last])
			}
			out = append(out, transformers.Finding{Code: transformers.CodeUnknownAnnotation, Severity: transformers.Warning, Field: path + ".annotations", Message: msg})
		}
	}
	check(node.Get(w.object, "metadata"), "metadata")
	if w.template != nil && w.templatePath != "" {
		check(node.Get(w.template, "metadata"), w.templatePath+".metadata")
	}
	return out
}
