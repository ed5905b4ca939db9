package render

import (
	"bytes"
	"encoding/json"
	"strings"

	"go.yaml.in/yaml/v3"
)

// encode writes a changed document back: patched (see patch.go) where it can
// be, else re-encoded with its `---` line, comments, key order and the
// indentation it already uses. A JSON document stays JSON.
func (d *Document) encode(fragments map[string][]byte) error {
	if !isJSON(d.body()) {
		if body, ok := d.patch(fragments); ok {
			marker := d.Raw[:len(d.Raw)-len(d.body())]
			d.out = append(append(make([]byte, 0, len(marker)+len(body)), marker...), body...)
			d.changed = true
			return nil
		}
	}
	var buf bytes.Buffer
	buf.Grow(len(d.Raw) + 256)
	if line := firstLine(d.Raw); isSeparator(line) {
		buf.WriteString("---\n")
	}
	if isJSON(d.body()) {
		writeJSON(&buf, d.root(), "")
		buf.WriteByte('\n')
	} else {
		indent, compact := layout(d.root())
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(indent)
		if compact {
			enc.CompactSeqIndent()
		}
		if err := enc.Encode(d.Node); err != nil {
			return &DocumentError{Ref: d.Ref, Err: err}
		}
		if err := enc.Close(); err != nil {
			return &DocumentError{Ref: d.Ref, Err: err}
		}
	}
	out := buf.Bytes()
	if bytes.Contains(firstLine(d.Raw), []byte("\r\n")) {
		out = bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n"))
	}
	d.out, d.changed = out, true
	return nil
}

// isJSON reports whether a document is written as JSON: its first character
// after blanks and comments opens an object.
func isJSON(body []byte) bool {
	for len(body) > 0 {
		line := firstLine(body)
		body = body[len(line):]
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		return t[0] == '{'
	}
	return false
}

// layout finds the indentation width of block mappings and whether block
// sequences under a key sit at the key's column (compact, as kubectl and
// kustomize write them) or are indented (as Helm charts often write them).
func layout(root *yaml.Node) (indent int, compact bool) {
	indent, compact = 0, true
	seenSeq := false
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		if n.Kind != yaml.MappingNode || n.Style&yaml.FlowStyle != 0 {
			return false
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Style&yaml.FlowStyle == 0 && v.Line > k.Line {
				switch {
				case v.Kind == yaml.MappingNode && len(v.Content) > 0 && indent == 0:
					indent = v.Content[0].Column - k.Column
				case v.Kind == yaml.SequenceNode && len(v.Content) > 0 && !seenSeq:
					// The item's column is after its "- ".
					seenSeq, compact = true, v.Content[0].Column-2 <= k.Column
				}
			}
			if indent != 0 && seenSeq {
				return true
			}
			if walk(v) {
				return true
			}
			if v.Kind == yaml.SequenceNode {
				for _, item := range v.Content {
					if walk(item) {
						return true
					}
				}
			}
		}
		return false
	}
	walk(root)
	if indent < 2 || indent > 8 {
		indent = 2
	}
	return indent, compact
}

// writeJSON writes a tree as indented JSON, keeping key order.
func writeJSON(buf *bytes.Buffer, n *yaml.Node, indent string) {
	switch n.Kind {
	case yaml.DocumentNode:
		writeJSON(buf, n.Content[0], indent)
	case yaml.AliasNode:
		writeJSON(buf, n.Alias, indent)
	case yaml.MappingNode, yaml.SequenceNode:
		open, close, step := "{", "}", 2
		if n.Kind == yaml.SequenceNode {
			open, close, step = "[", "]", 1
		}
		if len(n.Content) == 0 {
			buf.WriteString(open + close)
			return
		}
		inner := indent + "  "
		buf.WriteString(open)
		for i := 0; i < len(n.Content); i += step {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString("\n" + inner)
			if step == 2 {
				writeJSONString(buf, n.Content[i].Value)
				buf.WriteString(": ")
			}
			writeJSON(buf, n.Content[i+step-1], inner)
		}
		buf.WriteString("\n" + indent + close)
	default:
		switch n.ShortTag() {
		case "!!int", "!!float", "!!bool":
			buf.WriteString(strings.ToLower(n.Value))
		case "!!null":
			buf.WriteString("null")
		default:
			writeJSONString(buf, n.Value)
		}
	}
}

func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false) // keep `2>/dev/null` readable
	_ = enc.Encode(s)        // a string always encodes
	buf.Truncate(buf.Len() - 1)
}
