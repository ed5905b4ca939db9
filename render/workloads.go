package render

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/transformers"
)

// workloadKind is where a kind keeps its pod template (the node with
// metadata and spec; an empty path is the object itself), and whether its
// pods run to completion rather than serve. An operator's CR that holds one
// container's fields instead of a pod template (TidbCluster) says where, and
// what the operator copies onto the pods and Services it makes.
type workloadKind struct {
	templatePath []string
	batch        bool
	// builtin: Kubernetes' own kind, whose absent pod fields the API server
	// defaults (terminationGracePeriodSeconds: 30). An operator may apply
	// its own default, or none.
	builtin bool
	// section is the part of an operator's CR that holds one container's
	// fields and the pod's grace period; set, it replaces the template.
	section *operatorSection
}

// operatorSection is where an operator's CR describes its pods: one
// container, the profiles that fit it, and the load balancer it makes.
type operatorSection struct {
	path []string
	// container is the container's name; its image is the first of images set.
	container string
	images    []string
	// profiles are the only profiles the operator's program takes; auto picks the first.
	profiles []string
	// service, when set, is the part of the section the operator turns into
	// a Service, copying its annotations: the load balancer drain goes there.
	service string
	// The operator copies lifecycle.preStop but not lifecycle.stopSignal.
}

// workloadKinds is the one place that knows each workload kind. Nothing else
// in graceful switches on kind.
var workloadKinds = map[string]workloadKind{
	"Deployment":            {templatePath: []string{"spec", "template"}, builtin: true},
	"StatefulSet":           {templatePath: []string{"spec", "template"}, builtin: true},
	"DaemonSet":             {templatePath: []string{"spec", "template"}, builtin: true},
	"ReplicaSet":            {templatePath: []string{"spec", "template"}, builtin: true},
	"ReplicationController": {templatePath: []string{"spec", "template"}, builtin: true},
	"Job":                   {templatePath: []string{"spec", "template"}, batch: true, builtin: true},
	"CronJob":               {templatePath: []string{"spec", "jobTemplate", "spec", "template"}, batch: true, builtin: true},
	"Pod":                   {builtin: true},
	"Rollout":               {templatePath: []string{"spec", "template"}}, // Argo Rollouts
	"CloneSet":              {templatePath: []string{"spec", "template"}}, // OpenKruise
	// tidb-operator v1 copies spec.tidb.lifecycle and
	// spec.tidb.terminationGracePeriodSeconds onto the tidb pods, and
	// spec.tidb.service's annotations onto their Service.
	"TidbCluster": {section: &operatorSection{path: []string{"spec", "tidb"}, container: "tidb",
		images: []string{"image", "baseImage"}, profiles: []string{"tidb"}, service: "service"}},
}

// kindGroups are the API groups that serve each kind graceful acts on by
// name ("" is the core group of apiVersion v1, extensions the legacy group
// of Deployments, DaemonSets and ReplicaSets; OpenKruise's Advanced
// StatefulSet and DaemonSet keep Kubernetes' pod template, which the API
// server defaults as Kubernetes' own). A kind of the same name in
// another group is someone else's CRD (example.com/v1 Deployment): its
// fields need not mean what Kubernetes' do, and the API server defaults none
// of them, so graceful treats it as any other CRD. An object without an
// apiVersion is no API object: it is read by its kind, as it always was.
var kindGroups = map[string][]string{
	"Deployment":              {"apps", "extensions"},
	"DaemonSet":               {"apps", "extensions", "apps.kruise.io"},
	"ReplicaSet":              {"apps", "extensions"},
	"StatefulSet":             {"apps", "apps.kruise.io"},
	"Job":                     {"batch"},
	"CronJob":                 {"batch"},
	"Pod":                     {""},
	"ReplicationController":   {""},
	"Service":                 {""},
	"PodDisruptionBudget":     {"policy"},
	"HorizontalPodAutoscaler": {"autoscaling"},
	"Rollout":                 {"argoproj.io"},
	"CloneSet":                {"apps.kruise.io"},
	"TidbCluster":             {"pingcap.com"},
}

// apiGroup is an apiVersion's group: apps of apps/v1, "" of v1.
func apiGroup(apiVersion string) string {
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// isKind reports whether an object of this apiVersion and kind is the kind
// graceful knows by that name (kindGroups).
func isKind(apiVersion, kind, want string) bool {
	if kind != want {
		return false
	}
	groups, ok := kindGroups[kind]
	return !ok || apiVersion == "" || slices.Contains(groups, apiGroup(apiVersion))
}

// Is reports whether the object is the kind graceful knows by that name: a
// Service is Kubernetes' Service (apiVersion v1), not a CRD's Service.
func (r Ref) Is(kind string) bool { return isKind(r.APIVersion, r.Kind, kind) }

// lookalike reports whether the object's kind has the name of a kind
// graceful knows, in a group that does not serve it.
func (r Ref) lookalike() bool {
	_, named := kindGroups[r.Kind]
	return named && !r.Is(r.Kind)
}

// kubernetesKind reports whether kind is one of Kubernetes' own (its first
// group is Kubernetes', which has no dot), not a CRD's that graceful knows.
func kubernetesKind(kind string) bool {
	groups := kindGroups[kind]
	return len(groups) > 0 && !strings.Contains(groups[0], ".")
}

// knownKind names the kind graceful knows by that name, with its groups:
// "Kubernetes' Deployment (apps/*, extensions/*)", "Rollout (argoproj.io/*)".
func knownKind(kind string) string {
	var groups []string
	for _, g := range kindGroups[kind] {
		if g == "" {
			groups = append(groups, "v1")
		} else {
			groups = append(groups, g+"/*")
		}
	}
	own := ""
	if kubernetesKind(kind) && !strings.Contains(strings.Join(groups, ""), ".") {
		own = "Kubernetes' "
	}
	return own + kind + " (" + strings.Join(groups, ", ") + ")"
}

// kindOf is the object's entry in workloadKinds; known is false for a kind
// not there, or one of a group that does not serve it.
func kindOf(ref Ref) (kind workloadKind, known bool) {
	if ref.lookalike() {
		return workloadKind{}, false
	}
	kind, known = workloadKinds[ref.Kind]
	return kind, known
}

// genericTemplatePath is where other CRDs keep a pod template, if they have
// one; it is only used for kinds the user names, as it cannot be told apart
// from look-alikes (tidb-operator v2's TiDBGroup has spec.template.spec
// without containers).
var genericTemplatePath = []string{"spec", "template"}

// workload is an object that runs pods, as found in a document.
type workload struct {
	ref    Ref
	object *yaml.Node
	// template is the pod template (metadata and spec), nil for an operator section.
	template     *yaml.Node
	templatePath string
	// podSpec holds the containers; the operator section (spec.tidb) for a CR.
	podSpec     *yaml.Node
	podSpecPath string
	batch       bool
	// builtin: the kind is Kubernetes' own (workloadKind.builtin).
	builtin bool
	// section is the kind's operator section, nil for a pod template.
	section *operatorSection
}

// findWorkload returns the object's workload view, or nil when the kind runs
// no pods or has no pod template in this document (a patch, a Rollout with a
// workloadRef). explicit is true for a kind that a rule or annotation names
// and that is not in workloadKinds.
func findWorkload(ref Ref, object *yaml.Node, explicit bool) (*workload, error) {
	kind, known := kindOf(ref)
	return viewWorkload(ref, object, kind, known, explicit)
}

// viewWorkload is findWorkload for a kind given: the look-alike of a
// Kubernetes kind is viewed as that kind to tell the user what render
// would have done with it.
func viewWorkload(ref Ref, object *yaml.Node, kind workloadKind, known, explicit bool) (*workload, error) {
	w := &workload{ref: ref, object: object}
	if kind.section != nil {
		w.section = kind.section
		w.podSpec = node.Lookup(object, kind.section.path...)
		w.podSpecPath = joinPath(kind.section.path)
		if w.podSpec == nil {
			return nil, nil
		}
		if !node.IsMap(w.podSpec) {
			return nil, &DocumentError{Ref: ref, Field: w.podSpecPath, Err: fmt.Errorf("expected a mapping")}
		}
		return w, nil
	}
	path := kind.templatePath
	if !known {
		if !explicit {
			return nil, nil
		}
		path = genericTemplatePath
	}
	w.batch, w.builtin = kind.batch, kind.builtin
	w.template = node.Lookup(object, path...)
	w.templatePath = joinPath(path)
	if w.template == nil || node.IsNull(w.template) {
		return nil, nil
	}
	prefix := w.templatePath
	if prefix != "" {
		prefix += "."
	}
	w.podSpecPath = prefix + "spec"
	if !node.IsMap(w.template) {
		return nil, &DocumentError{Ref: ref, Field: w.templatePath, Err: fmt.Errorf("expected a pod template mapping")}
	}
	w.podSpec = node.Get(w.template, "spec")
	if w.podSpec == nil {
		return nil, nil
	}
	if !node.IsMap(w.podSpec) {
		return nil, &DocumentError{Ref: ref, Field: w.podSpecPath, Err: fmt.Errorf("expected a mapping")}
	}
	containers := node.Get(w.podSpec, "containers")
	if node.IsNull(containers) {
		if !known {
			return nil, nil // not a pod template after all
		}
		return w, nil
	}
	if !node.IsSeq(containers) {
		return nil, &DocumentError{Ref: ref, Field: w.podSpecPath + ".containers", Err: fmt.Errorf("expected a sequence")}
	}
	for i, c := range containers.Content {
		if !node.IsMap(c) {
			return nil, &DocumentError{Ref: ref, Field: w.podSpecPath + ".containers[" + strconv.Itoa(i) + "]", Err: fmt.Errorf("expected a container mapping")}
		}
	}
	return w, nil
}

// containers are the workload's regular containers, as the transformers see
// them. Init containers and native sidecars are never in this list.
func (w *workload) containers() []transformers.Container {
	if sec := w.section; sec != nil {
		image := ""
		for _, field := range sec.images {
			if image = node.GetStr(w.podSpec, field); image != "" {
				break
			}
		}
		return []transformers.Container{{Node: w.podSpec, Path: w.podSpecPath, Name: sec.container, Image: image}}
	}
	seq := node.Get(w.podSpec, "containers")
	if seq == nil {
		return nil
	}
	out := make([]transformers.Container, 0, len(seq.Content))
	for i, c := range seq.Content {
		name := node.GetStr(c, "name")
		path := w.podSpecPath + ".containers[name=" + name + "]"
		if name == "" {
			path = w.podSpecPath + ".containers[" + strconv.Itoa(i) + "]"
		}
		out = append(out, transformers.Container{Node: c, Path: path, Name: name, Image: node.GetStr(c, "image")})
	}
	return out
}

// blockStyleContainers writes `containers: [{name: app, image: app:1}]` in
// block style, so that new fields go in as a person adds them. It touches the
// bytes only of a document that changes.
func (w *workload) blockStyleContainers() {
	seq := node.Get(w.podSpec, "containers")
	if w.section != nil || seq == nil || w.podSpec.Style&yaml.FlowStyle != 0 {
		return
	}
	node.BlockStyle(seq)
	for _, c := range seq.Content {
		node.BlockStyle(c)
	}
}

// unshare copies the aliased values that transformers edit in the chosen
// containers (`env: *envs`, `lifecycle: *lc`): the copy takes the edit, the
// anchor's other users keep what they had.
func (w *workload) unshare(cs []transformers.Container) {
	for _, c := range cs {
		if c.Node.Kind == yaml.AliasNode {
			continue // the whole container is shared: the guard decides
		}
		node.Unshare(c.Node, "lifecycle")
		node.Unshare(c.Node, "env")
	}
}

// readKeys are the keys graceful reads or writes, by mapping. Kubernetes reads
// the last of duplicate keys, graceful's reader the first: where graceful
// works, a duplicate is an error; elsewhere it passes through untouched.
var readKeys = struct{ object, metadata, annotations, template, podSpec, container, lifecycle, envVar []string }{
	object:      []string{"apiVersion", "kind", "metadata", "spec"},
	metadata:    []string{"name", "namespace", "labels", "annotations"},
	annotations: []string{ProfileAnnotation, helmHookAnnotation},
	template:    []string{"metadata", "spec"},
	podSpec:     []string{"containers", "terminationGracePeriodSeconds", "os", "shareProcessNamespace"},
	container:   []string{"name", "image", "lifecycle", "env", "readinessProbe", "ports", "command", "args"},
	lifecycle:   []string{"preStop", "stopSignal"},
	envVar:      []string{"name", "value", "valueFrom"},
}

// checkDuplicates rejects a duplicate key that graceful would read or write.
func (w *workload) checkDuplicates() error {
	type at struct {
		m     *yaml.Node
		field string
		keys  []string
	}
	meta := node.Get(w.object, "metadata")
	checks := []at{{w.object, "", readKeys.object}, {meta, "metadata", readKeys.metadata},
		{node.Get(meta, "annotations"), "metadata.annotations", readKeys.annotations}}
	if w.template != nil {
		checks = append(checks, at{w.template, w.templatePath, readKeys.template},
			at{node.Get(w.template, "metadata"), w.templatePath + ".metadata", readKeys.metadata},
			at{node.Lookup(w.template, "metadata", "labels"), w.templatePath + ".metadata.labels", nil})
	}
	checks = append(checks, at{w.podSpec, w.podSpecPath, readKeys.podSpec},
		at{node.Get(w.podSpec, "os"), w.podSpecPath + ".os", []string{"name"}})
	for _, c := range w.containers() {
		checks = append(checks, at{c.Node, c.Path, readKeys.container},
			at{node.Get(c.Node, "lifecycle"), c.Path + ".lifecycle", readKeys.lifecycle})
		if env := node.Get(c.Node, "env"); node.IsSeq(env) {
			for i, v := range env.Content {
				checks = append(checks, at{v, c.Path + ".env[" + strconv.Itoa(i) + "]", readKeys.envVar})
			}
		}
	}
	for _, c := range checks {
		if key := node.Duplicate(c.m, c.keys...); key != "" {
			return duplicateKey(w.ref, c.field, key)
		}
	}
	return nil
}

// checkServiceDuplicates rejects a duplicate key where graceful adds drain
// annotations to a Service.
func checkServiceDuplicates(ref Ref, svc *yaml.Node) error {
	meta, spec := node.Get(svc, "metadata"), node.Get(svc, "spec")
	for _, c := range []struct {
		m     *yaml.Node
		field string
		keys  []string
	}{
		{svc, "", readKeys.object}, {meta, "metadata", readKeys.metadata},
		{node.Get(meta, "annotations"), "metadata.annotations", nil},
		{spec, "spec", []string{"type", "selector", "loadBalancerClass"}},
		{node.Get(spec, "selector"), "spec.selector", nil},
	} {
		if key := node.Duplicate(c.m, c.keys...); key != "" {
			return duplicateKey(ref, c.field, key)
		}
	}
	return nil
}

func duplicateKey(ref Ref, field, key string) error {
	return &DocumentError{Ref: ref, Field: field, Err: fmt.Errorf("the key %q appears twice; Kubernetes reads only the last, so graceful cannot tell which one you meant: remove one", key)}
}

// images lists the images of the workload's regular containers.
func (w *workload) images() []string {
	var out []string
	for _, c := range w.containers() {
		out = append(out, c.Image)
	}
	return out
}

// podLabels are the labels the workload's pods carry, for Service selectors.
func (w *workload) podLabels() map[string]string {
	if w.template == nil {
		return nil
	}
	return node.Labels(node.Lookup(w.template, "metadata", "labels"))
}

func joinPath(path []string) string {
	s := ""
	for i, p := range path {
		if i > 0 {
			s += "."
		}
		s += p
	}
	return s
}
