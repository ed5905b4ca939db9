package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/transformers"
)

// selection is the first stage's answer: the profile a workload gets and
// where it came from, or why it gets none.
type selection struct {
	profile *profiles.Profile
	// rule is the rule that matched, ruleIndex its 1-based number (0: none).
	rule      *Rule
	ruleIndex int
	// reason says where the profile came from, or why none applies ("" when
	// nothing selected one and there is nothing to say).
	reason string
	// optedOut: an annotation or rule said none.
	optedOut bool
	// note says what the user can do about a workload left alone; code is its finding code.
	note, code string
}

// noteFinding is the selection's note as a finding, if it has one.
func (s selection) noteFinding() []transformers.Finding {
	if s.note == "" {
		return nil
	}
	return []transformers.Finding{{Code: s.code, Severity: transformers.Info, Message: s.note}}
}

// selectProfile picks the profile: the workload's annotation, then the first
// rule that matches, then --profile.
func (st *run) selectProfile(w *workload) (selection, error) {
	if annotation, field := w.annotation(ProfileAnnotation); annotation != nil {
		name := node.Str(annotation)
		reason := "annotation " + ProfileAnnotation
		if !strings.HasPrefix(field, "metadata.") {
			reason += " on the pod template"
		}
		if name == profiles.None {
			return selection{reason: reason, optedOut: true}, nil
		}
		if name == profiles.Auto {
			named := ""
			if w.section == nil { // an operator's section is one container
				named = node.GetStr(node.Lookup(w.object, "metadata", "annotations"), ContainerAnnotation)
			}
			return st.autoProfile(w, reason+": auto", splitList(named)), nil
		}
		p, err := st.catalog.Lookup(name)
		if err != nil {
			return selection{}, &DocumentError{Ref: w.ref, Field: field, Err: err}
		}
		return selection{profile: p, reason: reason}, nil
	}
	for i := range st.rules {
		rule := &st.rules[i]
		if !rule.Match.matches(w) {
			continue
		}
		reason := st.ruleNames[i]
		if rule.Profile == profiles.None {
			return selection{reason: reason, optedOut: true}, nil
		}
		if rule.Profile == profiles.Auto {
			s := st.autoProfile(w, reason+": auto", splitList(rule.Container))
			s.rule, s.ruleIndex = rule, i+1 // its numbers and container still apply
			return s, nil
		}
		p, _ := st.catalog.Get(rule.Profile) // validated with the config
		return selection{profile: p, rule: rule, ruleIndex: i + 1, reason: reason}, nil
	}
	if st.defaultProfile == nil && !st.auto {
		return selection{}, nil
	}
	if hook := node.GetStr(node.Lookup(w.object, "metadata", "annotations"), helmHookAnnotation); hook != "" {
		return selection{reason: "a Helm hook (" + helmHookAnnotation + ": " + hook + ")", code: transformers.CodeHelmHook,
			note: "--profile leaves Helm hooks alone; to change this one, annotate it " + ProfileAnnotation + ": NAME or match it with a rule"}, nil
	}
	if st.auto {
		return st.autoProfile(w, "--profile auto", nil), nil
	}
	return selection{profile: st.defaultProfile, reason: "--profile"}, nil
}

// autoProfile picks the profile whose image patterns fit the workload's
// containers. Where containers fit different profiles, the one of the
// containers that serve traffic wins; a workload no profile fits, or one
// that stays ambiguous, is left alone with a note: a wrong profile's signal
// can kill another program, and generic-http is not a guess worth making.
// Where containers are named (a rule's container, graceful.dev/container),
// only their own images count: the profile goes on them. An operator's
// section gets the profile its kind names.
func (st *run) autoProfile(w *workload, reason string, named []string) selection {
	if sec := w.section; sec != nil && len(sec.profiles) > 0 {
		p, _ := st.catalog.Get(sec.profiles[0])
		return selection{profile: p, reason: reason + ": a " + w.ref.Kind}
	}
	all := w.containers()
	if len(named) > 0 {
		all = slices.DeleteFunc(slices.Clone(all), func(c transformers.Container) bool { return !slices.Contains(named, c.Name) })
		if len(all) == 0 {
			return selection{reason: reason + ": no container named " + strings.Join(quoteAll(named), ", "), code: transformers.CodeAutoNoContainer,
				note: fmt.Sprintf("left alone: no container named %s; the containers are %s", strings.Join(quoteAll(named), ", "), containerNames(w.containers()))}
		}
	}
	fits := func(cs []transformers.Container) (names []string, byName map[string]*profiles.Profile, why []string) {
		byName = map[string]*profiles.Profile{}
		for _, c := range cs {
			for _, p := range st.catalog.FittingImage(c.Image) {
				if byName[p.Name] == nil {
					names = append(names, p.Name)
				}
				byName[p.Name] = p
				why = append(why, fmt.Sprintf("image %s fits %s", c.Image, p.Name))
			}
		}
		return names, byName, why
	}
	names, byName, why := fits(all)
	switch len(names) {
	case 0:
		images := "the images "
		if len(named) > 0 {
			images = "the named containers' images "
		}
		return selection{reason: reason + ": no profile fits " + images + containerImages(all), code: transformers.CodeAutoNoFit,
			note: fmt.Sprintf("left alone; if a profile fits, name it with the annotation %s: NAME (list: graceful profiles)", ProfileAnnotation)}
	case 1:
		return selection{profile: byName[names[0]], reason: reason + ": " + strings.Join(why, ", ")}
	}
	// One container whose image fits every profile that fits (two user
	// profiles for nginx): graceful cannot know which is meant.
	for _, c := range all {
		if fit := st.catalog.FittingImage(c.Image); len(fit) == len(names) {
			return selection{reason: fmt.Sprintf("%s: image %s of container %q fits %s", reason, c.Image, c.Name, strings.Join(names, " and ")), code: transformers.CodeAutoAmbiguous,
				note: fmt.Sprintf("left alone: the image %s of container %q fits several profiles (%s), so graceful cannot know which is meant; name one with the annotation %s: NAME (or give the profiles images of their own)", c.Image, c.Name, strings.Join(names, ", "), ProfileAnnotation)}
		}
	}
	if len(named) > 0 {
		return selection{reason: reason + ": the named containers fit " + strings.Join(names, " and "), code: transformers.CodeAutoAmbiguous,
			note: fmt.Sprintf("left alone: the named containers fit different profiles (%s); name one profile with the annotation %s: NAME", strings.Join(why, ", "), ProfileAnnotation)}
	}
	// The serving container's profile wins, unless another container fits a
	// profile that needs a delay too (php-fpm behind nginx): that one would
	// stop while the server still takes requests for it.
	serving, servingByName, servingWhy := fits(servingContainers(all))
	if len(serving) == 1 {
		others := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == serving[0] })
		delayed := slices.ContainsFunc(others, func(n string) bool { return byName[n].PreStopDelaySeconds > 0 })
		if !delayed {
			return selection{profile: servingByName[serving[0]], reason: reason + ": " + strings.Join(servingWhy, ", ") + ", the container that serves traffic; others fit " + strings.Join(others, ", ")}
		}
	}
	return selection{reason: reason + ": containers fit " + strings.Join(names, " and "), code: transformers.CodeAutoAmbiguous,
		note: fmt.Sprintf("left alone: the containers fit several profiles (%s), and one profile's delay on one container would let the other stop under it; choose with the annotation %s: NAME and %s: NAME", strings.Join(why, ", "), ProfileAnnotation, ContainerAnnotation)}
}
