// Package promises checks, for tests, what graceful promises of any output:
// every document comes out in order, unchanged documents byte for byte, and a
// changed document is the same object with every annotation and label kept.
// It shares no code with package render, so that it can catch render's mistakes.
package promises

import (
	"bytes"
	"fmt"
	"regexp"

	"go.yaml.in/yaml/v3"
)

var separator = regexp.MustCompile(`(?m)^---(?:[ \t].*)?\r?$`)

// Split cuts a stream before each `---` line.
func Split(data []byte) [][]byte {
	var docs [][]byte
	start := 0
	for _, loc := range separator.FindAllIndex(data, -1) {
		if loc[0] > start {
			docs = append(docs, data[start:loc[0]])
			start = loc[0]
		}
	}
	if start < len(data) {
		docs = append(docs, data[start:])
	}
	return docs
}

// Check compares an output stream with its input.
func Check(input, output []byte) error {
	in, out := Split(input), Split(output)
	if len(in) != len(out) {
		return fmt.Errorf("%d documents in, %d out", len(in), len(out))
	}
	for i := range in {
		if bytes.Equal(in[i], out[i]) {
			continue
		}
		if err := sameObject(in[i], out[i]); err != nil {
			return fmt.Errorf("document %d: %w\n--- in:\n%s\n--- out:\n%s", i+1, err, in[i], out[i])
		}
	}
	return nil
}

// object is what must not change in a changed document.
type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Namespace   string            `yaml:"namespace"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
}

func sameObject(in, out []byte) error {
	var a, b object
	if err := yaml.Unmarshal(in, &a); err != nil {
		return fmt.Errorf("input changed although it does not parse: %w", err)
	}
	if err := yaml.Unmarshal(out, &b); err != nil {
		return fmt.Errorf("output does not parse: %w", err)
	}
	if a.APIVersion != b.APIVersion || a.Kind != b.Kind || a.Metadata.Name != b.Metadata.Name || a.Metadata.Namespace != b.Metadata.Namespace {
		return fmt.Errorf("object changed identity: %s %s/%s became %s %s/%s", a.Kind, a.Metadata.Namespace, a.Metadata.Name,
			b.Kind, b.Metadata.Namespace, b.Metadata.Name)
	}
	for k, v := range a.Metadata.Labels {
		if b.Metadata.Labels[k] != v {
			return fmt.Errorf("label %s lost or changed", k)
		}
	}
	for k, v := range a.Metadata.Annotations {
		if got, ok := b.Metadata.Annotations[k]; !ok {
			return fmt.Errorf("annotation %s lost", k)
		} else if got != v && !isDrainAnnotation(k) {
			return fmt.Errorf("annotation %s changed from %q to %q", k, v, got)
		}
	}
	return nil
}

// isDrainAnnotation is the one annotation graceful may extend: the AWS Load
// Balancer Controller's attribute list.
func isDrainAnnotation(k string) bool {
	return k == "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"
}
