package audit

import (
	"fmt"
	"slices"
	"testing"

	"github.com/graceful-dev/graceful/render"
)

// TestGraceCountsNoBrokenHook: GS202 reads the hook's delay from the
// timeline, which does not count a hook check finds cannot run (GS205): a
// distroless image's "sleep 40" delays nothing, so no GS202; the same hook
// in an image with a shell does.
func TestGraceCountsNoBrokenHook(t *testing.T) {
	const stream = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 30
      containers:
      - name: web
        image: %s
        ports: [{containerPort: 8080}]
        lifecycle: {preStop: {exec: {command: ["sleep", "40"]}}}
`
	for image, want := range map[string][]string{
		"gcr.io/distroless/java17-debian12:nonroot": {"GS205"},
		"example.com/web:1":                         {"GS202"},
	} {
		report, err := Check([]render.Input{{Name: "web.yaml", Data: []byte(fmt.Sprintf(stream, image))}}, Options{Render: render.Options{Profile: "none"}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, res := range report.Results {
			for _, f := range res.Findings {
				if slices.Contains([]string{"GS202", "GS205"}, f.Code) {
					got = append(got, f.Code)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: findings %v, want %v", image, got, want)
		}
	}
}
