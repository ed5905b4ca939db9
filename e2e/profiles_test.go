package e2e

import (
	"strings"
	"testing"
)

// TestKustomizeInlineProfile: a user profile inline in the function config
// (a functionConfig has no directory to read profile files from), run by the
// real kustomize; a path there stops the build with graceful's message.
func TestKustomizeInlineProfile(t *testing.T) {
	kustomize := tool(t, "GRACEFUL_KUSTOMIZE")
	dir, write := kustomizeDir(t)
	write("kustomization.yaml", "resources: [resources.yaml]\ntransformers: [graceful.yaml]\n")
	config := func(profiles string) string {
		return functionConfig("shutdown", "", `  profiles:`+profiles+`
  rules:
    - match: {kinds: [Deployment]}
      profile: nginx-slow-lb
`)
	}
	write("graceful.yaml", config(`
    - apiVersion: graceful.dev/v1alpha1
      kind: ShutdownProfile
      metadata: {name: nginx-slow-lb}
      spec: {base: nginx, preStopDelaySeconds: 15, terminationGracePeriodSeconds: 40}`))
	out := kustomizeBuild(t, kustomize, dir).must(t)
	for _, want := range []string{"seconds: 15", "terminationGracePeriodSeconds: 40"} {
		if !strings.Contains(out, want) {
			t.Errorf("kustomize output lacks %q:\n%s", want, out)
		}
	}

	write("graceful.yaml", config(" [nginx-slow-lb.yaml]"))
	bad := kustomizeBuild(t, kustomize, dir)
	if bad.err == nil || !strings.Contains(bad.stderr, `spec.profiles[0]: "nginx-slow-lb.yaml" is a path`) {
		t.Errorf("want kustomize to fail with graceful's message, got %v:\n%s", bad.err, bad.stderr)
	}
}
