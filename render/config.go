package render

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
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
	// PDB adds PodDisruptionBudgets, like --pdb.
	PDB   bool   `yaml:"pdb,omitempty"`
	Rules []Rule `yaml:"rules,omitempty"`
}

// Rule picks workloads and says which profile they get, with overrides.
type Rule struct {
	Match   Match  `yaml:"match"`
	Profile string `yaml:"profile"`
	// Container names the container the profile applies to.
	Container                     string `yaml:"container,omitempty"`
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

// ParseConfig decodes and validates a GracefulShutdown. Unknown fields are
// errors: a typo must not silently do nothing. Every problem is reported at
// once, by its field path in the file's own words, with a suggestion for a
// near miss.
func ParseConfig(data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("the config is empty; want a %s %s", ConfigAPIVersion, ConfigKind)
	}
	shapeErrs := checkShape(doc.Content[0], reflect.TypeOf(Config{}), "")
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(len(shapeErrs) == 0)
	var c Config
	if err := dec.Decode(&c); err != nil {
		var typeErr *yaml.TypeError
		if len(shapeErrs) == 0 || !errors.As(err, &typeErr) {
			return nil, err
		}
		// The shape errors say it in the user's words; what did decode is
		// still validated, so every problem is reported at once.
	}
	if err := errors.Join(append(shapeErrs, c.Validate())...); err != nil {
		return nil, err
	}
	return &c, nil
}

// checkShape compares a YAML tree with the Go type it decodes into, by the
// yaml names of its fields, and returns every mismatch with its path.
func checkShape(n *yaml.Node, t reflect.Type, path string) []error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if t == reflect.TypeOf(yaml.Node{}) || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	at := func(format string, args ...any) []error {
		name := path
		if name == "" {
			name = "the config"
		}
		return []error{fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))}
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return at("expected a mapping, got %s", describe(n))
		}
		fields := map[string]reflect.StructField{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				fields[name] = f
				names = append(names, name)
			}
		}
		var errs []error
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			child := joinField(path, key)
			f, ok := fields[key]
			if !ok {
				msg := "unknown field"
				if near := suggest.Nearest(key, names); near != "" {
					msg += "; did you mean " + near + "?"
				} else {
					msg += " (known: " + strings.Join(names, ", ") + ")"
				}
				errs = append(errs, fmt.Errorf("%s: %s", child, msg))
				continue
			}
			errs = append(errs, checkShape(n.Content[i+1], f.Type, child)...)
		}
		return errs
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return at("expected a list, got %s", describe(n))
		}
		var errs []error
		for i, item := range n.Content {
			errs = append(errs, checkShape(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return errs
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return at("expected a mapping, got %s", describe(n))
		}
		var errs []error
		for i := 0; i+1 < len(n.Content); i += 2 {
			errs = append(errs, checkShape(n.Content[i+1], t.Elem(), joinField(path, n.Content[i].Value))...)
		}
		return errs
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return at("expected an integer, got %s", describe(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			return at("expected true or false, got %s", describe(n))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return at("expected a string, got %s", describe(n))
		}
	}
	return nil
}

func joinField(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

// ConfigFromNode reads a GracefulShutdown from a parsed tree (a KRM functionConfig).
func ConfigFromNode(n *yaml.Node) (*Config, error) {
	data, err := yaml.Marshal(n)
	if err != nil {
		return nil, err
	}
	return ParseConfig(data)
}

// Validate reports every problem at once, each with its field.
func (c *Config) Validate() error {
	var errs []error
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
	}
	if c.APIVersion != ConfigAPIVersion || c.Kind != ConfigKind {
		add("apiVersion/kind", fmt.Errorf("got %q/%q, want apiVersion: %s, kind: %s", c.APIVersion, c.Kind, ConfigAPIVersion, ConfigKind))
	}
	if c.Spec.Profile != "" && c.Spec.Profile != profiles.Auto {
		_, err := profiles.Lookup(c.Spec.Profile)
		add("spec.profile", err)
	}
	if c.Spec.KubernetesVersion != "" {
		_, err := ParseKubeVersion(c.Spec.KubernetesVersion)
		add("spec.kubernetesVersion", err)
	}
	_, err := parseProviders(splitList(c.Spec.Provider))
	add("spec.provider", err)
	for i, r := range c.Spec.Rules {
		field := fmt.Sprintf("spec.rules[%d]", i)
		if r.Profile != profiles.None && r.Profile != profiles.Auto {
			_, err := profiles.Lookup(r.Profile)
			add(field+".profile", err)
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
		for _, globs := range [][]string{r.Match.Names, r.Match.Namespaces, r.Match.Images} {
			for _, g := range globs {
				if _, err := path.Match(g, ""); err != nil {
					add(field+".match", fmt.Errorf("bad pattern %q: %w", g, err))
				}
			}
		}
	}
	return errors.Join(errs...)
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
