package audit

import (
	"strings"

	"github.com/graceful-dev/graceful/transformers"
)

// unsafeCodes are render's findings where the manifest alone cannot make
// the profile safe, so render changes nothing there and says what the user
// must change: a command that keeps the signal from the application (node
// under npm start: GS023), or an in-app setting of the user's that stops it
// otherwise than the profile needs (a uWSGI hook of its own: GS116).
var unsafeCodes = []string{transformers.CodeUnsafeContainer, transformers.CodeEnvKept}

// checkUnsafe: GS212, render's finding that the profile cannot be made safe
// from the manifest, as check reports it: the message says what to change.
func (c *checker) checkUnsafe(w *workload) []Finding {
	e := c.fixes[keyOf(w.obj.Ref)]
	if e == nil {
		return nil
	}
	var out []Finding
	for _, f := range e.Findings {
		if !isUnsafe(f) {
			continue
		}
		line := w.obj.Ref.Line
		for _, ct := range w.pod.Containers {
			if f.Field == ct.Path || strings.HasPrefix(f.Field, ct.Path+".") {
				line = w.lineOf(ct.Node)
			}
		}
		fd := finding("GS212", line, f.Field, "%s (render: %s)", f.Message, f.Code)
		fd.Current, fd.Proposed = f.Current, f.Proposed
		out = append(out, fd)
	}
	return out
}

func isUnsafe(f transformers.Finding) bool {
	for _, code := range unsafeCodes {
		if f.Code == code {
			return true
		}
	}
	return false
}
