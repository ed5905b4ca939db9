package audit

import (
	"slices"
	"strings"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/timeline"
	"github.com/graceful-dev/graceful/transformers"
)

// A workload is read into the timeline model here, once, for check and
// for graceful explain: check's timing findings (GS202, GS210) are the
// conflicts of its timeline, and explain draws the same timeline. What
// check knows goes in: the containers it finds serving, a preStop hook it
// finds cannot run (GS205-GS207) and a Service drain setting the
// controller rejects (GS204) are counted on by neither.

// Timeline is the workload's shutdown with the profile of render's entry
// (nil: none): check's reading uses render's entry for the stream checked;
// explain passes render's entry for the input, whose output it explains.
func (w Workload) Timeline(entry *render.Entry) *timeline.Timeline {
	return w.read.timelineOf(entry)
}

// readTimeline gives the workload its model (its timeline without a
// profile's entry) and its own timeline, for the timing checks. The
// Services must have their Broken drains already.
func (c *checker) readTimeline(w *workload) {
	w.model = timeline.Workload{Kind: w.obj.Ref.Kind, Namespace: w.obj.Ref.Namespace, Name: w.obj.Ref.Name, File: w.obj.Ref.File,
		Template: w.pod.Template, Spec: w.pod.Spec, Containers: w.pod.Containers, Batch: w.pod.Batch}
	if w.pod.Template == nil {
		w.model.Services = tidbService(w)
	}
	w.options = timeline.Options{Providers: c.providerNames, Catalog: c.catalog, Serving: map[string]bool{}, BrokenHooks: c.brokenHooks(w)}
	for _, s := range c.services {
		w.options.Services = append(w.options.Services, s.Service)
	}
	for _, s := range w.servingContainers() {
		w.options.Serving[s.c.Name] = s.routed
	}
	w.timeline = w.timelineOf(c.fixes[keyOf(w.obj.Ref)])
}

func (w *workload) timelineOf(entry *render.Entry) *timeline.Timeline {
	opts := w.options
	if entry != nil {
		opts.ProfileReason = entry.Decision
		if containers := entry.Plan.ContainerNames(); len(containers) > 0 {
			opts.Profile, opts.Containers = entry.Plan.ProfileOf(), containers
		}
	}
	return timeline.Build(w.model, opts)
}

// brokenHookChecks find a preStop hook that does not do what it reads as:
// GS205 (no shell or tool in the image), GS206 (a sleep action the
// cluster lacks), GS207 (PID 1 is the pause process).
var brokenHookChecks = []func(*checker, *workload) []Finding{
	(*checker).checkShellless,
	(*checker).checkSleepAction,
	(*checker).checkSharedPID1,
}

// brokenHooks are check's findings on each container's preStop hook, by
// container ("CODE: message"). An info is a doubt (an image that may lack
// a shell): the hook still counts. The checks run here before the timeline
// (the timing checks need it) and again in workloadChecks, which reports
// them in check's order; they are cheap and read only the manifest.
func (c *checker) brokenHooks(w *workload) map[string]string {
	out := map[string]string{}
	for _, check := range brokenHookChecks {
		for _, f := range check(c, w) {
			if f.Severity == transformers.Info {
				continue
			}
			for _, ct := range w.pod.Containers {
				if strings.HasPrefix(f.Field, ct.Path+".lifecycle.preStop") && out[ct.Name] == "" {
					out[ct.Name] = f.Code + ": " + f.Message
				}
			}
		}
	}
	return out
}

// brokenDrain is check's finding on a Service's drain setting (GS204: a
// value or attribute the controller rejects), "" where none.
func brokenDrain(findings []Finding) string {
	i := slices.IndexFunc(findings, func(f Finding) bool { return f.Code == "GS204" })
	if i < 0 {
		return ""
	}
	return findings[i].Code + ": " + findings[i].Message
}

// tidbService is the Service tidb-operator makes from a TidbCluster's
// spec.tidb.service, named as the operator names it (NAME-tidb).
func tidbService(w *workload) []timeline.Service {
	svc := node.Lookup(w.obj.Node, "spec", "tidb", "service")
	if !node.IsMap(svc) {
		return nil
	}
	ref := w.obj.Ref
	return []timeline.Service{{Name: ref.Name + "-tidb", Namespace: ref.Namespace, Type: node.GetStr(svc, "type"),
		Class: node.GetStr(svc, "loadBalancerClass"), Annotations: node.Labels(node.Get(svc, "annotations"))}}
}
