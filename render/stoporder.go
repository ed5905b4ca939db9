package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/transformers"
)

// StopAfterAnnotation on a workload orders the stops of the containers of
// one pod: "php=nginx" makes container php keep serving until nginx, the
// proxy in front of it, has waited and drained; pairs are separated by
// commas. A rule's stopAfter says the same. graceful cannot know which
// container forwards to which, so it orders none unless told.
const StopAfterAnnotation = "graceful.dev/stop-after"

// stopPair says container later stops after container earlier.
type stopPair struct{ later, earlier string }

// parseStopAfter reads "later=earlier, ..." and refuses a pair that names
// one container twice, or pairs that form a cycle: no order satisfies them.
func parseStopAfter(value string) ([]stopPair, error) {
	var pairs []stopPair
	for _, item := range splitList(value) {
		later, earlier, ok := strings.Cut(item, "=")
		later, earlier = strings.TrimSpace(later), strings.TrimSpace(earlier)
		switch {
		case !ok || later == "" || earlier == "":
			return nil, fmt.Errorf("%q is not LATER=EARLIER (e.g. php=nginx: container php stops after container nginx)", item)
		case later == earlier:
			return nil, fmt.Errorf("%q: a container cannot stop after itself", item)
		}
		pairs = append(pairs, stopPair{later, earlier})
	}
	if cycle := stopCycle(pairs); cycle != nil {
		return nil, fmt.Errorf("the order is a cycle (%s): no container can stop first", strings.Join(cycle, " after "))
	}
	return pairs, nil
}

// stopCycle is a cycle of the pairs, as the names along it, or nil.
func stopCycle(pairs []stopPair) []string {
	var walk func(name string, path []string) []string
	walk = func(name string, path []string) []string {
		if i := slices.Index(path, name); i >= 0 {
			return append(path[i:], name)
		}
		for _, p := range pairs {
			if p.later == name {
				if c := walk(p.earlier, append(slices.Clone(path), name)); c != nil {
					return c
				}
			}
		}
		return nil
	}
	for _, p := range pairs {
		if c := walk(p.later, nil); c != nil {
			return c
		}
	}
	return nil
}

// stopOrder resolves the rule's stopAfter, else the workload's annotation,
// into each later container's preStop delay: the earlier container's delay
// plus its drain (the plan's), so the later one serves until the earlier
// one has stopped sending it requests. A problem drops the order, with a
// warning naming the field; the rest of the profile still applies.
func stopOrder(w *workload, chosen []transformers.Container, s *transformers.Settings, rule *Rule, ruleName string) (map[string]transformers.OrderedDelay, []transformers.Finding) {
	value, field, source := "", "", ""
	if rule != nil && rule.StopAfter != "" {
		value, field, source = rule.StopAfter, ruleName+"'s stopAfter", ruleName+"'s stopAfter"
	} else if v, f := w.annotation(StopAfterAnnotation); v != nil && w.section == nil {
		value, field, source = node.Str(v), f, StopAfterAnnotation
	}
	if value == "" {
		return nil, nil
	}
	warn := func(format string, args ...any) []transformers.Finding {
		return []transformers.Finding{{Code: transformers.CodeStopOrder, Severity: transformers.Warning, Field: field,
			Message: "stop order ignored: " + fmt.Sprintf(format, args...)}}
	}
	pairs, err := parseStopAfter(value)
	if err != nil {
		return nil, warn("%v", err)
	}
	all := w.containers()
	find := func(cs []transformers.Container, name string) (transformers.Container, bool) {
		i := slices.IndexFunc(cs, func(c transformers.Container) bool { return c.Name == name })
		if i < 0 {
			return transformers.Container{}, false
		}
		return cs[i], true
	}
	for _, p := range pairs {
		for _, name := range []string{p.later, p.earlier} {
			if _, ok := find(all, name); !ok {
				return nil, warn("no container named %q; the containers are %s", name, containerNames(all))
			}
		}
		if _, ok := find(chosen, p.later); !ok {
			return nil, warn("container %q stops later, but graceful does not change it (it changes %s); name it too: annotation %s or a rule's container",
				p.later, containerNames(chosen), ContainerAnnotation)
		}
	}
	delays := map[string]transformers.OrderedDelay{}
	var problem []transformers.Finding
	// delayOf is how long a container waits before its stop signal.
	var delayOf func(name string) (int, bool)
	delayOf = func(name string) (int, bool) {
		c, isChosen := find(chosen, name)
		if !isChosen {
			c, _ = find(all, name)
		}
		h := transformers.ReadPreStop(c.Node)
		if isChosen && (h.Kind == "none" || s.ReplacePreStop) {
			seconds := s.PreStopDelaySeconds
			for _, p := range pairs {
				if p.later == name {
					d, ok := delayOf(p.earlier)
					if !ok {
						return 0, false
					}
					seconds = max(seconds, d+s.DrainSeconds)
				}
			}
			return seconds, true
		}
		if h.DelayExact {
			return h.DelaySeconds, true
		}
		if isChosen {
			return max(h.DelaySeconds, s.PreStopDelaySeconds), true // as the kept hook is budgeted
		}
		problem = warn("container %q's own preStop hook (%s) does not say how long it waits, so graceful cannot time what stops after it; give it a sleep", name, h.Text)
		return 0, false
	}
	for _, p := range pairs {
		d, ok := delayOf(p.earlier)
		if !ok {
			return nil, problem
		}
		seconds := d + s.DrainSeconds
		if seconds <= s.PreStopDelaySeconds || seconds <= delays[p.later].Seconds {
			continue
		}
		delays[p.later] = transformers.OrderedDelay{Seconds: seconds,
			Why: fmt.Sprintf("%s's delay %d s + drain %d s, as %s says", p.earlier, d, s.DrainSeconds, source)}
	}
	return delays, nil
}
