package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKustomizeExecFunction: the examples/kustomize overlay, built by the
// real kustomize with graceful as an exec KRM function.
func TestKustomizeExecFunction(t *testing.T) {
	kustomize := tool(t, "GRACEFUL_KUSTOMIZE")
	out := run(t, nil, "", kustomize, "build", "--enable-alpha-plugins", "--enable-exec", "examples/kustomize").must(t)
	golden(t, "kustomize.yaml", out)
	for _, want := range []string{"namespace: shop", "seconds: 5", "aws-load-balancer-connection-draining-timeout"} {
		if !strings.Contains(out, want) {
			t.Errorf("kustomize output lacks %q", want)
		}
	}
	// kustomize matched every item back by its own annotations and removed them.
	if strings.Contains(out, "config.kubernetes.io") {
		t.Error("kustomize annotations leaked into the output")
	}

	// Without --enable-exec kustomize skips graceful and says nothing (as the
	// README warns): the output has no preStop, which is the README's check.
	skipped := run(t, nil, "", kustomize, "build", "--enable-alpha-plugins", "examples/kustomize")
	if skipped.err != nil || skipped.stderr != "" || strings.Contains(skipped.stdout, "preStop") || !strings.Contains(out, "preStop") {
		t.Errorf("kustomize without --enable-exec: %v %q; the README's grep preStop check no longer tells the two apart", skipped.err, skipped.stderr)
	}

	// The same function config drives the CLI.
	cli := run(t, nil, "", graceful, "render", "--quiet", "--config", "examples/kustomize/graceful.yaml",
		"examples/kustomize/resources.yaml").must(t)
	if !strings.Contains(cli, "seconds: 5") || !strings.Contains(cli, "aws-load-balancer-connection-draining-timeout") {
		t.Errorf("graceful render --config did not apply the function config:\n%s", cli)
	}
}

// TestKustomizeExecFunctionError: a bad function config stops the build,
// and kustomize shows graceful's result.
func TestKustomizeExecFunctionError(t *testing.T) {
	kustomize := tool(t, "GRACEFUL_KUSTOMIZE")
	dir, write := kustomizeDir(t)
	write("kustomization.yaml", "resources: [resources.yaml]\ntransformers: [graceful.yaml]\n")
	write("graceful.yaml", functionConfig("shutdown", "", `  rules:
    - match: {kinds: [Deployment]}
      profile: nginx
      preStopDelaySeconds: -3
`))
	bad := kustomizeBuild(t, kustomize, dir)
	if bad.err == nil || !strings.Contains(bad.stderr, "preStopDelaySeconds: -3 is out of range") {
		t.Errorf("want kustomize to fail with graceful's message, got %v:\n%s", bad.err, bad.stderr)
	}
}

// kustomizeDir is a kustomization directory with examples/kustomize's
// resources.yaml; write adds or replaces a file in it.
func kustomizeDir(t *testing.T) (dir string, write func(name, text string)) {
	t.Helper()
	dir = t.TempDir()
	write = func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	resources, err := os.ReadFile(filepath.Join(root, "examples", "kustomize", "resources.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	write("resources.yaml", string(resources))
	return dir, write
}

// functionConfig is a GracefulShutdown that runs graceful as an exec KRM
// function, with args (none: render) and spec (indented two spaces).
func functionConfig(name, args, spec string) string {
	if args != "" {
		args = "\n        args: " + args
	}
	return `apiVersion: graceful.dev/v1alpha1
kind: GracefulShutdown
metadata:
  name: ` + name + `
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ` + graceful + args + `
spec:
` + spec
}

// kustomizeBuild builds dir with exec functions on.
func kustomizeBuild(t *testing.T, kustomize, dir string) result {
	return run(t, nil, "", kustomize, "build", "--enable-alpha-plugins", "--enable-exec", dir)
}
