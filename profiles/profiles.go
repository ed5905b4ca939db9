// Package profiles holds the named shutdown profiles. A profile is data: a
// ShutdownProfile file, either one of builtin/ (built into the binary as
// builtin_table.go, checked by its test) or the user's; a Catalog holds
// them, loaded once and validated.
package profiles

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// None is the profile name that opts a workload out.
const None = "none"

// Auto is the profile name that picks, for each workload, the profile whose
// image patterns fit its containers.
const Auto = "auto"

// Profile is one application's cure: how long to wait, how to stop, how long to
// give it, and which in-app settings make it stop gracefully.
type Profile struct {
	// Name is the file's metadata.name.
	Name string `yaml:"-"`
	// Origin is where the profile came from: BuiltinOrigin or a file.
	Origin string `yaml:"-"`
	// Base names the profile this one starts from: every field the file
	// gives replaces the base's (a list too, whole), the rest is the base's.
	Base        string `yaml:"base,omitempty"`
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
	// SignalPID1: the preStop hook sends StopSignal to PID 1 after the delay
	// and waits for it to exit. Such a hook goes only on a container whose
	// image fits the profile or that the user names, and only where PID 1 is
	// the application.
	SignalPID1 bool `yaml:"signalPID1,omitempty"`
	// ImageStopSignals say which images are known to stop with StopSignal
	// already (their STOPSIGNAL): there the hook needs only the delay.
	ImageStopSignals []ImageStopSignal `yaml:"imageStopSignals,omitempty"`
	// Env are variables set on the container unless the user already set the
	// same setting under any spelling; {drain} in a value stands for the drain seconds.
	Env []EnvVar `yaml:"env,omitempty"`
	// SystemPropertyEnvs are env vars holding JVM options, where a
	// -Dproperty=value spells a setting too (JAVA_TOOL_OPTIONS).
	SystemPropertyEnvs []string `yaml:"systemPropertyEnvs,omitempty"`
	// JSONPropertyEnv is an env var holding settings as JSON (SPRING_APPLICATION_JSON).
	JSONPropertyEnv string `yaml:"jsonPropertyEnv,omitempty"`
	// HeadroomSeconds is time the application needs after its drain, within
	// the grace period (Spring closes its beans after the shutdown phase).
	HeadroomSeconds       int  `yaml:"headroomSeconds,omitempty"`
	RequireReadinessProbe bool `yaml:"requireReadinessProbe,omitempty"`
	// NoLoadBalancerDrain, when set, says why the profile's pods take no
	// load balancer connection drain (a database, a queue worker): their
	// clients do not come through one, or reconnect on their own.
	NoLoadBalancerDrain string `yaml:"noLoadBalancerDrain,omitempty"`
	// ForbiddenSignals stop the application abruptly (Caddy exits at once on
	// SIGQUIT): graceful never sends them and warns where the container does.
	ForbiddenSignals []string `yaml:"forbiddenSignals,omitempty"`
	// DrainingSignals are signals besides StopSignal on which the
	// application drains too (tidb-server on SIGTERM): they are no fast stop.
	DrainingSignals []string `yaml:"drainingSignals,omitempty"`
	// DrainingSignalsSeconds, when set, bounds the drain on DrainingSignals
	// below DrainSeconds (tidb-server: 15 s on SIGTERM).
	DrainingSignalsSeconds int `yaml:"drainingSignalsSeconds,omitempty"`
	// Requires are conditions a container must show in its manifest for the
	// profile to be safe (uWSGI's --die-on-term); a container that does not
	// is left unchanged, with the condition's message.
	Requires []Condition `yaml:"requires,omitempty"`
	// UnsafeWhen are conditions that make the profile unsafe (node started
	// by npm, which does not pass the stop signal on); such a container is
	// left unchanged, with the condition's message.
	UnsafeWhen []Condition `yaml:"unsafeWhen,omitempty"`
	// DrainFlags read the application's own drain time where the user set it
	// on the command line (sidekiq -t 60): the grace period is then budgeted
	// around it.
	DrainFlags []DrainFlag `yaml:"drainFlags,omitempty"`
	// Notes are what the user may need to set in the application itself,
	// where graceful cannot set it without owning its configuration.
	Notes []string `yaml:"notes,omitempty"`
	// Sources are where each fact the profile relies on was read, one line each.
	Sources []string `yaml:"sources,omitempty"`
}

// DrainFlag is a command-line setting that holds the application's drain time.
type DrainFlag struct {
	// Pattern is a regular expression with one group, the value, matched
	// against the command and args joined by spaces, or against Env's value.
	Pattern string `yaml:"pattern"`
	// Env, when set, is the env var whose value holds the flags (GUNICORN_CMD_ARGS).
	Env string `yaml:"env,omitempty"`
	// Duration says the value is seconds or a Go duration (90s, 2m, 1m30s),
	// as Traefik reads it; otherwise it is whole seconds.
	Duration bool `yaml:"duration,omitempty"`

	pattern *regexp.Regexp
}

// Seconds returns the drain the flag sets, if the container sets it. Where
// it matches more than once (Traefik's graceTimeOut per entry point, or a
// flag repeated), the longest counts: a grace period that covers it covers
// the others. A value it cannot read counts for nothing.
func (d *DrainFlag) Seconds(argv []string, env map[string]string) (seconds int, spelling string, ok bool) {
	text := strings.Join(argv, " ")
	if d.Env != "" {
		text = env[d.Env]
	}
	for _, m := range d.pattern.FindAllStringSubmatch(text, -1) {
		n, read := d.value(m[1])
		if !read || n > MaxDrainSeconds || (ok && n <= seconds) {
			continue
		}
		seconds, spelling, ok = n, strings.TrimSpace(m[0]), true
	}
	if ok && d.Env != "" {
		spelling = d.Env + ": " + spelling
	}
	return seconds, spelling, ok
}

// value reads a matched value as whole seconds, a duration rounded up.
func (d *DrainFlag) value(s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	if !d.Duration {
		return 0, false
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 || v > MaxDrainSeconds*time.Second {
		return 0, false
	}
	return int((v + time.Second - 1) / time.Second), true
}

// Condition is something graceful can see in a container's manifest: its
// command and args, or an env var. It holds when either does.
type Condition struct {
	// Command is a regular expression matched against the container's
	// command and args, joined by spaces.
	Command string `yaml:"command,omitempty"`
	// Env is the name of an env var the container sets to a value other
	// than "", "0" or "false".
	Env     string `yaml:"env,omitempty"`
	Message string `yaml:"message"`

	command *regexp.Regexp
}

// Holds reports whether the container's argv or env shows the condition.
func (c *Condition) Holds(argv []string, env map[string]string) bool {
	if c.command != nil && c.command.MatchString(strings.Join(argv, " ")) {
		return true
	}
	if c.Env != "" {
		switch v, ok := env[c.Env]; {
		case !ok, v == "", v == "0", strings.EqualFold(v, "false"):
		default:
			return true
		}
	}
	return false
}

// Unsafe says why the profile cannot be applied to a container with this
// command and args (argv) and env, or "" when it can.
func (p *Profile) Unsafe(argv []string, env map[string]string) string {
	for i := range p.UnsafeWhen {
		if c := &p.UnsafeWhen[i]; c.Holds(argv, env) {
			return c.Message
		}
	}
	for i := range p.Requires {
		if c := &p.Requires[i]; !c.Holds(argv, env) {
			return c.Message
		}
	}
	return ""
}

// DrainOn is how long the application drains after signal, at most: the
// bound of DrainingSignals where the profile gives one, else DrainSeconds.
func (p *Profile) DrainOn(signal string) int {
	if signal != p.StopSignal && slices.Contains(p.DrainingSignals, signal) && p.DrainingSignalsSeconds > 0 {
		return p.DrainingSignalsSeconds
	}
	return p.DrainSeconds
}

// DrainsOn reports whether the application drains on signal: StopSignal or
// one of DrainingSignals.
func (p *Profile) DrainsOn(signal string) bool {
	return signal == p.StopSignal || slices.Contains(p.DrainingSignals, signal)
}

// Forbids reports whether signal is one the profile must never send.
func (p *Profile) Forbids(signal string) bool {
	return slices.Contains(p.ForbiddenSignals, signal)
}

// ImageStopSignal is a set of images whose STOPSIGNAL is known: the
// repositories (Images) at one of Registries (an image without a registry is
// on docker.io), with a tag in Tags, or a version tag of at least MinVersion.
// Any other reference (a mirror, a digest alone, an older or unparsable tag)
// is unknown.
type ImageStopSignal struct {
	Images     []string `yaml:"images"`
	Registries []string `yaml:"registries"`
	Tags       []string `yaml:"tags,omitempty"`
	MinVersion string   `yaml:"minVersion,omitempty"`
	// TagPattern, a shell glob, narrows the tags to a variant (php's *fpm*).
	TagPattern string `yaml:"tagPattern,omitempty"`
	Signal     string `yaml:"signal"`
	// Source says where the STOPSIGNAL was read, for the next reader.
	Source string `yaml:"source,omitempty"`
}

// EnvVar is an in-app setting, set as a container environment variable.
type EnvVar struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
	// Property is the setting's name in the application's own configuration
	// (server.shutdown): the user may have set it as an argument
	// (--property=value), a JVM option or JSON instead.
	Property string `yaml:"property,omitempty"`
	// Drain marks the setting that holds the application's drain time: a
	// value the user set there becomes the drain graceful budgets for.
	Drain bool `yaml:"drain,omitempty"`
}

// Limits of the numbers a profile or an override may hold: anything larger is a
// typo, not a shutdown plan.
const (
	MaxDelaySeconds = 3600
	MaxDrainSeconds = 86400
	MaxGraceSeconds = 86400
)

// Validate checks that the profile is usable and keeps its own budget; it
// reports every problem at once.
func (p *Profile) Validate() error { return errors.Join(p.problems("")...) }

// problems are the profile's errors, each naming its field after prefix
// (a file's "spec.").
func (p *Profile) problems(prefix string) []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: %s", prefix, field, fmt.Sprintf(format, args...)))
	}
	for _, n := range []struct {
		field      string
		value, max int
	}{
		{"preStopDelaySeconds", p.PreStopDelaySeconds, MaxDelaySeconds},
		{"drainSeconds", p.DrainSeconds, MaxDrainSeconds},
		{"terminationGracePeriodSeconds", p.TerminationGracePeriodSeconds, MaxGraceSeconds},
		{"headroomSeconds", p.HeadroomSeconds, MaxDelaySeconds},
		{"drainingSignalsSeconds", p.DrainingSignalsSeconds, MaxDrainSeconds},
	} {
		if err := CheckSeconds(n.field, n.value, n.max); err != nil {
			errs = append(errs, fmt.Errorf("%s%w", prefix, err))
		}
	}
	if need := p.PreStopDelaySeconds + p.DrainSeconds + p.HeadroomSeconds; p.TerminationGracePeriodSeconds < need {
		add("terminationGracePeriodSeconds", "%d is less than preStopDelaySeconds + drainSeconds + headroomSeconds = %d + %d + %d = %d",
			p.TerminationGracePeriodSeconds, p.PreStopDelaySeconds, p.DrainSeconds, p.HeadroomSeconds, need)
	}
	switch {
	case p.StopSignal == "":
		add("stopSignal", "missing; a signal name like SIGTERM")
	case p.StopSignal == "SIGKILL" || p.StopSignal == "SIGSTOP":
		add("stopSignal", "%s cannot be caught: no application stops gracefully on it", p.StopSignal)
	case !IsSignal(p.StopSignal):
		add("stopSignal", "%q is not a signal Kubernetes accepts in lifecycle.stopSignal, like SIGTERM or SIGQUIT", p.StopSignal)
	case p.StopSignal != "SIGTERM" && !p.SignalPID1:
		// Without the hook nothing sends it (render adds the field only with
		// --stop-signal-field, and a known STOPSIGNAL is consulted only for
		// the hook): the app would get the kubelet's SIGTERM instead.
		add("stopSignal", "%s would never be delivered: set signalPID1: true (the preStop hook sends it to PID 1), or stopSignal: SIGTERM", p.StopSignal)
	}
	for i, sig := range p.ForbiddenSignals {
		if !IsSignal(sig) {
			add(fmt.Sprintf("forbiddenSignals[%d]", i), "%q is not a signal name like SIGQUIT", sig)
		}
	}
	if p.Forbids(p.StopSignal) {
		add("stopSignal", "%s is one of forbiddenSignals", p.StopSignal)
	}
	switch {
	case p.DrainingSignalsSeconds > 0 && len(p.DrainingSignals) == 0:
		add("drainingSignalsSeconds", "set without drainingSignals, the signals it bounds the drain of")
	case p.DrainingSignalsSeconds > p.DrainSeconds:
		add("drainingSignalsSeconds", "%d is more than drainSeconds %d, which the grace period is budgeted for", p.DrainingSignalsSeconds, p.DrainSeconds)
	}
	for i, sig := range p.DrainingSignals {
		field := fmt.Sprintf("drainingSignals[%d]", i)
		switch {
		case !IsSignal(sig):
			add(field, "%q is not a signal name like SIGTERM", sig)
		case p.Forbids(sig):
			add(field, "%s is one of forbiddenSignals", sig)
		}
	}
	for _, list := range []struct {
		field string
		conds []Condition
	}{{"requires", p.Requires}, {"unsafeWhen", p.UnsafeWhen}} {
		for i := range list.conds {
			c := &list.conds[i]
			field := fmt.Sprintf("%s[%d]", list.field, i)
			if (c.Command == "" && c.Env == "") || c.Message == "" {
				add(field, "needs a command or an env, and a message")
			}
			if c.Command != "" {
				re, err := regexp.Compile(c.Command)
				if err != nil {
					add(field+".command", "%v", err)
				}
				c.command = re
			}
		}
	}
	for i := range p.DrainFlags {
		d := &p.DrainFlags[i]
		re, err := regexp.Compile(d.Pattern)
		if err != nil || re.NumSubexp() != 1 {
			add(fmt.Sprintf("drainFlags[%d].pattern", i), "needs a regular expression with one group (the seconds): %v", err)
			re = nil
		}
		d.pattern = re
	}
	for i, pattern := range p.Images {
		// "team/app", not "registry.example.com/team/app": ParseImage strips the registry.
		if host, rest, ok := strings.Cut(pattern, "/"); ok && rest != "" && (strings.ContainsAny(host, ".:") || host == "localhost") {
			add(fmt.Sprintf("images[%d]", i), "%q names a registry; a pattern matches the repository without it: %q", pattern, rest)
		}
	}
	if p.SignalPID1 && len(p.Images) == 0 {
		add("signalPID1", "needs images: a signal goes only to the application it is meant for")
	}
	if p.SignalPID1 {
		for i, pattern := range p.Images {
			if matchesAnyName(pattern) {
				add(fmt.Sprintf("images[%d]", i), "%q fits every image, and signalPID1 would send %s to PID 1 of any program (a database, a mesh sidecar): name the application's image, like \"myorg/app\" or \"*nginx*\"", pattern, p.StopSignal)
			}
		}
	}
	for i, k := range p.ImageStopSignals {
		field := fmt.Sprintf("imageStopSignals[%d]", i)
		if len(k.Images) == 0 || len(k.Registries) == 0 || !IsSignal(k.Signal) {
			add(field, "needs images, registries and a signal")
		}
		if k.TagPattern != "" {
			if _, err := path.Match(k.TagPattern, ""); err != nil {
				add(field+".tagPattern", "%v", err)
			}
		}
		if k.MinVersion != "" {
			if _, ok := parseVersion(k.MinVersion); !ok {
				add(field+".minVersion", "%q is not a version like 1.19.5", k.MinVersion)
			}
		}
	}
	return errs
}

// CheckSeconds rejects negative and absurd durations.
func CheckSeconds(field string, value, max int) error {
	if value < 0 || value > max {
		return fmt.Errorf("%s: %d is out of range 0-%d", field, value, max)
	}
	return nil
}

// IsSignal reports whether s is a signal name Kubernetes accepts in
// lifecycle.stopSignal: the Signal constants of k8s.io/api core/v1.
func IsSignal(s string) bool { return slices.Contains(kubernetesSignals, s) }

// kubernetesSignals are the values of core/v1 Signal (k8s.io/api v0.37 types.go).
var kubernetesSignals = func() []string {
	out := []string{"SIGABRT", "SIGALRM", "SIGBUS", "SIGCHLD", "SIGCLD", "SIGCONT", "SIGFPE", "SIGHUP",
		"SIGILL", "SIGINT", "SIGIO", "SIGIOT", "SIGKILL", "SIGPIPE", "SIGPOLL", "SIGPROF", "SIGPWR",
		"SIGQUIT", "SIGSEGV", "SIGSTKFLT", "SIGSTOP", "SIGSYS", "SIGTERM", "SIGTRAP", "SIGTSTP",
		"SIGTTIN", "SIGTTOU", "SIGURG", "SIGUSR1", "SIGUSR2", "SIGVTALRM", "SIGWINCH", "SIGXCPU",
		"SIGXFSZ", "SIGRTMIN", "SIGRTMAX"}
	for i := 1; i <= 15; i++ {
		out = append(out, fmt.Sprintf("SIGRTMIN+%d", i))
	}
	for i := 1; i <= 14; i++ {
		out = append(out, fmt.Sprintf("SIGRTMAX-%d", i))
	}
	return out
}()

// TakesLoadBalancerDrain reports whether the profile's pods get the load
// balancer connection drain.
func (p *Profile) TakesLoadBalancerDrain() bool { return p.NoLoadBalancerDrain == "" }

// FitsImage reports whether image is one the profile is meant for.
func (p *Profile) FitsImage(image string) bool {
	return ImageMatchesAny(image, p.Images)
}

// HasDrainSetting reports whether the application's drain time is a setting
// graceful writes (Spring's shutdown phase), so that it follows the budget.
func (p *Profile) HasDrainSetting() bool {
	for _, e := range p.Env {
		if e.Drain {
			return true
		}
	}
	return false
}

// ExpandEnvValue fills the {drain} placeholder of a profile env value.
func ExpandEnvValue(value string, drainSeconds int) string {
	return strings.ReplaceAll(value, "{drain}", strconv.Itoa(drainSeconds))
}

// ImageMatchesAny reports whether image matches one of the patterns. A
// pattern may end in :TAG, a glob the tag must match ("php:*fpm*"; an image
// without a tag is :latest).
func ImageMatchesAny(image string, patterns []string) bool {
	if image == "" {
		return false
	}
	ref := ParseImage(image)
	tag := ref.Tag
	if tag == "" {
		tag = "latest"
	}
	for _, p := range patterns {
		repoPattern, tagPattern, hasTag := strings.Cut(p, ":")
		if !ImageMatches(ref.Repository, repoPattern) {
			continue
		}
		if ok, _ := path.Match(tagPattern, tag); !hasTag || ok {
			return true
		}
	}
	return false
}

// matchesAnyName: the pattern's last path component (the image's name,
// before any :TAG) is only globs ("*", "*/*", "?*", "[a-z]*"), so it fits
// images whatever they are called.
func matchesAnyName(pattern string) bool {
	repo, _, _ := strings.Cut(pattern, ":")
	name := repo[strings.LastIndexByte(repo, '/')+1:]
	if name == "" {
		return false // fits no image
	}
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '*', '?':
		case '[':
			end := strings.IndexByte(name[i:], ']')
			if end < 0 {
				return false // not a class: a literal the name must hold
			}
			i += end
		case '\\':
			return false // an escaped literal
		default:
			return false
		}
	}
	return true
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
