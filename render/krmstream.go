package render

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
)

// A ResourceList is one YAML document, but parsed whole its tree costs
// hundreds of times its size. When its items are written as kustomize writes
// them (a block sequence under a top-level `items:`), each item is cut from
// the text and rendered as the CLI renders a document: parsed alone, patched,
// and let go. The rest of the list is read as a small document of its own.
// Anything else (flow style, items that refer to each other's anchors, an
// existing `results:`) takes the whole-tree path.

// krmStream is a ResourceList cut into its items.
type krmStream struct {
	head, tail []byte // the text before and after the items block
	itemsLine  []byte // `items:` with its line end
	indent     int    // the column of the items' "- "
	items      [][]byte
	crlf       bool
}

// splitResourceList cuts data at its items; ok false when it is not laid out
// as expected.
func splitResourceList(data []byte) (s krmStream, ok bool) {
	if hasOtherLineBreaks(data) {
		return s, false // lines the parser counts and this cutter would not
	}
	starts := []int{}
	for off := 0; off < len(data); off += len(firstLine(data[off:])) {
		starts = append(starts, off)
	}
	starts = append(starts, len(data))
	line := func(i int) []byte { return data[starts[i]:starts[i+1]] }
	n := len(starts) - 1
	at := -1
	for i := 0; i < n; i++ {
		t := bytes.TrimRight(line(i), "\r\n")
		if bytes.Equal(bytes.TrimRight(t, " "), []byte("items:")) {
			if at >= 0 {
				return s, false
			}
			at = i
		}
		if (at < 0 && bytes.HasPrefix(t, []byte("results:"))) || (i > 0 && bytes.HasPrefix(t, []byte("---"))) ||
			bytes.HasPrefix(t, []byte("...")) || bytes.IndexByte(t, '\t') >= 0 {
			return s, false
		}
	}
	if at < 0 {
		return s, false
	}
	s.itemsLine = line(at)
	s.crlf = bytes.HasSuffix(s.itemsLine, []byte("\r\n"))
	s.indent = -1
	end, start := n, -1
	for i := at + 1; i < n; i++ {
		t := bytes.TrimRight(line(i), "\r\n")
		rest := bytes.TrimLeft(t, " ")
		if len(rest) == 0 || rest[0] == '#' {
			continue
		}
		indent := len(t) - len(rest)
		if s.indent < 0 {
			s.indent = indent
		}
		if indent < s.indent || (indent == s.indent && !isItemStart(rest)) {
			if indent != 0 {
				return s, false
			}
			end = i // the next top-level key
			break
		}
		if indent == s.indent {
			if start >= 0 {
				s.items = append(s.items, data[starts[start]:starts[i]])
			}
			start = i
		}
	}
	if start < 0 {
		return s, false
	}
	// Comment and blank lines at the end of the block go with the tail.
	last := end
	for last > start+1 {
		t := bytes.TrimSpace(line(last - 1))
		if len(t) > 0 && t[0] != '#' {
			break
		}
		last--
	}
	s.items = append(s.items, data[starts[start]:starts[last]])
	s.head, s.tail = data[:starts[at]], dropResults(data[starts[last]:])
	return s, true
}

// dropResults removes a top-level `results:` block: graceful writes its own.
func dropResults(tail []byte) []byte {
	var out []byte
	skipping := false
	for len(tail) > 0 {
		l := firstLine(tail)
		tail = tail[len(l):]
		if len(l) > 0 && l[0] != ' ' && l[0] != '#' && l[0] != '\n' && l[0] != '\r' && l[0] != '-' {
			skipping = bytes.HasPrefix(l, []byte("results:"))
		}
		if !skipping {
			out = append(out, l...)
		}
	}
	return out
}

// withoutItems is the ResourceList with an empty `items:`.
func (s *krmStream) withoutItems() []byte {
	return append(append(append([]byte(nil), s.head...), s.itemsLine...), s.tail...)
}

func isItemStart(rest []byte) bool {
	return rest[0] == '-' && (len(rest) == 1 || rest[1] == ' ' || rest[1] == '\r' || rest[1] == '\n')
}

// dedent makes an item a document: its "- " and the indentation of every
// line under it removed. ok is false for an item whose text would read
// differently alone: a line less indented than its content, or one that
// would become a document marker or directive.
func (s *krmStream) dedent(item []byte) (doc []byte, ok bool) {
	cut := s.indent + 2
	out := make([]byte, 0, len(item))
	for first := true; len(item) > 0; first = false {
		l := firstLine(item)
		item = item[len(l):]
		if first {
			l = l[s.indent+1:] // "- "
			if len(l) > 0 && l[0] == ' ' {
				l = l[1:]
			}
		} else {
			n := 0
			for n < cut && n < len(l) && l[n] == ' ' {
				n++
			}
			rest := bytes.TrimRight(l[n:], "\r\n")
			if n < cut && len(rest) > 0 && rest[0] != '#' {
				return nil, false
			}
			l = l[n:]
		}
		if bytes.HasPrefix(l, []byte("---")) || bytes.HasPrefix(l, []byte("...")) || bytes.HasPrefix(l, []byte("%")) {
			return nil, false
		}
		out = append(out, l...)
	}
	return out, true
}

// indentItem writes a rendered item back under "- ".
func (s *krmStream) indentItem(w *bufio.Writer, doc []byte) {
	pad := bytes.Repeat([]byte(" "), s.indent+2)
	for first := true; len(doc) > 0; first = false {
		l := firstLine(doc)
		doc = doc[len(l):]
		switch {
		case first:
			w.Write(pad[:s.indent])
			w.WriteString("- ")
		case len(bytes.TrimRight(l, "\r\n")) > 0:
			w.Write(pad)
		}
		w.Write(l)
	}
}

// runStreamed renders a ResourceList item by item; ok false when it must
// take the whole-tree path instead.
func runStreamed(data []byte, out io.Writer, opts Options) (ok bool, err error) {
	s, ok := splitResourceList(data)
	if !ok {
		return false, nil
	}
	var rest yaml.Node
	if yaml.Unmarshal(s.withoutItems(), &rest) != nil || isEmptyDocument(&rest) ||
		node.GetStr(rest.Content[0], "kind") != resourceListKind || !node.IsNull(node.Get(rest.Content[0], "items")) {
		return false, nil
	}
	// The items, each a document of one stream: one decoder reads them all,
	// as it reads the documents of a file.
	var stream bytes.Buffer
	stream.Grow(len(data) + 4*len(s.items))
	for _, item := range s.items {
		doc, ok := s.dedent(item)
		if !ok {
			return false, nil
		}
		stream.WriteString("---\n")
		stream.Write(doc)
		if len(doc) == 0 || doc[len(doc)-1] != '\n' {
			stream.WriteString("\n")
		}
	}
	docs := splitDocuments(Input{Data: stream.Bytes()}, 1)
	if len(docs) != len(s.items) {
		return false, nil
	}
	for _, d := range docs {
		d.krmItem = true
	}
	newInputParser(docs, stream.Bytes())
	r, report, _, err := renderItems(rest.Content[0], docs, opts)
	if err != nil {
		// The whole-tree path reports it, and reads what a cut item cannot
		// (an alias to another item's anchor).
		return false, nil
	}
	results, err := itemResults(r, report, docs)
	if err != nil {
		return false, nil // --strict failed: the whole-tree path reports it
	}
	w := bufio.NewWriterSize(out, 64<<10)
	w.Write(s.head)
	w.Write(s.itemsLine)
	for i, d := range docs {
		if d.changed {
			out := d.bytes()
			s.indentItem(w, out[len(firstLine(out)):]) // without the `---` we added
		} else {
			w.Write(s.items[i])
		}
		s.addedItems(w, d)
		d.out = nil
	}
	w.Write(s.tail)
	if len(results) > 0 {
		if len(s.tail) > 0 && s.tail[len(s.tail)-1] != '\n' || len(s.tail) == 0 && !endsLine(s.items) {
			w.WriteString(s.lineEnd())
		}
		w.WriteString("results:" + s.lineEnd())
		var entry bytes.Buffer
		for _, r := range results {
			entry.Reset()
			if err := writeResult(&entry, r.(*yaml.Node), "  ", true); err != nil {
				return true, err
			}
			text := entry.Bytes()
			if s.crlf {
				text = bytes.ReplaceAll(text, []byte("\n"), []byte("\r\n"))
			}
			w.Write(text)
		}
	}
	return true, w.Flush()
}

func (s *krmStream) lineEnd() string {
	if s.crlf {
		return "\r\n"
	}
	return "\n"
}

func endsLine(items [][]byte) bool {
	if len(items) == 0 {
		return true
	}
	last := items[len(items)-1]
	return len(last) == 0 || last[len(last)-1] == '\n'
}

// krmAnnotations reads the item's file annotations kustomize set.
func (d *Document) krmAnnotations() {
	d.File, d.fileIndex = KustomizeFile(d.root())
}

// KustomizeFile is the file kustomize read a ResourceList item from, and
// its index there (-1: not said), from the annotations kustomize sets.
func KustomizeFile(item *yaml.Node) (path string, index int) {
	annotations := node.Lookup(item, "metadata", "annotations")
	path, index = firstAnnotation(annotations, pathAnnotations), -1
	if i, err := strconv.Atoi(firstAnnotation(annotations, indexAnnotations)); err == nil {
		index = i
	}
	return path, index
}

// writeResult writes a result as block YAML with JSON strings (a JSON string
// is a YAML double-quoted scalar): yaml.v3's encoder allocates hundreds of
// times its output on thousands of results. Results hold only mappings of
// plain keys, strings and integers. The keys go at indent, the first after
// "- " when it is a sequence item.
func writeResult(buf *bytes.Buffer, m *yaml.Node, indent string, item bool) error {
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("a result is not a mapping")
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if i == 0 && item {
			buf.WriteString(indent[:len(indent)-2] + "- ")
		} else {
			buf.WriteString(indent)
		}
		buf.WriteString(m.Content[i].Value)
		v := m.Content[i+1]
		switch {
		case v.Kind == yaml.MappingNode:
			buf.WriteString(":\n")
			if err := writeResult(buf, v, indent+"  ", false); err != nil {
				return err
			}
			continue
		case v.Kind != yaml.ScalarNode:
			return fmt.Errorf("a result holds a %v", v.Kind)
		case v.Tag == "!!int":
			buf.WriteString(": " + v.Value)
		default:
			buf.WriteString(": ")
			writeJSONString(buf, v.Value)
		}
		buf.WriteByte('\n')
	}
	return nil
}
