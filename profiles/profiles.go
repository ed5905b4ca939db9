// Package profiles holds the named shutdown profiles. A profile is data: a YAML
// file under builtin/, embedded in the binary, loaded once and validated.
package profiles

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// None is the profile name that opts a workload out.
const None = "none"

// Profile is one application's cure: how long to wait, how to stop, how long to
// give it, and which in-app settings make it stop gracefully.
type Profile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Images are repository patterns (see ImageMatches) of the containers the
	// profile is meant for.
	Images []string `yaml:"images,omitempty"`
	// PreStopDelaySeconds is the wait before the stop, so that the endpoint
	// removal reaches kube-proxy, ingress controllers and load balancers first.
	PreStopDelaySeconds int `yaml:"preStopDelaySeconds"`
	// DrainSeconds is how long the application needs after the stop signal.
	DrainSeconds int `yaml:"drainSeconds"`
	// TerminationGracePeriodSeconds is the pod's budget; it must cover the delay
	// and the drain.
	TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
	// StopSignal is the signal that makes the application stop gracefully.
	StopSignal string `yaml:"stopSignal"`
	// StopCommand, when set, is run by the preStop hook after the delay to send
	// StopSignal itself; {binary} stands for the path chosen from Binaries.
	StopCommand string   `yaml:"stopCommand,omitempty"`
	Binaries    []Binary `yaml:"binaries,omitempty"`
	// Env are variables set on the container unless it already has them;
	// {drain} in a value stands for the drain seconds.
	Env                   []EnvVar `yaml:"env,omitempty"`
	RequireReadinessProbe bool     `yaml:"requireReadinessProbe,omitempty"`
	// ServiceDrainSeconds is the load balancer's connection-drain timeout, capped
	// by the pod's grace period.
	ServiceDrainSeconds int `yaml:"serviceDrainSeconds"`
}

// Binary is the path of the program StopCommand runs, for images that match.
// An entry without images is the default.
type Binary struct {
	Images []string `yaml:"images,omitempty"`
	Path   string   `yaml:"path"`
}

// EnvVar is a container environment variable.
type EnvVar struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

// Limits of the numbers a profile or an override may hold: anything larger is a
// typo, not a shutdown plan.
const (
	MaxDelaySeconds = 3600
	MaxDrainSeconds = 86400
	MaxGraceSeconds = 86400
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

var builtin = mustLoadBuiltin()

func mustLoadBuiltin() map[string]*Profile {
	all, err := loadFS(builtinFS)
	if err != nil {
		panic(err) // the embedded files are checked by tests
	}
	return all
}

func loadFS(fsys fs.FS) (map[string]*Profile, error) {
	files, err := fs.Glob(fsys, "builtin/*.yaml")
	if err != nil {
		return nil, err
	}
	all := map[string]*Profile{}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		p, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("profile %s: %w", f, err)
		}
		if all[p.Name] != nil {
			return nil, fmt.Errorf("profile %s: name %q used twice", f, p.Name)
		}
		all[p.Name] = p
	}
	return all, nil
}

// Parse decodes and validates one profile file; unknown fields are errors.
func Parse(data []byte) (*Profile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, err
	}
	return &p, p.Validate()
}

// Validate checks that the profile is usable and keeps its own budget.
func (p *Profile) Validate() error {
	if p.Name == "" || p.Name == None {
		return fmt.Errorf("name %q is not allowed", p.Name)
	}
	for _, n := range []struct {
		field      string
		value, max int
	}{
		{"preStopDelaySeconds", p.PreStopDelaySeconds, MaxDelaySeconds},
		{"drainSeconds", p.DrainSeconds, MaxDrainSeconds},
		{"terminationGracePeriodSeconds", p.TerminationGracePeriodSeconds, MaxGraceSeconds},
		{"serviceDrainSeconds", p.ServiceDrainSeconds, MaxDrainSeconds},
	} {
		if err := CheckSeconds(n.field, n.value, n.max); err != nil {
			return err
		}
	}
	if need := p.PreStopDelaySeconds + p.DrainSeconds; p.TerminationGracePeriodSeconds < need {
		return fmt.Errorf("terminationGracePeriodSeconds %d is less than preStopDelaySeconds + drainSeconds = %d",
			p.TerminationGracePeriodSeconds, need)
	}
	if !IsSignal(p.StopSignal) {
		return fmt.Errorf("stopSignal %q is not a signal name like SIGTERM", p.StopSignal)
	}
	if strings.Contains(p.StopCommand, "{binary}") && p.BinaryFor("") == "" {
		return fmt.Errorf("stopCommand uses {binary} but binaries has no default entry")
	}
	return nil
}

// CheckSeconds rejects negative and absurd durations.
func CheckSeconds(field string, value, max int) error {
	if value < 0 || value > max {
		return fmt.Errorf("%s: %d is out of range 0-%d", field, value, max)
	}
	return nil
}

// IsSignal reports whether s looks like a signal name Kubernetes accepts.
func IsSignal(s string) bool {
	if !strings.HasPrefix(s, "SIG") || len(s) < 5 {
		return false
	}
	for _, r := range s[3:] {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '+' && r != '-' {
			return false
		}
	}
	return true
}

// Get returns a built-in profile by name.
func Get(name string) (*Profile, bool) {
	p, ok := builtin[name]
	return p, ok
}

// Names lists the built-in profile names, sorted.
func Names() []string {
	names := make([]string, 0, len(builtin))
	for n := range builtin {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the named profile or an error that lists the valid names.
func Lookup(name string) (*Profile, error) {
	if p, ok := Get(name); ok {
		return p, nil
	}
	return nil, fmt.Errorf("unknown profile %q (known: %s, or %s to skip)", name, strings.Join(Names(), ", "), None)
}

// FitsImage reports whether image is one the profile is meant for.
func (p *Profile) FitsImage(image string) bool {
	return ImageMatchesAny(image, p.Images)
}

// BinaryFor returns the program path StopCommand should use for image.
func (p *Profile) BinaryFor(image string) string {
	for _, b := range p.Binaries {
		if len(b.Images) == 0 || ImageMatchesAny(image, b.Images) {
			return b.Path
		}
	}
	return ""
}

// ExpandEnvValue fills the {drain} placeholder of a profile env value.
func ExpandEnvValue(value string, drainSeconds int) string {
	return strings.ReplaceAll(value, "{drain}", strconv.Itoa(drainSeconds))
}

// ImageMatchesAny reports whether image matches one of the patterns.
func ImageMatchesAny(image string, patterns []string) bool {
	repo := Repository(image)
	for _, p := range patterns {
		if ImageMatches(repo, p) {
			return true
		}
	}
	return false
}

// ImageMatches matches a repository path against a pattern of one or more path
// components with shell globs in each. The pattern is aligned with the end of
// the path, so "nginx" matches "bitnami/nginx" and "library/nginx" but not
// "bitnami/nginx-exporter", and "pingcap/tidb" does not match "pingcap/tidb-lightning".
func ImageMatches(repo, pattern string) bool {
	want := strings.Split(pattern, "/")
	have := strings.Split(repo, "/")
	if len(want) > len(have) {
		return false
	}
	have = have[len(have)-len(want):]
	for i := range want {
		if ok, _ := path.Match(want[i], have[i]); !ok {
			return false
		}
	}
	return true
}

// Repository strips the registry host, tag and digest from an image reference:
// "docker.io/bitnami/nginx:1.27@sha256:…" becomes "bitnami/nginx". It never
// fails; a malformed reference yields its best guess.
func Repository(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndexByte(image, ':'); i >= 0 && !strings.Contains(image[i:], "/") {
		image = image[:i]
	}
	if i := strings.IndexByte(image, '/'); i >= 0 {
		host := image[:i]
		if strings.ContainsAny(host, ".:") || host == "localhost" {
			image = image[i+1:]
		}
	}
	return image
}
