package explain

import (
	"errors"
	"strings"
	"testing"

	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/timeline"
)

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}
`

// TestUserProfile: a profile of the user's catalog (README's nginx-slow-lb)
// is the one explain draws, as render applied it, in both modes.
func TestUserProfile(t *testing.T) {
	catalog, err := profiles.Load("../testdata/explain/user-profile/slow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	opts := render.Options{Profile: "nginx-slow-lb", Catalog: catalog}
	rep, err := Run(Options{Render: opts}, []render.Input{{Name: "web.yaml", Data: []byte(deployment)}})
	if err != nil {
		t.Fatal(err)
	}
	w := rep.Workloads[0]
	if w.Profile != "nginx-slow-lb" || w.GraceSeconds != 40 || w.Unchanged != "" || !w.Containers[0].Profiled || w.Containers[0].Signal.AtSeconds != 15 {
		t.Errorf("after render: profile %q, grace %d, unchanged %q, containers %+v", w.Profile, w.GraceSeconds, w.Unchanged, w.Containers)
	}
	if w.Location != "web.yaml:1" || w.Line != 1 {
		t.Errorf("location %q, line %d", w.Location, w.Line)
	}
}

// TestBadInput: a manifest check cannot read fails explain in both modes,
// with the document named.
func TestBadInput(t *testing.T) {
	bad := strings.Replace(deployment, "containers:", "terminationGracePeriodSeconds: abc\n      containers:", 1)
	for _, asIs := range []bool{false, true} {
		_, err := Run(Options{Render: render.Options{Profile: profiles.Auto}, AsIs: asIs}, []render.Input{{Name: "web.yaml", Data: []byte(bad)}})
		var docErr *render.DocumentError
		if !errors.As(err, &docErr) || !strings.Contains(err.Error(), "document 1 of web.yaml") {
			t.Errorf("as-is %v: %v", asIs, err)
		}
	}
}

// TestServingAsCheck: a port only metrics read is no serving container, so
// no GS304, as check sees it.
func TestServingAsCheck(t *testing.T) {
	stream := strings.Replace(deployment, "ports: [{containerPort: 80}]", "ports: [{name: http-metrics, containerPort: 9100}]", 1) +
		"---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{name: http-metrics, port: 9100}]}\n"
	rep, err := Run(Options{Render: render.Options{Profile: profiles.None}, AsIs: true}, []render.Input{{Name: "x.yaml", Data: []byte(stream)}})
	if err != nil {
		t.Fatal(err)
	}
	w := rep.Workloads[0]
	if len(w.Conflicts) != 0 || w.Containers[0].Serving {
		t.Errorf("conflicts %+v, serving %v", w.Conflicts, w.Containers[0].Serving)
	}
	for _, c := range w.Conflicts {
		if c.Code == timeline.CodeNoDelay {
			t.Error(c.Message)
		}
	}
}
