// Package shape compares a YAML tree with the Go type it decodes into, so that
// a typo or a wrong type is reported by its field path in the file's own
// words, every one at once, with a suggestion for a near miss.
package shape

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/suggest"
)

// Check returns every mismatch between n and t, by the yaml names of t's
// fields; path is n's own path ("" for the root, which errors call whole).
// A yaml.Node in t accepts anything: its owner checks it.
func Check(n *yaml.Node, t reflect.Type, path, whole string) []error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if t == reflect.TypeOf(yaml.Node{}) || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	at := func(format string, args ...any) []error {
		name := path
		if name == "" {
			name = whole
		}
		return []error{fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))}
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return at("expected a mapping, got %s", Describe(n))
		}
		fields := map[string]reflect.StructField{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				fields[name] = f
				names = append(names, name)
			}
		}
		var errs []error
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			child := Join(path, key)
			f, ok := fields[key]
			if !ok {
				msg := "unknown field"
				if near := suggest.Nearest(key, names); near != "" {
					msg += "; did you mean " + near + "?"
				} else {
					msg += " (known: " + strings.Join(names, ", ") + ")"
				}
				errs = append(errs, fmt.Errorf("%s: %s", child, msg))
				continue
			}
			errs = append(errs, Check(n.Content[i+1], f.Type, child, whole)...)
		}
		return errs
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return at("expected a list, got %s", Describe(n))
		}
		var errs []error
		for i, item := range n.Content {
			errs = append(errs, Check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), whole)...)
		}
		return errs
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return at("expected a mapping, got %s", Describe(n))
		}
		var errs []error
		for i := 0; i+1 < len(n.Content); i += 2 {
			errs = append(errs, Check(n.Content[i+1], t.Elem(), Join(path, n.Content[i].Value), whole)...)
		}
		return errs
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return at("expected an integer, got %s", Describe(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			return at("expected true or false, got %s", Describe(n))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return at("expected a string, got %s", Describe(n))
		}
	}
	return nil
}

// Join appends a key to a field path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Describe names a node's kind, or quotes a scalar, for an error.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}
