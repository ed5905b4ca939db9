// Package explain builds the shutdown timelines of a set of manifests, as
// they will stop after graceful render or as they stand: it renders with the
// real renderer, reads the workloads back, and asks package timeline about
// each, with the profile render chose for it.
package explain

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/timeline"
	"github.com/graceful-dev/graceful/transformers"
)

// Run renders the inputs and explains every workload: after render, or as
// the inputs stand (asIs). providers are the run's load balancer providers
// (a Service without drain annotations has their default). A strict
// renderer is made lenient: explain shows what warnings lead to, where
// render would have written nothing.
func Run(r *render.Renderer, inputs []render.Input, asIs bool, providers []string) (*timeline.Report, error) {
	r = r.WithoutStrict()
	outputs, report, err := r.Render(inputs)
	if err != nil {
		return nil, err
	}
	mode := timeline.ModeRendered
	streams := make([][]byte, len(inputs))
	for i := range inputs {
		streams[i] = outputs[i].Bytes()
		if asIs {
			mode, streams[i] = timeline.ModeAsIs, inputs[i].Data
		}
	}
	return explain(r, report, inputs, streams, mode, providers)
}

// object is one object of a stream, with what names it in render's report.
type object struct {
	file  string
	item  int
	node  *yaml.Node
	kind  string
	ns    string
	name  string
	entry *render.Entry
}

// explain builds the timelines of every workload in the streams. Render's
// report says which profile each workload got and on which containers.
func explain(r *render.Renderer, report *render.Report, inputs []render.Input, streams [][]byte, mode string, providers []string) (*timeline.Report, error) {
	entries := map[string][]*render.Entry{}
	for i := range report.Entries {
		e := &report.Entries[i]
		k := objectKey(e.Ref.File, e.Ref.Kind, e.Ref.Namespace, e.Ref.Name, e.Ref.Item)
		entries[k] = append(entries[k], e)
	}
	var objects []object
	services := map[string][]timeline.Service{} // by namespace: a Service selects pods of its own
	for i, data := range streams {
		found, err := readObjects(inputs[i].Name, data)
		if err != nil {
			return nil, err
		}
		for _, ob := range found {
			if ob.kind == "Service" {
				s := timeline.ReadService(ob.node)
				services[s.Namespace] = append(services[s.Namespace], s)
				continue
			}
			k := objectKey(ob.file, ob.kind, ob.ns, ob.name, ob.item)
			if list := entries[k]; len(list) > 0 {
				ob.entry, entries[k] = list[0], list[1:]
			}
			objects = append(objects, ob)
		}
	}
	out := timeline.NewReport(mode)
	for _, ob := range objects {
		t, ok := Workload(r, ob.file, ob.node, ob.entry, services[ob.ns], providers)
		if !ok {
			continue
		}
		if ob.entry != nil && mode == timeline.ModeRendered {
			// render's warnings say why a conflict stays (a hook it kept).
			for _, f := range ob.entry.Findings {
				if f.Severity == transformers.Warning {
					t.Notes = append(t.Notes, "render warned: "+f.Message)
				}
			}
		}
		out.Workloads = append(out.Workloads, t)
	}
	return out, nil
}

// Workload builds the timeline of one object of a stream (false: it runs no
// pods), with its pods as render finds them and the profile render's entry
// gave it (nil: none). services are the stream's Services; those that
// select the pods count. graceful check takes its timing findings from it,
// so that check and explain cannot disagree.
func Workload(r *render.Renderer, file string, object *yaml.Node, entry *render.Entry, services []timeline.Service, providers []string) (*timeline.Timeline, bool) {
	pods, ok := r.FindPods(object)
	if !ok {
		return nil, false
	}
	ob := newObject(file, 0, object)
	w := timeline.Workload{Kind: ob.kind, Namespace: ob.ns, Name: ob.name, File: file,
		Template: pods.Template, Spec: pods.Spec, Containers: pods.Containers, Batch: pods.Batch}
	if pods.Template == nil {
		w.Services = tidbService(ob)
	}
	opts := timeline.Options{Services: services, Providers: providers}
	if entry != nil {
		if containers := entry.Plan.ContainerNames(); len(containers) > 0 {
			opts.Profile, opts.Containers = entry.Plan.ProfileOf(), containers
		}
		opts.ProfileReason = entry.Decision
		if entry.Profile != "" && opts.Profile == nil {
			opts.ProfileReason += "; left unchanged, as no container fitted"
		}
	}
	return timeline.Build(w, opts), true
}

func objectKey(file, kind, ns, name string, item int) string {
	return strings.Join([]string{file, kind, ns, name, strconv.Itoa(item)}, "\x00")
}

// readObjects decodes a stream's objects: each document, or each item of a List.
func readObjects(file string, data []byte) ([]object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []object
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: reading the documents back: %w", orStdin(file), err)
		}
		if len(doc.Content) == 0 || !node.IsMap(doc.Content[0]) {
			continue
		}
		root := doc.Content[0]
		kind := node.GetStr(root, "kind")
		if items := node.Get(root, "items"); strings.HasSuffix(kind, "List") && node.IsSeq(items) {
			for i, item := range items.Content {
				if node.IsMap(item) {
					out = append(out, newObject(file, i+1, item))
				}
			}
			continue
		}
		out = append(out, newObject(file, 0, root))
	}
}

func newObject(file string, item int, n *yaml.Node) object {
	meta := node.Get(n, "metadata")
	return object{file: file, item: item, node: n, kind: node.GetStr(n, "kind"), ns: node.GetStr(meta, "namespace"), name: node.GetStr(meta, "name")}
}

func orStdin(file string) string {
	if file == "" {
		return "stdin"
	}
	return file
}

// tidbService is the Service tidb-operator makes from a TidbCluster's
// spec.tidb.service, named as the operator names it (NAME-tidb).
func tidbService(ob object) []timeline.Service {
	svc := node.Lookup(ob.node, "spec", "tidb", "service")
	if !node.IsMap(svc) {
		return nil
	}
	return []timeline.Service{{Name: ob.name + "-tidb", Namespace: ob.ns, Type: node.GetStr(svc, "type"),
		Class: node.GetStr(svc, "loadBalancerClass"), Annotations: node.Labels(node.Get(svc, "annotations"))}}
}
