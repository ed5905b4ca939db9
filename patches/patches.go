// Package patches turns what graceful's render changed into kustomize
// patches, for hosts that run no executable: Flux's HelmRelease
// spec.postRenderers and kustomize overlays. A patch is derived from the
// difference between an object as it came in and as render wrote it, never
// from the profiles, so it says exactly what render does.
package patches

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/graceful-dev/graceful/render"
)

// Marker opens every patch graceful writes. `graceful patches --check`
// compares only the patches that carry it, so a user's own patches may sit
// beside graceful's.
const Marker = "# graceful patches: regenerate when the chart, its version or its values change"

// Target selects the object a patch applies to, as kustomize's
// `target` does. Name and Namespace are regular expressions there: they
// are written quoted, so that a dot matches only a dot.
type Target struct {
	Group     string `yaml:"group,omitempty"`
	Version   string `yaml:"version,omitempty"`
	Kind      string `yaml:"kind"`
	Name      string `yaml:"name"`
	Namespace string `yaml:"namespace,omitempty"`
}

func (t Target) String() string {
	gv := t.Version
	if t.Group != "" {
		gv = t.Group + "/" + t.Version
	}
	name := t.Name
	if t.Namespace != "" {
		name = t.Namespace + "/" + name
	}
	return fmt.Sprintf("%s %s (%s)", t.Kind, unquote(name), gv)
}

// Patch is one object's change.
type Patch struct {
	Target Target
	// JSON6902 is set when the body is a list of JSON patch operations,
	// otherwise it is a strategic-merge patch.
	JSON6902 bool
	// Body is the patch text, Marker first.
	Body string
}

// Generate renders the inputs and returns one patch per object render
// changed, in the order of the inputs. The report is render's.
func Generate(r *render.Renderer, inputs []render.Input) ([]Patch, *render.Report, error) {
	outputs, report, err := r.Render(inputs)
	if err != nil {
		return nil, nil, err
	}
	var before, after []object
	for i, in := range inputs {
		name := in.Name
		if name == "" {
			name = "stdin"
		}
		b, err := objects(in.Data, name)
		if err != nil {
			return nil, nil, err
		}
		a, err := objects(outputs[i].Bytes(), name)
		if err != nil {
			return nil, nil, fmt.Errorf("reading render's output: %w", err)
		}
		before, after = append(before, b...), append(after, a...)
	}
	ps, err := diff(before, after)
	return ps, report, err
}

// Diff returns the patches that turn the objects of the before streams into
// those of the after streams (render's output of them).
func Diff(before, after []byte) ([]Patch, error) {
	b, err := objects(before, "before")
	if err != nil {
		return nil, err
	}
	a, err := objects(after, "after")
	if err != nil {
		return nil, err
	}
	return diff(b, a)
}

func diff(before, after []object) ([]Patch, error) {
	if len(before) != len(after) {
		return nil, fmt.Errorf("render returned %d objects for %d", len(after), len(before))
	}
	// Objects by kind and name: a target's name matches exactly one name
	// (it is quoted), and no namespace in a target matches every namespace.
	byName := map[string][]int{}
	for i, o := range before {
		byName[o.kind()+"/"+o.name()] = append(byName[o.kind()+"/"+o.name()], i)
	}
	var ps []Patch
	for i := range before {
		in, out := before[i], after[i]
		if in.kind() != out.kind() || in.name() != out.name() || in.namespace() != out.namespace() {
			return nil, fmt.Errorf("%s: render's object %d is %s %s, not %s %s", in.where, i+1, out.kind(), out.name(), in.kind(), in.name())
		}
		if equal(in.value, out.value) {
			continue
		}
		p, err := patchFor(in, out)
		if err != nil {
			return nil, err
		}
		// kustomize applies a patch to every object its target selects:
		// it must select this object only.
		for _, j := range byName[in.kind()+"/"+in.name()] {
			if other := before[j]; j != i && selects(p.Target, other) {
				return nil, fmt.Errorf("%s: %s is also %s: a kustomize target cannot tell them apart", in.where, other.where, p.Target)
			}
		}
		ps = append(ps, p)
	}
	return ps, nil
}

func patchFor(in, out object) (Patch, error) {
	if in.kind() == "" || in.name() == "" {
		return Patch{}, fmt.Errorf("%s: an object without kind or metadata.name cannot be patched by kustomize", in.where)
	}
	group, version := splitAPIVersion(in.apiVersion())
	p := Patch{Target: Target{
		Group: group, Version: version, Kind: in.kind(),
		Name: regexp.QuoteMeta(in.name()), Namespace: regexp.QuoteMeta(in.namespace()),
	}}
	if hasSchema(in.apiVersion(), in.kind()) && !collapses("", in.value) {
		body, _, err := smp("", in.value, out.value)
		if err == nil {
			bm := body.(*mapping)
			if _, replaced := bm.get("$patch"); !replaced {
				p.Body = Marker + "\n" + marshal(withIdentity(in, bm))
				return p, nil
			}
		}
		if !errors.Is(err, errNotSMP) && err != nil {
			return Patch{}, err
		}
	}
	// kustomize has no schema for this kind (a CRD: it would replace
	// lists whole), or the change needs operations a merge cannot do.
	p.JSON6902 = true
	p.Body = Marker + "\n" + marshal(jsonOps("", in.value, out.value, nil))
	return p, nil
}

// withIdentity puts apiVersion, kind, name and namespace first: kustomize
// wants them in a strategic-merge patch, and they tell a reader what it is.
func withIdentity(o object, body *mapping) *mapping {
	r := newMapping()
	r.set("apiVersion", o.apiVersion())
	r.set("kind", o.kind())
	md := newMapping()
	md.set("name", o.name())
	if o.namespace() != "" {
		md.set("namespace", o.namespace())
	}
	if bmd, ok := body.vals["metadata"].(*mapping); ok {
		for _, k := range bmd.keys {
			md.set(k, bmd.vals[k])
		}
	}
	r.set("metadata", md)
	for _, k := range body.keys {
		if k != "apiVersion" && k != "kind" && k != "metadata" {
			r.set(k, body.vals[k])
		}
	}
	return r
}

// builtin are the kinds kustomize has a schema for among those render
// changes; a test checks the list against kustomize's own.
var builtin = map[string]bool{
	"apps/v1/Deployment": true, "apps/v1/StatefulSet": true, "apps/v1/DaemonSet": true, "apps/v1/ReplicaSet": true,
	"v1/ReplicationController": true, "v1/Pod": true, "v1/Service": true,
	"batch/v1/Job": true, "batch/v1/CronJob": true,
}

func hasSchema(apiVersion, kind string) bool { return builtin[apiVersion+"/"+kind] }

func splitAPIVersion(av string) (group, version string) {
	if i := strings.LastIndex(av, "/"); i >= 0 {
		return av[:i], av[i+1:]
	}
	return "", av
}

// selects is kustomize's target match: every field given must match, name
// and namespace as anchored regular expressions.
func selects(t Target, o object) bool {
	group, version := splitAPIVersion(o.apiVersion())
	if t.Kind != o.kind() || (t.Group != "" && t.Group != group) || (t.Version != "" && t.Version != version) {
		return false
	}
	match := func(re, s string) bool {
		ok, err := regexp.MatchString("^(?:"+re+")$", s)
		return err == nil && ok
	}
	return match(t.Name, o.name()) && (t.Namespace == "" || match(t.Namespace, o.namespace()))
}

// unquote undoes regexp.QuoteMeta on a DNS name, for messages.
func unquote(s string) string { return strings.ReplaceAll(s, `\.`, ".") }
