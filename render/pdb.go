package render

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/transformers"
)

// render --pdb: a PodDisruptionBudget (maxUnavailable: 1) for each profiled
// multi-replica workload that no PodDisruptionBudget of the input selects.
// A graceful stop protects the requests of a pod that goes; only a budget
// keeps `kubectl drain` (and the cluster autoscaler, which both evict) from
// taking every replica at once, which no stop can make graceful.

// PDBSuffix ends the name of a budget graceful adds: <workload>-graceful.
const PDBSuffix = "-graceful"

// PDBAnnotation on an added budget names the workload it was added for.
const PDBAnnotation = "graceful.dev/pdb-for"

// budgetKind: the kinds whose pods a budget protects from a drain:
// drain evicts every pod but a DaemonSet's (--ignore-daemonsets), and a
// ReplicaSet or bare Pod is rarely what a user writes.
func budgetKind(ref Ref) bool { return ref.Is("Deployment") || ref.Is("StatefulSet") }

// placementAnnotations say which file an object belongs to (Helm 4's
// post-renderer split, kustomize fn's path): a budget added for a workload
// goes into the same file.
var placementAnnotations = []string{"postrenderer.helm.sh/postrender-filename", "config.kubernetes.io/path", "internal.config.kubernetes.io/path"}

// labelSelector is a metav1.LabelSelector as the API server reads it.
type labelSelector struct {
	// none selects nothing (a null selector), all every pod ({} in policy/v1).
	none, all bool
	// unknown: not readable here (a template, an unknown operator); it is
	// taken to select every pod, as a second budget on a pod blocks its
	// eviction altogether (the API server refuses pods with two budgets).
	unknown     bool
	matchLabels map[string]string
	exprs       []requirement
}

type requirement struct {
	key, operator string
	values        []string
}

// parseSelector reads a selector node. emptySelectsAll is policy/v1's rule
// for {}; policy/v1beta1 selected nothing with it.
func parseSelector(n *yaml.Node, emptySelectsAll bool) labelSelector {
	if node.IsNull(n) {
		return labelSelector{none: true}
	}
	if !node.IsMap(n) {
		return labelSelector{unknown: true}
	}
	var s labelSelector
	if ml := node.Get(n, "matchLabels"); !node.IsNull(ml) {
		if !node.IsMap(ml) {
			return labelSelector{unknown: true}
		}
		s.matchLabels = node.Labels(ml)
	}
	if me := node.Get(n, "matchExpressions"); !node.IsNull(me) {
		if !node.IsSeq(me) {
			return labelSelector{unknown: true}
		}
		for _, e := range node.Resolve(me).Content {
			r := requirement{key: node.GetStr(e, "key"), operator: node.GetStr(e, "operator")}
			switch r.operator {
			case "In", "NotIn", "Exists", "DoesNotExist":
			default:
				return labelSelector{unknown: true}
			}
			if vs := node.Get(e, "values"); !node.IsNull(vs) {
				if !node.IsSeq(vs) {
					return labelSelector{unknown: true}
				}
				for _, v := range node.Resolve(vs).Content {
					r.values = append(r.values, node.Str(v))
				}
			}
			s.exprs = append(s.exprs, r)
		}
	}
	if len(s.matchLabels) == 0 && len(s.exprs) == 0 {
		if emptySelectsAll {
			return labelSelector{all: true}
		}
		return labelSelector{none: true}
	}
	return s
}

// selects reports whether the selector selects pods with these labels.
func (s labelSelector) selects(labels map[string]string) bool {
	switch {
	case s.none:
		return false
	case s.all, s.unknown:
		return true
	}
	for k, v := range s.matchLabels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, r := range s.exprs {
		v, ok := labels[r.key]
		in := false
		for _, want := range r.values {
			in = in || ok && v == want
		}
		switch r.operator {
		case "In":
			if !in {
				return false
			}
		case "NotIn":
			if in {
				return false
			}
		case "Exists":
			if !ok {
				return false
			}
		case "DoesNotExist":
			if ok {
				return false
			}
		}
	}
	return true
}

// sameNamespace: an object without a namespace goes to whatever namespace it
// is applied to (Helm's release namespace, kubectl -n), so it may be any.
func sameNamespace(a, b string) bool { return a == "" || b == "" || a == b }

// budget is a PodDisruptionBudget of the input, or one added.
type budget struct {
	namespace, name string
	selector        labelSelector
}

// podSet is a workload's pods, for telling whether a selector reaches
// beyond the workload it is written for.
type podSet struct {
	ref    Ref
	labels map[string]string
}

// budgetCandidate is a profiled workload that may need a budget.
type budgetCandidate struct {
	doc   *Document
	ref   Ref
	entry int // its Entry in the report, -1 if none
	// replicas is spec.replicas (1 without it), -1 if not a number.
	replicas int
	labels   map[string]string
	// selector is a copy of spec.selector; nil if absent.
	selector  *yaml.Node
	placement [][2]string
}

// disruptions is what --pdb learns from a run: the budgets, the
// autoscalers' minimums, every workload's pods, and the candidates.
type disruptions struct {
	budgets []budget
	// minReplicas: namespace, kind and name of an HPA's target → minReplicas.
	minReplicas map[string]int
	hpaName     map[string]string
	pods        []podSet
	candidates  []budgetCandidate
	added       int
	// alwaysAllow: the target Kubernetes has unhealthyPodEvictionPolicy,
	// and the added budgets let a drain evict pods that are not ready.
	alwaysAllow bool
}

func newDisruptions() *disruptions {
	return &disruptions{minReplicas: map[string]int{}, hpaName: map[string]string{}}
}

func targetKey(namespace, kind, name string) string { return namespace + "\x00" + kind + "\x00" + name }

// observe learns from any object: a budget, an autoscaler, a workload's pod
// labels. It reports whether the object is a budget or an autoscaler.
func (x *disruptions) observe(ref Ref, object *yaml.Node) bool {
	spec := node.Get(object, "spec")
	switch {
	case ref.Is("PodDisruptionBudget"):
		x.budgets = append(x.budgets, budget{namespace: ref.Namespace, name: ref.Name,
			selector: parseSelector(node.Get(spec, "selector"), ref.APIVersion != "policy/v1beta1")})
		return true
	case ref.Is("HorizontalPodAutoscaler"):
		target := node.Get(spec, "scaleTargetRef")
		if !budgetKind(Ref{APIVersion: node.GetStr(target, "apiVersion"), Kind: node.GetStr(target, "kind")}) {
			return true // it scales a kind that takes no budget
		}
		min := 1
		if v, ok := node.Int(node.Get(spec, "minReplicas")); ok {
			min = v
		}
		key := targetKey(ref.Namespace, node.GetStr(target, "kind"), node.GetStr(target, "name"))
		if min > x.minReplicas[key] {
			x.minReplicas[key], x.hpaName[key] = min, ref.Name
		}
		return true
	}
	if kind, ok := kindOf(ref); ok && len(kind.templatePath) > 0 {
		if labels := node.Labels(node.Lookup(object, append(kind.templatePath, "metadata", "labels")...)); len(labels) > 0 {
			x.pods = append(x.pods, podSet{ref: ref, labels: labels})
		}
	}
	return false
}

// candidate records a profiled workload; entry is its Entry's index, -1 if none.
func (x *disruptions) candidate(d *Document, w *workload, entry int) {
	if !budgetKind(w.ref) {
		return
	}
	spec := node.Get(w.object, "spec")
	c := budgetCandidate{doc: d, ref: w.ref, entry: entry, replicas: 1, labels: w.podLabels()}
	if r := node.Get(spec, "replicas"); !node.IsNull(r) {
		v, ok := node.Int(r)
		if !ok {
			v = -1
		}
		c.replicas = v
	}
	if sel := node.Get(spec, "selector"); !node.IsNull(sel) {
		c.selector = plainCopy(sel)
	}
	annotations := node.Lookup(w.object, "metadata", "annotations")
	for _, k := range placementAnnotations {
		if v := node.GetStr(annotations, k); v != "" {
			c.placement = append(c.placement, [2]string{k, v})
		}
	}
	x.candidates = append(x.candidates, c)
}

// plainWord is a string that reads as a string unquoted, unless YAML 1.1
// takes it for a boolean or null (node.NewStr knows those).
var plainWord = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._/-]*$`)

// plainCopy copies a tree with aliases resolved, in block style, without
// comments: a new document owes nothing to the layout of the one it came from.
func plainCopy(n *yaml.Node) *yaml.Node {
	n = node.Resolve(n)
	c := &yaml.Node{Kind: n.Kind, Tag: n.Tag, Value: n.Value}
	if n.Kind == yaml.ScalarNode {
		c.Style = n.Style &^ yaml.FlowStyle
		// JSON's quoted keys would read "matchLabels": in block style. Only a
		// word no YAML (1.1, as Kubernetes reads it, or 1.2) takes for
		// anything but a string loses its quotes: `on` and `1:30` keep them.
		if plainWord.MatchString(n.Value) && node.NewStr(n.Value).Style == 0 {
			c.Style &^= yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle
		}
	}
	for _, child := range n.Content {
		c.Content = append(c.Content, plainCopy(child))
	}
	return c
}

// unprotected decides for one workload: the replicas it runs (and why), and
// the finding that says why it gets no budget; ok when it needs one.
func (x *disruptions) unprotected(ref Ref, replicas int, labels map[string]string) (n int, why string, skip *transformers.Finding) {
	n, why = replicas, fmt.Sprintf("%d replicas", replicas)
	if replicas < 0 {
		return 0, "", &transformers.Finding{Code: transformers.CodePDBUnknown, Severity: transformers.Info, Field: "spec.replicas",
			Message: "not a number here, so graceful cannot tell whether a PodDisruptionBudget is needed; add one yourself if it runs more than one replica"}
	}
	key := targetKey(ref.Namespace, ref.Kind, ref.Name)
	if min := x.minReplicas[key]; min > n {
		n, why = min, fmt.Sprintf("HorizontalPodAutoscaler %s keeps at least %d replicas", x.hpaName[key], min)
	}
	if n < 2 {
		return n, why, &transformers.Finding{Code: transformers.CodePDBSingle, Severity: transformers.Info,
			Message: "no PodDisruptionBudget added: one replica, which a budget of maxUnavailable 1 would not hold back"}
	}
	for _, b := range x.budgets {
		if sameNamespace(b.namespace, ref.Namespace) && b.selector.selects(labels) {
			msg := "no PodDisruptionBudget added: PodDisruptionBudget " + b.name + " selects its pods already"
			if b.selector.unknown {
				msg += " (its selector cannot be read here, so it may)"
			}
			return n, why, &transformers.Finding{Code: transformers.CodePDBPresent, Severity: transformers.Info, Message: msg}
		}
	}
	return n, why, nil
}

// addBudgets is --pdb's pass: after every object is seen, each candidate
// that runs more than one replica and that no budget selects gets one,
// right after its own document.
func (st *run) addBudgets() {
	x := st.budgets
	for _, c := range x.candidates {
		replicas, why, skip := x.unprotected(c.ref, c.replicas, c.labels)
		if skip == nil {
			skip = x.add(c, replicas, why)
		}
		if skip != nil && c.entry >= 0 {
			e := &st.report.Entries[c.entry]
			e.Findings = append(e.Findings, *skip)
		}
	}
	if x.added > 0 {
		st.report.Notices = append(st.report.Notices, transformers.Finding{Code: transformers.CodePDBAdded, Severity: transformers.Info,
			Message: fmt.Sprintf("--pdb: added %d PodDisruptionBudget(s), each right after its workload's document", x.added)})
	}
}

// add writes the budget after the candidate's document, or returns why not.
func (x *disruptions) add(c budgetCandidate, replicas int, why string) *transformers.Finding {
	name := c.ref.Name + PDBSuffix
	if c.selector == nil || len(c.labels) == 0 {
		return &transformers.Finding{Code: transformers.CodePDBUnknown, Severity: transformers.Info, Field: "spec.selector",
			Message: "no PodDisruptionBudget added: no selector or no pod labels to select by"}
	}
	sel := parseSelector(c.selector, true)
	if sel.unknown || sel.none || sel.all {
		return &transformers.Finding{Code: transformers.CodePDBUnknown, Severity: transformers.Info, Field: "spec.selector",
			Message: "no PodDisruptionBudget added: the selector cannot be read here"}
	}
	for _, b := range x.budgets {
		if b.name == name && sameNamespace(b.namespace, c.ref.Namespace) {
			return &transformers.Finding{Code: transformers.CodePDBName, Severity: transformers.Warning,
				Message: fmt.Sprintf("no PodDisruptionBudget added: the name %s is taken by a budget that does not select these pods", name)}
		}
	}
	for _, p := range x.pods {
		if p.ref.order == c.ref.order && p.ref.Item == c.ref.Item {
			continue
		}
		if sameNamespace(p.ref.Namespace, c.ref.Namespace) && sel.selects(p.labels) {
			return &transformers.Finding{Code: transformers.CodePDBOverlap, Severity: transformers.Warning, Field: "spec.selector",
				Message: fmt.Sprintf("no PodDisruptionBudget added: the selector also selects the pods of %s %s, and a pod under two budgets cannot be evicted at all; add one budget for both yourself", p.ref.Kind, p.ref.QualifiedName())}
		}
	}
	if isJSON(c.doc.body()) {
		// A YAML document after it (--in-place) would leave a .json file
		// that is no longer JSON.
		return &transformers.Finding{Code: transformers.CodePDBJSON, Severity: transformers.Warning,
			Message: fmt.Sprintf("no PodDisruptionBudget added: the document is JSON, and a budget after it would make its file no longer JSON; add %s (maxUnavailable: 1, this selector) in a YAML file of its own: %s", name, why)}
	}
	meta := node.NewMap("name", name)
	if c.ref.Namespace != "" {
		node.Set(meta, "namespace", node.NewStr(c.ref.Namespace))
	}
	annotations := node.NewMap(PDBAnnotation, c.ref.Kind+"/"+c.ref.Name)
	for _, kv := range c.placement {
		node.Set(annotations, kv[0], node.NewStr(kv[1]))
	}
	node.Set(meta, "annotations", annotations)
	spec := node.NewMap("maxUnavailable", 1, "selector", c.selector)
	if x.alwaysAllow {
		// A crashlooping workload's unready pods would block every drain
		// (IfHealthyBudget, the default); evicting them costs no traffic.
		node.Set(spec, "unhealthyPodEvictionPolicy", node.NewStr("AlwaysAllow"))
	}
	pdb := node.NewMap("apiVersion", "policy/v1", "kind", "PodDisruptionBudget", "metadata", meta, "spec", spec)
	c.doc.added = append(c.doc.added, pdb)
	x.budgets = append(x.budgets, budget{namespace: c.ref.Namespace, name: name, selector: sel})
	x.added++
	how := "maxUnavailable: 1, its selector"
	if x.alwaysAllow {
		how += ", unhealthyPodEvictionPolicy: AlwaysAllow so unready pods never block a drain"
	}
	return &transformers.Finding{Code: transformers.CodePDBAdded, Severity: transformers.Info, Field: "PodDisruptionBudget " + name,
		Message: fmt.Sprintf("added after this document (%s): %s, so a node drain evicts them one at a time instead of all at once", how, why)}
}

// addedBytes is the YAML of the objects added after d, each a document of
// its own, with d's line ends; nil if none.
func (d *Document) addedBytes() []byte {
	if len(d.added) == 0 {
		return nil
	}
	raw := d.bytes()
	var buf bytes.Buffer
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		buf.WriteByte('\n')
	}
	for _, n := range d.added {
		buf.WriteString("---\n")
		buf.Write(encodeAdded(n))
	}
	out := buf.Bytes()
	if bytes.Contains(raw, []byte("\r\n")) {
		out = bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n"))
	}
	return out
}

// encodeAdded writes an added object as block YAML, indent 2.
func encodeAdded(n *yaml.Node) []byte {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	_ = enc.Encode(n) // a tree of plain maps and scalars
	_ = enc.Close()
	return buf.Bytes()
}

// Unprotected is a workload that runs more than one replica and that no
// PodDisruptionBudget of its input selects: a node drain may evict all its
// pods at once.
type Unprotected struct {
	Ref Ref
	// Replicas is what it runs: spec.replicas, or an HPA's minReplicas.
	Replicas int
	// Why says where Replicas comes from, e.g. "3 replicas".
	Why string
}

// UnprotectedWorkloads lists the Deployments and StatefulSets of objects
// (as Objects reads them; a Ref without a Kind is read from its Node)
// (every object of a render's input: budgets and autoscalers are read from
// it too) that run more than one replica, counting a
// HorizontalPodAutoscaler's minReplicas, and that no PodDisruptionBudget of
// the objects selects (same namespace, or either without one; matchLabels
// and matchExpressions). It is only the first half of `render --pdb`'s
// rule: render also skips unprofiled workloads, selectors it cannot read or
// that select another workload's pods, and a taken name. `graceful check`
// reports each as a finding. Replicas given by a template and Helm hooks
// are skipped.
func UnprotectedWorkloads(objects []Object) []Unprotected {
	x := newDisruptions()
	type cand struct {
		ref      Ref
		item     int
		replicas int
		labels   map[string]string
	}
	var cands []cand
	for i, o := range objects {
		n := node.Resolve(o.Node)
		if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
			n = n.Content[0]
		}
		if !node.IsMap(n) {
			continue
		}
		ref := o.Ref
		if ref.Kind == "" {
			setIdentity(&ref, n)
		}
		item := ref.Item
		ref.order, ref.Item = i+1, 0 // tells the objects apart
		if x.observe(ref, n) || !budgetKind(ref) || node.GetStr(node.Lookup(n, "metadata", "annotations"), helmHookAnnotation) != "" {
			continue
		}
		replicas := 1
		if r := node.Lookup(n, "spec", "replicas"); !node.IsNull(r) {
			v, ok := node.Int(r)
			if !ok {
				continue
			}
			replicas = v
		}
		cands = append(cands, cand{ref, item, replicas, node.Labels(node.Lookup(n, "spec", "template", "metadata", "labels"))})
	}
	var out []Unprotected
	for _, c := range cands {
		if n, why, skip := x.unprotected(c.ref, c.replicas, c.labels); skip == nil {
			c.ref.order, c.ref.Item = 0, c.item
			out = append(out, Unprotected{Ref: c.ref, Replicas: n, Why: why})
		}
	}
	return out
}

// daemonSetNote says why a profiled DaemonSet gets no budget under --pdb.
func daemonSetNote() transformers.Finding {
	return transformers.Finding{Code: transformers.CodePDBDaemonSet, Severity: transformers.Info,
		Message: "no PodDisruptionBudget: kubectl drain leaves DaemonSet pods running (--ignore-daemonsets) and the autoscaler does not evict them; a rolling update is bounded by its own maxUnavailable"}
}

// budgetWorkload is pass 1's hook for a profiled workload with pod labels;
// hasEntry: the workload's Entry is the report's last.
func (st *run) budgetWorkload(d *Document, w *workload, hasEntry bool) {
	entry := -1
	if hasEntry {
		entry = len(st.report.Entries) - 1
	}
	if w.ref.Is("DaemonSet") && entry >= 0 {
		e := &st.report.Entries[entry]
		e.Findings = append(e.Findings, daemonSetNote())
	}
	if hook := node.GetStr(node.Lookup(w.object, "metadata", "annotations"), helmHookAnnotation); hook != "" {
		if budgetKind(w.ref) && entry >= 0 {
			e := &st.report.Entries[entry]
			e.Findings = append(e.Findings, transformers.Finding{Code: transformers.CodePDBHelmHook, Severity: transformers.Info,
				Message: "no PodDisruptionBudget: a Helm hook (" + helmHookAnnotation + ": " + hook + "), which Helm deletes by its hook policy while a budget added here would stay"})
		}
		return
	}
	st.budgets.candidate(d, w, entry)
}

// addedItems writes the objects added after d as ResourceList items.
func (s *krmStream) addedItems(w *bufio.Writer, d *Document) {
	for _, n := range d.added {
		doc := encodeAdded(n)
		if s.crlf {
			doc = bytes.ReplaceAll(doc, []byte("\n"), []byte("\r\n"))
		}
		s.indentItem(w, doc)
	}
}

// WithoutPDB is r without --pdb (spec.pdb), for graceful patches: patches
// change the input's objects and have no place for an added one. The error
// says so when r had it; the renderer returned is usable either way.
func (r *Renderer) WithoutPDB() (*Renderer, error) {
	if !r.pdb {
		return r, nil
	}
	c := *r
	c.pdb = false
	return &c, fmt.Errorf("spec.pdb is ignored: patches change the input's objects, and the PodDisruptionBudgets are new ones; add them with graceful render --pdb")
}
