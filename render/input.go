package render

import (
	"bytes"
	"errors"
	"io"

	"go.yaml.in/yaml/v3"
)

// HasDocuments reports whether a stream holds at least one document that is
// not empty or only comments. A stream that does not parse counts as having
// documents: rendering it reports the error with its place.
func HasDocuments(data []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return false
		}
		if err != nil || !isEmptyDocument(&n) {
			return true
		}
	}
}
