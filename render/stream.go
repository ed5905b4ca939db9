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
type Document struct {
	Ref
	// Raw is every byte of the document, its leading `---` line included.
	Raw []byte
	// line is the 1-based line of Raw's first byte in its input.
	line int
	// Node is the parsed document, nil for a document of only comments. The
	// stream writer drops it once the document is written.
	Node *yaml.Node
	// lineBase is the node line number of the body's first line: 1 when
	// the document was parsed alone, its line in the input when parsed with it.
	lineBase int
	parsed   bool
	changed  bool
	out      []byte
}

// Ref names a document in messages: position, file, Helm source, kind and name.
type Ref struct {
	// Index is the 1-based position of the document in the whole stream.
	Index int
	// Item is the 1-based position in a List's items, 0 for a plain document.
	Item       int
	File       string
	Source     string
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
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
// exactly one document, so writing them all back gives data again.
func splitDocuments(in Input, firstIndex int) []*Document {
	var docs []*Document
	data := in.Data
	start, startLine, line := 0, 1, 1
	emit := func(end int) {
		if end > start {
			docs = append(docs, &Document{Ref: Ref{Index: firstIndex + len(docs), File: in.Name}, Raw: data[start:end], line: startLine})
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

// parse reads the document. A document of only comments has no node.
func (d *Document) parse() error {
	var n yaml.Node
	if err := yaml.Unmarshal(d.body(), &n); err != nil {
		// The parser counts lines from the document; users count from the file.
		msg := yamlLine.ReplaceAllStringFunc(err.Error(), func(m string) string {
			v, _ := strconv.Atoi(m[len("line "):])
			return "line " + strconv.Itoa(v+d.line-1)
		})
		return &DocumentError{Ref: d.Ref, Err: fmt.Errorf("not valid YAML: %s", msg)}
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		d.Node = &n
	}
	d.lineBase, d.parsed = 1, true
	return nil
}

// errNotAligned: the decoder's documents do not fall one to a chunk.
var errNotAligned = errors.New("documents not aligned with separators")

// parseInput parses the documents of one input with a single decoder, which
// costs less than a parser per document. Each document is matched to its
// chunk by line. When they do not match one to one (a `...` end marker
// followed by a bare document), each chunk is parsed alone instead.
func parseInput(docs []*Document, data []byte) error {
	err := parseAligned(docs, data)
	if errors.Is(err, errNotAligned) {
		for _, d := range docs {
			d.Node, d.parsed = nil, false
			if err := d.parse(); err != nil {
				return err
			}
		}
		return nil
	}
	return err
}

func parseAligned(docs []*Document, data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	i := 0
	for {
		n := new(yaml.Node)
		err := dec.Decode(n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			d := docs[len(docs)-1]
			if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
				line, _ := strconv.Atoi(m[1])
				d = docAt(docs, line)
			}
			return &DocumentError{Ref: d.Ref, Err: fmt.Errorf("not valid YAML: %s", err)}
		}
		if len(n.Content) != 1 {
			continue
		}
		line := n.Content[0].Line
		for i < len(docs)-1 && docs[i+1].line <= line {
			i++
		}
		if i >= len(docs) || docs[i].Node != nil || line < docs[i].line {
			return errNotAligned
		}
		docs[i].Node, docs[i].lineBase = n, docs[i].line
	}
	for _, d := range docs {
		d.parsed = true
	}
	return nil
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
