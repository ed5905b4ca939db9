// Command decode is the floor graceful is measured against: yaml.v3 decodes
// every document of stdin to a node tree, and the bytes are copied out.
package main

import (
	"bytes"
	"errors"
	"io"
	"log"
	"os"

	"go.yaml.in/yaml/v3"
)

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		log.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(in))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			log.Fatal(err)
		}
	}
	if _, err := os.Stdout.Write(in); err != nil {
		log.Fatal(err)
	}
}
