package patches

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A value is a decoded YAML value that keeps the key order of mappings, so
// that a patch lists fields in the order the manifest has them: *mapping,
// []any, or a scalar (string, int, float64, bool, nil).

// mapping is a YAML mapping with its key order.
type mapping struct {
	keys []string
	vals map[string]any
}

func newMapping() *mapping { return &mapping{vals: map[string]any{}} }

func (m *mapping) set(k string, v any) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

func (m *mapping) get(k string) (any, bool) {
	v, ok := m.vals[k]
	return v, ok
}

func (m *mapping) str(k string) string {
	s, _ := m.vals[k].(string)
	return s
}

// maxExpandedNodes bounds the nodes a tree may expand to through its
// aliases, as the API server's decoder bounds them: a kilobyte of nested
// aliases (an alias bomb) would otherwise expand past any memory.
const maxExpandedNodes = 1 << 20

// errExcessiveAliasing is a tree that expands past maxExpandedNodes.
var errExcessiveAliasing = fmt.Errorf("the document expands to more than %d nodes through its aliases (excessive aliasing)", maxExpandedNodes)

// fromNode converts a parsed tree, following aliases.
func fromNode(n *yaml.Node) (any, error) {
	budget := maxExpandedNodes
	return fromNodeWithin(n, &budget)
}

func fromNodeWithin(n *yaml.Node, budget *int) (any, error) {
	if *budget--; *budget < 0 {
		return nil, errExcessiveAliasing
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return fromNodeWithin(n.Content[0], budget)
	case yaml.AliasNode:
		return fromNodeWithin(n.Alias, budget)
	case yaml.MappingNode:
		m := newMapping()
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				// A merge key: let the YAML library resolve it (key order of
				// the merged part is lost, which only changes how a patch reads).
				var plain map[string]any
				if err := n.Decode(&plain); err != nil {
					return nil, err
				}
				return fromPlain(plain), nil
			}
			if _, dup := m.vals[k.Value]; dup {
				// kustomize refuses such a document; which value wins is
				// anyone's guess.
				return nil, fmt.Errorf("line %d: key %q appears twice", k.Line, k.Value)
			}
			val, err := fromNodeWithin(v, budget)
			if err != nil {
				return nil, err
			}
			m.set(k.Value, val)
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := fromNodeWithin(c, budget)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	}
}

func fromPlain(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := newMapping()
		for _, k := range sortedKeys(v) {
			m.set(k, fromPlain(v[k]))
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i := range v {
			l[i] = fromPlain(v[i])
		}
		return l
	default:
		return v
	}
}

// equal compares values; key order does not count, list order does.
func equal(a, b any) bool {
	switch a := a.(type) {
	case *mapping:
		b, ok := b.(*mapping)
		if !ok || len(a.keys) != len(b.keys) {
			return false
		}
		for _, k := range a.keys {
			bv, ok := b.vals[k]
			if !ok || !equal(a.vals[k], bv) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equal(a[i], b[i]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(a, b)
	}
}

// toNode converts back to a tree for writing.
func toNode(v any) *yaml.Node {
	switch v := v.(type) {
	case *mapping:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range v.keys {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, toNode(v.vals[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range v {
			n.Content = append(n.Content, toNode(e))
		}
		return n
	default:
		n := &yaml.Node{}
		if err := n.Encode(v); err != nil {
			panic(err) // scalars from a decoder always encode
		}
		return n
	}
}

// marshal writes a value as YAML with two-space indentation.
func marshal(v any) string {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(toNode(v)); err != nil {
		panic(err)
	}
	_ = enc.Close()
	return b.String()
}

// object is one Kubernetes object of a stream.
type object struct {
	value *mapping
	// where names the object in errors: file, document index, List item.
	where string
}

func (o object) apiVersion() string { return o.value.str("apiVersion") }
func (o object) kind() string       { return o.value.str("kind") }
func (o object) metadata() *mapping {
	m, _ := o.value.vals["metadata"].(*mapping)
	if m == nil {
		return newMapping()
	}
	return m
}
func (o object) name() string      { return o.metadata().str("name") }
func (o object) namespace() string { return o.metadata().str("namespace") }

// objects reads every object of a stream in order, with the items of a List
// as objects of their own (kustomize loads a List that way).
func objects(data []byte, file string) ([]object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []object
	for index := 1; ; index++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, index, err)
		}
		v, err := fromNode(&doc)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, index, err)
		}
		m, ok := v.(*mapping)
		if !ok {
			continue // empty or comment-only document
		}
		where := fmt.Sprintf("%s document %d", file, index)
		items, isList := m.vals["items"].([]any)
		if isList && strings.HasSuffix(m.str("kind"), "List") {
			for i, it := range items {
				if im, ok := it.(*mapping); ok {
					out = append(out, object{im, fmt.Sprintf("%s item %d", where, i+1)})
				}
			}
			continue
		}
		out = append(out, object{m, where})
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
