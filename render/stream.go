package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Input is one YAML stream: a file, or stdin.
type Input struct {
	// Name is the file path, or "" for stdin and Helm's stream.
	Name string
	Data []byte
}

// Document is one document of a stream. It carries the bytes it came with, so
// that a document nothing changed is written back exactly as it was read.
// Its data (Ref, Raw, Node) is apart from the reader's cursor into its input
// and from the writer's state.
type Document struct {
	Ref
	// Raw is every byte of the document, its leading `---` line included.
	Raw []byte
	// Node is the parsed document, nil for a document of only comments. The
	// stream writer drops it once the document is written.
	Node *yaml.Node
	inputPos
	written
	// krmItem is a ResourceList item: its file is named by kustomize's
	// annotations, fileIndex its index in that file (-1 if not given).
	krmItem   bool
	fileIndex int
}

// inputPos is where a document stands in its input, and how it is parsed.
type inputPos struct {
	// line is the 1-based line of Raw's first byte in its input, offset its byte.
	line, offset int
	// lineBase is the node line number of the body's first line: 1 when
	// the document was parsed alone, its line in the input when parsed with it.
	lineBase int
	parsed   bool
	// src parses the document with the rest of its input; nil when its
	// tree is given (KRM) or it is parsed alone.
	src *inputParser
}

// written is the writer's state of a document.
type written struct {
	// changed: a transformer changed the tree, so out is written, not Raw.
	changed bool
	out     []byte
	// added are objects written after this document, each a document of
	// its own (render --pdb).
	added []*yaml.Node
}

// Ref names a document in messages: position, file, Helm source, kind and name.
type Ref struct {
	// Index is the 1-based position of the document within its own input
	// (a file, stdin, a ResourceList's items).
	Index int
	// Item is the 1-based position in a List's items, 0 for a plain document.
	Item int
	// Line is the 1-based line of the object's first key in its input; 0
	// where unknown.
	Line       int
	File       string
	Source     string
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	// order is the document's position among all the inputs of a run.
	order int
}

func (r Ref) String() string {
	s := "document " + strconv.Itoa(r.Index)
	if r.Item > 0 {
		s += " item " + strconv.Itoa(r.Item)
	}
	if r.File != "" {
		s += " of " + r.File
	}
	if r.Source != "" {
		s += " (" + r.Source + ")"
	}
	if r.Kind != "" {
		s += " " + r.Kind + " " + r.QualifiedName()
	}
	return s
}

// QualifiedName is namespace/name, or name alone without a namespace.
func (r Ref) QualifiedName() string {
	if r.Namespace == "" {
		return r.Name
	}
	return r.Namespace + "/" + r.Name
}

// DocumentError is bad input, named by the document and field it is in.
type DocumentError struct {
	Ref   Ref
	Field string
	Err   error
}

func (e *DocumentError) Error() string {
	if e.Field == "" {
		return e.Ref.String() + ": " + e.Err.Error()
	}
	return e.Ref.String() + ": " + e.Field + ": " + e.Err.Error()
}

func (e *DocumentError) Unwrap() error { return e.Err }

var sourcePrefix = []byte("# Source: ")

// splitDocuments cuts a stream at its `---` lines. Every byte of data lands in
// exactly one document, so writing them all back gives data again. Documents
// are numbered from 1 within the input; order counts on from firstOrder.
func splitDocuments(in Input, firstOrder int) []*Document {
	var docs []*Document
	data := in.Data
	start, startLine, line := 0, 1, 1
	emit := func(end int) {
		if end > start {
			docs = append(docs, &Document{Ref: Ref{Index: 1 + len(docs), File: in.Name, order: firstOrder + len(docs)}, Raw: data[start:end],
				inputPos: inputPos{line: startLine, offset: start}})
		}
	}
	for pos := 0; pos < len(data); line++ {
		next := bytes.IndexByte(data[pos:], '\n') + pos + 1
		if next == pos {
			next = len(data)
		}
		if isSeparator(data[pos:next]) && pos > start {
			emit(pos)
			start, startLine = pos, line
		}
		pos = next
	}
	emit(len(data))
	for _, d := range docs {
		d.Source = helmSource(d.Raw)
	}
	return docs
}

// isSeparator reports whether line is a document start marker `---`, alone or
// followed by a space and more.
func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	return len(line) == 3 || line[3] == '\n' || line[3] == '\r' || line[3] == ' ' || line[3] == '\t'
}

// body is what the YAML parser reads: the document without its `---` marker.
// The rest of the marker line stays, so parser line numbers match the input's.
func (d *Document) body() []byte {
	if isSeparator(firstLine(d.Raw)) {
		return d.Raw[3:]
	}
	return d.Raw
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1]
	}
	return b
}

// helmSource finds the `# Source: chart/templates/x.yaml` line Helm writes.
func helmSource(raw []byte) string {
	for len(raw) > 0 {
		line := firstLine(raw)
		raw = raw[len(line):]
		trimmed := bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(trimmed, sourcePrefix) {
			return string(trimmed[len(sourcePrefix):])
		}
		if len(trimmed) > 0 && trimmed[0] != '#' && !isSeparator(line) {
			return "" // Helm writes it before the content
		}
	}
	return ""
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// shiftLines adds offset to each "line N" of a parser error, whose lines count
// from where the parser started, so that they count from the input's start.
// line is the last line named, 0 if none.
func shiftLines(err error, offset int) (msg string, line int) {
	msg = yamlLine.ReplaceAllStringFunc(err.Error(), func(m string) string {
		v, _ := strconv.Atoi(m[len("line "):])
		line = v + offset
		return "line " + strconv.Itoa(line)
	})
	return msg, line
}

// parse reads the document alone. A document of only comments has no node.
func (d *Document) parse() error {
	var n yaml.Node
	if err := yaml.Unmarshal(d.body(), &n); err != nil {
		msg, _ := shiftLines(err, d.line-1)
		return &DocumentError{Ref: d.Ref, Err: fmt.Errorf("not valid YAML: %s", msg)}
	}
	if !isEmptyDocument(&n) {
		d.Node = &n
	}
	d.lineBase, d.parsed = 1, true
	if d.krmItem {
		d.krmAnnotations()
	}
	return nil
}

// inputParser parses the documents of one input, in order, with a single
// decoder: a parser per document costs more than the parsing. Only the
// document being processed and the next one are held as trees, so memory does
// not grow with the stream. Each tree is matched to its document by line.
type inputParser struct {
	docs []*Document
	data []byte
	dec  *yaml.Decoder
	// lineOffset turns the decoder's line numbers into the input's: the
	// decoder starts afresh every restartEvery documents, as it keeps every
	// comment it has read until it is dropped.
	lineOffset int
	sinceStart int
	done       bool
	// pending was decoded ahead and belongs to a later document.
	pending *yaml.Node
}

const restartEvery = 256

func newInputParser(docs []*Document, data []byte) *inputParser {
	p := &inputParser{docs: docs, data: data}
	for _, d := range docs {
		d.src = p
	}
	return p
}

// restart starts a new decoder at document d.
func (p *inputParser) restart(d *Document) {
	p.dec = yaml.NewDecoder(bytes.NewReader(p.data[d.offset:]))
	p.lineOffset, p.sinceStart, p.done, p.pending = d.line-1, 0, false, nil
}

// next decodes the next document tree, nil at the end. An error belongs to
// the document at the line it names, but never to one before cur.
func (p *inputParser) next(cur *Document) (*yaml.Node, error) {
	if n := p.pending; n != nil {
		p.pending = nil
		return n, nil
	}
	for !p.done {
		n := new(yaml.Node)
		err := p.dec.Decode(n)
		if errors.Is(err, io.EOF) {
			p.done = true
			break
		}
		if err != nil {
			p.done = true
			d := cur
			msg, line := shiftLines(err, p.lineOffset)
			if at := docAt(p.docs, line); line > 0 && at.line > cur.line {
				d = at
			}
			return nil, &DocumentError{Ref: d.Ref, Err: fmt.Errorf("not valid YAML: %s", msg)}
		}
		if !isEmptyDocument(n) {
			return n, nil
		}
	}
	return nil, nil
}

// line is the input line a tree starts on.
func (p *inputParser) line(n *yaml.Node) int { return n.Content[0].Line + p.lineOffset }

// parse gives d its tree: the next one, if it starts before the next document.
func (p *inputParser) parse(d, next *Document) error {
	if p.dec == nil {
		p.restart(d)
	}
	d.parsed = true
	n, err := p.next(d)
	if err != nil || n == nil {
		return err
	}
	if next != nil && p.line(n) >= next.line {
		p.pending = n // d holds only comments
		return nil
	}
	d.Node, d.lineBase = n, d.line-p.lineOffset
	if d.krmItem {
		d.krmAnnotations()
	}
	if err := d.checkAliases(); err != nil {
		return err
	}
	// A second tree within d: a document after a `...` end marker.
	if p.pending, err = p.next(d); err != nil || p.pending == nil {
		return err
	}
	if next == nil || p.line(p.pending) < next.line {
		return &DocumentError{Ref: d.Ref, Err: fmt.Errorf("holds two YAML documents (after a `...` end marker); separate them with a `---` line")}
	}
	if p.sinceStart++; p.sinceStart >= restartEvery {
		p.restart(next) // the tree read ahead is read again by the new decoder
	}
	return nil
}

// checkAliases rejects an alias to an anchor of another document: the
// decoder that reads a whole input keeps anchors across documents, and YAML
// does not.
func (d *Document) checkAliases() error {
	if d.Node == nil || bytes.IndexByte(d.body(), '*') < 0 {
		return nil
	}
	defined := map[*yaml.Node]bool{}
	var bad *yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Anchor != "" {
			defined[n] = true
		}
		if n.Kind == yaml.AliasNode && !defined[n.Alias] && bad == nil {
			bad = n
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(d.Node)
	if bad != nil {
		return &DocumentError{Ref: d.Ref, Err: fmt.Errorf("not valid YAML: line %d: the alias *%s names no anchor of this document (anchors do not reach across documents)", bad.Line-d.lineBase+d.line, bad.Value)}
	}
	return nil
}

// isEmptyDocument: no content, or only comments, which the parser gives as
// a null scalar (as it does for `---` followed by `---`).
func isEmptyDocument(n *yaml.Node) bool {
	if n.Kind != yaml.DocumentNode || len(n.Content) != 1 {
		return true
	}
	root := n.Content[0]
	return root.Kind == yaml.ScalarNode && root.Tag == "!!null" && len(root.Content) == 0 &&
		(root.Value == "" || root.Value == "~" || root.Value == "null")
}

// docAt is the document that holds a line of the input.
func docAt(docs []*Document, line int) *Document {
	d := docs[0]
	for _, c := range docs {
		if c.line > line {
			break
		}
		d = c
	}
	return d
}

// inputLine is the 1-based line of an object's first key in the document's
// input, 0 where the input is not the user's text (a KRM item).
func (d *Document) inputLine(object *yaml.Node) int {
	if d.krmItem || d.Raw == nil || d.lineBase == 0 {
		return 0
	}
	n := object
	if len(object.Content) > 0 {
		n = object.Content[0]
	}
	return n.Line - d.lineBase + d.line
}

// root is the document's top-level node, or nil.
func (d *Document) root() *yaml.Node {
	if d.Node == nil {
		return nil
	}
	return d.Node.Content[0]
}

// bytes is what the writer emits: the original bytes, or the new encoding.
func (d *Document) bytes() []byte {
	if d.changed {
		return d.out
	}
	return d.Raw
}
