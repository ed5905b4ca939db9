// Package transformers holds the changes graceful makes, one concern each: the
// preStop hook, the stop signal, the grace period, in-app env vars, the
// readiness check, and the load balancer's connection drain. Each is a small
// value with one method; the loop over documents lives in package render.
package transformers

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/profiles"
)

// Severity ranks a finding.
type Severity string

const (
	Info    Severity = "info"
	Warning Severity = "warning"
	Error   Severity = "error"
)

// Finding is one decision about one field, with its reason: a change made, a
// user's value kept, or a problem. The stderr summary and the KRM results are
// both made from findings.
type Finding struct {
	// Code is the finding's stable identifier, e.g. GS101: the same in the
	// summary, KRM results, check's JSON and SARIF, and the docs.
	Code     string
	Severity Severity
	// Changed is true when the document was modified.
	Changed bool
	// Field is the path of the field, e.g. spec.template.spec.terminationGracePeriodSeconds.
	Field    string
	Message  string
	Current  string
	Proposed string
}

// Pod is a workload's pod as the transformers see it. For a pod template the
// spec and the containers are the PodSpec's; for a TidbCluster both are spec.tidb.
type Pod struct {
	// Spec holds terminationGracePeriodSeconds and os.
	Spec     *yaml.Node
	SpecPath string
	// Template is the pod template (metadata and spec); nil where there is
	// none (a TidbCluster).
	Template     *yaml.Node
	TemplatePath string
	// Containers are the containers the profile applies to.
	Containers []Container
	// StopSignalField is false where lifecycle.stopSignal cannot be carried
	// (an operator's CR that copies only preStop).
	StopSignalField bool
	// Batch pods (Jobs) run to completion and take no traffic.
	Batch bool
	// KubernetesDefaults: an absent field of Spec means Kubernetes' default
	// (a pod or pod template; an operator's CR section may default otherwise).
	KubernetesDefaults bool
}

// Container is one container the profile applies to.
type Container struct {
	Node  *yaml.Node
	Path  string
	Name  string
	Image string
}

// Settings are a profile with the user's overrides and the target cluster's
// abilities, resolved for one workload.
type Settings struct {
	Profile             *profiles.Profile
	PreStopDelaySeconds int
	// PreStopSource names the hooks kept in place of graceful's whose delay
	// PreStopDelaySeconds then is (set by PreStop); "" for the plan's own.
	PreStopSource                 string
	DrainSeconds                  int
	TerminationGracePeriodSeconds int
	// GraceFromUser is true when the grace period was set by a rule, not derived.
	GraceFromUser bool
	// GraceSource names where a rule's grace period comes from, e.g.
	// "rule 1's terminationGracePeriodSeconds".
	GraceSource string
	// ServiceDrainSeconds is a rule's load balancer drain; 0: the pod's grace period.
	ServiceDrainSeconds int
	ReplacePreStop      bool
	// NativeSleep: the target Kubernetes has lifecycle.preStop.sleep.
	NativeSleep bool
	// StopSignalField: the user opted into lifecycle.stopSignal.
	StopSignalField bool
	// OrderedDelays are the delays of the containers told to stop after
	// another (graceful.dev/stop-after), by name, where longer than
	// PreStopDelaySeconds; PreStop then raises PreStopDelaySeconds to the
	// longest, so the grace period covers it, and sets PreStopOrdered.
	OrderedDelays  map[string]OrderedDelay
	PreStopOrdered bool
	// GraceLeft: a kept hook waits longer than any sane grace period, so
	// GracePeriod leaves the manifest's as it is (set by PreStop).
	GraceLeft bool
}

// OrderedDelay is a container's preStop delay when it stops after another,
// with why: "nginx's delay 5 s + drain 25 s, as graceful.dev/stop-after says".
type OrderedDelay struct {
	Seconds int
	Why     string
}

// DelayFor is container name's preStop delay: its ordered one, else the plan's.
func (s *Settings) DelayFor(name string) int {
	if d, ok := s.OrderedDelays[name]; ok {
		return d.Seconds
	}
	return s.PreStopDelaySeconds
}

// UsesStopSignalField reports whether the stop signal goes into
// lifecycle.stopSignal rather than being sent by the preStop hook. SIGTERM is
// what the kubelet sends anyway, so it needs neither.
func (s *Settings) UsesStopSignalField(pod *Pod) bool {
	return s.StopSignalField && pod.StopSignalField && s.Profile.StopSignal != "SIGTERM"
}

// Transformer changes one concern of a workload's pod.
type Transformer interface {
	Transform(pod *Pod, s *Settings) ([]Finding, error)
}

// Workload lists the transformers applied to every profiled workload, in order.
// Env and DrainFlag run before GracePeriod and Mesh: a drain time the user
// set is what the grace period and the sidecar must cover.
var Workload = []Transformer{PreStop{}, StopSignal{}, Env{}, DrainFlag{}, GracePeriod{}, Readiness{}, Forbidden{}, Mesh{}}

func changed(code, field, format string, args ...any) Finding {
	return Finding{Code: code, Severity: Info, Changed: true, Field: field, Message: fmt.Sprintf(format, args...)}
}

func warning(code, field, format string, args ...any) Finding {
	return Finding{Code: code, Severity: Warning, Field: field, Message: fmt.Sprintf(format, args...)}
}

func note(code, field, format string, args ...any) Finding {
	return Finding{Code: code, Severity: Info, Field: field, Message: fmt.Sprintf(format, args...)}
}

// fieldError is a broken field in the input.
func fieldError(field string, format string, args ...any) error {
	return fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...))
}
