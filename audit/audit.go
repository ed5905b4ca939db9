// Package audit is `graceful check`: it reads the manifests render reads and
// reports, per object, what will drop requests when its pods stop, with a
// stable code, the file and line, and the fix render would write. It changes
// nothing. Each check family is a file; writers (text, JSON, SARIF, KRM
// results) are in their own files and decide nothing.
package audit

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/timeline"
	"github.com/graceful-dev/graceful/transformers"
)

// Options are check's settings: the same selection as render's (the fix is
// what render would write with them).
type Options struct {
	Render render.Options
	// Ignore are codes not to report (--ignore), as the annotation
	// graceful.dev/check-ignore does for one object.
	Ignore map[string]bool
}

// Finding is one problem of one object.
type Finding struct {
	transformers.Finding
	// Line is the input line of the field, else of the object; 0 unknown.
	Line int
}

// Fix is what render would change in the object, with the same options.
type Fix struct {
	// Decision is render's: which profile and why, e.g. "nginx (--profile auto: ...)".
	Decision string
	// Profile is the profile render applies, "" for none.
	Profile string
	// Changes are render's changes to the object.
	Changes []transformers.Finding
	// Notes say why render changes nothing, or what it leaves to the user.
	Notes []string
}

// Result is the findings of one object.
type Result struct {
	Ref      render.Ref
	Findings []Finding
	Fix      Fix
	// Notes are check's own about the object (a code in its
	// graceful.dev/check-ignore that is no check).
	Notes []string
}

// Report is a check of a set of inputs.
type Report struct {
	// Objects is how many objects were read.
	Objects int
	// Results are the objects with findings, in input order.
	Results []Result
	// Ignored counts the findings --ignore or graceful.dev/check-ignore left out.
	Ignored int
	// Workloads are all the workloads read, in input order, as check sees
	// them: graceful explain draws what check judges, from this.
	Workloads []Workload
}

// Workload is check's reading of one workload.
type Workload struct {
	Ref render.Ref
	// Idle says why check asks nothing of the workload's shutdown (a Helm
	// hook, batch pods); "" where it does.
	Idle string
	// Serving are the containers that take requests, by name; true where a
	// Service of the input routes to it (false: it only declares a port).
	Serving map[string]bool
	// read is check's reading, for Timeline.
	read *workload
}

// Counts are the findings by severity.
func (r *Report) Counts() map[transformers.Severity]int {
	c := map[transformers.Severity]int{}
	for _, res := range r.Results {
		for _, f := range res.Findings {
			c[f.Severity]++
		}
	}
	return c
}

// rank orders severities.
func rank(s transformers.Severity) int {
	switch s {
	case transformers.Error:
		return 3
	case transformers.Warning:
		return 2
	case transformers.Info:
		return 1
	}
	return 0
}

// ParseSeverity reads info, warning or error.
func ParseSeverity(s string) (transformers.Severity, error) {
	switch v := transformers.Severity(s); v {
	case transformers.Info, transformers.Warning, transformers.Error:
		return v, nil
	}
	return "", fmt.Errorf("%q is not a severity: info, warning or error", s)
}

// Fails reports whether a finding is at or above the threshold.
func (r *Report) Fails(threshold transformers.Severity) bool {
	return r.Failing(threshold) > 0
}

// Failing counts the objects with a finding at or above threshold: the
// objects --fail-on fails on, not every object with a finding.
func (r *Report) Failing(threshold transformers.Severity) int {
	n := 0
	for _, res := range r.Results {
		for _, f := range res.Findings {
			if rank(f.Severity) >= rank(threshold) {
				n++
				break
			}
		}
	}
	return n
}

// checker is one run's state: what every check can look up.
type checker struct {
	kube      render.KubeVersion
	providers []transformers.Provider
	// renderer finds the pods of an object as render does.
	renderer *render.Renderer
	// unprotected are the workloads no PodDisruptionBudget holds (GS214).
	unprotected map[key]render.Unprotected
	// budgets is what render --pdb does with each workload: its GS4xx
	// finding (added, or why not).
	budgets map[key]transformers.Finding
	// providerNames are the --provider names, as explain takes them.
	providerNames []string
	services      []*service
	fixes         map[key]*render.Entry
	// ignore: --ignore; objectIgnores adds each object's annotation;
	// ignored counts what they left out; ignoreNotes name the annotation's
	// codes that are no check.
	ignore        map[string]bool
	objectIgnores map[key]map[string]bool
	ignored       int
	ignoreNotes   map[key][]string
	// catalog is render's: profiles' data (image stop signals) for the timelines.
	catalog *profiles.Catalog
}

type key struct {
	file        string
	index, item int
}

func keyOf(r render.Ref) key { return key{r.File, r.Index, r.Item} }

// Check audits the inputs. Bad input is a *render.DocumentError.
func Check(inputs []render.Input, opts Options) (*Report, error) {
	c, err := newChecker(opts)
	if err != nil {
		return nil, err
	}
	objects, err := render.Objects(inputs)
	if err != nil {
		return nil, err
	}
	c.unprotected = unprotected(objects)
	r, err := render.New(opts.Render)
	if err != nil {
		return nil, err
	}
	c.renderer = r
	c.catalog = r.Catalog()
	// Render works on its own copy of the bytes: its report is the fix.
	_, rendered, err := r.Render(inputs)
	if err != nil {
		return nil, err
	}
	c.fixes = map[key]*render.Entry{}
	for i := range rendered.Entries {
		e := &rendered.Entries[i]
		c.fixes[keyOf(e.Ref)] = e
	}
	if c.budgets, err = budgetsRenderAdds(inputs, opts.Render, rendered, len(c.unprotected) > 0); err != nil {
		return nil, err
	}
	report := &Report{Objects: len(objects)}
	var workloads []*workload
	for _, o := range objects {
		if o.Ref.Is("Service") {
			c.services = append(c.services, newService(o))
			continue
		}
		if pod, ok := r.FindPods(o.Node); ok {
			workloads = append(workloads, c.newWorkload(o, pod))
		}
	}
	results := map[key]*Result{}
	add := func(o render.Object, fs []Finding) {
		if fs = c.unignored(o, fs); len(fs) == 0 {
			return
		}
		res := results[keyOf(o.Ref)]
		if res == nil {
			res = &Result{Ref: o.Ref}
			results[keyOf(o.Ref)] = res
		}
		res.Findings = append(res.Findings, fs...)
	}
	for _, o := range objects {
		add(o, c.checkLookalike(o))
	}
	for _, w := range workloads {
		for _, s := range c.services {
			if s.selects(w) {
				w.services = append(w.services, s)
				s.workloads = append(s.workloads, w)
			}
		}
	}
	// The Services first: a drain setting the controller rejects is not
	// counted on by the workloads' timelines.
	for _, s := range c.services {
		found := c.checkService(s)
		s.Broken = brokenDrain(found)
		add(s.obj, found)
	}
	for _, w := range workloads {
		c.readTimeline(w)
		report.Workloads = append(report.Workloads, Workload{Ref: w.obj.Ref, Idle: w.idle(), Serving: w.options.Serving, read: w})
		for _, check := range workloadChecks {
			add(w.obj, check(c, w))
		}
	}
	// Then what the timelines say of the Services' drains (GS301).
	for _, s := range c.services {
		add(s.obj, c.checkServiceDrain(s))
	}
	for _, o := range objects {
		if res := results[keyOf(o.Ref)]; res != nil {
			res.Fix = c.fix(o.Ref)
			// A note of render's that a finding repeats (GS215's) says nothing more.
			res.Fix.Notes = slices.DeleteFunc(res.Fix.Notes, func(n string) bool {
				return slices.ContainsFunc(res.Findings, func(f Finding) bool { return f.Code == "GS215" && f.Message == n })
			})
			res.Notes = c.ignoreNotes[keyOf(o.Ref)]
			proposeFromFix(res)
			report.Results = append(report.Results, *res)
		}
	}
	report.Ignored = c.ignored
	return report, nil
}

// workloadChecks run on every workload, in this order.
var workloadChecks = []func(*checker, *workload) []Finding{
	(*checker).checkPreStopDelay,
	(*checker).checkGrace,
	(*checker).checkShellless,
	(*checker).checkSleepAction,
	(*checker).checkSharedPID1,
	(*checker).checkNginxQuit,
	(*checker).checkReadiness,
	(*checker).checkIstio,
	(*checker).checkPDB,
	(*checker).checkUnsafe,
	(*checker).checkOperatorService,
	(*checker).checkStopSignal,
}

func newChecker(opts Options) (*checker, error) {
	c := &checker{providerNames: opts.Render.ProviderNames(), ignore: opts.Ignore, objectIgnores: map[key]map[string]bool{}, ignoreNotes: map[key][]string{}}
	var err error
	if c.kube, err = opts.Render.TargetKube(); err != nil {
		return nil, err
	}
	for _, n := range c.providerNames {
		p, err := transformers.LookupProvider(n)
		if err != nil {
			return nil, fmt.Errorf("--provider: %w", err)
		}
		c.providers = append(c.providers, p)
	}
	return c, nil
}

// fix is render's decision and changes for an object.
func (c *checker) fix(ref render.Ref) Fix {
	e := c.fixes[keyOf(ref)]
	switch {
	case e == nil && ref.Is("Service") && len(c.providers) == 0:
		return Fix{Notes: []string{"render writes drain annotations only for the load balancers of a --provider"}}
	case e == nil && ref.Is("Service"):
		return Fix{Notes: []string{"render adds nothing here: the Service has the provider's drain setting already"}}
	case e == nil:
		return Fix{Notes: []string{"render changes nothing here: no profile applies (check uses --profile auto unless told otherwise; name one with --profile, a rule or the annotation graceful.dev/profile)"}}
	}
	return FixOf(e)
}

// FixOf is what render's entry changes in its object, and why it changes
// nothing where it does not.
func FixOf(e *render.Entry) Fix {
	fx := Fix{Decision: e.Decision, Profile: e.Profile}
	for _, f := range e.Findings {
		if f.Changed {
			fx.Changes = append(fx.Changes, f)
		}
	}
	for _, f := range e.Findings {
		// With changes, render's warnings say what it left to the user;
		// without, its notes too say why it changed nothing. What it cannot
		// make safe is a finding of its own (GS212).
		if !f.Changed && !isUnsafe(f) && (f.Severity != transformers.Info || len(fx.Changes) == 0) {
			fx.Notes = append(fx.Notes, f.Message)
		}
	}
	return fx
}

// proposeFromFix fills a finding's Proposed with render's change of the
// same field, where it has one.
func proposeFromFix(res *Result) {
	for i := range res.Findings {
		f := &res.Findings[i]
		if f.Proposed != "" || f.Field == "" {
			continue
		}
		var proposed []string
		for _, ch := range res.Fix.Changes {
			if ch.Field == f.Field || strings.HasPrefix(ch.Field, f.Field+".") {
				v := ch.Proposed
				if v == "" {
					v = ch.Message
				}
				if ch.Field != f.Field {
					v = strings.TrimPrefix(ch.Field, f.Field+".") + ": " + v
				}
				proposed = append(proposed, v)
			}
		}
		f.Proposed = strings.Join(proposed, "; ")
	}
}

// finding builds a finding of a rule with its default level.
func finding(code string, line int, field, format string, args ...any) Finding {
	r, ok := RuleFor(code)
	if !ok {
		panic("audit: unknown rule " + code)
	}
	return Finding{Finding: transformers.Finding{Code: code, Severity: r.Level, Field: field, Message: fmt.Sprintf(format, args...)}, Line: line}
}

// workload is an object that runs pods, with what the checks ask of it.
type workload struct {
	obj      render.Object
	pod      *render.Pods
	labels   map[string]string
	services []*service
	// profile is render's choice for it, nil where none applies.
	profile *profiles.Profile
	// model and options are its reading into the timeline model (model,
	// options without a profile); timeline is its shutdown with render's
	// entry for the stream checked: the timing checks are its conflicts.
	model    timeline.Workload
	options  timeline.Options
	timeline *timeline.Timeline
	// hook: a Helm hook (test pods, jobs around installs), not a server.
	hook bool
}

func (c *checker) newWorkload(o render.Object, pod *render.Pods) *workload {
	w := &workload{obj: o, pod: pod}
	if pod.Template != nil {
		w.labels = node.Labels(node.Lookup(pod.Template, "metadata", "labels"))
	}
	w.hook = node.GetStr(node.Lookup(o.Node, "metadata", "annotations"), "helm.sh/hook") != ""
	if e := c.fixes[keyOf(o.Ref)]; e != nil {
		w.profile = e.Plan.ProfileOf()
	}
	return w
}

// idle says why the workload's pods serve no requests, so that check asks
// nothing of their shutdown: a Helm hook (a test pod, a job around an
// install) or batch pods (they run to completion); "" for others.
func (w *workload) idle() string {
	switch {
	case w.hook:
		return "a Helm hook: helm.sh/hook"
	case w.pod.Batch:
		return "batch pods, which run to completion"
	}
	return ""
}

// lineOf is the line of a node of the workload, else of the object.
func (w *workload) lineOf(n *yaml.Node) int {
	if l := w.obj.LineOf(n); l > 0 {
		return l
	}
	return w.obj.Ref.Line
}
