package audit

import (
	"fmt"
	"io"
	"strings"

	"github.com/graceful-dev/graceful/internal/plural"
	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/transformers"
)

// Location is where an object is, for people: file:line, or stdin:line
// with Helm's `# Source:` file.
func Location(ref render.Ref) string {
	file := ref.File
	if file == "" {
		file = "stdin"
	}
	s := file
	if ref.Line > 0 {
		s += fmt.Sprintf(":%d", ref.Line)
	}
	if ref.Source != "" {
		s += " (" + ref.Source + ")"
	}
	return s
}

func objectName(ref render.Ref) string {
	return ref.Kind + " " + ref.QualifiedName()
}

// WriteText writes the findings grouped by object, each with the fix render
// would write, and a closing count.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, res := range r.Results {
		fmt.Fprintf(&b, "%s %s\n", Location(res.Ref), objectName(res.Ref))
		for _, f := range res.Findings {
			at := ""
			if f.Line > 0 && f.Line != res.Ref.Line {
				at = fmt.Sprintf(" (line %d)", f.Line)
			}
			fmt.Fprintf(&b, "  %s %s %s%s\n      %s\n", f.Code, f.Severity, f.Field, at, f.Message)
		}
		for _, n := range res.Notes {
			fmt.Fprintf(&b, "  note: %s\n", n)
		}
		switch {
		case len(res.Fix.Changes) > 0:
			fmt.Fprintf(&b, "  fix, as graceful render writes it (%s):\n", res.Fix.Decision)
			for _, ch := range res.Fix.Changes {
				fmt.Fprintf(&b, "      %s: %s\n", ch.Field, ch.Message)
			}
			for _, n := range res.Fix.Notes {
				fmt.Fprintf(&b, "    render also says: %s\n", n)
			}
		case res.Fix.Decision != "":
			// The decision says why; render's notes stand apart, so that a
			// warning is not read as the reason (an unknown annotation).
			fmt.Fprintf(&b, "  no fix from graceful render (%s)\n", res.Fix.Decision)
			for _, n := range res.Fix.Notes {
				fmt.Fprintf(&b, "    render says: %s\n", n)
			}
		default:
			fmt.Fprintf(&b, "  no fix from graceful render: %s\n", strings.Join(res.Fix.Notes, "; "))
		}
	}
	c := r.Counts()
	total := c[transformers.Error] + c[transformers.Warning] + c[transformers.Info]
	ignored := ""
	if r.Ignored > 0 {
		ignored = fmt.Sprintf("; %d ignored (--ignore, %s)", r.Ignored, render.CheckIgnoreAnnotation)
	}
	if total == 0 {
		fmt.Fprintf(&b, "no findings in %s%s\n", plural.Count(r.Objects, "object", "objects"), ignored)
	} else {
		fmt.Fprintf(&b, "%s (%s, %s, %d info) in %d of %s%s\n",
			plural.Count(total, "finding", "findings"), plural.Count(c[transformers.Error], "error", "errors"),
			plural.Count(c[transformers.Warning], "warning", "warnings"), c[transformers.Info], len(r.Results), plural.Count(r.Objects, "object", "objects"), ignored)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
