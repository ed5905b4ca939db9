package timeline

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Report is the timelines of one run of `graceful explain`; its JSON is a
// stable schema (docs/explain.md).
type Report struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Mode is "rendered" (as the pods will stop after graceful render) or
	// "as-is" (as the input's pods stop today).
	Mode string `json:"mode"`
	// Selection says how profiles were chosen, e.g. "--profile auto (the
	// default, as graceful check's)": the same selection says what render does.
	Selection string      `json:"selection,omitempty"`
	Workloads []*Timeline `json:"workloads"`
	// Skipped are the workloads left out, each with why, as graceful check
	// asks nothing of their shutdown (Helm hooks, batch pods).
	Skipped []string `json:"skipped,omitempty"`
}

// Report identity and modes.
const (
	APIVersion   = "graceful.dev/v1alpha1"
	ReportKind   = "ShutdownTimelines"
	ModeRendered = "rendered"
	ModeAsIs     = "as-is"
)

// NewReport starts an empty report.
func NewReport(mode string) *Report {
	return &Report{APIVersion: APIVersion, Kind: ReportKind, Mode: mode, Workloads: []*Timeline{}}
}

// Conflicts counts the conflicts of every workload.
func (r *Report) Conflicts() int {
	n := 0
	for _, t := range r.Workloads {
		n += len(t.Conflicts)
	}
	return n
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteText writes one block per workload: its events in order, with times
// and sources, then its conflicts and notes.
func (r *Report) WriteText(out io.Writer) error {
	w := bufio.NewWriter(out)
	what := "after graceful render"
	if r.Mode == ModeAsIs {
		what = "as the input stands (--as-is)"
	}
	fmt.Fprintf(w, "Shutdown of %d workload(s), %s; times in seconds after the pod's deletion.\n", len(r.Workloads), what)
	if r.Selection != "" {
		fmt.Fprintf(w, "Profile selection: %s.\n", r.Selection)
	}
	for _, t := range r.Workloads {
		w.WriteString("\n")
		t.writeText(w)
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "\nLeft out, as graceful check asks nothing of their shutdown: %s.\n", strings.Join(r.Skipped, "; "))
	}
	if len(r.Workloads) > 0 {
		fmt.Fprintf(w, "\n%d conflict(s).\n", r.Conflicts())
	}
	return w.Flush()
}

func (t *Timeline) writeText(w *bufio.Writer) {
	head := t.Kind + " " + t.qualifiedName()
	switch {
	case t.Location != "":
		head = t.Location + " " + head // as graceful check writes it
	case t.File != "":
		head += " (" + t.File + ")"
	}
	fmt.Fprintln(w, head)
	// The reason is render's decision, which names the profile.
	profile := "none"
	switch {
	case t.ProfileReason != "":
		profile = t.ProfileReason
	case t.Profile != "":
		profile = t.Profile
	}
	fmt.Fprintf(w, "  profile: %s\n", profile)
	if t.Unchanged != "" {
		fmt.Fprintf(w, "  render leaves it unchanged: %s\n", t.Unchanged)
	}
	fmt.Fprintf(w, "  grace period: %d s (%s)\n", t.GraceSeconds, t.GraceSource)
	for _, c := range t.Containers {
		fmt.Fprintf(w, "  container %s (%s): %s\n", c.Name, orNone(c.Image, "no image"), c.summary())
	}
	for _, lb := range t.LoadBalancers {
		fmt.Fprintf(w, "  load balancer %s: %s\n", lb.Service, lb.summary())
	}
	if s := t.Sidecar; s != nil {
		fmt.Fprintf(w, "  Istio sidecar: %s\n", s.summary())
	}
	for _, e := range t.Events {
		at := strconv.Itoa(e.AtSeconds) + " s"
		switch {
		case e.Estimate:
			at = "~" + at
		case e.AtLeast:
			at = ">=" + at
		}
		text := e.Text
		if e.Container != "" {
			text = e.Container + ": " + text
		}
		fmt.Fprintf(w, "  %8s  %-17s %s\n", at, e.Event, text)
	}
	for _, c := range t.Conflicts {
		fmt.Fprintf(w, "  CONFLICT %s at %d s: %s\n", c.Code, c.AtSeconds, c.Message)
	}
	for _, n := range t.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

func (t *Timeline) qualifiedName() string {
	if t.Namespace == "" {
		return t.Name
	}
	return t.Namespace + "/" + t.Name
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func (c Container) summary() string {
	var parts []string
	switch c.PreStop.Kind {
	case "none":
		parts = append(parts, "no preStop hook")
	default:
		h := fmt.Sprintf("preStop %s: %q", c.PreStop.Kind, c.PreStop.Text)
		if c.PreStop.Kind == "sleep" {
			h = fmt.Sprintf("preStop sleep %d s", c.PreStop.DelaySeconds)
		}
		if !c.PreStop.Exact {
			h += " (not fully readable: " + strings.Join(c.PreStop.Unknown, "; ") + ")"
		}
		if c.PreStop.Broken != "" {
			h += " (may not run: " + c.PreStop.Broken + ")"
		}
		parts = append(parts, h)
	}
	at := "at"
	if c.Signal.AtLeast {
		at = "at least at"
	}
	parts = append(parts, fmt.Sprintf("%s %s %d s from %s", c.Signal.Name, at, c.Signal.AtSeconds, c.Signal.Source))
	if c.DrainSeconds != nil {
		parts = append(parts, fmt.Sprintf("drains %d s (%s)", *c.DrainSeconds, c.DrainSource))
	} else {
		parts = append(parts, "drain unknown (no profile)")
	}
	return strings.Join(parts, "; ")
}

func (lb LoadBalancer) summary() string {
	switch {
	case lb.Rejected:
		return "drain setting rejected, may not drain (" + lb.Source + ")"
	case lb.Provider == "":
		return lb.Source
	case !lb.On && lb.Known:
		return fmt.Sprintf("%s, drain off (%s)", lb.Provider, lb.Source)
	case !lb.Known:
		return fmt.Sprintf("%s, drain on, length unknown (%s)", lb.Provider, lb.Source)
	}
	return fmt.Sprintf("%s, drains %d s (%s)", lb.Provider, lb.Seconds, lb.Source)
}

func (s Sidecar) summary() string {
	if s.Kind == "native" {
		return "native (an init container with restartPolicy: Always): it stops after the application"
	}
	how := fmt.Sprintf("classic, leaves at %d s (terminationDrainDuration %d s: %s)", s.ExitSeconds, s.DrainSeconds, s.Source)
	if s.ExitOnZero {
		how += "; EXIT_ON_ZERO_ACTIVE_CONNECTIONS: it stays until its connections end"
	}
	return how
}
