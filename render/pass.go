package render

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/transformers"
)

// The pass over a stream: it schedules the parse of each document, runs the
// stages of stages.go on each object (a document, or each item of a List),
// keeps what pass 2 needs (the pods' labels, the load balancer Services),
// and lets each document's tree go as soon as it is written. What to decide
// is not here: select.go, plan.go, stages.go and services.go decide.

// podSummary is what pass 2 needs to know of a profiled workload's pods.
type podSummary struct {
	namespace string
	labels    map[string]string
	// drainSeconds is the load balancer drain the workload wants, capped by
	// how long its pods live.
	drainSeconds int
	profile      *profiles.Profile
}

// lbService is a load balancer Service waiting for pass 2. Its tree is kept
// only inside a List (whose other items pass 1 may have changed); a Service
// document is parsed again if it turns out to need annotations, so a stream
// of thousands of Services is not held in memory.
type lbService struct {
	doc      *Document
	ref      Ref
	object   *yaml.Node // nil: parse doc again
	selector map[string]string
}

// run is the state of one pass over a set of documents.
type run struct {
	*Renderer
	report   Report
	pods     []podSummary
	services []lbService
	// undrained are load balancer Services seen without --provider.
	undrained []lbService
	// keepNodes is false when documents are written as bytes: their trees are
	// dropped once written; only Lists holding a load balancer Service wait
	// for pass 2 (see lbService).
	keepNodes bool
	fragments map[string][]byte
	strings   map[string]string
	// workloads counts the workloads seen; profiled those a profile applied
	// to; optedOut those an annotation or rule set to none.
	workloads, profiled, optedOut int
	// ambiguous counts workloads whose containers fit several profiles
	// under auto: the run notice must not say that none fit.
	ambiguous int
	// objects counts the objects read (documents and List items).
	objects int
	// budgets is --pdb's state, nil without it.
	budgets *disruptions
}

// process transforms the documents in place. Pass 1 handles workloads and
// collects their pod labels; pass 2 adds drain annotations to the load
// balancer Services that select them, wherever they stand in the stream.
func (r *Renderer) process(docs []*Document, keepNodes bool) (*Report, error) {
	st := &run{Renderer: r, keepNodes: keepNodes, fragments: map[string][]byte{}, strings: map[string]string{}}
	st.report.Documents = len(docs)
	if r.pdb {
		st.budgets = newDisruptions()
		// unhealthyPodEvictionPolicy: beta and on by default from 1.27, GA in 1.31.
		st.budgets.alwaysAllow = r.kube.AtLeast(1, 27)
	}
	for i, d := range docs {
		if !d.parsed {
			if err := st.parse(docs, i); err != nil {
				return nil, err
			}
		}
		waits, err := st.document(d)
		if err != nil {
			return nil, err
		}
		if !waits {
			if err := st.finish(d); err != nil {
				return nil, err
			}
		}
	}
	if err := st.drainServices(); err != nil {
		return nil, err
	}
	if st.budgets != nil {
		st.addBudgets()
	}
	for _, s := range st.services {
		if err := st.finish(s.doc); err != nil {
			return nil, err
		}
	}
	for _, d := range docs {
		if d.changed {
			st.report.Changed++
		}
	}
	st.runNotices()
	st.undrainedNotice()
	sort.SliceStable(st.report.Entries, func(i, j int) bool {
		a, b := st.report.Entries[i].Ref, st.report.Entries[j].Ref
		return a.order < b.order || a.order == b.order && a.Item < b.Item
	})
	return &st.report, nil
}

// parse reads docs[i], with the rest of its input when it has one.
func (st *run) parse(docs []*Document, i int) error {
	d := docs[i]
	if d.src == nil {
		return d.parse()
	}
	var next *Document
	if i+1 < len(docs) && docs[i+1].src == d.src {
		next = docs[i+1]
	}
	return d.src.parse(d, next)
}

// finish encodes a changed document and lets its tree go.
func (st *run) finish(d *Document) error {
	if d.changed && d.out == nil && !st.keepNodes {
		if err := d.encode(st.fragments); err != nil {
			return err
		}
	}
	if !st.keepNodes {
		d.Node = nil
	}
	return nil
}

// document runs pass 1 on every object of a document: the document itself, or
// each item of a List. waits is true when a Service in it waits for pass 2.
func (st *run) document(d *Document) (waits bool, err error) {
	root := d.root()
	if root == nil {
		return false, nil
	}
	if root.Kind != yaml.MappingNode {
		return false, &DocumentError{Ref: d.Ref, Err: fmt.Errorf("a document must be an object (a mapping), found a %s", kindName(root))}
	}
	setIdentity(&d.Ref, root)
	d.Ref.Line = d.inputLine(root)
	items := node.Get(root, "items")
	if strings.HasSuffix(d.Kind, "List") && node.IsSeq(items) {
		for i, item := range items.Content {
			ref := d.Ref
			ref.Item = i + 1
			if item.Kind != yaml.MappingNode {
				return false, &DocumentError{Ref: ref, Err: fmt.Errorf("a List item must be an object, found a %s", kindName(item))}
			}
			setIdentity(&ref, item)
			ref.Line = d.inputLine(item)
			w, err := st.object(d, ref, item)
			if err != nil {
				return false, err
			}
			waits = waits || w
		}
		return waits, nil
	}
	return st.object(d, d.Ref, root)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "sequence"
	case yaml.ScalarNode:
		return "scalar"
	}
	return "alias"
}

// checkObject rejects what no API server would take as an object.
func checkObject(ref Ref, object *yaml.Node) error {
	for _, field := range []string{"metadata", "spec"} {
		if v := node.Get(object, field); !node.IsNull(v) && !node.IsMap(v) {
			return &DocumentError{Ref: ref, Field: field, Err: fmt.Errorf("expected a mapping")}
		}
	}
	return nil
}

func setIdentity(ref *Ref, object *yaml.Node) {
	ref.APIVersion = node.GetStr(object, "apiVersion")
	ref.Kind = node.GetStr(object, "kind")
	meta := node.Get(object, "metadata")
	ref.Name = node.GetStr(meta, "name")
	ref.Namespace = node.GetStr(meta, "namespace")
}

func (st *run) object(d *Document, ref Ref, object *yaml.Node) (waits bool, err error) {
	if err := checkObject(ref, object); err != nil {
		return false, err
	}
	st.objects++
	if st.budgets != nil && st.budgets.observe(ref, object) {
		return false, nil
	}
	if ref.Is("Service") {
		return st.service(d, ref, object), nil
	}
	explicit := st.namesKind(ref, object)
	if !explicit && ref.lookalike() {
		st.lookalike(d, ref, object)
		return false, nil
	}
	w, err := findWorkload(ref, object, explicit)
	if w == nil || err != nil {
		return false, err
	}
	st.workloads++
	guard, pods := d.sharedGuard(), len(st.pods)
	entry, err := st.workload(w)
	if err != nil {
		return false, err
	}
	if guard.check(entry, w.podSpecPath) {
		st.pods = st.pods[:pods] // left unchanged: its pods drain as they did
	}
	if found := w.unknownAnnotations(); len(found) > 0 {
		if entry == nil {
			entry = &Entry{Ref: w.ref, Decision: "no profile"}
		}
		entry.Findings = append(found, entry.Findings...)
	}
	if entry != nil {
		st.record(d, *entry)
	}
	if st.budgets != nil && len(st.pods) > pods {
		st.budgetWorkload(d, w, entry != nil)
	}
	return false, nil
}

// namesKind reports whether the object's own annotation or a rule's kinds
// name its kind, so that a CRD outside workloadKinds is read as a workload.
// A rule naming one of Kubernetes' kinds (Deployment) means Kubernetes'
// kind, not a CRD's look-alike: only the annotation selects that. A rule
// naming a CRD's kind (Rollout) names it in any group, as any CRD.
func (r *Renderer) namesKind(ref Ref, object *yaml.Node) bool {
	if node.Get(node.Lookup(object, "metadata", "annotations"), ProfileAnnotation) != nil {
		return true
	}
	if ref.lookalike() && kubernetesKind(ref.Kind) {
		return false
	}
	for _, rule := range r.rules {
		if contains(rule.Match.Kinds, ref.Kind) {
			return true
		}
	}
	return false
}

// lookalike tells of an object whose kind has the name of one graceful
// knows, in a group that does not serve it (example.com/v1 Deployment),
// where a rule or --profile would have selected it as that kind: graceful
// cannot know what its fields mean, and leaves it alone.
func (st *run) lookalike(d *Document, ref Ref, object *yaml.Node) {
	var why string
	if ref.Kind == "Service" {
		if st.lbDrain == nil || node.GetStr(node.Get(object, "spec"), "type") != "LoadBalancer" {
			return
		}
		why = "no load balancer drain annotations"
	} else {
		kind, ok := workloadKinds[ref.Kind]
		if !ok {
			return
		}
		w, err := viewWorkload(ref, object, kind, true, false)
		if w == nil || err != nil {
			return
		}
		if sel, err := st.selectProfile(w); err != nil || sel.profile == nil {
			return
		}
		why = lookalikeHint(object)
	}
	own := knownKind(ref.Kind)
	st.record(d, Entry{Ref: ref, Decision: "skipped: not " + own, Findings: []transformers.Finding{{
		Code: transformers.CodeNotKnownKind, Severity: transformers.Info, Field: "apiVersion",
		Message: fmt.Sprintf("%s is not %s but another API's kind of the same name, whose fields graceful cannot know: %s", ref.APIVersion, own, why)}}})
}

// lookalikeHint says what would make graceful act on a look-alike: its
// annotation reads a CRD's pod template at spec.template only, so for an
// object without one (a TidbCluster's spec.tidb, a CronJob's jobTemplate)
// graceful cannot know where its pods are set.
func lookalikeHint(object *yaml.Node) string {
	if node.IsMap(node.Lookup(object, genericTemplatePath...)) {
		return "left alone; if spec.template is a pod template, annotate it " + ProfileAnnotation + ": NAME"
	}
	return "left alone; it has no spec.template, the only place graceful reads a CRD's pod template: graceful cannot act on it"
}

func (st *run) record(d *Document, e Entry) {
	for i := range e.Findings {
		f := &e.Findings[i]
		d.changed = d.changed || f.Changed
		// A stream of similar workloads repeats the same texts thousands of
		// times: the report keeps one copy of each.
		f.Field, f.Message = st.intern(f.Field), st.intern(f.Message)
		f.Current, f.Proposed = st.intern(f.Current), st.intern(f.Proposed)
	}
	e.Decision = st.intern(e.Decision)
	if p := e.Plan; p != nil {
		p.Source = st.intern(p.Source)
		for i := range p.Containers {
			c := &p.Containers[i]
			c.Name, c.Path, c.Image = st.intern(c.Name), st.intern(c.Path), st.intern(c.Image)
		}
	}
	st.report.Entries = append(st.report.Entries, e)
}

func (st *run) intern(s string) string {
	if v, ok := st.strings[s]; ok {
		return v
	}
	st.strings[s] = s
	return s
}

// service records a load balancer Service for pass 2; waits is true when
// its tree must be kept for it.
func (st *run) service(d *Document, ref Ref, object *yaml.Node) (waits bool) {
	if st.lbDrain == nil {
		st.noteUndrained(ref, object)
		return false
	}
	selector, skipped := loadBalancerSelector(ref, object)
	if skipped != nil {
		st.record(d, *skipped)
	}
	if selector == nil {
		return false
	}
	svc := lbService{doc: d, ref: ref, selector: selector}
	waits = ref.Item > 0 || st.keepNodes
	if waits {
		svc.object = object
	}
	st.services = append(st.services, svc)
	return waits
}

// drainServices is pass 2: each load balancer Service that selects profiled
// pods in its namespace gets the drain annotations, with a timeout that fits
// the shortest-lived of those pods. A Service document is parsed again here,
// and written as soon as it is done.
func (st *run) drainServices() error {
	join := newPodIndex(st.pods)
	for _, svc := range st.services {
		timeout, skipped := joinService(join, svc)
		if skipped != nil {
			st.record(svc.doc, *skipped)
			continue
		}
		if svc.object == nil {
			if err := svc.doc.parse(); err != nil {
				return err
			}
			svc.object = svc.doc.root()
		}
		entry, err := st.drainService(svc, timeout)
		if err != nil {
			return err
		}
		if len(entry.Findings) > 0 {
			st.record(svc.doc, *entry)
		}
		if svc.ref.Item == 0 {
			if err := st.finish(svc.doc); err != nil { // written now: its tree goes
				return err
			}
		}
	}
	return nil
}
