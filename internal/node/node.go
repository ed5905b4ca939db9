// Package node holds the few yaml.Node operations graceful needs. They work on
// the parsed tree in place, so comments, key order and styles of everything
// they do not touch stay as they were.
package node

import (
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Get returns the value of key in mapping m, or nil. An alias is read as the
// node it names, and keys merged in with `<<` count (the mapping's own keys
// win), as Kubernetes reads them.
func Get(m *yaml.Node, key string) *yaml.Node {
	m = Resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	merges := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if k.Value == key && k.Kind == yaml.ScalarNode && !isMergeKey(k) {
			return Resolve(m.Content[i+1])
		}
		merges = merges || isMergeKey(k)
	}
	if !merges {
		return nil
	}
	var found *yaml.Node
	eachMerged(m, func(k, v *yaml.Node) bool {
		if k.Value == key && !isMergeKey(k) {
			found = Resolve(v)
			return false
		}
		return true
	})
	return found
}

// Resolve is the node an alias names, or n itself.
func Resolve(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "!!merge" || k.Tag == "")
}

// eachMerged calls f for every key and value of m, its own keys first, then
// those merged in with `<<`, in order of precedence; f returns false to stop.
// Each mapping is visited once, so that merges cannot multiply the work.
func eachMerged(m *yaml.Node, f func(k, v *yaml.Node) bool) {
	seen := map[*yaml.Node]bool{}
	var visit func(m *yaml.Node) bool
	visit = func(m *yaml.Node) bool {
		m = Resolve(m)
		if m == nil || m.Kind != yaml.MappingNode || seen[m] {
			return true
		}
		seen[m] = true
		var merged []*yaml.Node
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			if isMergeKey(k) {
				merged = append(merged, v)
				continue
			}
			if !f(k, v) {
				return false
			}
		}
		for _, v := range merged {
			v = Resolve(v)
			sources := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				sources = v.Content // earlier entries win
			}
			for _, src := range sources {
				if !visit(src) {
					return false
				}
			}
		}
		return true
	}
	visit(m)
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
	n = Resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// IsMap reports whether n is a mapping (or an alias of one).
func IsMap(n *yaml.Node) bool { n = Resolve(n); return n != nil && n.Kind == yaml.MappingNode }

// IsSeq reports whether n is a sequence (or an alias of one).
func IsSeq(n *yaml.Node) bool { n = Resolve(n); return n != nil && n.Kind == yaml.SequenceNode }

// Str returns the value of a scalar, or "" for anything else.
func Str(n *yaml.Node) string {
	n = Resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// GetStr is Str(Get(m, key)).
func GetStr(m *yaml.Node, key string) string { return Str(Get(m, key)) }

// Int reads an integer scalar as Kubernetes does: its YAML reader
// (sigs.k8s.io/yaml) follows YAML 1.1, where `030` is octal 24, `0b11` is 3,
// `1_000` is 1000 and `1:30` is 90. ok is false for anything else.
func Int(n *yaml.Node) (v int, ok bool) {
	n = Resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return 0, false
	}
	// An int by resolution or by an explicit `!!int "10"`; or a plain scalar
	// that YAML 1.2 reads as a string and YAML 1.1 as a number: `1:30`.
	if n.Tag != "!!int" && (n.Style != 0 || (n.Tag != "" && n.Tag != "!!str")) {
		return 0, false
	}
	return parseYAML11Int(n.Value)
}

// Bool reads a boolean scalar as Kubernetes does: YAML 1.1, where `yes`,
// `on` and `y` are true and `no`, `off` and `n` are false. ok is false for
// anything else, a quoted "true" included.
func Bool(n *yaml.Node) (v bool, ok bool) {
	n = Resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return false, false
	}
	if n.Tag != "!!bool" && (n.Style != 0 || (n.Tag != "" && n.Tag != "!!str")) {
		return false, false
	}
	switch n.Value {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return true, true
	case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return false, true
	}
	return false, false
}

// yaml11Int is YAML 1.1's integer syntax (https://yaml.org/type/int.html).
var yaml11Int = regexp.MustCompile(`^[-+]?(0b[01_]+|0[0-7_]+|0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|[1-9][0-9_]*(:[0-5]?[0-9])+)$`)

func parseYAML11Int(s string) (int, bool) {
	if !yaml11Int.MatchString(s) {
		return 0, false
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	s = strings.ReplaceAll(s, "_", "")
	var v int64
	var err error
	switch {
	case strings.Contains(s, ":"):
		for _, part := range strings.Split(s, ":") {
			d, perr := strconv.ParseInt(part, 10, 64)
			if perr != nil || v > (1<<62)/60 {
				return 0, false
			}
			v = v*60 + d
		}
	case strings.HasPrefix(s, "0b"):
		v, err = strconv.ParseInt(s[2:], 2, 64)
	case strings.HasPrefix(s, "0x"):
		v, err = strconv.ParseInt(s[2:], 16, 64)
	case len(s) > 1 && s[0] == '0':
		v, err = strconv.ParseInt(s[1:], 8, 64)
	default:
		v, err = strconv.ParseInt(s, 10, 64)
	}
	if err != nil || v > 1<<31 {
		return 0, false
	}
	if neg {
		v = -v
	}
	return int(v), true
}

// Set puts value under key in mapping m: in place of the old value if the key
// exists, else as a new last entry.
func Set(m *yaml.Node, key string, value *yaml.Node) {
	m = Resolve(m) // an edit through an alias reaches its anchor: see render's sharedGuard
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

// Labels returns a mapping of string scalars as a Go map, merged keys included.
func Labels(m *yaml.Node) map[string]string {
	if !IsMap(m) {
		return nil
	}
	out := make(map[string]string, len(Resolve(m).Content)/2)
	eachMerged(m, func(k, v *yaml.Node) bool {
		if _, ok := out[k.Value]; !ok {
			out[k.Value] = Str(v)
		}
		return true
	})
	return out
}

// Duplicate returns the first key of m, among keys (all keys if none are
// given), that m holds more than once, or "". Kubernetes reads the last of
// them, graceful the first: neither may be edited.
func Duplicate(m *yaml.Node, keys ...string) string {
	m = Resolve(m)
	if m == nil || m.Kind != yaml.MappingNode || len(m.Content) < 4 {
		return ""
	}
	seen := make(map[string]bool, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if isMergeKey(k) || (len(keys) > 0 && !contains(keys, k.Value)) {
			continue
		}
		if seen[k.Value] {
			return k.Value
		}
		seen[k.Value] = true
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Unshare replaces the alias under key in m by a copy of what it names, so
// that an edit of the value changes this mapping only; the anchor's other
// users keep it. It does nothing to a value that is not an alias.
func Unshare(m *yaml.Node, key string) {
	m = Resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Value == key && !isMergeKey(k) {
			if v := m.Content[i+1]; v.Kind == yaml.AliasNode && v.Alias != nil {
				c := Copy(v.Alias)
				c.LineComment = v.LineComment
				m.Content[i+1] = c
			}
			return
		}
	}
}

// Copy copies a tree as new nodes (Line 0), without anchors; aliases inside
// stay aliases of the same anchors, so the copy is as large as the text.
func Copy(n *yaml.Node) *yaml.Node {
	c := *n
	c.Line, c.Column, c.Anchor = 0, 0, ""
	if n.Kind == yaml.AliasNode {
		return &c
	}
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, child := range n.Content {
		c.Content[i] = Copy(child)
	}
	return &c
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
// scalars and comments: `seconds: 5` equals `seconds: "5"` only if both are
// strings. An alias equals an alias of the same name: aliases are not
// followed, so the work is linear in the size of the trees.
func Equal(a, b *yaml.Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Kind != b.Kind || len(a.Content) != len(b.Content) || a.Anchor != b.Anchor {
		return false
	}
	switch a.Kind {
	case yaml.AliasNode:
		return a.Value == b.Value
	case yaml.ScalarNode:
		return a.Value == b.Value && a.ShortTag() == b.ShortTag()
	}
	for i := range a.Content {
		if !Equal(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}
