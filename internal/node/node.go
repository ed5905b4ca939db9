// Package node holds the few yaml.Node operations graceful needs. They work on
// the parsed tree in place, so comments, key order and styles of everything
// they do not touch stay as they were.
package node

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Get returns the value of key in mapping m, or nil.
func Get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// Lookup follows a path of mapping keys; nil if any step is missing or not a mapping.
func Lookup(m *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		m = Get(m, k)
		if m == nil {
			return nil
		}
	}
	return m
}

// IsNull reports whether n is absent or a YAML null (`key:`, `~`, `null`).
func IsNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") ||
		(n.Kind == yaml.AliasNode && IsNull(n.Alias))
}

// IsMap reports whether n is a mapping.
func IsMap(n *yaml.Node) bool { return n != nil && n.Kind == yaml.MappingNode }

// IsSeq reports whether n is a sequence.
func IsSeq(n *yaml.Node) bool { return n != nil && n.Kind == yaml.SequenceNode }

// Str returns the value of a scalar, or "" for anything else.
func Str(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// GetStr is Str(Get(m, key)).
func GetStr(m *yaml.Node, key string) string { return Str(Get(m, key)) }

// Int parses an integer scalar. ok is false for anything else.
func Int(n *yaml.Node) (v int, ok bool) {
	if n == nil || n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "") {
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	return v, err == nil
}

// Set puts value under key in mapping m: in place of the old value if the key
// exists, else as a new last entry.
func Set(m *yaml.Node, key string, value *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			if old := m.Content[i+1]; value.LineComment == "" {
				value.LineComment = old.LineComment // `key: 10 # why` keeps its why
			}
			m.Content[i+1] = value
			return
		}
	}
	m.Content = append(m.Content, NewStr(key), value)
}

// EnsureMap returns the mapping under key in m, creating it when the key is
// missing or null. ok is false when the key holds something else.
func EnsureMap(m *yaml.Node, key string) (child *yaml.Node, ok bool) {
	v := Get(m, key)
	switch {
	case IsMap(v):
		return v, true
	case IsNull(v):
		child = NewMap()
		// A null written as `key:` keeps its comments on the new mapping.
		if v != nil {
			child.LineComment, child.FootComment = v.LineComment, v.FootComment
		}
		Set(m, key, child)
		return child, true
	}
	return nil, false
}

// BlockStyle turns a flow collection into a block one, so that keys added to
// it are written as a person would add them. Nested flow values keep their style.
func BlockStyle(n *yaml.Node) {
	if n != nil && (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) {
		n.Style &^= yaml.FlowStyle
	}
}

// Labels returns a mapping of string scalars as a Go map.
func Labels(m *yaml.Node) map[string]string {
	if !IsMap(m) {
		return nil
	}
	out := make(map[string]string, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		out[m.Content[i].Value] = m.Content[i+1].Value
	}
	return out
}

// NewStr makes a string scalar. The encoder quotes what YAML 1.2 would read
// as another type; NewStr also quotes what YAML 1.1 would, because Kubernetes'
// YAML reader (sigs.k8s.io/yaml) reads `on` and `yes` as booleans.
func NewStr(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if yaml11NonString[s] {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

var yaml11NonString = map[string]bool{}

func init() {
	for _, s := range strings.Fields("y Y yes Yes YES n N no No NO true True TRUE false False FALSE on On ON off Off OFF ~ null Null NULL") {
		yaml11NonString[s] = true
	}
}

// NewInt makes an integer scalar.
func NewInt(v int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(v)}
}

// NewMap makes a block mapping from key, value pairs.
func NewMap(pairs ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(pairs); i += 2 {
		m.Content = append(m.Content, NewStr(pairs[i].(string)), From(pairs[i+1]))
	}
	return m
}

// NewSeq makes a block sequence.
func NewSeq(items ...any) *yaml.Node {
	s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, it := range items {
		s.Content = append(s.Content, From(it))
	}
	return s
}

// From turns a string, an int or a node into a node.
func From(v any) *yaml.Node {
	switch v := v.(type) {
	case *yaml.Node:
		return v
	case string:
		return NewStr(v)
	case int:
		return NewInt(v)
	}
	panic("node.From: unsupported value")
}

// Equal compares two trees by kind and value, ignoring styles, tags of plain
// scalars and comments: `seconds: 5` equals `seconds: "5"` only if both are strings.
func Equal(a, b *yaml.Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Kind == yaml.AliasNode {
		return Equal(a.Alias, b)
	}
	if b.Kind == yaml.AliasNode {
		return Equal(a, b.Alias)
	}
	if a.Kind != b.Kind || len(a.Content) != len(b.Content) {
		return false
	}
	if a.Kind == yaml.ScalarNode {
		return a.Value == b.Value && a.ShortTag() == b.ShortTag()
	}
	for i := range a.Content {
		if !Equal(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}
