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
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/audit"
	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/timeline"
	"github.com/graceful-dev/graceful/transformers"
)

// Options are explain's settings.
type Options struct {
	// Render are render's options: explain shows what render does with them.
	Render render.Options
	// AsIs explains the input as it stands rather than render's output.
	AsIs bool
	// Providers are the run's load balancer providers (a Service without
	// drain annotations has their default).
	Providers []string
	// Selection says, for the reader, how profiles were chosen.
	Selection string
}

// Run renders the inputs and explains every workload: after render, or as
// the inputs stand (AsIs). A strict renderer is made lenient: explain shows
// what warnings lead to, where render would have written nothing. Bad input
// fails as in graceful check (a *render.DocumentError), in both modes.
// What check calls broken in the stream explained (a hook that cannot run,
// a drain setting the controller rejects) is not drawn as working, and only
// the workloads check judges are explained.
func Run(opts Options, inputs []render.Input) (*timeline.Report, error) {
	opts.Render.Strict = false
	r, err := render.New(opts.Render)
	if err != nil {
		return nil, err
	}
	outputs, report, err := r.Render(inputs)
	if err != nil {
		return nil, err
	}
	mode := timeline.ModeRendered
	streams := make([]render.Input, len(inputs))
	for i := range inputs {
		streams[i] = render.Input{Name: inputs[i].Name, Data: outputs[i].Bytes()}
		if opts.AsIs {
			mode, streams[i] = timeline.ModeAsIs, inputs[i]
		}
	}
	// A manifest check cannot read fails here as in check, whatever render
	// made of it: its workloads are read as check reads them.
	refs, err := render.Objects(inputs)
	if err != nil {
		return nil, err
	}
	for _, o := range refs {
		if _, err := render.FindPodTemplate(o); err != nil {
			return nil, err
		}
	}
	// Check judges the stream explained: render's output, or the input.
	checked, err := audit.Check(streams, audit.Options{Render: opts.Render})
	if err != nil {
		return nil, err
	}
	e := &explainer{r: r, report: report, checked: checked, mode: mode, opts: opts, refs: map[string]render.Ref{}}
	for _, o := range refs {
		e.refs[refKey(o.Ref)] = o.Ref
	}
	out, err := e.explain(streams)
	if err != nil {
		return nil, err
	}
	out.Selection = opts.Selection
	return out, nil
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

// explainer is one run: render's report, check's reading of the stream
// explained, and the input's references (file, line, Helm source).
type explainer struct {
	r       *render.Renderer
	report  *render.Report
	checked *audit.Report
	mode    string
	opts    Options
	refs    map[string]render.Ref
}

func refKey(r render.Ref) string { return objectKey(r.File, r.Kind, r.Namespace, r.Name, r.Item) }

// explain builds the timelines of every workload in the streams. Render's
// report says which profile each workload got and on which containers.
func (e *explainer) explain(streams []render.Input) (*timeline.Report, error) {
	entries := map[string][]*render.Entry{}
	for i := range e.report.Entries {
		en := &e.report.Entries[i]
		k := refKey(en.Ref)
		entries[k] = append(entries[k], en)
	}
	checked := map[string]audit.Workload{}
	for _, w := range e.checked.Workloads {
		checked[refKey(w.Ref)] = w
	}
	findings := map[string][]audit.Finding{}
	for _, res := range e.checked.Results {
		findings[refKey(res.Ref)] = append(findings[refKey(res.Ref)], res.Findings...)
	}
	var objects []object
	services := map[string][]timeline.Service{} // by namespace: a Service selects pods of its own
	for _, in := range streams {
		found, err := readObjects(in.Name, in.Data)
		if err != nil {
			return nil, err
		}
		for _, ob := range found {
			k := objectKey(ob.file, ob.kind, ob.ns, ob.name, ob.item)
			if ob.kind == "Service" {
				s := timeline.ReadService(ob.node)
				s.Broken = brokenDrain(findings[k])
				services[s.Namespace] = append(services[s.Namespace], s)
				continue
			}
			if list := entries[k]; len(list) > 0 {
				ob.entry, entries[k] = list[0], list[1:]
			}
			objects = append(objects, ob)
		}
	}
	out := timeline.NewReport(e.mode)
	catalog := e.r.Catalog()
	for _, ob := range objects {
		k := objectKey(ob.file, ob.kind, ob.ns, ob.name, ob.item)
		cw, judged := checked[k]
		if judged && cw.Idle != "" {
			// A Helm test pod, an install job, a batch job: check asks
			// nothing of its shutdown.
			out.Skipped = append(out.Skipped, fmt.Sprintf("%s %s (%s)", ob.kind, qualified(ob.ns, ob.name), cw.Idle))
			continue
		}
		pods, ok := e.r.FindPods(ob.node)
		if !ok {
			continue
		}
		w := timeline.Workload{Kind: ob.kind, Namespace: ob.ns, Name: ob.name, File: ob.file,
			Template: pods.Template, Spec: pods.Spec, Containers: pods.Containers, Batch: pods.Batch}
		if pods.Template == nil {
			w.Services = tidbService(ob)
		}
		opts := timeline.Options{Services: services[ob.ns], Providers: e.opts.Providers, Catalog: catalog,
			BrokenHooks: brokenHooks(findings[k], pods.Containers)}
		if judged {
			opts.Serving = cw.Serving
		}
		unchanged := "no profile applies (name one with --profile, a rule or the annotation graceful.dev/profile)"
		if en := ob.entry; en != nil {
			opts.ProfileReason = en.Decision
			if p, ok := catalog.Get(en.Profile); ok && en.Plan != nil && len(en.Plan.Containers) > 0 {
				opts.Profile = p
				for _, c := range en.Plan.Containers {
					opts.Containers = append(opts.Containers, c.Name)
				}
			}
			unchanged = ""
			if fix := audit.FixOf(en); len(fix.Changes) == 0 {
				why := strings.Join(fix.Notes, "; ")
				if why == "" {
					why = "the workload has what the profile asks already"
				}
				unchanged = strings.TrimPrefix(fix.Decision+": "+why, ": ")
			}
		}
		t := timeline.Build(w, opts)
		t.Unchanged = unchanged
		if ref, ok := e.refs[k]; ok {
			t.Line, t.Source, t.Location = ref.Line, ref.Source, audit.Location(ref)
		}
		if ob.entry != nil && e.mode == timeline.ModeRendered {
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

// brokenHookCodes are check's codes for a preStop hook that does not do
// what it reads as: GS205 (no shell or tool in the image), GS206 (a sleep
// action the cluster lacks), GS207 (PID 1 is the pause process).
var brokenHookCodes = []string{"GS205", "GS206", timeline.CodeSharedPID1}

// brokenHooks are check's findings on each container's preStop hook. An
// info is a doubt (an image that may lack a shell): the hook still counts.
func brokenHooks(findings []audit.Finding, containers []transformers.Container) map[string]string {
	out := map[string]string{}
	for _, f := range findings {
		if !slices.Contains(brokenHookCodes, f.Code) || f.Severity == transformers.Info {
			continue
		}
		for _, c := range containers {
			if strings.HasPrefix(f.Field, c.Path+".lifecycle.preStop") && out[c.Name] == "" {
				out[c.Name] = f.Code + ": " + f.Message
			}
		}
	}
	return out
}

// brokenDrain is check's finding on a Service's drain setting (GS204: a
// value or attribute the controller rejects), "" where none.
func brokenDrain(findings []audit.Finding) string {
	for _, f := range findings {
		if f.Code == "GS204" {
			return f.Code + ": " + f.Message
		}
	}
	return ""
}

func qualified(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
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
