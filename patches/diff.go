package patches

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// errNotSMP: a strategic-merge patch cannot reproduce this change exactly.
var errNotSMP = errors.New("not expressible as a strategic-merge patch")

// keyedByName are the lists that kustomize merges entry by entry, matched by
// `name`, in the built-in kinds it has a schema for (Kubernetes'
// patchMergeKey). kustomize puts an entry the patch adds *before* the
// existing ones; any other list a patch names is replaced whole.
var keyedByName = map[string]bool{"containers": true, "initContainers": true, "ephemeralContainers": true, "env": true}

// smp is the strategic-merge patch that turns in into out, as kustomize
// (kyaml's merge2) applies it. changed is false when they are equal.
func smp(key string, in, out any) (patch any, changed bool, err error) {
	if equal(in, out) {
		return nil, false, nil
	}
	switch out := out.(type) {
	case *mapping:
		inMap, ok := in.(*mapping)
		if !ok {
			if in == nil {
				return out, true, nil // kustomize adds a value where there was null
			}
			return nil, false, errNotSMP
		}
		p := newMapping()
		for _, k := range out.keys {
			iv, ok := inMap.get(k)
			if !ok {
				p.set(k, out.vals[k])
				continue
			}
			d, changed, err := smp(k, iv, out.vals[k])
			if err != nil {
				return nil, false, err
			}
			if changed {
				p.set(k, d)
			}
		}
		for _, k := range inMap.keys {
			if _, ok := out.get(k); !ok {
				// A key went away (say an exec handler became a sleep):
				// merging would keep it, so the mapping is replaced whole.
				r := newMapping()
				r.set("$patch", "replace")
				for _, k := range out.keys {
					r.set(k, out.vals[k])
				}
				return r, true, nil
			}
		}
		return p, true, nil
	case []any:
		inList, ok := in.([]any)
		if !ok && in != nil {
			return nil, false, errNotSMP
		}
		if keyedByName[key] {
			return smpKeyedList(inList, out)
		}
		for _, e := range out {
			if _, isMap := e.(*mapping); isMap {
				// A list of objects with another merge key (ports,
				// volumeMounts, ...): kustomize would merge, not replace.
				return nil, false, errNotSMP
			}
		}
		return out, true, nil
	case nil:
		return nil, false, errNotSMP // null in a patch deletes
	default:
		if _, isMap := in.(*mapping); isMap {
			return nil, false, errNotSMP
		}
		if _, isList := in.([]any); isList {
			return nil, false, errNotSMP
		}
		return out, true, nil
	}
}

// smpKeyedList patches a list merged by name. kustomize's merge puts the
// patch's entries first, in the patch's order, then the entries only the
// object has: so the patch lists every entry up to the last one that
// changed or is new (an unchanged one by its name alone). An entry removed
// or existing entries reordered cannot be expressed.
func smpKeyedList(in, out []any) (any, bool, error) {
	inNames, ok := names(in)
	if !ok {
		return nil, false, errNotSMP
	}
	outNames, ok := names(out)
	if !ok {
		return nil, false, errNotSMP
	}
	inIndex := map[string]int{}
	for i, n := range inNames {
		inIndex[n] = i
	}
	var kept []string
	for _, n := range outNames {
		if _, existed := inIndex[n]; existed {
			kept = append(kept, n)
		}
	}
	if !slices.Equal(kept, inNames) {
		return nil, false, errNotSMP
	}
	var p []any
	last := -1
	for i, n := range outNames {
		j, existed := inIndex[n]
		if !existed {
			p = append(p, out[i])
			last = len(p)
			continue
		}
		entry := newMapping()
		entry.set("name", n)
		d, changed, err := smp("", in[j], out[i])
		if err != nil {
			return nil, false, err
		}
		if changed {
			dm, ok := d.(*mapping)
			if !ok {
				return nil, false, errNotSMP
			}
			for _, k := range dm.keys {
				entry.set(k, dm.vals[k])
			}
			last = len(p) + 1
		}
		p = append(p, entry)
	}
	if last < 0 {
		return nil, false, errNotSMP
	}
	return p[:last], true, nil
}

// names are the `name`s of a list of objects; ok is false unless every
// entry has a distinct one.
func names(l []any) ([]string, bool) {
	seen := map[string]bool{}
	out := make([]string, len(l))
	for i, e := range l {
		m, ok := e.(*mapping)
		if !ok {
			return nil, false
		}
		n, ok := m.vals["name"].(string)
		if !ok || n == "" || seen[n] {
			return nil, false
		}
		seen[n] = true
		out[i] = n
	}
	return out, true
}

// jsonOps is the JSON 6902 patch that turns in into out. A list entry is
// addressed by its index, guarded by a `test` of its name where it has one,
// so that a chart whose list changed fails the build instead of patching
// the wrong entry.
func jsonOps(path string, in, out any, ops []any) []any {
	if equal(in, out) {
		return ops
	}
	switch out := out.(type) {
	case *mapping:
		inMap, ok := in.(*mapping)
		if !ok {
			return append(ops, op("replace", path, out))
		}
		for _, k := range out.keys {
			iv, ok := inMap.get(k)
			if !ok {
				ops = append(ops, op("add", path+"/"+escape(k), out.vals[k]))
				continue
			}
			ops = jsonOps(path+"/"+escape(k), iv, out.vals[k], ops)
		}
		for _, k := range inMap.keys {
			if _, ok := out.get(k); !ok {
				ops = append(ops, op("remove", path+"/"+escape(k), nil))
			}
		}
		return ops
	case []any:
		inList, ok := in.([]any)
		if !ok || len(out) < len(inList) {
			return append(ops, op("replace", path, out))
		}
		// Entries kept in place are patched one by one, new ones appended;
		// any other change replaces the list.
		for i := range inList {
			if !sameEntry(inList[i], out[i]) {
				return append(ops, op("replace", path, out))
			}
		}
		for i := range inList {
			if equal(inList[i], out[i]) {
				continue
			}
			at := path + "/" + strconv.Itoa(i)
			if m, ok := inList[i].(*mapping); ok && m.str("name") != "" {
				ops = append(ops, op("test", at+"/name", m.str("name")))
			}
			ops = jsonOps(at, inList[i], out[i], ops)
		}
		for _, e := range out[len(inList):] {
			ops = append(ops, op("add", path+"/-", e))
		}
		return ops
	default:
		return append(ops, op("replace", path, out))
	}
}

// sameEntry: both are objects with the same name, or neither has a name.
func sameEntry(a, b any) bool {
	am, aok := a.(*mapping)
	bm, bok := b.(*mapping)
	if !aok || !bok {
		return false
	}
	return am.str("name") == bm.str("name")
}

func op(kind, path string, value any) *mapping {
	m := newMapping()
	m.set("op", kind)
	m.set("path", path)
	if kind != "remove" {
		m.set("value", value)
	}
	return m
}

// escape makes a key a JSON pointer token (RFC 6901): annotation keys
// have slashes.
func escape(k string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}

// mergeKeys are the keys kustomize's schema merges these lists by. When it
// walks into an object to merge a patch, it rebuilds every such list it
// passes, and entries whose keys match collapse into one (kyaml's
// walk.mergeValues: an empty key matches any value). An object with such
// entries gets a JSON patch instead.
var mergeKeys = map[string][]string{
	"ports":                     {"containerPort", "protocol"},
	"volumeMounts":              {"mountPath"},
	"volumeDevices":             {"devicePath"},
	"hostAliases":               {"ip"},
	"topologySpreadConstraints": {"topologyKey", "whenUnsatisfiable"},
	"resizePolicy":              {"resourceName"},
	"volumes":                   {"name"},
	"imagePullSecrets":          {"name"},
	"containers":                {"name"},
	"initContainers":            {"name"},
	"env":                       {"name"},
}

// collapses reports whether kustomize's merge would fold list entries of v
// together.
func collapses(key string, v any) bool {
	switch v := v.(type) {
	case *mapping:
		for _, k := range v.keys {
			if collapses(k, v.vals[k]) {
				return true
			}
		}
	case []any:
		keys := mergeKeys[key]
		if key == "ports" && len(v) > 0 {
			if m, ok := v[0].(*mapping); ok {
				if _, isService := m.get("port"); isService {
					keys = []string{"port", "protocol"}
				}
			}
		}
		var tuples [][]string
		for _, e := range v {
			if collapses("", e) {
				return true
			}
			m, ok := e.(*mapping)
			if !ok || keys == nil {
				continue
			}
			t := make([]string, len(keys))
			for i, k := range keys {
				if s, ok := m.get(k); ok && s != nil {
					t[i] = fmt.Sprint(s)
				}
			}
			for _, u := range tuples {
				if keysMatch(t, u) {
					return true
				}
			}
			tuples = append(tuples, t)
		}
	}
	return false
}

func keysMatch(a, b []string) bool {
	common := false
	for i := range a {
		switch {
		case a[i] == b[i]:
			common = true
		case a[i] != "" && b[i] != "":
			return false
		}
	}
	return common
}
