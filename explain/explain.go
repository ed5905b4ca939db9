// Package explain shows the shutdown timelines of a set of manifests, as
// they will stop after graceful render or as they stand. It is presentation
// over graceful check's reading: it renders with the real renderer, runs
// check on the stream it explains (render's output, or the input), and
// draws each workload's timeline as check reads it (audit.Workload.Timeline)
// with the profile render chose for it.
package explain

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/graceful-dev/graceful/audit"
	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/timeline"
	"github.com/graceful-dev/graceful/transformers"
)

// Options are explain's settings.
type Options struct {
	// Render are render's options: explain shows what render does with
	// them (its providers too).
	Render render.Options
	// AsIs explains the input as it stands rather than render's output.
	AsIs bool
	// Selection says, for the reader, how profiles were chosen.
	Selection string
}

// Run renders the inputs and explains every workload: after render, or as
// the inputs stand (AsIs). A strict renderer is made lenient: explain shows
// what warnings lead to, where render would have written nothing. Bad input
// fails as in graceful check (a *render.DocumentError), in both modes.
// What check calls broken in the stream explained (a hook that cannot run,
// a drain setting the controller rejects) is not drawn as working, and only
// the workloads check judges are explained.
func Run(opts Options, inputs []render.Input) (*timeline.Report, error) {
	opts.Render.Strict = false
	r, err := render.New(opts.Render)
	if err != nil {
		return nil, err
	}
	outputs, report, err := r.Render(inputs)
	if err != nil {
		return nil, err
	}
	mode := timeline.ModeRendered
	streams := make([]render.Input, len(inputs))
	for i := range inputs {
		streams[i] = render.Input{Name: inputs[i].Name, Data: outputs[i].Bytes()}
		if opts.AsIs {
			mode, streams[i] = timeline.ModeAsIs, inputs[i]
		}
	}
	// The input's objects, for where each is (file:line, Helm source).
	refs, err := render.Objects(inputs)
	if err != nil {
		return nil, err
	}
	// Check judges the stream explained: render's output, or the input.
	checked, err := audit.Check(streams, audit.Options{Render: opts.Render})
	if err != nil {
		return nil, err
	}
	out := timeline.NewReport(mode)
	out.Selection = opts.Selection
	// Render's entry for each input object says which profile it got.
	entries := map[string][]*render.Entry{}
	for i := range report.Entries {
		en := &report.Entries[i]
		entries[refKey(en.Ref)] = append(entries[refKey(en.Ref)], en)
	}
	at := map[string]render.Ref{}
	for _, o := range refs {
		at[refKey(o.Ref)] = o.Ref
	}
	for _, cw := range checked.Workloads {
		k := refKey(cw.Ref)
		var entry *render.Entry
		if list := entries[k]; len(list) > 0 {
			entry, entries[k] = list[0], list[1:]
		}
		if cw.Idle != "" {
			// A Helm test pod, an install job, a batch job: check asks
			// nothing of its shutdown.
			out.Skipped = append(out.Skipped, fmt.Sprintf("%s %s (%s)", cw.Ref.Kind, qualified(cw.Ref.Namespace, cw.Ref.Name), cw.Idle))
			continue
		}
		t := cw.Timeline(entry)
		t.Unchanged = unchanged(entry)
		if ref, ok := at[k]; ok {
			t.Line, t.Source, t.Location = ref.Line, ref.Source, audit.Location(ref)
		}
		if entry != nil && mode == timeline.ModeRendered {
			// render's warnings say why a conflict stays (a hook it kept).
			for _, f := range entry.Findings {
				if f.Severity == transformers.Warning {
					t.Notes = append(t.Notes, "render warned: "+f.Message)
				}
			}
		}
		out.Workloads = append(out.Workloads, t)
	}
	// A CRD's look-alike of a workload kind (example.com/v1 Deployment) is
	// no workload check reads: say it was left out rather than drop it.
	for _, en := range report.Entries {
		if en.Ref.Kind != "Service" && slices.ContainsFunc(en.Findings, func(f transformers.Finding) bool { return f.Code == transformers.CodeNotKnownKind }) {
			out.Skipped = append(out.Skipped, fmt.Sprintf("%s %s (%s, left alone)", en.Ref.Kind, qualified(en.Ref.Namespace, en.Ref.Name), strings.TrimPrefix(en.Decision, "skipped: ")))
		}
	}
	return out, nil
}

// unchanged says why render leaves the workload as it is, "" where it
// changes it: check's reading of render's entry (audit.FixOf).
func unchanged(entry *render.Entry) string {
	if entry == nil {
		return "no profile applies (name one with --profile, a rule or the annotation graceful.dev/profile)"
	}
	fix := audit.FixOf(entry)
	if len(fix.Changes) > 0 {
		return ""
	}
	why := strings.Join(fix.Notes, "; ")
	if why == "" {
		why = "the workload has what the profile asks already"
	}
	return strings.TrimPrefix(fix.Decision+": "+why, ": ")
}

func refKey(r render.Ref) string {
	return strings.Join([]string{r.File, r.Kind, r.Namespace, r.Name, strconv.Itoa(r.Item)}, "\x00")
}

func qualified(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}
