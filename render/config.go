package render

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/internal/shape"
	"github.com/graceful-dev/graceful/internal/suggest"
	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/transformers"
)

// The function config's type, also the --config file's.
const (
	ConfigAPIVersion = "graceful.dev/v1alpha1"
	ConfigKind       = "GracefulShutdown"
)

// Config is a GracefulShutdown: settings and rules, first match wins.
type Config struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	// Metadata is free: kustomize puts its own annotations there.
	Metadata yaml.Node  `yaml:"metadata"`
	Spec     ConfigSpec `yaml:"spec"`

	file    string            // where the config was read: spec.profiles paths are relative to it
	sources []profiles.Source // spec.profiles, read
	// skippedProfiles are the documents of spec.profiles' directories that
	// are not ShutdownProfiles.
	skippedProfiles []string
}

// ConfigSpec holds what the command-line flags can also set, and the rules.
type ConfigSpec struct {
	// Profile applies to workloads no annotation or rule decides, like --profile.
	Profile           string `yaml:"profile,omitempty"`
	KubernetesVersion string `yaml:"kubernetesVersion,omitempty"`
	// Provider is one provider name or several separated by commas.
	Provider        string `yaml:"provider,omitempty"`
	StopSignalField bool   `yaml:"stopSignalField,omitempty"`
	ReplacePreStop  bool   `yaml:"replacePreStop,omitempty"`
	// Strict makes warnings errors, like --strict.
	Strict bool `yaml:"strict,omitempty"`
	// Profiles are the user's ShutdownProfiles, like --profiles: each a path
	// (a file or directory, relative to the config file) or a ShutdownProfile
	// inline. A KRM functionConfig has no directory: there, only inline ones.
	Profiles []yaml.Node `yaml:"profiles,omitempty"`
	// PDB adds PodDisruptionBudgets, like --pdb.
	PDB   bool   `yaml:"pdb,omitempty"`
	Rules []Rule `yaml:"rules,omitempty"`
}

// Rule picks workloads and says which profile they get, with overrides.
type Rule struct {
	Match   Match  `yaml:"match"`
	Profile string `yaml:"profile"`
	// Container names the container the profile applies to.
	Container string `yaml:"container,omitempty"`
	// StopAfter orders the stops of the pod's containers, like the
	// annotation graceful.dev/stop-after: "php=nginx".
	StopAfter                     string `yaml:"stopAfter,omitempty"`
	PreStopDelaySeconds           *int   `yaml:"preStopDelaySeconds,omitempty"`
	DrainSeconds                  *int   `yaml:"drainSeconds,omitempty"`
	TerminationGracePeriodSeconds *int   `yaml:"terminationGracePeriodSeconds,omitempty"`
	ServiceDrainSeconds           *int   `yaml:"serviceDrainSeconds,omitempty"`
	ReplacePreStop                *bool  `yaml:"replacePreStop,omitempty"`
}

// Match selects workloads; every field given must match, names, images and
// namespaces as shell globs. An empty match selects every workload.
type Match struct {
	Kinds      []string          `yaml:"kinds,omitempty"`
	Names      []string          `yaml:"names,omitempty"`
	Namespaces []string          `yaml:"namespaces,omitempty"`
	Labels     map[string]string `yaml:"labels,omitempty"`
	Images     []string          `yaml:"images,omitempty"`
}

// ParseConfig decodes and validates a GracefulShutdown that is no file: its
// spec.profiles may only be inline, and its rules name built-in profiles or
// those.
func ParseConfig(data []byte) (*Config, error) { return LoadConfig(data, "", nil) }

// LoadConfig decodes and validates a GracefulShutdown read from file ("" for
// none, as a KRM functionConfig), whose spec.profiles paths are relative to
// the file. The profiles its rules name are those of catalog (nil: the
// built-ins) and its own. Unknown fields are errors: a typo must not silently
// do nothing. Every problem is reported at once, by its field path in the
// file's own words, with a suggestion for a near miss.
func LoadConfig(data []byte, file string, catalog *profiles.Catalog) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("the config is empty; want a %s %s", ConfigAPIVersion, ConfigKind)
	}
	shapeErrs := shape.Check(doc.Content[0], reflect.TypeOf(Config{}), "", "the config")
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(len(shapeErrs) == 0)
	c := Config{file: file}
	if err := dec.Decode(&c); err != nil {
		var typeErr *yaml.TypeError
		if len(shapeErrs) == 0 || !errors.As(err, &typeErr) {
			return nil, err
		}
		// The shape errors say it in the user's words; what did decode is
		// still validated, so every problem is reported at once.
	}
	_, err := c.validate(catalog)
	if err := errors.Join(append(shapeErrs, err)...); err != nil {
		return nil, err
	}
	return &c, nil
}

// ConfigFromNode reads a GracefulShutdown from a parsed tree (a KRM functionConfig).
func ConfigFromNode(n *yaml.Node) (*Config, error) { return configFromNode(n, nil) }

func configFromNode(n *yaml.Node, catalog *profiles.Catalog) (*Config, error) {
	data, err := yaml.Marshal(n)
	if err != nil {
		return nil, err
	}
	return LoadConfig(data, "", catalog)
}

// Validate reports every problem at once, each with its field; rules may
// name the built-in profiles and the config's own.
func (c *Config) Validate() error {
	_, err := c.validate(nil)
	return err
}

// Profiles is base (nil: the built-ins) with the config's own profiles
// (spec.profiles): what `graceful profiles --config` lists.
func (c *Config) Profiles(base *profiles.Catalog) (*profiles.Catalog, error) {
	return c.validate(base)
}

// validate checks the config with the profiles of base (nil: the built-ins)
// and returns them with the config's own.
func (c *Config) validate(base *profiles.Catalog) (*profiles.Catalog, error) {
	var errs []error
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
	}
	if c.APIVersion != ConfigAPIVersion || c.Kind != ConfigKind {
		add("apiVersion/kind", fmt.Errorf("got %q/%q, want apiVersion: %s, kind: %s", c.APIVersion, c.Kind, ConfigAPIVersion, ConfigKind))
	}
	catalog, declared, err := c.catalog(base)
	errs = append(errs, err)
	lookup := func(field, name string) {
		if _, err := catalog.Lookup(name); err != nil && !declared[name] { // a declared one's errors are reported
			if near := suggest.Nearest(name, slices.Collect(maps.Keys(declared))); near != "" {
				err = fmt.Errorf("unknown profile %q; did you mean %s?", name, near)
			}
			add(field, err)
		}
	}
	if c.Spec.Profile != "" && c.Spec.Profile != profiles.Auto {
		lookup("spec.profile", c.Spec.Profile)
	}
	if c.Spec.KubernetesVersion != "" {
		_, err := ParseKubeVersion(c.Spec.KubernetesVersion)
		add("spec.kubernetesVersion", err)
	}
	_, err = parseProviders(splitList(c.Spec.Provider))
	add("spec.provider", err)
	for i, r := range c.Spec.Rules {
		field := fmt.Sprintf("spec.rules[%d]", i)
		if r.Profile != profiles.None && r.Profile != profiles.Auto {
			lookup(field+".profile", r.Profile)
		}
		for _, n := range []struct {
			name  string
			value *int
			max   int
		}{
			{"preStopDelaySeconds", r.PreStopDelaySeconds, profiles.MaxDelaySeconds},
			{"drainSeconds", r.DrainSeconds, profiles.MaxDrainSeconds},
			{"terminationGracePeriodSeconds", r.TerminationGracePeriodSeconds, profiles.MaxGraceSeconds},
			{"serviceDrainSeconds", r.ServiceDrainSeconds, profiles.MaxDrainSeconds},
		} {
			if n.value != nil {
				if err := profiles.CheckSeconds(n.name, *n.value, n.max); err != nil {
					errs = append(errs, fmt.Errorf("%s.%s: %d is out of range 0-%d", field, n.name, *n.value, n.max))
				}
			}
		}
		if r.StopAfter != "" {
			_, err := parseStopAfter(r.StopAfter)
			add(field+".stopAfter", err)
		}
		for _, globs := range [][]string{r.Match.Names, r.Match.Namespaces, r.Match.Images} {
			for _, g := range globs {
				if _, err := path.Match(g, ""); err != nil {
					add(field+".match", fmt.Errorf("bad pattern %q: %w", g, err))
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return catalog, nil
}

// catalog is base (nil: the built-ins) with the config's own profiles. When
// they have errors, it is base, and declared holds their names.
func (c *Config) catalog(base *profiles.Catalog) (catalog *profiles.Catalog, declared map[string]bool, err error) {
	if base == nil {
		base = profiles.Builtin()
	}
	if len(c.Spec.Profiles) == 0 {
		return base, nil, nil
	}
	var readErr error
	if c.sources == nil {
		c.sources, readErr = c.profileSources()
	}
	catalog, err = base.Extend(c.sources)
	if err == nil && readErr == nil {
		return catalog.WithSkipped(c.skippedProfiles), nil, nil
	}
	declared = map[string]bool{}
	for _, s := range c.sources {
		declared[node.GetStr(node.Get(s.Node, "metadata"), "name")] = true
	}
	if catalog == nil {
		catalog = base
	}
	return catalog, declared, errors.Join(readErr, err)
}

// profileSources reads spec.profiles: paths relative to the config file,
// inline profiles as they are.
func (c *Config) profileSources() ([]profiles.Source, error) {
	var sources []profiles.Source
	var errs []error
	for i := range c.Spec.Profiles {
		item := &c.Spec.Profiles[i]
		if item.Kind == yaml.AliasNode {
			item = item.Alias
		}
		field := fmt.Sprintf("spec.profiles[%d]", i)
		switch {
		case item.Kind == yaml.MappingNode:
			origin := field
			if c.file != "" {
				origin = c.file + " " + field
			}
			sources = append(sources, profiles.Source{Origin: origin, Where: field + ".", Node: item})
		case item.Kind == yaml.ScalarNode && item.ShortTag() == "!!str" && c.file == "":
			errs = append(errs, fmt.Errorf("%s: %q is a path, and this config is no file to read it beside (a KRM functionConfig): put the ShutdownProfile inline (apiVersion, kind, metadata, spec)", field, item.Value))
		case item.Kind == yaml.ScalarNode && item.ShortTag() == "!!str":
			p := item.Value
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(c.file), p)
			}
			read, skipped, err := profiles.ReadSources(p)
			c.skippedProfiles = append(c.skippedProfiles, skipped...)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", field, err))
			}
			for _, s := range read {
				s.Where = field + ": " + s.Where
				sources = append(sources, s)
			}
		default:
			errs = append(errs, fmt.Errorf("%s: expected a path or an inline %s, got %s", field, profiles.Kind, shape.Describe(item)))
		}
	}
	return sources, errors.Join(errs...)
}

// matches reports whether the rule selects workload w.
func (m *Match) matches(w *workload) bool {
	if len(m.Kinds) > 0 && !contains(m.Kinds, w.ref.Kind) {
		return false
	}
	if len(m.Names) > 0 && !globAny(m.Names, w.ref.Name) {
		return false
	}
	if len(m.Namespaces) > 0 && !globAny(m.Namespaces, w.ref.Namespace) {
		return false
	}
	if len(m.Labels) > 0 {
		labels := node.Labels(node.Lookup(w.object, "metadata", "labels"))
		for k, v := range m.Labels {
			if got, ok := labels[k]; !ok || got != v {
				return false
			}
		}
	}
	if len(m.Images) > 0 {
		found := false
		for _, img := range w.images() {
			if profiles.ImageMatchesAny(img, m.Images) || globAny(m.Images, img) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func globAny(globs []string, s string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseProviders(names []string) ([]transformers.Provider, error) {
	var out []transformers.Provider
	for _, n := range names {
		p, err := transformers.LookupProvider(n)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
