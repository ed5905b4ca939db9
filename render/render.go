// Package render is graceful's pipeline: it reads documents, decides which
// profile each workload gets, runs the transformers, and writes the documents
// back. Helm, kustomize and the CLI differ only in how documents come in and go out.
package render

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/transformers"
)

// ProfileAnnotation on a workload names its profile, or "none".
const ProfileAnnotation = "graceful.dev/profile"

// helmHookAnnotation marks Helm hooks (tests, jobs run around installs). The
// default profile leaves them alone; a rule or annotation can still select them.
const helmHookAnnotation = "helm.sh/hook"

// DefaultKubeVersion is the Kubernetes version assumed without --kube-version.
const DefaultKubeVersion = "1.30"

// Options are the command-line settings; flags win over the config file.
type Options struct {
	// Profile applies to workloads that no annotation or rule decides.
	Profile string
	Config  *Config
	// KubeVersion is the target cluster's version, like "1.31".
	KubeVersion     string
	Providers       []string
	StopSignalField bool
	ReplacePreStop  bool
}

// Renderer applies the options to documents. It holds no per-run state and
// can be used for any number of runs.
type Renderer struct {
	defaultProfile  *profiles.Profile
	rules           []Rule
	kube            KubeVersion
	drain           transformers.ServiceDrain
	stopSignalField bool
	replacePreStop  bool
}

// New validates the options.
func New(opts Options) (*Renderer, error) {
	cfg := opts.Config
	if cfg == nil {
		cfg = &Config{}
	} else if err := validateGoConfig(cfg); err != nil {
		return nil, err
	}
	r := &Renderer{rules: cfg.Spec.Rules, stopSignalField: opts.StopSignalField || cfg.Spec.StopSignalField,
		replacePreStop: opts.ReplacePreStop || cfg.Spec.ReplacePreStop}
	name := firstNonEmpty(opts.Profile, cfg.Spec.Profile)
	if name != "" && name != profiles.None {
		p, err := profiles.Lookup(name)
		if err != nil {
			return nil, fmt.Errorf("--profile: %w", err)
		}
		r.defaultProfile = p
	}
	var err error
	if r.kube, err = ParseKubeVersion(firstNonEmpty(opts.KubeVersion, cfg.Spec.KubernetesVersion, DefaultKubeVersion)); err != nil {
		return nil, fmt.Errorf("--kube-version: %w", err)
	}
	providers := opts.Providers
	if len(providers) == 0 {
		providers = splitList(cfg.Spec.Provider)
	}
	if r.drain.Providers, err = parseProviders(providers); err != nil {
		return nil, fmt.Errorf("--provider: %w", err)
	}
	if r.stopSignalField && !r.kube.AtLeast(1, 33) {
		return nil, fmt.Errorf("--stop-signal-field: lifecycle.stopSignal needs Kubernetes 1.33 or later, the target is %s (--kube-version)", r.kube)
	}
	return r, nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// KubeVersion is a Kubernetes minor version.
type KubeVersion struct{ Major, Minor int }

// ParseKubeVersion reads "1.31", "v1.31" or "1.31.2".
func ParseKubeVersion(s string) (KubeVersion, error) {
	parts := strings.Split(strings.TrimPrefix(s, "v"), ".")
	if len(parts) < 2 || len(parts) > 3 {
		return KubeVersion{}, fmt.Errorf("%q is not a version like 1.31", s)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || major != 1 || minor < 0 || minor > 99 {
		return KubeVersion{}, fmt.Errorf("%q is not a version like 1.31", s)
	}
	return KubeVersion{major, minor}, nil
}

func (v KubeVersion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// AtLeast compares with a major.minor.
func (v KubeVersion) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// Report is what a run decided, document by document.
type Report struct {
	Documents int
	Changed   int
	Entries   []Entry
}

// Entry is the decisions about one object.
type Entry struct {
	Ref Ref
	// Decision says which profile applies and why, e.g. "nginx (rule 1)".
	Decision string
	Findings []transformers.Finding
}

// podSummary is what pass 2 needs to know of a profiled workload's pods.
type podSummary struct {
	namespace string
	labels    map[string]string
	// drainSeconds is the load balancer drain the workload wants, capped by
	// how long its pods live.
	drainSeconds int
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
	// keepNodes is false when documents are written as bytes: their trees are
	// dropped once written; only Lists holding a load balancer Service wait
	// for pass 2 (see lbService).
	keepNodes bool
	fragments map[string][]byte
	strings   map[string]string
}

// process transforms the documents in place. Pass 1 handles workloads and
// collects their pod labels; pass 2 adds drain annotations to the load
// balancer Services that select them, wherever they stand in the stream.
func (r *Renderer) process(docs []*Document, keepNodes bool) (*Report, error) {
	st := &run{Renderer: r, keepNodes: keepNodes, fragments: map[string][]byte{}, strings: map[string]string{}}
	st.report.Documents = len(docs)
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
	items := node.Get(root, "items")
	if strings.HasSuffix(d.Kind, "List") && node.IsSeq(items) {
		for i, item := range items.Content {
			ref := d.Ref
			ref.Item = i + 1
			if item.Kind != yaml.MappingNode {
				return false, &DocumentError{Ref: ref, Err: fmt.Errorf("a List item must be an object, found a %s", kindName(item))}
			}
			setIdentity(&ref, item)
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
	if ref.Kind == "Service" {
		return st.service(d, ref, object), nil
	}
	annotation := node.Get(node.Lookup(object, "metadata", "annotations"), ProfileAnnotation)
	explicit := annotation != nil || st.ruleNamesKind(ref.Kind)
	w, err := findWorkload(ref, object, explicit)
	if w == nil || err != nil {
		return false, err
	}
	guard, pods := d.sharedGuard(), len(st.pods)
	entry, err := st.workload(w, annotation)
	if err != nil {
		return false, err
	}
	if guard.check(entry, w.podSpecPath) {
		st.pods = st.pods[:pods] // left unchanged: its pods drain as they did
	}
	if entry != nil {
		st.record(d, *entry)
	}
	return false, nil
}

func (st *run) ruleNamesKind(kind string) bool {
	for _, r := range st.rules {
		if contains(r.Match.Kinds, kind) {
			return true
		}
	}
	return false
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
	st.report.Entries = append(st.report.Entries, e)
}

func (st *run) intern(s string) string {
	if v, ok := st.strings[s]; ok {
		return v
	}
	st.strings[s] = s
	return s
}

// decision is the profile a workload gets, and why.
type decision struct {
	profile *profiles.Profile
	rule    *Rule
	reason  string
}

// decide picks the profile: the workload's annotation, then the first rule
// that matches, then the default profile.
func (st *run) decide(w *workload, annotation *yaml.Node) (decision, error) {
	if annotation != nil {
		name := node.Str(annotation)
		reason := "annotation " + ProfileAnnotation
		if name == profiles.None {
			return decision{reason: reason}, nil
		}
		p, err := profiles.Lookup(name)
		if err != nil {
			return decision{}, &DocumentError{Ref: w.ref, Field: "metadata.annotations." + ProfileAnnotation, Err: err}
		}
		return decision{profile: p, reason: reason}, nil
	}
	for i := range st.rules {
		rule := &st.rules[i]
		if !rule.Match.matches(w) {
			continue
		}
		reason := fmt.Sprintf("rule %d", i+1)
		if rule.Profile == profiles.None {
			return decision{reason: reason}, nil
		}
		p, _ := profiles.Get(rule.Profile) // validated with the config
		return decision{profile: p, rule: rule, reason: reason}, nil
	}
	if st.defaultProfile == nil {
		return decision{}, nil
	}
	if hook := node.GetStr(node.Lookup(w.object, "metadata", "annotations"), helmHookAnnotation); hook != "" {
		return decision{reason: "a Helm hook (" + helmHookAnnotation + ": " + hook + "); a rule or annotation can select it"}, nil
	}
	return decision{profile: st.defaultProfile, reason: "--profile"}, nil
}

// workload runs the transformers on a workload and records what its pods need
// from a load balancer.
func (st *run) workload(w *workload, annotation *yaml.Node) (*Entry, error) {
	dec, err := st.decide(w, annotation)
	if err != nil {
		return nil, err
	}
	entry := &Entry{Ref: w.ref}
	if dec.profile == nil {
		if dec.reason == "" {
			return nil, nil
		}
		entry.Decision = "skipped: " + dec.reason
		return entry, nil
	}
	entry.Decision = dec.profile.Name + " (" + dec.reason + ")"
	if w.isTidbCluster() && dec.profile.Name != "tidb" {
		entry.Findings = append(entry.Findings, transformers.Finding{Severity: transformers.Warning, Field: w.podSpecPath,
			Message: fmt.Sprintf("a TidbCluster takes only the tidb profile, not %s; left unchanged", dec.profile.Name)})
		return entry, nil
	}
	s := st.settings(dec.profile, dec.rule)
	pod := &transformers.Pod{Spec: w.podSpec, SpecPath: w.podSpecPath, StopSignalField: !w.isTidbCluster(), Batch: w.batch}
	var notes []transformers.Finding
	if err := w.checkDuplicates(); err != nil {
		return nil, err
	}
	pod.Containers, notes = chooseContainers(w, dec.profile, dec.rule)
	entry.Findings = append(entry.Findings, notes...)
	if len(pod.Containers) == 0 {
		return entry, nil
	}
	w.blockStyleContainers()
	w.unshare(pod.Containers)
	for _, t := range transformers.Workload {
		found, err := t.Transform(pod, s)
		if err != nil {
			return nil, &DocumentError{Ref: w.ref, Err: err}
		}
		entry.Findings = append(entry.Findings, found...)
	}
	drainSeconds := min(s.ServiceDrainSeconds, transformers.GraceSeconds(pod))
	if w.isTidbCluster() {
		found, err := st.drainTidbService(w, drainSeconds)
		if err != nil {
			return nil, err
		}
		entry.Findings = append(entry.Findings, found...)
	}
	if labels := w.podLabels(); len(labels) > 0 {
		st.pods = append(st.pods, podSummary{namespace: w.ref.Namespace, labels: labels,
			drainSeconds: drainSeconds})
	}
	return entry, nil
}

// drainTidbService annotates the load balancer tidb-operator makes from
// spec.tidb.service: the operator copies its annotations to the Service.
func (st *run) drainTidbService(w *workload, drainSeconds int) ([]transformers.Finding, error) {
	svc := node.Get(w.podSpec, "service")
	if len(st.drain.Providers) == 0 || node.GetStr(svc, "type") != "LoadBalancer" {
		return nil, nil
	}
	found, err := st.drain.Transform(svc, w.podSpecPath+".service", drainSeconds)
	if err != nil {
		return nil, &DocumentError{Ref: w.ref, Err: err}
	}
	return found, nil
}

// settings resolves a profile with a rule's overrides and the run's options.
func (st *run) settings(p *profiles.Profile, rule *Rule) *transformers.Settings {
	s := &transformers.Settings{
		Profile:                       p,
		PreStopDelaySeconds:           p.PreStopDelaySeconds,
		DrainSeconds:                  p.DrainSeconds,
		TerminationGracePeriodSeconds: p.TerminationGracePeriodSeconds,
		ServiceDrainSeconds:           p.ServiceDrainSeconds,
		ReplacePreStop:                st.replacePreStop,
		NativeSleep:                   st.kube.AtLeast(1, 30),
		StopSignalField:               st.stopSignalField,
	}
	if rule == nil {
		return s
	}
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	set(&s.PreStopDelaySeconds, rule.PreStopDelaySeconds)
	set(&s.DrainSeconds, rule.DrainSeconds)
	set(&s.TerminationGracePeriodSeconds, rule.TerminationGracePeriodSeconds)
	set(&s.ServiceDrainSeconds, rule.ServiceDrainSeconds)
	s.GraceFromUser = rule.TerminationGracePeriodSeconds != nil
	if rule.ReplacePreStop != nil {
		s.ReplacePreStop = *rule.ReplacePreStop
	}
	return s
}

// chooseContainers picks the containers a profile applies to: the one the rule
// names; else those whose image fits the profile; else the first one.
func chooseContainers(w *workload, p *profiles.Profile, rule *Rule) ([]transformers.Container, []transformers.Finding) {
	all := w.containers()
	if len(all) == 0 {
		return nil, nil
	}
	if rule != nil && rule.Container != "" {
		for _, c := range all {
			if c.Name == rule.Container {
				return []transformers.Container{c}, nil
			}
		}
		return nil, []transformers.Finding{{Severity: transformers.Warning, Field: w.podSpecPath + ".containers",
			Message: fmt.Sprintf("no container named %q (the rule's container); left unchanged", rule.Container)}}
	}
	var fit []transformers.Container
	for _, c := range all {
		if p.FitsImage(c.Image) {
			fit = append(fit, c)
		}
	}
	if len(fit) > 0 || w.isTidbCluster() {
		if len(fit) == 0 {
			fit = all
		}
		return fit, nil
	}
	first := all[0]
	if len(p.Images) == 0 {
		return all[:1], nil
	}
	severity := transformers.Info
	if p.StopCommand != "" {
		// The hook runs a program of the profile's application.
		severity = transformers.Warning
	}
	return all[:1], []transformers.Finding{{Severity: severity, Field: first.Path,
		Message: fmt.Sprintf("no container image fits the %s profile; applied to the first container %q (image %s)", p.Name, first.Name, first.Image)}}
}

// service records a load balancer Service for pass 2.
func (st *run) service(d *Document, ref Ref, object *yaml.Node) bool {
	if len(st.drain.Providers) == 0 {
		return false
	}
	spec := node.Get(object, "spec")
	if node.GetStr(spec, "type") != "LoadBalancer" {
		return false
	}
	selector := node.Labels(node.Get(spec, "selector"))
	if len(selector) == 0 {
		return false
	}
	svc := lbService{doc: d, ref: ref, selector: selector}
	waits := ref.Item > 0 || st.keepNodes
	if waits {
		svc.object = object
	}
	st.services = append(st.services, svc)
	return waits
}

// drainServices is pass 2: each load balancer Service that selects profiled
// pods in its namespace gets the drain annotations, with a timeout that fits
// the shortest-lived of those pods.
func (st *run) drainServices() error {
	join := newPodIndex(st.pods)
	for _, svc := range st.services {
		timeout, matched := join.drainSeconds(svc.ref.Namespace, svc.selector)
		if !matched {
			continue
		}
		if svc.object == nil {
			if err := svc.doc.parse(); err != nil {
				return err
			}
			svc.object = svc.doc.root()
		}
		if err := checkServiceDuplicates(svc.ref, svc.object); err != nil {
			return err
		}
		if svc.object.Style&yaml.FlowStyle == 0 {
			node.BlockStyle(node.Get(svc.object, "metadata")) // annotations go in as a person adds them
		}
		guard := svc.doc.sharedGuard()
		meta, ok := node.EnsureMap(svc.object, "metadata")
		if !ok {
			return &DocumentError{Ref: svc.ref, Field: "metadata", Err: fmt.Errorf("expected a mapping")}
		}
		node.Unshare(meta, "annotations") // `annotations: *common` gets its own copy
		found, err := st.drain.Transform(meta, "metadata", timeout)
		if err != nil {
			return &DocumentError{Ref: svc.ref, Err: err}
		}
		entry := &Entry{Ref: svc.ref, Decision: "load balancer drain", Findings: found}
		guard.check(entry, "metadata.annotations")
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
