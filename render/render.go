// Package render is graceful's pipeline: it reads documents, decides which
// profile each workload gets, runs the transformers, and writes the documents
// back. Helm, kustomize and the CLI differ only in how documents come in and go out.
package render

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/transformers"
)

// ProfileAnnotation on a workload names its profile, or "none".
const ProfileAnnotation = "graceful.dev/profile"

// ContainerAnnotation on a workload names the container (or containers,
// separated by commas) its profile applies to, like a rule's container:
// Helm users can set annotations more easily than rules.
const ContainerAnnotation = "graceful.dev/container"

// CheckIgnoreAnnotation on an object lists the graceful check codes not to
// report for it ("GS201,GS209"), as kube-score's kube-score/ignore does;
// render does not read it, and warns of it as of no other key.
const CheckIgnoreAnnotation = "graceful.dev/check-ignore"

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
	// Catalog holds the profiles to choose from; nil: the built-ins. The
	// config's spec.profiles are added to it.
	Catalog *profiles.Catalog
	// PDB adds a PodDisruptionBudget for each profiled multi-replica
	// workload that none selects (render/pdb.go).
	PDB bool
}

// Renderer applies the options to documents. It holds no per-run state and
// can be used for any number of runs.
type Renderer struct {
	// catalog is where every profile is looked up: the built-ins by default.
	catalog        *profiles.Catalog
	defaultProfile *profiles.Profile
	rules          []Rule
	kube           KubeVersion
	// lbDrain annotates load balancer Services; nil without --provider.
	lbDrain transformers.ServiceTransformer
	// ruleNames are "rule 1", "rule 2"...: how reasons name the rules.
	ruleNames       []string
	stopSignalField bool
	replacePreStop  bool
	strict          bool
	// auto: --profile auto, a profile by image for each workload.
	auto bool
	// pdb: --pdb, a PodDisruptionBudget for each profiled multi-replica
	// workload that none selects.
	pdb bool
}

// Catalog is the catalog the renderer looks every profile up in: the
// built-ins, --profiles and the config's spec.profiles. Readers of its
// decisions (check, explain) look profiles' data up here too.
func (r *Renderer) Catalog() *profiles.Catalog { return r.catalog }

// New validates the options.
func New(opts Options) (*Renderer, error) {
	cfg := opts.Config
	if cfg == nil {
		cfg = &Config{}
	}
	catalog, err := validateGoConfig(cfg, opts.Catalog)
	if err != nil {
		return nil, err
	}
	r := &Renderer{catalog: catalog, rules: cfg.Spec.Rules, stopSignalField: opts.StopSignalField || cfg.Spec.StopSignalField,
		replacePreStop: opts.ReplacePreStop || cfg.Spec.ReplacePreStop, strict: opts.Strict || cfg.Spec.Strict,
		pdb: opts.PDB || cfg.Spec.PDB}
	name := firstNonEmpty(opts.Profile, cfg.Spec.Profile)
	r.auto = name == profiles.Auto
	if name != "" && name != profiles.None && !r.auto {
		p, err := r.catalog.Lookup(name)
		if err != nil {
			return nil, fmt.Errorf("--profile: %w", err)
		}
		r.defaultProfile = p
	}
	if r.kube, err = opts.TargetKube(); err != nil {
		return nil, err
	}
	drain, err := parseProviders(opts.ProviderNames())
	if err != nil {
		return nil, fmt.Errorf("--provider: %w", err)
	}
	if len(drain) > 0 {
		r.lbDrain = transformers.ServiceDrain{Providers: drain}
	}
	for i := range r.rules {
		r.ruleNames = append(r.ruleNames, "rule "+strconv.Itoa(i+1))
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
	// Profile is the name of the profile applied to a workload, "" for none.
	Profile string
	// Plan is what render decided for a workload; nil for other objects
	// (Services) and for a workload only warned about.
	Plan     *Plan
	Findings []transformers.Finding
}
