package profiles

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/internal/shape"
	"github.com/graceful-dev/graceful/internal/suggest"
)

// A profile file's type.
const (
	APIVersion = "graceful.dev/v1alpha1"
	Kind       = "ShutdownProfile"
)

// BuiltinOrigin is the origin of the profiles embedded in graceful.
const BuiltinOrigin = "built-in"

// Catalog is a set of profiles by name: the built-ins, plus the user's. It is
// not changed once built, so a renderer can share it.
type Catalog struct {
	byName map[string]*Profile
	names  []string // sorted
	// skipped are the documents of profile directories that are not
	// ShutdownProfiles, for a note.
	skipped []string
}

// builtin_table.go: after editing builtin/*.yaml, go generate ./profiles.
// Where the table no longer compiles (a field of Profile renamed), make it
// "var builtinTable []Profile" first.
//
//go:generate go test -run TestBuiltinTable -update

// builtin is the catalog of the built-in profiles, built on first use
// (--version and --help never build it).
var builtin = sync.OnceValue(builtinCatalog)

// builtinCatalog is the catalog of builtinTable: the files of builtin/ as Go
// values. Decoding the YAML cost every process 2 ms at start; the files are
// checked instead by TestBuiltinTable, as strictly as a user's, and the table
// is checked against them. A profile's own checks run here too: they are
// cheap and compile its regular expressions.
func builtinCatalog() *Catalog {
	c := &Catalog{byName: make(map[string]*Profile, len(builtinTable))}
	for i := range builtinTable {
		p := builtinTable[i].clone() // the table stays as generated
		if err := errors.Join(p.problems("spec.")...); err != nil {
			panic(fmt.Sprintf("built-in profile %s: %v", p.Name, err)) // TestBuiltinTable fails first
		}
		c.byName[p.Name] = p
		c.names = append(c.names, p.Name)
	}
	slices.Sort(c.names)
	return c
}

// Builtin is the catalog of the profiles built into graceful.
func Builtin() *Catalog { return builtin() }

// Get returns a profile by name.
func (c *Catalog) Get(name string) (*Profile, bool) {
	p, ok := c.byName[name]
	return p, ok
}

// Names lists the profile names, sorted.
func (c *Catalog) Names() []string { return slices.Clone(c.names) }

// Lookup returns the named profile or an error that lists the valid names.
func (c *Catalog) Lookup(name string) (*Profile, error) {
	if p, ok := c.Get(name); ok {
		return p, nil
	}
	hint := ""
	if near := suggest.Nearest(name, c.names); near != "" {
		hint = "; did you mean " + near + "?"
	}
	return nil, fmt.Errorf("unknown profile %q%s (known: %s, %s to pick by image, or %s to skip)", name, hint, strings.Join(c.names, ", "), Auto, None)
}

// FittingImage returns the profiles whose image patterns fit image, sorted by
// name. Profiles without patterns (generic-http) fit nothing. A profile based
// on another refines it: where both fit, only the one based on the other is
// returned, so that the user's nginx-slow wins over nginx under auto.
func (c *Catalog) FittingImage(image string) []*Profile {
	var fit []*Profile
	for _, name := range c.names {
		if p := c.byName[name]; len(p.Images) > 0 && p.FitsImage(image) {
			fit = append(fit, p)
		}
	}
	var out []*Profile
	for _, p := range fit {
		if !slices.ContainsFunc(fit, func(q *Profile) bool { return q != p && c.Refines(q, p.Name) }) {
			out = append(out, p)
		}
	}
	return out
}

// Refines reports whether p is the profile named name or based on it,
// directly or through other bases.
func (c *Catalog) Refines(p *Profile, name string) bool {
	for ; p != nil; p = c.byName[p.Base] {
		if p.Name == name {
			return true
		}
	}
	return false
}

// Get returns a built-in profile by name.
func Get(name string) (*Profile, bool) { return builtin().Get(name) }

// Names lists the built-in profile names, sorted.
func Names() []string { return builtin().Names() }

// FittingImage returns the built-in profiles whose image patterns fit image.
func FittingImage(image string) []*Profile { return builtin().FittingImage(image) }

// Source is one ShutdownProfile document and where it came from.
type Source struct {
	// Origin is what `graceful profiles` shows: a file, or BuiltinOrigin.
	Origin string
	// Where starts every error about the document: "team/web.yaml: " for a
	// file, "spec.profiles[0]." for a profile inline in a config.
	Where string
	Node  *yaml.Node
}

func (s Source) errorf(field, format string, args ...any) error {
	at := strings.TrimSuffix(strings.TrimSuffix(s.Where+field, ": "), ".")
	return fmt.Errorf("%s: %s", at, fmt.Sprintf(format, args...))
}

// ReadSources reads the ShutdownProfile documents of a file, or of every
// .yaml, .yml and .json file under a directory. A path that holds none is
// an error: a typo must not pass for a directory without profiles. In a
// directory, documents of another kind (a kustomization.yaml beside the
// profiles) are skipped, each named in skipped; a file that says kind:
// ShutdownProfile is read strictly, broken or not.
func ReadSources(path string) (sources []Source, skipped []string, err error) {
	var out []Source
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				return fmt.Errorf("%s: %w", p, pe.Err)
			}
			return err
		}
		if d.IsDir() || (p != path && !isProfileFile(p)) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s, err := sourcesOf(data, p)
		if p == path { // a file named on its own is meant as profiles
			out = append(out, s...)
			return err
		}
		if err != nil {
			if saysProfile.Match(data) {
				return err
			}
			skipped = append(skipped, p+" (not YAML)")
			return nil
		}
		for _, src := range s {
			if kind := node.GetStr(src.Node, "kind"); kind != Kind {
				if kind == "" {
					kind = "no kind"
				}
				skipped = append(skipped, src.Origin+" ("+kind+")")
				continue
			}
			out = append(out, src)
		}
		return nil
	})
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%s: no %s there", path, Kind)
		if len(skipped) > 0 {
			err = fmt.Errorf("%w, only %s", err, strings.Join(skipped, ", "))
		}
	}
	return out, skipped, err
}

// saysProfile finds kind: ShutdownProfile in a file YAML cannot read.
var saysProfile = regexp.MustCompile(`(?m)^\s*kind:\s*["']?` + Kind + `\b`)

func isProfileFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// sourcesOf splits a file into its documents; a file of several names each
// by its index.
func sourcesOf(data []byte, file string) ([]Source, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var nodes []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(n.Content) > 0 && !(n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			nodes = append(nodes, n.Content[0])
		}
	}
	out := make([]Source, len(nodes))
	for i, n := range nodes {
		origin := file
		if len(nodes) > 1 {
			origin = fmt.Sprintf("%s (document %d)", file, i+1)
		}
		out[i] = Source{Origin: origin, Where: origin + ": ", Node: n}
	}
	return out, nil
}

// Parse reads one ShutdownProfile document; its base, if any, is a built-in.
func Parse(data []byte) (*Profile, error) {
	sources, err := sourcesOf(data, "profile")
	if err != nil {
		return nil, err
	}
	if len(sources) != 1 {
		return nil, fmt.Errorf("want one %s, got %d documents", Kind, len(sources))
	}
	c, err := builtin().Extend(sources)
	if err != nil {
		return nil, err
	}
	for _, p := range c.byName {
		if p.Origin == sources[0].Origin {
			return p, nil
		}
	}
	panic("unreachable: Extend returned no profile")
}

// file is a ShutdownProfile as written, for its shape.
type file struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   metadata `yaml:"metadata"`
	Spec       Profile  `yaml:"spec"`
}

type metadata struct {
	Name        string            `yaml:"name"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// nameFormat is a DNS label, as names go in annotations and on the command line.
var nameFormat = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Extend returns a catalog with c's profiles and those of sources. Every
// problem of every source is reported at once, each naming its file and
// field. A name c already has is an error: a file cannot silently replace a
// built-in (give it a new name and base: the built-in).
func (c *Catalog) Extend(sources []Source) (*Catalog, error) {
	type pending struct {
		src  Source
		at   int // the source's index, for the order of errors
		spec *yaml.Node
		base string
		bad  bool // shape errors: decoded as far as it goes, still validated
	}
	errsOf := make([][]error, len(sources)) // by source: errors in the order of the files
	var errs *[]error
	todo := map[string]*pending{}
	var order []string // as the sources come: errors in the order of the files
	for i, s := range sources {
		errs = &errsOf[i]
		n := s.Node
		if n.Kind != yaml.MappingNode {
			*errs = append(*errs, s.errorf("", "expected a %s mapping, got %s", Kind, shape.Describe(n)))
			continue
		}
		shapeErrs := shape.Check(n, reflect.TypeOf(file{}), "", "")
		for _, e := range shapeErrs {
			*errs = append(*errs, fmt.Errorf("%s%w", s.Where, e))
		}
		var head struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
			Metadata   struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
			Spec struct {
				Base string `yaml:"base"`
			} `yaml:"spec"`
		}
		_ = n.Decode(&head) // wrong types are shape errors, reported above
		if head.APIVersion != APIVersion || head.Kind != Kind {
			*errs = append(*errs, s.errorf("apiVersion", "got %q, kind %q; want apiVersion: %s, kind: %s", head.APIVersion, head.Kind, APIVersion, Kind))
		}
		name := head.Metadata.Name
		switch prev := c.byName[name]; {
		case name == "":
			*errs = append(*errs, s.errorf("metadata.name", "missing"))
			continue
		case name == None || name == Auto || !nameFormat.MatchString(name):
			*errs = append(*errs, s.errorf("metadata.name", "%q is not allowed: a name of lower-case letters, digits and '-', not %s or %s", name, None, Auto))
			continue
		case prev != nil && prev.Origin == BuiltinOrigin:
			*errs = append(*errs, s.errorf("metadata.name", "%q is a built-in profile; give yours another name, with spec.base: %s to start from it", name, name))
			continue
		case prev != nil:
			*errs = append(*errs, s.errorf("metadata.name", "%q is also defined in %s", name, prev.Origin))
			continue
		case todo[name] != nil:
			*errs = append(*errs, s.errorf("metadata.name", "%q is also defined in %s", name, todo[name].src.Origin))
			continue
		}
		spec := node.Get(n, "spec")
		if spec == nil {
			*errs = append(*errs, s.errorf("spec", "missing: the profile's settings, or base: NAME and what differs"))
		}
		if spec == nil || spec.Kind != yaml.MappingNode {
			continue // the shape errors say why
		}
		todo[name] = &pending{src: s, at: i, spec: spec, base: head.Spec.Base, bad: len(shapeErrs) > 0}
		order = append(order, name)
	}

	out := &Catalog{byName: maps.Clone(c.byName), skipped: c.skipped}
	if out.byName == nil {
		out.byName = map[string]*Profile{}
	}
	// Resolve each profile after its base, whichever file holds it.
	failed := map[string]bool{}
	visiting := map[string]bool{}
	var resolve func(name string) *Profile
	resolve = func(name string) *Profile {
		if p := out.byName[name]; p != nil {
			return p
		}
		pd := todo[name]
		if pd == nil || failed[name] {
			return nil
		}
		errs := &errsOf[pd.at]
		p := &Profile{}
		if pd.base != "" {
			if visiting[pd.base] || pd.base == name {
				*errs = append(*errs, pd.src.errorf("spec.base", "%s is based on itself, through %s", name, pd.base))
				failed[name] = true
				return nil
			}
			visiting[name] = true
			base := resolve(pd.base)
			visiting[name] = false
			switch {
			case base == nil && todo[pd.base] == nil:
				known := append(slices.Collect(maps.Keys(out.byName)), slices.Collect(maps.Keys(todo))...)
				sort.Strings(known)
				hint := ""
				if near := suggest.Nearest(pd.base, known); near != "" {
					hint = "; did you mean " + near + "?"
				}
				*errs = append(*errs, pd.src.errorf("spec.base", "unknown profile %q%s (known: %s)", pd.base, hint, strings.Join(known, ", ")))
				failed[name] = true
				return nil
			case base == nil:
				failed[name] = true // the base's own errors are reported
				return nil
			}
			p = base.clone()
		}
		if err := pd.spec.Decode(p); err != nil && !pd.bad {
			*errs = append(*errs, pd.src.errorf("spec", "%v", err))
		}
		p.Name, p.Base, p.Origin = name, pd.base, pd.src.Origin
		problems := p.problems("spec.")
		for _, e := range problems {
			*errs = append(*errs, fmt.Errorf("%s%w", pd.src.Where, e))
		}
		if len(problems) > 0 || pd.bad {
			failed[name] = true
			return nil
		}
		out.byName[name] = p
		return p
	}
	for _, name := range order {
		resolve(name)
	}
	if err := errors.Join(slices.Concat(errsOf...)...); err != nil {
		return nil, err
	}
	out.names = slices.Sorted(maps.Keys(out.byName))
	return out, nil
}

// clone copies a profile for a file based on it: the lists whose items
// validation compiles are copied, so the base is never written.
func (p *Profile) clone() *Profile {
	c := *p
	c.Requires = slices.Clone(p.Requires)
	c.UnsafeWhen = slices.Clone(p.UnsafeWhen)
	c.DrainFlags = slices.Clone(p.DrainFlags)
	return &c
}

// Load is the built-in catalog with the profiles of paths, each a file or a
// directory (--profiles).
func Load(paths ...string) (*Catalog, error) {
	var sources []Source
	var skipped []string
	var errs []error
	for _, p := range paths {
		s, skip, err := ReadSources(p)
		errs = append(errs, err)
		sources = append(sources, s...)
		skipped = append(skipped, skip...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(sources) == 0 {
		return builtin(), nil
	}
	c, err := builtin().Extend(sources)
	if err != nil {
		return nil, err
	}
	return c.WithSkipped(skipped), nil
}

// WithSkipped is the catalog noting more documents its profile directories
// held that are not ShutdownProfiles.
func (c *Catalog) WithSkipped(skipped []string) *Catalog {
	if len(skipped) == 0 {
		return c
	}
	out := *c
	out.skipped = slices.Concat(c.skipped, skipped)
	return &out
}

// Skipped lists the documents of profile directories that were not
// ShutdownProfiles ("team/kustomization.yaml (Kustomization)").
func (c *Catalog) Skipped() []string { return slices.Clone(c.skipped) }
