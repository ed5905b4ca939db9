// Command kyamlcat is kustomize's own pipeline doing nothing: kyaml's
// ByteReader to ByteWriter, the floor of any kyaml-based tool.
package main

import (
	"log"
	"os"

	"sigs.k8s.io/kustomize/kyaml/kio"
)

func main() {
	err := kio.Pipeline{
		Inputs:  []kio.Reader{&kio.ByteReader{Reader: os.Stdin, OmitReaderAnnotations: true}},
		Outputs: []kio.Writer{kio.ByteWriter{Writer: os.Stdout}},
	}.Execute()
	if err != nil {
		log.Fatal(err)
	}
}
