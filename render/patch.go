package render

import (
	"bytes"
	"sort"
	"strconv"
	"sync/atomic"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
)

// A changed document is written by patching its original text: the lines of
// new fields are inserted where a person would add them, a replaced value is
// rewritten from its key on, and nothing else moves, so comments, quoting,
// indentation and blank lines all stay. The transformers mark what they did by
// the nodes themselves: a node that was not parsed (Line 0) is new. Where the
// text cannot be patched line by line (flow style, an empty mapping), the
// document is re-encoded. Where line structure alone cannot be trusted (see
// needsVerify), the patched text must parse back to the transformed tree.

// textEdit replaces body[start:end] with text.
type textEdit struct {
	start, end int
	text       []byte
}

// patcher plans the edits of one document.
type patcher struct {
	body       []byte
	lineStarts []int // byte offset of each line, 0-based by line-1
	// lineBase is the node line number of the body's first line.
	lineBase int
	indent   int
	compact  bool
	edits    []textEdit
	// fragments caches rendered text by what it renders: a stream of similar
	// workloads gets the same hook thousands of times.
	fragments map[string][]byte
}

// patch returns the patched body, or ok false when the document must be re-encoded.
func (d *Document) patch(fragments map[string][]byte) (out []byte, ok bool) {
	body := d.body()
	if len(body) > 0 && body[len(body)-1] != '\n' {
		// Lines are inserted whole: give the last line its end.
		body = append(body[:len(body):len(body)], '\n')
	}
	root := d.root()
	p := &patcher{body: body, lineStarts: lineStarts(body), lineBase: d.lineBase, fragments: fragments}
	p.indent, p.compact = layout(root)
	if !p.walk(root) || len(p.edits) == 0 {
		return nil, false
	}
	sort.SliceStable(p.edits, func(i, j int) bool { return p.edits[i].start < p.edits[j].start })
	size := len(body)
	for _, e := range p.edits {
		size += len(e.text) - (e.end - e.start)
	}
	var buf bytes.Buffer
	buf.Grow(size)
	last := 0
	for _, e := range p.edits {
		if e.start < last {
			return nil, false // overlapping edits: leave it to the encoder
		}
		buf.Write(body[last:e.start])
		buf.Write(e.text)
		last = e.end
	}
	buf.Write(body[last:])
	out = buf.Bytes()
	if bytes.Contains(firstLine(d.Raw), []byte("\r\n")) || bytes.Contains(body, []byte("\r\n")) {
		out = normalizeCRLF(out)
	}
	if !verifyAllPatches && !needsVerify(body) {
		return out, true
	}
	// The safety net: the patched text must read back as the transformed tree.
	var check yaml.Node
	if err := yaml.Unmarshal(out, &check); err != nil || check.Kind != yaml.DocumentNode ||
		len(check.Content) != 1 || !node.Equal(check.Content[0], root) {
		patchesRejected.Add(1)
		return nil, false
	}
	return out, true
}

// verifyAllPatches makes every patch prove itself by a second parse; tests
// set it. Otherwise only documents with constructs where line structure alone
// cannot place an insertion are checked, as a parse costs as much as the rest
// of a render.
var verifyAllPatches = false

// patchesRejected counts patches the second parse caught: each is a patcher
// bug that the re-encoding hid. Tests expect none.
var patchesRejected atomic.Int64

// needsVerify reports constructs the line-based patcher cannot reason about:
// block scalars that keep trailing blank lines (|+ >+), whose value would take
// in a line inserted after them, and tabs.
func needsVerify(body []byte) bool {
	return bytes.Contains(body, []byte("|+")) || bytes.Contains(body, []byte(">+")) || bytes.IndexByte(body, '\t') >= 0
}

func lineStarts(b []byte) []int {
	starts := make([]int, 1, bytes.Count(b, []byte("\n"))+1)
	for i, c := range b {
		if c == '\n' && i+1 < len(b) {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// lineOf is the body line of a parsed node.
func (p *patcher) lineOf(n *yaml.Node) int { return n.Line - p.lineBase + 1 }

// offset is the byte offset of a 1-based line and column.
func (p *patcher) offset(line, column int) int {
	return p.lineStarts[line-1] + column - 1
}

func (p *patcher) line(n int) []byte {
	start := p.lineStarts[n-1]
	end := len(p.body)
	if n < len(p.lineStarts) {
		end = p.lineStarts[n]
	}
	return p.body[start:end]
}

// walk plans edits for the new nodes under n, which was parsed.
func (p *patcher) walk(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.MappingNode:
		return p.mapping(n)
	case yaml.SequenceNode:
		return p.sequence(n)
	}
	return true
}

func (p *patcher) mapping(m *yaml.Node) bool {
	var appended []*yaml.Node
	lastOld := -1
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		switch {
		case k.Line == 0:
			appended = append(appended, k, v)
		case v.Line == 0:
			lastOld = i
			if !p.replaceEntry(m, k, v) {
				return false
			}
		default:
			lastOld = i
			if !p.walk(v) {
				return false
			}
		}
	}
	if len(appended) == 0 {
		return true
	}
	if lastOld < 0 {
		return false // an empty mapping: `{}`
	}
	first := m.Content[0]
	if !p.startsBlockEntry(first, false) {
		return false
	}
	at := p.entryEnd(m.Content[lastOld])
	text := p.render(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: appended}, first.Column-1, true)
	p.insert(at, text)
	return true
}

func (p *patcher) sequence(s *yaml.Node) bool {
	var appended []*yaml.Node
	var lastOld *yaml.Node
	for _, item := range s.Content {
		if item.Line == 0 {
			appended = append(appended, item)
			continue
		}
		lastOld = item
		if !p.walk(item) {
			return false
		}
	}
	if len(appended) == 0 {
		return true
	}
	if lastOld == nil || !p.startsBlockEntry(s.Content[0], true) {
		return false
	}
	dash := p.dashColumn(s.Content[0])
	at := p.itemEnd(lastOld, dash)
	text := p.render(&yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: appended}, dash-1, true)
	p.insert(at, text)
	return true
}

// replaceEntry rewrites `key: value` from the key to the end of the entry.
func (p *patcher) replaceEntry(m, k, v *yaml.Node) bool {
	if !p.startsBlockEntry(k, false) {
		return false
	}
	start := p.offset(p.lineOf(k), k.Column)
	end := p.entryEnd(k)
	key := node.NewStr(k.Value)
	key.Style = k.Style
	text := p.render(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{key, v}}, k.Column-1, false)
	p.edits = append(p.edits, textEdit{start: start, end: end, text: text})
	return true
}

// startsBlockEntry reports whether n begins a block entry: nothing but spaces
// before it on its line, or for the first key of a sequence item, "- ". A flow
// collection's entries follow "{", "[" or ",".
func (p *patcher) startsBlockEntry(n *yaml.Node, isItem bool) bool {
	if n.Line == 0 || p.lineOf(n) < 1 || p.lineOf(n) > len(p.lineStarts) {
		return false
	}
	before := p.line(p.lineOf(n))
	if n.Column-1 > len(before) {
		return false
	}
	before = bytes.TrimRight(before[:n.Column-1], " ")
	if isItem {
		return bytes.HasSuffix(before, []byte("-")) && len(bytes.TrimLeft(before, " -")) == 0
	}
	return len(bytes.TrimLeft(before, " -")) == 0
}

// dashColumn is the 1-based column of the "- " before a sequence item.
func (p *patcher) dashColumn(item *yaml.Node) int {
	before := bytes.TrimRight(p.line(p.lineOf(item))[:item.Column-1], " ")
	return len(before)
}

// entryEnd is the offset just past the last line of a mapping entry: the
// lines after the key that are more indented than it, or "- " items at the
// key's column (a sequence written compact: a sibling key never starts with
// "- "), without trailing blank lines and comments at the key's level.
func (p *patcher) entryEnd(k *yaml.Node) int {
	keyIndent := k.Column - 1
	return p.blockEnd(p.lineOf(k), func(indent int, rest []byte) bool {
		return indent > keyIndent || (indent == keyIndent && isDashLine(rest))
	})
}

// itemEnd is the offset just past the last line of a sequence item.
func (p *patcher) itemEnd(item *yaml.Node, dash int) int {
	return p.blockEnd(p.lineOf(item), func(indent int, _ []byte) bool { return indent > dash-1 })
}

func (p *patcher) blockEnd(firstLine int, inside func(indent int, rest []byte) bool) int {
	last := firstLine
	for n := firstLine + 1; n <= len(p.lineStarts); n++ {
		line := bytes.TrimRight(p.line(n), "\r\n")
		rest := bytes.TrimLeft(line, " ")
		if len(rest) == 0 || rest[0] == '#' {
			continue // blank lines and comments go with what follows
		}
		if !inside(len(line)-len(rest), rest) {
			break
		}
		last = n
	}
	if last == len(p.lineStarts) {
		return len(p.body)
	}
	return p.lineStarts[last]
}

func isDashLine(rest []byte) bool {
	return len(rest) > 0 && rest[0] == '-' && (len(rest) == 1 || rest[1] == ' ')
}

// insert adds whole lines at a line boundary.
func (p *patcher) insert(at int, text []byte) {
	p.edits = append(p.edits, textEdit{start: at, end: at, text: text})
}

// render encodes new nodes in the document's style, every line indented by
// indent spaces, or every line but the first when the first continues a line.
func (p *patcher) render(n *yaml.Node, indent int, indentFirst bool) []byte {
	key := fragmentKey(n, p.indent, p.compact, indent, indentFirst)
	if text, ok := p.fragments[key]; ok {
		return text
	}
	text := p.encodeFragment(n, indent, indentFirst)
	if p.fragments != nil {
		p.fragments[key] = text
	}
	return text
}

// fragmentKey identifies what render would write for n.
func fragmentKey(n *yaml.Node, indentWidth int, compact bool, indent int, indentFirst bool) string {
	b := make([]byte, 0, 256)
	b = strconv.AppendInt(b, int64(indentWidth), 10)
	b = strconv.AppendBool(b, compact)
	b = strconv.AppendInt(b, int64(indent), 10)
	b = strconv.AppendBool(b, indentFirst)
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		b = append(b, '(')
		b = strconv.AppendInt(b, int64(n.Kind), 10)
		b = append(b, n.Tag...)
		b = strconv.AppendInt(b, int64(n.Style), 10)
		b = strconv.AppendQuote(b, n.Value)
		b = strconv.AppendQuote(b, n.LineComment)
		for _, c := range n.Content {
			walk(c)
		}
		b = append(b, ')')
	}
	walk(n)
	return string(b)
}

func (p *patcher) encodeFragment(n *yaml.Node, indent int, indentFirst bool) []byte {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(p.indent)
	if p.compact {
		enc.CompactSeqIndent()
	}
	_ = enc.Encode(n) // new nodes only hold strings, ints, maps and sequences
	_ = enc.Close()
	prefix := bytes.Repeat([]byte(" "), indent)
	lines := bytes.SplitAfter(buf.Bytes(), []byte("\n"))
	var out bytes.Buffer
	for i, l := range lines {
		if len(l) == 0 {
			continue
		}
		if i > 0 || indentFirst {
			out.Write(prefix)
		}
		out.Write(l)
	}
	return out.Bytes()
}

// normalizeCRLF makes every line end with CRLF.
func normalizeCRLF(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}
