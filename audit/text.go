package audit

import (
	"fmt"
	"io"
	"strings"

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
		switch {
		case len(res.Fix.Changes) > 0:
			fmt.Fprintf(&b, "  fix, as graceful render writes it (%s):\n", res.Fix.Decision)
			for _, ch := range res.Fix.Changes {
				fmt.Fprintf(&b, "      %s: %s\n", ch.Field, ch.Message)
			}
			for _, n := range res.Fix.Notes {
				fmt.Fprintf(&b, "    render also says: %s\n", n)
			}
		default:
			why := strings.Join(res.Fix.Notes, "; ")
			if res.Fix.Decision != "" {
				why = res.Fix.Decision + ": " + why
			}
			fmt.Fprintf(&b, "  no fix from graceful render: %s\n", strings.TrimSuffix(why, ": "))
		}
	}
	c := r.Counts()
	total := c[transformers.Error] + c[transformers.Warning] + c[transformers.Info]
	if total == 0 {
		fmt.Fprintf(&b, "no findings in %d objects\n", r.Objects)
	} else {
		noun := "findings"
		if total == 1 {
			noun = "finding"
		}
		fmt.Fprintf(&b, "%d %s (%d error, %d warning, %d info) in %d of %d objects\n",
			total, noun, c[transformers.Error], c[transformers.Warning], c[transformers.Info], len(r.Results), r.Objects)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
