package render

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/transformers"
)

// YAML anchors let one node stand in several places: `lifecycle: &lc {...}`
// in one container and `lifecycle: *lc` in another, `<<: *app` in a mapping,
// `terminationGracePeriodSeconds: &g 10` used again as `*g`. An edit of a
// shared node would change every place that uses it, so graceful copies an
// aliased value before it edits it where that is exact (node.Unshare), and
// checks after every object that no shared node changed and no alias lost
// its anchor. Where one did, the object is put back as it was, with a
// warning that names the anchor.

// sharedGuard remembers a document's nodes before an object is transformed.
// It is nil for a document without aliases, where nothing is shared.
type sharedGuard struct {
	root *yaml.Node
	// saved is every node of the document as it was, its Content copied.
	saved map[*yaml.Node]yaml.Node
	// targets are the anchored nodes that aliases name.
	targets []*yaml.Node
}

func (d *Document) sharedGuard() *sharedGuard {
	root := d.root()
	if root == nil || (d.Raw != nil && bytes.IndexByte(d.body(), '*') < 0) {
		return nil // no alias in the text: nothing is shared
	}
	g := &sharedGuard{root: root}
	seen := map[*yaml.Node]bool{}
	walkNodes(root, func(n *yaml.Node) {
		if n.Kind == yaml.AliasNode && n.Alias != nil && !seen[n.Alias] {
			seen[n.Alias] = true
			g.targets = append(g.targets, n.Alias)
		}
	})
	if len(g.targets) == 0 {
		return nil
	}
	g.saved = map[*yaml.Node]yaml.Node{}
	walkNodes(root, func(n *yaml.Node) {
		c := *n
		c.Content = append([]*yaml.Node(nil), n.Content...)
		g.saved[n] = c
	})
	return g
}

// walkNodes calls f on every node of the tree once, without following aliases.
func walkNodes(n *yaml.Node, f func(*yaml.Node)) {
	f(n)
	for _, c := range n.Content {
		walkNodes(c, f)
	}
}

// broken names the anchor an edit went through, or "".
func (g *sharedGuard) broken() string {
	defined := map[*yaml.Node]bool{}
	problem := ""
	walkNodes(g.root, func(n *yaml.Node) {
		if problem != "" {
			return
		}
		if n.Kind == yaml.AliasNode && !defined[n.Alias] {
			problem = fmt.Sprintf("the node with anchor &%s, which *%s uses elsewhere, would be replaced and the alias left without its anchor", n.Value, n.Value)
		}
		if n.Anchor != "" {
			defined[n] = true
		}
	})
	if problem != "" {
		return problem
	}
	for _, t := range g.targets {
		changed := false
		walkNodes(t, func(n *yaml.Node) {
			old, ok := g.saved[n]
			if !ok || old.Kind != n.Kind || old.Value != n.Value || old.Tag != n.Tag || old.Style != n.Style ||
				old.Anchor != n.Anchor || len(old.Content) != len(n.Content) {
				changed = true
				return
			}
			for i := range n.Content {
				if old.Content[i] != n.Content[i] {
					changed = true
				}
			}
		})
		if changed {
			return fmt.Sprintf("the node with anchor &%s is shared through the alias *%s: an edit would change every place that uses it", t.Anchor, t.Anchor)
		}
	}
	return ""
}

// restore puts every node back as it was.
func (g *sharedGuard) restore() {
	for n, old := range g.saved {
		*n = old
	}
}

// check is run after an object was transformed. When an edit went through a
// shared node, or nothing changed (a copy made in vain), the document is put
// back; the first case becomes a warning on entry, and check reports true.
func (g *sharedGuard) check(entry *Entry, field string) bool {
	if g == nil {
		return false
	}
	changed := false
	if entry != nil {
		for _, f := range entry.Findings {
			changed = changed || f.Changed
		}
	}
	if !changed {
		g.restore()
		return false
	}
	problem := g.broken()
	if problem == "" {
		return false
	}
	g.restore()
	kept := entry.Findings[:0]
	for _, f := range entry.Findings {
		if !f.Changed {
			kept = append(kept, f)
		}
	}
	entry.Findings = append(kept, transformers.Finding{Code: transformers.CodeSharedAnchor, Severity: transformers.Warning, Field: field,
		Message: problem + "; left unchanged (write the value out in place of the alias to let graceful edit it)"})
	return true
}
