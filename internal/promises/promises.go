// Package promises checks, for tests, what graceful promises of any output:
// every document comes out in order, unchanged documents byte for byte, and a
// changed document is the same object with every annotation and label kept.
// It shares no code with package render, so that it can catch render's mistakes.
package promises

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

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

// Check compares an output stream with its input. The only documents
// graceful may add are PodDisruptionBudgets it marks (render --pdb), each
// right after a document of the input.
func Check(input, output []byte) error {
	in, out := Split(input), Split(output)
	kept := out[:0:0]
	for i, doc := range out {
		if i > 0 && IsAddedBudget(doc) {
			continue
		}
		kept = append(kept, doc)
	}
	out = kept
	if len(in) != len(out) {
		return fmt.Errorf("%d documents in, %d out", len(in), len(out))
	}
	for i := range in {
		if i == len(in)-1 && !bytes.HasSuffix(in[i], []byte("\n")) && bytes.Equal(append(in[i], '\n'), out[i]) {
			continue // a line end before an added budget
		}
		if bytes.Equal(in[i], out[i]) {
			continue
		}
		if err := sameObject(in[i], out[i]); err != nil {
			return fmt.Errorf("document %d: %w\n--- in:\n%s\n--- out:\n%s", i+1, err, in[i], out[i])
		}
		if err := SameValues(in[i], out[i]); err != nil {
			return fmt.Errorf("document %d: %w\n--- in:\n%s\n--- out:\n%s", i+1, err, in[i], out[i])
		}
	}
	return nil
}

// IsAddedBudget: a policy/v1 PodDisruptionBudget annotated graceful.dev/pdb-for,
// which render --pdb adds.
func IsAddedBudget(doc []byte) bool {
	id, err := identityOf(doc)
	return err == nil && id.apiVersion == "policy/v1" && id.kind == "PodDisruptionBudget" && id.annotations["graceful.dev/pdb-for"] != ""
}

// identity is what must not change in a changed document.
type identity struct {
	apiVersion, kind, name, namespace string
	labels, annotations               map[string]string
}

func identityOf(doc []byte) (identity, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(doc, &n); err != nil {
		return identity{}, err
	}
	var id identity
	if len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
		return id, nil
	}
	root := n.Content[0]
	id.apiVersion, id.kind = scalar(get(root, "apiVersion")), scalar(get(root, "kind"))
	meta := get(root, "metadata")
	id.name, id.namespace = scalar(get(meta, "name")), scalar(get(meta, "namespace"))
	id.labels, id.annotations = stringMap(get(meta, "labels")), stringMap(get(meta, "annotations"))
	return id, nil
}

func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func stringMap(m *yaml.Node) map[string]string {
	out := map[string]string{}
	if m != nil && m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			out[m.Content[i].Value] = scalar(m.Content[i+1])
		}
	}
	return out
}

func sameObject(in, out []byte) error {
	a, err := identityOf(in)
	if err != nil {
		return fmt.Errorf("input changed although it does not parse: %w", err)
	}
	b, err := identityOf(out)
	if err != nil {
		return fmt.Errorf("output does not parse: %w", err)
	}
	if a.apiVersion != b.apiVersion || a.kind != b.kind || a.name != b.name || a.namespace != b.namespace {
		return fmt.Errorf("object changed identity: %s %s/%s became %s %s/%s", a.kind, a.namespace, a.name, b.kind, b.namespace, b.name)
	}
	for k, v := range a.labels {
		if got, ok := b.labels[k]; !ok || got != v {
			return fmt.Errorf("label %s lost or changed", k)
		}
	}
	for k, v := range a.annotations {
		if got, ok := b.annotations[k]; !ok {
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

// SameValues checks that every value of a changed document that graceful does
// not own reads the same in the output: nothing inside a multi-line scalar or
// a flow collection moved, no null became a string, no value changed through
// an alias. Aliases are expanded up to a budget, past which the document is
// not compared (an alias bomb).
func SameValues(in, out []byte) error {
	var a, b yaml.Node
	if err := yaml.Unmarshal(in, &a); err != nil {
		return nil // render failed or passed it through: Check covers it
	}
	if err := yaml.Unmarshal(out, &b); err != nil {
		return fmt.Errorf("output does not parse: %w", err)
	}
	budget := 100000
	va, vb := map[string]string{}, map[string]string{}
	if !flatten(&a, "", va, &budget) || !flatten(&b, "", vb, &budget) {
		return nil
	}
	for path, v := range va {
		if owned(path) {
			continue
		}
		got, ok := vb[path]
		if !ok && (v == "{}" || v == "[]" || v == "null") {
			continue // an empty value graceful filled in
		}
		if !ok || got != v {
			return fmt.Errorf("%s was %q, is %q", path, v, got)
		}
	}
	for path := range vb {
		if _, ok := va[path]; !ok && !mayAdd(path) {
			return fmt.Errorf("%s was added, and graceful adds no such field", path)
		}
	}
	return nil
}

// addable are the fields graceful adds: its hook, stop signal, grace period,
// env vars, os, the providers' drain annotations and the Istio proxy's
// drain; never to an init container.
var addable = regexp.MustCompile(`\.terminationGracePeriodSeconds$|\.lifecycle\.(preStop|stopSignal)([.\[]|$)|\.env\[\d+\]\.(name|value)$|\.os\.name$|\.annotations\.(service\.beta\.kubernetes\.io|service\.cloud\.tencent\.com|kubernetes\.io/elb\.)|\.annotations\.proxy\.istio\.io/config$`)

func mayAdd(path string) bool {
	return addable.MatchString(path) && !strings.Contains(path, "initContainers")
}

// ownedPaths are the fields graceful may replace (the Istio proxy config is
// merged into: the user's keys stay, read by the mesh test).
var ownedPaths = regexp.MustCompile(`\.terminationGracePeriodSeconds$|\.lifecycle\.preStop(\.|$)|\.lifecycle\.stopSignal$|\.service\.beta\.kubernetes\.io/aws-load-balancer-target-group-attributes$|\.annotations\.proxy\.istio\.io/config$`)

func owned(path string) bool { return ownedPaths.MatchString(path) }

// flatten records every scalar and empty collection by its path. It reports
// false when the budget runs out.
func flatten(n *yaml.Node, path string, into map[string]string, budget *int) bool {
	if *budget--; *budget < 0 {
		return false
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if !flatten(c, path, into, budget) {
				return false
			}
		}
	case yaml.AliasNode:
		return flatten(n.Alias, path, into, budget)
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			into[path] = "{}"
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode && k.Value == "<<" {
				// Merged keys: compared as they are read, by the merged mapping.
				if !flatten(n.Content[i+1], path+".<<", into, budget) {
					return false
				}
				continue
			}
			key := k.Value
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!null" {
				key = "\x00null" // `~`, `null` and nothing are one key
			}
			if !flatten(n.Content[i+1], path+"."+key, into, budget) {
				return false
			}
		}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			into[path] = "[]"
		}
		for i, c := range n.Content {
			if !flatten(c, fmt.Sprintf("%s[%d]", path, i), into, budget) {
				return false
			}
		}
	default:
		if n.ShortTag() == "!!null" {
			into[path] = "null" // `~`, `null` and nothing are one value
		} else {
			into[path] = n.ShortTag() + " " + n.Value
		}
	}
	return true
}

// SameDocument reports whether two documents read as the same values,
// aliases expanded (up to a budget) and spellings aside.
func SameDocument(a, b []byte) error {
	var na, nb yaml.Node
	if err := yaml.Unmarshal(a, &na); err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, &nb); err != nil {
		return err
	}
	budget := 100000
	va, vb := map[string]string{}, map[string]string{}
	if !flatten(&na, "", va, &budget) || !flatten(&nb, "", vb, &budget) {
		return nil
	}
	for path, v := range va {
		if vb[path] != v {
			return fmt.Errorf("%s is %q, and %q", path, v, vb[path])
		}
	}
	for path, v := range vb {
		if _, ok := va[path]; !ok {
			return fmt.Errorf("%s is missing, and %q", path, v)
		}
	}
	return nil
}
