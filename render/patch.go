package render

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
)

// A changed document is written by patching its original text: the lines of
// new fields are inserted where a person would add them, a replaced value is
// rewritten from its key on, and nothing else moves, so comments, quoting,
// indentation and blank lines all stay. The transformers mark what they did by
// the nodes themselves: a node that was not parsed (Line 0) is new.
//
// Where an entry ends is decided from the parsed tree, not from how lines
// look: an entry runs until the next node of the tree starts (its limit), and
// its own text ends with its last node. When that last node is a plain scalar,
// an alias or a collection that closes on its line, the end is known
// exactly. When it is a block scalar, a quoted scalar or a flow collection
// over several lines, its end is found by a small YAML lexer, and the patched
// text must then parse back to the transformed tree (verify). The rule is the
// same in tests and in production. A flow collection gains its new entries
// in flow style before its closing bracket (flow); a literal block scalar
// that gained lines gets just those lines (spliceLiteral). Where the text
// cannot be patched (an empty block mapping, a failed check) the document
// is re-encoded.

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
	// verify is set when an edit's position came from the lexer (see above).
	verify bool
	// addedNewline: the body's last line had no end, which a block scalar
	// there reads as part of its value.
	addedNewline bool
	// fragments caches rendered text by what it renders: a stream of similar
	// workloads gets the same hook thousands of times.
	fragments map[string][]byte
}

// patchesVerified and patchesRejected count second parses and the patches
// they caught: each rejection is a patcher bug that the re-encoding hid.
// Tests expect none.
var patchesVerified, patchesRejected atomic.Int64

// patch returns the patched body, or ok false when the document must be re-encoded.
func (d *Document) patch(fragments map[string][]byte) (out []byte, ok bool) {
	body := d.body()
	addedNewline := len(body) > 0 && body[len(body)-1] != '\n'
	if addedNewline {
		// Lines are inserted whole: give the last line its end.
		body = append(body[:len(body):len(body)], '\n')
	}
	root := d.root()
	p := &patcher{body: body, lineStarts: lineStarts(body), lineBase: d.lineBase, fragments: fragments, addedNewline: addedNewline}
	p.indent, p.compact = layout(root)
	// The parser also breaks lines at a lone CR and at NEL, LS and PS: its
	// line numbers are then not the patcher's, and every patch is verified.
	p.verify = hasOtherLineBreaks(body)
	if !p.walk(root, len(p.lineStarts)+1) || len(p.edits) == 0 {
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
		buf.Write(p.withLineEnds(e))
		last = e.end
	}
	buf.Write(body[last:])
	out = buf.Bytes()
	if !p.verify {
		return out, true
	}
	// The lexer found an end: the patched text must read back as the transformed tree.
	patchesVerified.Add(1)
	var check yaml.Node
	if err := yaml.Unmarshal(out, &check); err != nil || check.Kind != yaml.DocumentNode ||
		len(check.Content) != 1 || !node.Equal(check.Content[0], root) {
		patchesRejected.Add(1)
		return nil, false
	}
	return out, true
}

// withLineEnds gives the lines of an edit the line end of the line before it
// (or after it, at the start of the body): a CRLF document stays CRLF, and a
// single CRLF line elsewhere changes nothing.
func (p *patcher) withLineEnds(e textEdit) []byte {
	crlf := false
	if e.start > 0 {
		crlf = e.start >= 2 && p.body[e.start-1] == '\n' && p.body[e.start-2] == '\r'
		if p.body[e.start-1] != '\n' { // a replacement within a line: that line's end
			if i := bytes.IndexByte(p.body[e.start:], '\n'); i > 0 {
				crlf = p.body[e.start+i-1] == '\r'
			}
		}
	} else if i := bytes.IndexByte(p.body, '\n'); i > 0 {
		crlf = p.body[i-1] == '\r'
	}
	if !crlf || bytes.Contains(e.text, []byte("\r")) {
		return e.text
	}
	return bytes.ReplaceAll(e.text, []byte("\n"), []byte("\r\n"))
}

// hasOtherLineBreaks reports line breaks other than LF and CRLF.
func hasOtherLineBreaks(b []byte) bool {
	for i := bytes.IndexByte(b, '\r'); i >= 0; {
		if i+1 >= len(b) || b[i+1] != '\n' {
			return true
		}
		next := bytes.IndexByte(b[i+1:], '\r')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return bytes.Contains(b, []byte("\u0085")) || bytes.Contains(b, []byte("\u2028")) || bytes.Contains(b, []byte("\u2029"))
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

// lineEnd is the offset just past line n, or the body's end.
func (p *patcher) lineEnd(n int) int {
	if n < len(p.lineStarts) {
		return p.lineStarts[n]
	}
	return len(p.body)
}

func (p *patcher) line(n int) []byte {
	return p.body[p.lineStarts[n-1]:p.lineEnd(n)]
}

// walk plans edits for the new nodes under n, which was parsed. limit is the
// body line where the next node after n starts (one past the last line at
// the end of the document).
func (p *patcher) walk(n *yaml.Node, limit int) bool {
	switch n.Kind {
	case yaml.MappingNode:
		return p.mapping(n, limit)
	case yaml.SequenceNode:
		return p.sequence(n, limit)
	}
	return true
}

// nextOld is the body line of the first parsed node of nodes[i:] (every
// step-th), or limit.
func (p *patcher) nextOld(nodes []*yaml.Node, i, step, limit int) int {
	for ; i < len(nodes); i += step {
		if nodes[i].Line != 0 {
			return p.lineOf(nodes[i])
		}
	}
	return limit
}

func (p *patcher) mapping(m *yaml.Node, limit int) bool {
	if p.writtenFlow(m) {
		return p.flow(m, limit) // no line of a flow collection is a block entry
	}
	var appended []*yaml.Node
	lastOld, lastLimit, lastEnd := -1, limit, -1
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Line == 0 {
			appended = append(appended, k, v)
			continue
		}
		entryLimit := p.nextOld(m.Content, i+2, 2, limit)
		lastOld, lastLimit, lastEnd = i, entryLimit, -1
		if v.Line == 0 {
			end, ok := p.replaceEntry(k, v, entryLimit)
			if !ok {
				return false
			}
			lastEnd = end
		} else if p.writtenFlow(v) && hasNew(v) {
			if p.flow(v, entryLimit) {
				continue
			}
			// New fields in a flow collection that cannot be added in place:
			// the entry is written again, in block style where they go.
			blockPathsToNew(v)
			end, ok := p.replaceEntry(k, v, entryLimit)
			if !ok {
				return false
			}
			lastEnd = end
		} else if !p.walk(v, entryLimit) {
			return false
		}
	}
	if len(appended) == 0 {
		return true
	}
	if lastOld < 0 || m.Style&yaml.FlowStyle != 0 {
		return false // an empty or flow mapping: `{}`
	}
	first := m.Content[0]
	if !p.startsBlockEntry(first, false) {
		return false
	}
	end, ok := lastEnd, lastEnd >= 0 // after a replaced value
	if !ok {
		end, ok = p.entryEnd(m.Content[lastOld], m.Content[lastOld+1], lastLimit)
	}
	if !ok {
		return false
	}
	text := p.render(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: appended}, first.Column-1, true)
	p.insert(end, text)
	return true
}

func (p *patcher) sequence(s *yaml.Node, limit int) bool {
	if p.writtenFlow(s) {
		return p.flow(s, limit)
	}
	var appended []*yaml.Node
	lastOld, lastLimit := -1, limit
	for i, item := range s.Content {
		if item.Line == 0 {
			appended = append(appended, item)
			continue
		}
		itemLimit := p.nextOld(s.Content, i+1, 1, limit)
		lastOld, lastLimit = i, itemLimit
		if !p.walk(item, itemLimit) {
			return false
		}
	}
	if len(appended) == 0 {
		return true
	}
	if lastOld < 0 || s.Style&yaml.FlowStyle != 0 || !p.startsBlockEntry(s.Content[0], true) {
		return false
	}
	dash := p.dashColumn(s.Content[0])
	end, ok := p.entryEnd(s.Content[lastOld], s.Content[lastOld], lastLimit)
	if !ok {
		return false
	}
	text := p.render(&yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: appended}, dash-1, true)
	p.insert(end, text)
	return true
}

// flow adds the new entries of a flow collection, and of the flow
// collections in it, in flow style before each one's closing bracket:
// `{name: web, image: nginx}` becomes `{name: web, image: nginx, lifecycle:
// {...}}` and nothing else moves. It plans no edit and reports false where
// an entry is new but not at the end, or an old value was replaced.
func (p *patcher) flow(n *yaml.Node, limit int) bool {
	if !hasNew(n) {
		return true
	}
	mark, verify := len(p.edits), p.verify
	if !p.flowEntries(n, limit) {
		p.edits, p.verify = p.edits[:mark], verify
		return false
	}
	p.verify = true // the lexer found the brackets
	return true
}

func (p *patcher) flowEntries(n *yaml.Node, limit int) bool {
	step := 1
	if n.Kind == yaml.MappingNode {
		step = 2
	}
	var appended []*yaml.Node
	for i := 0; i+step <= len(n.Content); i += step {
		if n.Content[i].Line == 0 {
			appended = append(appended, n.Content[i:i+step]...)
			continue
		}
		last := n.Content[i+step-1]
		if len(appended) > 0 {
			return false
		}
		if last.Line == 0 {
			if step != 2 || !p.flowReplace(n.Content[i], last, limit) {
				return false
			}
			continue
		}
		if (last.Kind == yaml.MappingNode || last.Kind == yaml.SequenceNode) && hasNew(last) &&
			(!p.writtenFlow(last) || !p.flowEntries(last, limit)) {
			return false
		}
	}
	if len(appended) == 0 {
		return true
	}
	at, closing, before, ok := p.flowClose(n, limit)
	if !ok || before == ':' {
		// After an empty value (`{a: }`), kustomize's reader takes
		// `a: , b: 1` for an empty string, not null.
		return false
	}
	// Where the user quotes the keys (JSON written as YAML), so does graceful.
	quoted := n.Kind == yaml.MappingNode && n.Content[0].Style&yaml.DoubleQuotedStyle != 0
	text := p.flowFragment(n.Kind, appended, quoted)
	sameLine := bytes.IndexByte(p.body[at:closing], '\n') < 0
	// A line of its own starts where the collection's first entry does.
	indent := bytes.Repeat([]byte(" "), max(n.Content[0].Column-1, 0))
	switch {
	case before == '{' || before == '[':
	case sameLine && before == ',':
		text = append(append([]byte(" "), text...), ',')
	case sameLine:
		text = append([]byte(", "), text...)
	default:
		// The bracket is on a later line: the entry goes on a line of its
		// own after the last one's (and after its comment, which stays).
		if before != ',' {
			p.edits = append(p.edits, textEdit{start: at, end: at, text: []byte(",")})
		}
		line := append(append([]byte{}, indent...), text...)
		if before == ',' { // trailing commas: the new entry has one too
			line = append(line, ',')
		}
		end := at + bytes.IndexByte(p.body[at:], '\n') + 1
		p.insert(end, append(line, '\n'))
		return true
	}
	p.edits = append(p.edits, textEdit{start: at, end: at, text: text})
	return true
}

// flowReplace rewrites the value of key k in a flow mapping, where the old
// value was a scalar on the key's line (`terminationGracePeriodSeconds: 10`)
// and the new one is a scalar: only the value's text changes.
func (p *patcher) flowReplace(k, v *yaml.Node, limit int) bool {
	if v.Kind != yaml.ScalarNode || k.Kind != yaml.ScalarNode || k.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return false
	}
	c := p.cursorAt(k, limit)
	c.skipProperties()
	line := c.line
	if k.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		q, ok := c.next()
		if !ok || !c.skipQuoted(q) {
			return false
		}
	} else {
		c.i += len(k.Value) // a plain key is its value
	}
	for c.i < len(c.text) && c.text[c.i] == ' ' {
		c.i++
	}
	if c.line != line || c.i >= len(c.text) || c.text[c.i] != ':' {
		return false
	}
	c.i++
	for c.i < len(c.text) && c.text[c.i] == ' ' {
		c.i++
	}
	start := p.lineStarts[c.line-1] + c.i
	if c.i >= len(c.text) {
		return false
	}
	switch b := c.text[c.i]; b {
	case '"', '\'':
		c.i++
		if !c.skipQuoted(b) || c.line != line {
			return false
		}
	case '{', '[', '&', '*', '!', '|', '>', ',', '}', ']', '#', '\r', '\n':
		return false // not a plain scalar of its own
	default:
		for c.i < len(c.text) && !bytes.ContainsAny(c.text[c.i:c.i+1], ",}]\r\n") &&
			!(c.text[c.i] == '#' && c.text[c.i-1] == ' ') {
			c.i++
		}
		if c.i >= len(c.text) || c.text[c.i] == '\r' || c.text[c.i] == '\n' {
			return false // it may go on on the next line
		}
	}
	end := p.lineStarts[c.line-1] + len(bytes.TrimRight(c.text[:c.i], " "))
	text := p.flowFragment(yaml.SequenceNode, []*yaml.Node{v}, false)
	p.edits = append(p.edits, textEdit{start: start, end: end, text: text})
	return true
}

// flowClose finds a flow collection's closing bracket (closing) and where
// its last entry ends (at, just past before, the last byte that is not
// space or comment: the opening bracket of an empty collection, or a
// trailing comma).
func (p *patcher) flowClose(n *yaml.Node, limit int) (at, closing int, before byte, ok bool) {
	c := p.cursorAt(n, limit)
	c.skipProperties()
	depth, prev := 0, byte(' ')
	for {
		b, ok := c.next()
		if !ok {
			return 0, 0, 0, false
		}
		if c.i == 1 {
			prev = ' ' // a new line
		}
		pos := p.lineStarts[c.line-1] + c.i - 1
		switch {
		case (b == '"' || b == '\'') && (prev == ' ' || prev == '\t' || prev == '[' || prev == '{' || prev == ',' || prev == ':'):
			if !c.skipQuoted(b) {
				return 0, 0, 0, false
			}
			at, before = p.lineStarts[c.line-1]+c.i, b
		case b == '#' && (prev == ' ' || prev == '\t'):
			c.i = len(c.text) // a comment runs to the line's end
		case b == '[' || b == '{':
			depth++
			at, before = pos+1, b
		case b == ']' || b == '}':
			depth--
			if depth == 0 {
				return at, pos, before, true
			}
			at, before = pos+1, b
		case b == ' ' || b == '\t' || b == '\r' || b == '\n':
		default:
			at, before = pos+1, b
		}
		prev = b
	}
}

// flowFragment writes new entries of a flow collection on one line, in flow
// style, without the brackets.
func (p *patcher) flowFragment(kind yaml.Kind, entries []*yaml.Node, quoted bool) []byte {
	wrap := &yaml.Node{Kind: kind, Style: yaml.FlowStyle}
	for _, e := range entries {
		e = node.Copy(e)
		flowStyle(e, quoted)
		wrap.Content = append(wrap.Content, e)
	}
	if kind == yaml.MappingNode {
		wrap.Tag = "!!map"
	} else {
		wrap.Tag = "!!seq"
	}
	text := bytes.TrimRight(p.render(wrap, 0, false), "\n")
	return text[1 : len(text)-1]
}

// flowStyle makes every collection in n flow style, and with quoted every
// string double-quoted.
func flowStyle(n *yaml.Node, quoted bool) {
	switch {
	case n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode:
		n.Style |= yaml.FlowStyle
	case quoted && n.Kind == yaml.ScalarNode && n.Tag == "!!str":
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		flowStyle(c, quoted)
	}
}

// writtenFlow reports whether a parsed collection is written in flow style:
// its text starts with `{` or `[`. Its Style may say otherwise, as graceful
// turns collections it adds to into block style.
func (p *patcher) writtenFlow(n *yaml.Node) bool {
	if n.Line == 0 || p.lineOf(n) < 1 || p.lineOf(n) > len(p.lineStarts) {
		return false
	}
	c := p.cursorAt(n, p.lineOf(n)+1)
	c.skipProperties()
	return c.i < len(c.text) && (c.text[c.i] == '{' || c.text[c.i] == '[')
}

// hasNew reports whether a tree holds a node that was not parsed.
func hasNew(n *yaml.Node) bool {
	for _, c := range n.Content {
		if c.Line == 0 || hasNew(c) {
			return true
		}
	}
	return false
}

// blockPathsToNew turns the collections on the way to new nodes into block
// style, and reports whether there were any.
func blockPathsToNew(n *yaml.Node) bool {
	found := false
	for _, c := range n.Content {
		if c.Line == 0 || blockPathsToNew(c) {
			found = true
		}
	}
	if found && (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) {
		n.Style &^= yaml.FlowStyle
	}
	return found
}

// replaceEntry rewrites `key: value` from the key to the end of the entry.
// The old value is no longer in the tree: it is read again from the entry's
// own lines, to find where it ends.
func (p *patcher) replaceEntry(k, v *yaml.Node, limit int) (end int, ok bool) {
	if !p.startsBlockEntry(k, false) || limit > len(p.lineStarts)+1 || limit <= p.lineOf(k) {
		return 0, false
	}
	kLine := p.lineOf(k)
	start := p.offset(kLine, k.Column)
	// The entry alone, with what precedes the key on its line (a "- ") blanked.
	snippet := make([]byte, 0, k.Column+p.lineEnd(limit-1)-start)
	snippet = append(snippet, bytes.Repeat([]byte(" "), k.Column-1)...)
	snippet = append(snippet, p.body[start:p.lineEnd(limit-1)]...)
	var old yaml.Node
	if yaml.Unmarshal(snippet, &old) != nil || len(old.Content) != 1 {
		return 0, false
	}
	m := old.Content[0]
	if m.Kind != yaml.MappingNode || len(m.Content) != 2 || m.Content[0].Value != k.Value {
		return 0, false
	}
	sub := *p
	sub.lineBase = 2 - kLine // snippet line 1 is body line kLine
	if end, ok = sub.entryEnd(m.Content[0], m.Content[1], limit); !ok {
		return 0, false
	}
	p.verify = p.verify || sub.verify
	if text, ok := spliceLiteral(p.body[start:end], k.Column-1, m.Content[1], v); ok {
		p.edits = append(p.edits, textEdit{start: start, end: end, text: text})
		return end, true
	}
	key := node.NewStr(k.Value)
	key.Style = k.Style
	text := p.render(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{key, v}}, k.Column-1, false)
	p.edits = append(p.edits, textEdit{start: start, end: end, text: text})
	return end, true
}

// spliceLiteral rewrites a literal block scalar (`|`) whose value gained or
// changed some lines by editing only those lines of entry, its text from the
// key on: the header (chomping, indentation indicator, comment), the
// indentation and every other line stay as the user wrote them. ok is false
// when that cannot be done; the entry is then rendered anew.
func spliceLiteral(entry []byte, column int, old, v *yaml.Node) ([]byte, bool) {
	if old.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode || old.Style&yaml.LiteralStyle == 0 ||
		v.Style&yaml.LiteralStyle == 0 || old.Tag != v.Tag || v.Anchor != "" || v.Tag != "!!str" {
		return nil, false
	}
	lines := bytes.SplitAfter(entry, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	content := lines[1:] // the scalar's lines, one per line of its value
	was, now := strings.Split(old.Value, "\n"), strings.Split(v.Value, "\n")
	prefix := 0
	for prefix < len(was) && prefix < len(now) && was[prefix] == now[prefix] {
		prefix++
	}
	suffix := 0
	for suffix < len(was)-prefix && suffix < len(now)-prefix && was[len(was)-1-suffix] == now[len(now)-1-suffix] {
		suffix++
	}
	replaced := len(was) - prefix - suffix
	if prefix+replaced > len(content) {
		return nil, false
	}
	// The new lines take the indentation of the scalar's first line.
	indent := []byte(nil)
	for _, l := range content {
		if t := bytes.TrimLeft(l, " "); len(bytes.TrimRight(t, "\r\n")) > 0 {
			indent = l[:len(l)-len(t)]
			break
		}
	}
	if indent == nil {
		return nil, false
	}
	eol := "\n"
	if bytes.HasSuffix(lines[0], []byte("\r\n")) {
		eol = "\r\n"
	}
	var out bytes.Buffer
	out.Write(lines[0])
	for _, l := range content[:prefix] {
		out.Write(l)
	}
	for _, l := range now[prefix : len(now)-suffix] {
		if l != "" {
			out.Write(indent)
			out.WriteString(l)
		}
		out.WriteString(eol)
	}
	for _, l := range content[prefix+replaced:] {
		out.Write(l)
	}
	// The splice must read back as the new value, or it is not used.
	snippet := append(bytes.Repeat([]byte(" "), column), out.Bytes()...)
	var check yaml.Node
	if yaml.Unmarshal(snippet, &check) != nil || len(check.Content) != 1 || len(check.Content[0].Content) != 2 ||
		check.Content[0].Content[1].Value != v.Value {
		return nil, false
	}
	return out.Bytes(), true
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

// entryEnd is the offset just past the last line of the entry that starts
// with node first and whose last part is value; limit is the line of the
// next node. Blank lines and comments after the entry go with what follows.
func (p *patcher) entryEnd(first, value *yaml.Node, limit int) (int, bool) {
	firstLine := p.lineOf(first)
	if limit > len(p.lineStarts)+1 || limit <= firstLine {
		return 0, false
	}
	// The last parsed node in document order, and the outermost flow
	// collection on the way to it: its closing bracket comes after it.
	last, flow := value, (*yaml.Node)(nil)
	for {
		if flow == nil && last.Style&yaml.FlowStyle != 0 && (last.Kind == yaml.MappingNode || last.Kind == yaml.SequenceNode) {
			flow = last
		}
		child := lastParsedChild(last)
		if child == nil {
			break
		}
		last = child
	}
	if last.Line == 0 || p.lineOf(last) < firstLine || p.lineOf(last) >= limit {
		return 0, false
	}
	end := p.lineOf(last) // the last line of the entry's own text
	var ok bool
	switch {
	case flow != nil:
		end, ok = p.flowEnd(flow, limit)
	case last.Kind == yaml.ScalarNode && (last.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0):
		end, ok = p.blockScalarEnd(last, limit)
	case last.Kind == yaml.ScalarNode && (last.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0):
		end, ok = p.quotedEnd(last, limit)
	default:
		ok = true
	}
	if !ok {
		return 0, false
	}
	// A plain scalar may go on over more lines (a comment line ends it);
	// anything else that is not a comment up to the limit is still this
	// entry's, which only a plain scalar explains.
	for n := end + 1; n < limit; n++ {
		rest := bytes.TrimLeft(bytes.TrimRight(p.line(n), "\r\n"), " ")
		if len(rest) == 0 || rest[0] == '#' {
			continue
		}
		if bytes.HasPrefix(p.line(n), []byte("...")) {
			return 0, false // a document end marker: leave it to the encoder
		}
		if last.Kind != yaml.ScalarNode || last.Style != 0 {
			p.verify = true
		}
		end = n
	}
	// Tabs are where indentation stops meaning what it seems.
	if bytes.IndexByte(p.body[p.lineStarts[firstLine-1]:p.lineEnd(limit-1)], '\t') >= 0 {
		p.verify = true
	}
	return p.lineEnd(end), true
}

// lastParsedChild is the last child of n that was parsed, nil if none.
// For a mapping, the value of its last parsed key.
func lastParsedChild(n *yaml.Node) *yaml.Node {
	switch n.Kind {
	case yaml.MappingNode:
		for i := len(n.Content) - 2; i >= 0; i -= 2 {
			if n.Content[i].Line != 0 {
				if v := n.Content[i+1]; v.Line != 0 {
					return v
				}
				return n.Content[i]
			}
		}
	case yaml.SequenceNode:
		for i := len(n.Content) - 1; i >= 0; i-- {
			if n.Content[i].Line != 0 {
				return n.Content[i]
			}
		}
	}
	return nil
}

// cursor reads the body from a node's position, across lines, up to limit.
type cursor struct {
	p     *patcher
	line  int // body line
	text  []byte
	i     int
	limit int
}

func (p *patcher) cursorAt(n *yaml.Node, limit int) *cursor {
	c := &cursor{p: p, line: p.lineOf(n), limit: limit}
	c.text = p.line(c.line)
	c.i = byteIndex(c.text, n.Column)
	return c
}

// byteIndex is where a parser column (counted in characters) is in a line.
func byteIndex(line []byte, column int) int {
	i := 0
	for c := 1; c < column && i < len(line); c++ {
		_, size := utf8.DecodeRune(line[i:])
		i += size
	}
	return i
}

// next returns the next byte, moving to the next line at a line's end; ok
// false at the limit.
func (c *cursor) next() (byte, bool) {
	for c.i >= len(c.text) {
		if c.line+1 >= c.limit {
			return 0, false
		}
		c.line++
		c.text, c.i = c.p.line(c.line), 0
	}
	b := c.text[c.i]
	c.i++
	return b, true
}

// skipProperties moves past an anchor and a tag before a node's content.
func (c *cursor) skipProperties() {
	for c.i < len(c.text) && (c.text[c.i] == '&' || c.text[c.i] == '!') {
		anchor := c.text[c.i] == '&'
		for c.i++; c.i < len(c.text); c.i++ {
			b := c.text[c.i]
			if b == ' ' || b == '\t' || b == '\n' || b == '\r' || (anchor && !isAnchorChar(b)) {
				break
			}
		}
		for c.i < len(c.text) && (c.text[c.i] == ' ' || c.text[c.i] == '\t') {
			c.i++
		}
	}
}

// isAnchorChar is what yaml.v3 takes into an anchor's name.
func isAnchorChar(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_' || b == '-'
}

// quotedEnd is the line that closes a quoted scalar. A scalar on one line is
// exact; one over several lines is verified.
func (p *patcher) quotedEnd(n *yaml.Node, limit int) (int, bool) {
	c := p.cursorAt(n, limit)
	c.skipProperties()
	start := c.line
	quote, ok := c.next()
	if !ok || (quote != '"' && quote != '\'') {
		return 0, false
	}
	if !c.skipQuoted(quote) {
		return 0, false
	}
	if c.line != start {
		p.verify = true
	}
	return c.line, true
}

// skipQuoted moves past the closing quote.
func (c *cursor) skipQuoted(quote byte) bool {
	for {
		b, ok := c.next()
		if !ok {
			return false
		}
		switch {
		case b == '\\' && quote == '"':
			if _, ok := c.next(); !ok {
				return false
			}
		case b == quote && quote == '\'' && c.i < len(c.text) && c.text[c.i] == '\'':
			c.i++ // '' is a quote inside
		case b == quote:
			return true
		}
	}
}

// flowEnd is the line of a flow collection's closing bracket.
func (p *patcher) flowEnd(n *yaml.Node, limit int) (int, bool) {
	c := p.cursorAt(n, limit)
	c.skipProperties()
	start := c.line
	depth := 0
	prev := byte(' ')
	for {
		b, ok := c.next()
		if !ok {
			return 0, false
		}
		if c.i == 1 {
			prev = ' ' // a new line
		}
		switch {
		case b == '"' || b == '\'':
			if prev == ' ' || prev == '\t' || prev == '[' || prev == '{' || prev == ',' || prev == ':' {
				if !c.skipQuoted(b) {
					return 0, false
				}
			}
		case b == '#' && (prev == ' ' || prev == '\t'):
			c.i = len(c.text) // a comment runs to the line's end
		case b == '[' || b == '{':
			depth++
		case b == ']' || b == '}':
			depth--
			if depth == 0 {
				if c.line != start {
					p.verify = true
				}
				return c.line, true
			}
		}
		prev = b
	}
}

// blockScalarEnd is the last line of a block scalar (`|`, `>`): its lines are
// those indented at least as its first line, comments and blank lines among
// them; with keep chomping (`|+`), the blank lines after them too.
func (p *patcher) blockScalarEnd(n *yaml.Node, limit int) (int, bool) {
	p.verify = true
	c := p.cursorAt(n, limit)
	c.skipProperties()
	header := bytes.TrimRight(c.text[c.i:], "\r\n")
	if len(header) == 0 || (header[0] != '|' && header[0] != '>') {
		return 0, false
	}
	keep, explicit := false, 0
	for _, b := range header[1:] {
		if b == ' ' || b == '\t' || b == '#' || b == '\r' {
			break
		}
		switch {
		case b == '+':
			keep = true
		case b == '-':
		case b >= '1' && b <= '9':
			explicit = int(b - '0')
		default:
			return 0, false
		}
	}
	headerLine := c.line
	end, contentIndent := headerLine, -1
	if explicit > 0 {
		// The indentation is counted from the parent's: the key's column, or
		// the dash's when the scalar is a sequence item.
		text, i, dash := p.line(headerLine), 0, -1
		for {
			for i < len(text) && text[i] == ' ' {
				i++
			}
			if i+1 < len(text) && text[i] == '-' && text[i+1] == ' ' {
				dash, i = i, i+1
				continue
			}
			break
		}
		parent := i
		if i == n.Column-1 {
			parent = max(dash, 0)
		}
		contentIndent = parent + explicit
	}
	for l := headerLine + 1; l < limit; l++ {
		text := bytes.TrimRight(p.line(l), "\r\n")
		rest := bytes.TrimLeft(text, " ")
		if len(rest) == 0 {
			if keep {
				end = l
			}
			continue
		}
		indent := len(text) - len(rest)
		if contentIndent < 0 {
			contentIndent = indent
		}
		if indent < contentIndent {
			break
		}
		end = l
	}
	if p.addedNewline && end == len(p.lineStarts) {
		return 0, false // its value ends without a line break: only the encoder can add after it
	}
	return end, true
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
		b = append(b, n.Anchor...)
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
	keepNulls(n, false)
	_ = enc.Encode(n) // new nodes hold strings, ints, maps, sequences, and copies of the user's values
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
