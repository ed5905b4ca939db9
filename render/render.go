// Package render is graceful's pipeline: it reads documents, decides which
// profile each workload gets, runs the transformers, and writes the documents
// back. Helm, kustomize and the CLI differ only in how documents come in and go out.
package render

import (
	"fmt"
	"slices"
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

// ContainerAnnotation on a workload names the container (or containers,
// separated by commas) its profile applies to, like a rule's container:
// Helm users can set annotations more easily than rules.
const ContainerAnnotation = "graceful.dev/container"

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
	// Strict makes every warning an error: Helm 4 and kustomize hide stderr.
	Strict bool
	// PDB adds a PodDisruptionBudget for each profiled multi-replica
	// workload that none selects (render/pdb.go).
	PDB bool
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
	strict          bool
	pdb             bool
	// auto: --profile auto, a profile by image for each workload.
	auto bool
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
		replacePreStop: opts.ReplacePreStop || cfg.Spec.ReplacePreStop, strict: opts.Strict || cfg.Spec.Strict,
		pdb: opts.PDB || cfg.Spec.PDB}
	name := firstNonEmpty(opts.Profile, cfg.Spec.Profile)
	r.auto = name == profiles.Auto
	if name != "" && name != profiles.None && !r.auto {
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
	// Notices are about the run as a whole, e.g. that nothing selected a profile.
	Notices []transformers.Finding
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
	st.objects++
	if st.budgets != nil && st.budgets.observe(ref, object) {
		return false, nil
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
	// optedOut: an annotation or rule said none.
	optedOut bool
	// note says what the user can do about a workload left alone.
	note string
}

// decide picks the profile: the workload's annotation, then the first rule
// that matches, then the default profile.
func (st *run) decide(w *workload) (decision, error) {
	if annotation, field := w.annotation(ProfileAnnotation); annotation != nil {
		name := node.Str(annotation)
		reason := "annotation " + ProfileAnnotation
		if !strings.HasPrefix(field, "metadata.") {
			reason += " on the pod template"
		}
		if name == profiles.None {
			return decision{reason: reason, optedOut: true}, nil
		}
		if name == profiles.Auto {
			named := ""
			if !w.isTidbCluster() {
				named = node.GetStr(node.Lookup(w.object, "metadata", "annotations"), ContainerAnnotation)
			}
			return autoProfile(w, reason+": auto", splitList(named)), nil
		}
		p, err := profiles.Lookup(name)
		if err != nil {
			return decision{}, &DocumentError{Ref: w.ref, Field: field, Err: err}
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
			return decision{reason: reason, optedOut: true}, nil
		}
		if rule.Profile == profiles.Auto {
			d := autoProfile(w, reason+": auto", splitList(rule.Container))
			d.rule = rule // its numbers and container still apply
			return d, nil
		}
		p, _ := profiles.Get(rule.Profile) // validated with the config
		return decision{profile: p, rule: rule, reason: reason}, nil
	}
	if st.defaultProfile == nil && !st.auto {
		return decision{}, nil
	}
	if hook := node.GetStr(node.Lookup(w.object, "metadata", "annotations"), helmHookAnnotation); hook != "" {
		return decision{reason: "a Helm hook (" + helmHookAnnotation + ": " + hook + ")",
			note: "--profile leaves Helm hooks alone; to change this one, annotate it " + ProfileAnnotation + ": NAME or match it with a rule"}, nil
	}
	if st.auto {
		return autoProfile(w, "--profile auto", nil), nil
	}
	return decision{profile: st.defaultProfile, reason: "--profile"}, nil
}

// autoProfile picks the profile whose image patterns fit the workload's
// containers. Where containers fit different profiles, the one of the
// containers that serve traffic wins; a workload no profile fits, or one
// that stays ambiguous, is left alone with a note: a wrong profile's signal
// can kill another program, and generic-http is not a guess worth making.
// Where containers are named (a rule's container, graceful.dev/container),
// only their own images count: the profile goes on them.
func autoProfile(w *workload, reason string, named []string) decision {
	if w.isTidbCluster() {
		p, _ := profiles.Get("tidb")
		return decision{profile: p, reason: reason + ": a TidbCluster"}
	}
	all := w.containers()
	if len(named) > 0 {
		all = slices.DeleteFunc(slices.Clone(all), func(c transformers.Container) bool { return !slices.Contains(named, c.Name) })
		if len(all) == 0 {
			return decision{reason: reason + ": no container named " + strings.Join(quoteAll(named), ", "),
				note: fmt.Sprintf("left alone: no container named %s; the containers are %s", strings.Join(quoteAll(named), ", "), containerNames(w.containers()))}
		}
	}
	fits := func(cs []transformers.Container) (names []string, byName map[string]*profiles.Profile, why []string) {
		byName = map[string]*profiles.Profile{}
		for _, c := range cs {
			for _, p := range profiles.FittingImage(c.Image) {
				if byName[p.Name] == nil {
					names = append(names, p.Name)
				}
				byName[p.Name] = p
				why = append(why, fmt.Sprintf("image %s fits %s", c.Image, p.Name))
			}
		}
		return names, byName, why
	}
	names, byName, why := fits(all)
	switch len(names) {
	case 0:
		images := "the images "
		if len(named) > 0 {
			images = "the named containers' images "
		}
		return decision{reason: reason + ": no profile fits " + images + containerImages(all),
			note: fmt.Sprintf("left alone; if a profile fits, name it with the annotation %s: NAME (list: graceful profiles)", ProfileAnnotation)}
	case 1:
		return decision{profile: byName[names[0]], reason: reason + ": " + strings.Join(why, ", ")}
	}
	if len(named) > 0 {
		return decision{reason: reason + ": the named containers fit " + strings.Join(names, " and "),
			note: fmt.Sprintf("left alone: the named containers fit different profiles (%s); name one profile with the annotation %s: NAME", strings.Join(why, ", "), ProfileAnnotation)}
	}
	// The serving container's profile wins, unless another container fits a
	// profile that needs a delay too (php-fpm behind nginx): that one would
	// stop while the server still takes requests for it.
	serving, servingByName, servingWhy := fits(servingContainers(all))
	if len(serving) == 1 {
		others := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == serving[0] })
		delayed := slices.ContainsFunc(others, func(n string) bool { return byName[n].PreStopDelaySeconds > 0 })
		if !delayed {
			return decision{profile: servingByName[serving[0]], reason: reason + ": " + strings.Join(servingWhy, ", ") + ", the container that serves traffic; others fit " + strings.Join(others, ", ")}
		}
	}
	return decision{reason: reason + ": containers fit " + strings.Join(names, " and "),
		note: fmt.Sprintf("left alone: the containers fit several profiles (%s), and one profile's delay on one container would let the other stop under it; choose with the annotation %s: NAME and %s: NAME", strings.Join(why, ", "), ProfileAnnotation, ContainerAnnotation)}
}

// workload runs the transformers on a workload and records what its pods need
// from a load balancer.
func (st *run) workload(w *workload) (*Entry, error) {
	dec, err := st.decide(w)
	if err != nil {
		return nil, err
	}
	entry := &Entry{Ref: w.ref}
	if dec.optedOut {
		st.optedOut++
	}
	if dec.profile == nil {
		if dec.reason == "" {
			return nil, nil
		}
		entry.Decision = "skipped: " + dec.reason
		if dec.note != "" {
			entry.Findings = append(entry.Findings, transformers.Finding{Severity: transformers.Info, Message: dec.note})
		}
		return entry, nil
	}
	st.profiled++
	entry.Decision = dec.profile.Name + " (" + dec.reason + ")"
	if w.isTidbCluster() && dec.profile.Name != "tidb" {
		entry.Findings = append(entry.Findings, transformers.Finding{Severity: transformers.Warning, Field: w.podSpecPath,
			Message: fmt.Sprintf("a TidbCluster takes only the tidb profile, not %s; left unchanged", dec.profile.Name)})
		return entry, nil
	}
	s := st.settings(dec.profile, dec.rule)
	pod := &transformers.Pod{Spec: w.podSpec, SpecPath: w.podSpecPath, Template: w.template, TemplatePath: w.templatePath,
		StopSignalField: !w.isTidbCluster(), Batch: w.batch}
	var notes []transformers.Finding
	if err := w.checkDuplicates(); err != nil {
		return nil, err
	}
	pod.Containers, notes = chooseContainers(w, dec.profile, dec.rule)
	entry.Findings = append(entry.Findings, notes...)
	pod.Containers, notes = safeContainers(pod.Containers, dec.profile)
	entry.Findings = append(entry.Findings, notes...)
	if len(pod.Containers) > 0 {
		entry.Decision += ", containers " + containerNames(pod.Containers)
	}
	if len(pod.Containers) == 0 {
		return entry, nil
	}
	entry.Findings = append(entry.Findings, undelayedPeers(w, pod.Containers, s)...)
	w.blockStyleContainers()
	w.unshare(pod.Containers)
	for _, t := range transformers.Workload {
		found, err := t.Transform(pod, s)
		if err != nil {
			return nil, &DocumentError{Ref: w.ref, Err: err}
		}
		entry.Findings = append(entry.Findings, found...)
	}
	for _, n := range dec.profile.Notes {
		entry.Findings = append(entry.Findings, transformers.Finding{Severity: transformers.Info,
			Message: "the " + dec.profile.Name + " profile: " + n})
	}
	// Connections cannot outlive the pod, and a shorter drain cuts requests
	// the pod is still finishing: the pod's grace period, unless a rule says.
	drainSeconds := transformers.GraceSeconds(pod)
	if s.ServiceDrainSeconds > 0 {
		drainSeconds = s.ServiceDrainSeconds
	}
	if w.isTidbCluster() {
		found, err := st.drainTidbService(w, drainSeconds)
		if err != nil {
			return nil, err
		}
		entry.Findings = append(entry.Findings, found...)
	}
	if labels := w.podLabels(); len(labels) > 0 {
		st.pods = append(st.pods, podSummary{namespace: w.ref.Namespace, labels: labels,
			drainSeconds: drainSeconds, profile: dec.profile})
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
	found, err := st.drain.Transform(svc, w.podSpecPath+".service", node.GetStr(svc, "loadBalancerClass"), drainSeconds)
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
	for i := range st.rules {
		if &st.rules[i] == rule {
			s.GraceSource = fmt.Sprintf("rule %d's terminationGracePeriodSeconds", i+1)
		}
	}
	// Where graceful writes the application's drain time, a rule that sets
	// the grace period but not the drain gives it what the delay and the
	// headroom leave (Spring: phase = grace - delay - 5 s).
	if s.GraceFromUser && rule.DrainSeconds == nil && p.HasDrainSetting() {
		if d := s.TerminationGracePeriodSeconds - s.PreStopDelaySeconds - p.HeadroomSeconds; d > 0 {
			s.DrainSeconds = d
		}
	}
	if rule.ReplacePreStop != nil {
		s.ReplacePreStop = *rule.ReplacePreStop
	}
	return s
}

// chooseContainers picks the containers a profile applies to: those a rule
// or the workload's graceful.dev/container annotation names; else those whose
// image fits the profile. A profile whose hook signals PID 1 stops there: a
// signal meant for nginx kills a Go program. The others fall back to the
// containers that serve traffic (declare a port), else the first.
func chooseContainers(w *workload, p *profiles.Profile, rule *Rule) ([]transformers.Container, []transformers.Finding) {
	all := w.containers()
	if len(all) == 0 {
		return nil, nil
	}
	field := w.podSpecPath + ".containers"
	names, source := []string(nil), ""
	if rule != nil && rule.Container != "" {
		names, source = splitList(rule.Container), "the rule's container"
	} else if v, _ := w.annotation(ContainerAnnotation); node.Str(v) != "" && !w.isTidbCluster() {
		v := node.Str(v)
		names, source = splitList(v), "annotation "+ContainerAnnotation
	}
	if len(names) > 0 {
		var named []transformers.Container
		var missing []string
		for _, n := range names {
			i := slices.IndexFunc(all, func(c transformers.Container) bool { return c.Name == n })
			if i < 0 {
				missing = append(missing, n)
				continue
			}
			named = append(named, all[i])
		}
		if len(missing) > 0 {
			return nil, []transformers.Finding{{Severity: transformers.Warning, Field: field,
				Message: fmt.Sprintf("left unchanged: no container named %s (%s); the containers are %s",
					strings.Join(quoteAll(missing), ", "), source, containerNames(all))}}
		}
		return named, nil
	}
	var fit []transformers.Container
	for _, c := range all {
		if w.isTidbCluster() || p.FitsImage(c.Image) {
			fit = append(fit, c)
		}
	}
	if len(fit) > 0 {
		return fit, nil
	}
	if p.SignalPID1 {
		return nil, []transformers.Finding{{Severity: transformers.Warning, Field: field,
			Message: fmt.Sprintf("left unchanged: no container image fits the %s profile (images %s; here %s), and its hook sends %s to PID 1, which would stop another program abruptly. "+
				"If one of them runs %s, name it: annotation %s: NAME on the workload, or container: NAME in a rule",
				p.Name, strings.Join(p.Images, ", "), containerImages(all), p.StopSignal, p.Name, ContainerAnnotation)}}
	}
	if len(p.Images) == 0 {
		return servingContainers(all), nil
	}
	chosen := servingContainers(all)
	return chosen, []transformers.Finding{{Severity: transformers.Info, Field: field,
		Message: fmt.Sprintf("no container image fits the %s profile (images %s); applied to %s, which %s; name others with annotation %s: NAME or a rule's container:",
			p.Name, strings.Join(p.Images, ", "), containerNames(chosen), servingReason(all, chosen), ContainerAnnotation)}}
}

// safeContainers drops the containers the profile cannot be made safe for
// from their manifest alone (node under npm), saying what to change.
func safeContainers(cs []transformers.Container, p *profiles.Profile) ([]transformers.Container, []transformers.Finding) {
	var safe []transformers.Container
	var notes []transformers.Finding
	for _, c := range cs {
		if why := p.Unsafe(transformers.ContainerArgv(c), transformers.ContainerEnv(c)); why != "" {
			notes = append(notes, transformers.Finding{Severity: transformers.Warning, Field: c.Path,
				Message: fmt.Sprintf("container %q left unchanged: %s", c.Name, why)})
			continue
		}
		safe = append(safe, c)
	}
	return safe, notes
}

// undelayedPeers notes the pod's other serving containers (they declare a
// port and have no preStop hook of their own): they get the stop signal at
// once while the chosen ones wait and drain, so a proxy among the chosen
// would send requests to a backend that is already stopping. graceful cannot
// know whether one forwards to the other, so it only says so.
func undelayedPeers(w *workload, chosen []transformers.Container, s *transformers.Settings) []transformers.Finding {
	if s.PreStopDelaySeconds == 0 || w.isTidbCluster() {
		return nil
	}
	var peers []transformers.Container
	for _, c := range w.containers() {
		if c.Name == transformers.IstioProxy || slices.ContainsFunc(chosen, func(k transformers.Container) bool { return k.Name == c.Name }) {
			continue
		}
		ports := node.Get(c.Node, "ports")
		if node.IsSeq(ports) && len(ports.Content) > 0 && node.IsNull(node.Lookup(c.Node, "lifecycle", "preStop")) {
			peers = append(peers, c)
		}
	}
	if len(peers) == 0 {
		return nil
	}
	return []transformers.Finding{{Severity: transformers.Info, Field: w.podSpecPath + ".containers",
		Message: fmt.Sprintf("the pod's other serving containers (%s) get no delay and stop at once, while %s is delayed %d s and then drains; if it forwards requests to them, give them a preStop sleep of at least %d s",
			containerNames(peers), containerNames(chosen), s.PreStopDelaySeconds, s.PreStopDelaySeconds+s.DrainSeconds)}}
}

// servingContainers are the containers that declare a port, else the first;
// never an injected Istio proxy.
func servingContainers(all []transformers.Container) []transformers.Container {
	if i := slices.IndexFunc(all, func(c transformers.Container) bool { return c.Name == transformers.IstioProxy }); i >= 0 && len(all) > 1 {
		all = slices.Delete(slices.Clone(all), i, i+1)
	}
	var out []transformers.Container
	for _, c := range all {
		if ports := node.Get(c.Node, "ports"); node.IsSeq(ports) && len(ports.Content) > 0 {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return all[:1]
	}
	return out
}

func servingReason(all, chosen []transformers.Container) string {
	if ports := node.Get(chosen[0].Node, "ports"); node.IsSeq(ports) && len(ports.Content) > 0 {
		return "serve traffic (declare a containerPort)"
	}
	return "is the first, as none declares a containerPort"
}

func containerNames(cs []transformers.Container) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = strconv.Quote(c.Name)
	}
	return strings.Join(names, ", ")
}

func containerImages(cs []transformers.Container) string {
	images := make([]string, len(cs))
	for i, c := range cs {
		images[i] = c.Image
		if images[i] == "" {
			images[i] = "(no image)"
		}
	}
	return strings.Join(images, ", ")
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strconv.Quote(s)
	}
	return out
}

// runNotices says what the run as a whole did not do.
func (st *run) runNotices() {
	rep := &st.report
	switch {
	case st.objects == 0:
		rep.Notices = append(rep.Notices, transformers.Finding{Severity: transformers.Info, Message: "no documents in the input"})
	case st.profiled == 0 && (st.workloads == 0 || st.optedOut < st.workloads):
		msg := fmt.Sprintf("no workload selected a profile, so nothing changed: choose one with --profile NAME, a rule in --config, or the annotation %s: NAME (list: graceful profiles)", ProfileAnnotation)
		if st.auto {
			msg = fmt.Sprintf("--profile auto: no workload's images fit a profile, so nothing changed; name one with a rule in --config or the annotation %s: NAME (list: graceful profiles)", ProfileAnnotation)
		}
		if st.workloads == 0 {
			msg = fmt.Sprintf("no workloads among the %d objects of the input, so nothing changed", st.objects)
		}
		rep.Notices = append(rep.Notices, transformers.Finding{Severity: transformers.Warning, Message: msg})
	}
}

// service records a load balancer Service for pass 2.
func (st *run) service(d *Document, ref Ref, object *yaml.Node) bool {
	if len(st.drain.Providers) == 0 {
		st.noteUndrained(ref, object)
		return false
	}
	spec := node.Get(object, "spec")
	if node.GetStr(spec, "type") != "LoadBalancer" {
		return false
	}
	selector := node.Labels(node.Get(spec, "selector"))
	if len(selector) == 0 {
		st.record(d, Entry{Ref: ref, Decision: "load balancer drain: skipped", Findings: []transformers.Finding{{
			Severity: transformers.Info, Field: "spec.selector",
			Message: "no selector, so graceful cannot tell which pods it serves; add the drain annotations yourself"}}})
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
		found := join.join(svc.ref.Namespace, svc.selector)
		timeout, matched := found.timeout, found.matched
		if !matched && found.undrained != nil {
			st.record(svc.doc, Entry{Ref: svc.ref, Decision: "load balancer drain: skipped", Findings: []transformers.Finding{{
				Severity: transformers.Info, Field: "spec.selector",
				Message: fmt.Sprintf("its pods run the %s profile, which takes no load balancer drain: %s", found.undrained.Name, found.undrained.NoLoadBalancerDrain)}}})
			continue
		}
		if !matched {
			st.record(svc.doc, Entry{Ref: svc.ref, Decision: "load balancer drain: skipped", Findings: []transformers.Finding{{
				Severity: transformers.Info, Field: "spec.selector",
				Message: "selects no workload a profile applies to in this input, so no drain annotations; profile the workload behind it"}}})
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
		class := node.GetStr(node.Get(svc.object, "spec"), "loadBalancerClass")
		drained, err := st.drain.Transform(meta, "metadata", class, timeout)
		if err != nil {
			return &DocumentError{Ref: svc.ref, Err: err}
		}
		entry := &Entry{Ref: svc.ref, Decision: "load balancer drain", Findings: drained}
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
