package render

import (
	"fmt"
	"io"

	"github.com/graceful-dev/graceful/transformers"
)

// WriteSummary writes the short human account of a run: each object that was
// changed or needs attention, with what was done or kept and why.
func (rep *Report) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "graceful: %d of %d documents changed\n", rep.Changed, rep.Documents)
	for _, e := range rep.Entries {
		var lines []string
		for _, f := range e.Findings {
			switch {
			case f.Changed:
				lines = append(lines, fmt.Sprintf("    set %s: %s", f.Field, f.Message))
			case f.Severity != transformers.Info:
				lines = append(lines, fmt.Sprintf("    %s: %s: %s", f.Severity, f.Field, f.Message))
			}
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(w, "  %s: %s\n", e.Ref, e.Decision)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
}
