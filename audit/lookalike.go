package audit

import (
	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/transformers"
)

// checkLookalike: GS215, an object whose kind has the name of one graceful
// knows, in another API group (example.com/v1 Deployment), that render
// leaves alone although a profile would fit it (render's GS129): check
// says so rather than counting it among the objects it found nothing in.
func (c *checker) checkLookalike(o render.Object) []Finding {
	e := c.fixes[keyOf(o.Ref)]
	if e == nil {
		return nil
	}
	for _, f := range e.Findings {
		if f.Code == transformers.CodeNotKnownKind {
			line := o.LineOf(node.Get(o.Node, "apiVersion"))
			if line == 0 {
				line = o.Ref.Line
			}
			return []Finding{finding("GS215", line, f.Field, "%s", f.Message)}
		}
	}
	return nil
}
