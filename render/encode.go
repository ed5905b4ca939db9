package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// encode writes a changed document back: patched (see patch.go) where it can
// be, else re-encoded with its `---` line, the comments before it (Helm's
// `# Source:`), comments, key order and the indentation it already uses. A
// JSON document stays JSON.
func (d *Document) encode(fragments map[string][]byte) error {
	body := d.body()
	json := isJSON(body)
	if !json {
		if patched, ok := d.patch(fragments); ok {
			marker := d.Raw[:len(d.Raw)-len(body)]
			d.out = append(append(make([]byte, 0, len(marker)+len(patched)), marker...), patched...)
			d.changed = true
			return nil
		}
	}
	var buf bytes.Buffer
	buf.Grow(len(d.Raw) + 256)
	if json {
		head := d.Raw
		if line := firstLine(head); isSeparator(line) {
			buf.Write(line) // with what follows `---` on its line
			head = head[len(line):]
		}
		buf.Write(leadingComments(head))
		if err := writeJSON(&buf, d.root(), ""); err != nil {
			return &DocumentError{Ref: d.Ref, Err: err}
		}
		buf.WriteByte('\n')
	} else {
		if line := firstLine(d.Raw); isSeparator(line) {
			buf.WriteString("---\n")
		}
		indent, compact := layout(d.root())
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(indent)
		if compact {
			enc.CompactSeqIndent()
		}
		keepNulls(d.root(), false)
		blockPathsToNew(d.root())
		if err := enc.Encode(d.Node); err != nil {
			return &DocumentError{Ref: d.Ref, Err: err}
		}
		if err := enc.Close(); err != nil {
			return &DocumentError{Ref: d.Ref, Err: err}
		}
	}
	out := buf.Bytes()
	if mostlyCRLF(d.Raw) {
		out = bytes.ReplaceAll(bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	}
	d.out, d.changed = out, true
	return nil
}

// mostlyCRLF reports whether most lines end with CRLF: a re-encoded document
// cannot keep each line's end, so it takes the most common one.
func mostlyCRLF(b []byte) bool {
	return 2*bytes.Count(b, []byte("\r\n")) > bytes.Count(b, []byte("\n"))
}

// keepNulls spells out the empty nulls that the encoder would write as an
// empty quoted string: values in flow collections (`{a: }`) and keys anywhere.
func keepNulls(n *yaml.Node, inFlow bool) {
	if n == nil {
		return
	}
	inFlow = inFlow || n.Style&yaml.FlowStyle != 0
	if isEmptyNull(n) && inFlow {
		n.Value = "null"
	}
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 && isEmptyNull(c) {
			c.Value = "null"
		}
		keepNulls(c, inFlow)
	}
}

func isEmptyNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == ""
}

// isJSON reports whether a document is JSON: after its comment lines (Helm's
// `# Source:`), the rest is a JSON value. A YAML flow mapping that starts
// with `{` but holds comments, tags or YAML numbers is YAML.
func isJSON(body []byte) bool {
	rest := body[len(leadingComments(body)):]
	t := bytes.TrimSpace(rest)
	return len(t) > 0 && t[0] == '{' && json.Valid(t)
}

// leadingComments is the document's blank and comment lines before its content.
func leadingComments(body []byte) []byte {
	n := 0
	for n < len(body) {
		line := firstLine(body[n:])
		t := bytes.TrimSpace(line)
		if len(t) > 0 && t[0] != '#' {
			break
		}
		n += len(line)
	}
	return body[:n]
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

// writeJSON writes a tree as indented JSON, keeping key order. A document
// read as JSON has no aliases; one that reached here is refused rather than
// expanded, which an alias bomb would make unbounded.
func writeJSON(buf *bytes.Buffer, n *yaml.Node, indent string) error {
	switch n.Kind {
	case yaml.DocumentNode:
		return writeJSON(buf, n.Content[0], indent)
	case yaml.AliasNode:
		return fmt.Errorf("a JSON document cannot hold the YAML alias *%s", n.Value)
	case yaml.MappingNode, yaml.SequenceNode:
		open, close, step := "{", "}", 2
		if n.Kind == yaml.SequenceNode {
			open, close, step = "[", "]", 1
		}
		if len(n.Content) == 0 {
			buf.WriteString(open + close)
			return nil
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
			if err := writeJSON(buf, n.Content[i+step-1], inner); err != nil {
				return err
			}
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
	return nil
}

func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false) // keep `2>/dev/null` readable
	_ = enc.Encode(s)        // a string always encodes
	buf.Truncate(buf.Len() - 1)
}
