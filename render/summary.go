package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/graceful-dev/graceful/internal/plural"
	"github.com/graceful-dev/graceful/transformers"
)

// WriteSummary writes the short human account of a run: each object that was
// changed, left alone for a reason, or needs attention, with what was done or
// kept and why.
func (rep *Report) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "graceful: %d of %s changed\n", rep.Changed, plural.Count(rep.Documents, "document", "documents"))
	for _, f := range rep.Notices {
		fmt.Fprintf(w, "  %s: %s\n", label(f), f.Message)
	}
	for _, e := range rep.Entries {
		if len(e.Findings) == 0 {
			continue
		}
		fmt.Fprintf(w, "  %s: %s\n", e.Ref, e.Decision)
		for _, f := range e.Findings {
			if f.Changed {
				fmt.Fprintf(w, "    set %s: %s\n", f.Field, f.Message)
				continue
			}
			if f.Field == "" {
				fmt.Fprintf(w, "    %s: %s\n", label(f), f.Message)
				continue
			}
			fmt.Fprintf(w, "    %s: %s: %s\n", label(f), f.Field, f.Message)
		}
	}
}

// label names a finding's severity as the summary shows it.
func label(f transformers.Finding) string {
	if f.Severity == transformers.Info {
		return "note"
	}
	return string(f.Severity)
}

// Warnings lists every warning of the run, each naming its object.
func (rep *Report) Warnings() []string {
	var out []string
	for _, f := range rep.Notices {
		if f.Severity != transformers.Info {
			out = append(out, f.Message)
		}
	}
	for _, e := range rep.Entries {
		for _, f := range e.Findings {
			if f.Severity != transformers.Info {
				out = append(out, fmt.Sprintf("%s: %s: %s", e.Ref, f.Field, f.Message))
			}
		}
	}
	return out
}

// StrictError is a run whose warnings --strict (spec.strict) made fatal:
// Helm 4 and kustomize do not show a plugin's warnings.
type StrictError struct{ Warnings []string }

func (e *StrictError) Error() string {
	return fmt.Sprintf("--strict: %d warning(s), nothing written:\n  %s", len(e.Warnings), strings.Join(e.Warnings, "\n  "))
}

// strictCheck returns a StrictError when the renderer is strict and the run warned.
func (r *Renderer) strictCheck(rep *Report) error {
	if !r.strict {
		return nil
	}
	if w := rep.Warnings(); len(w) > 0 {
		return &StrictError{Warnings: w}
	}
	return nil
}
