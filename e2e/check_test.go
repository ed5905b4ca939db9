package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckHelmTemplate: graceful check in CI on the real Helm 3's
// `helm template` output: findings and exit 1; after graceful render as the
// post-renderer (with --pdb: the chart runs 2 replicas), the same chart is
// clean (exit 0).
func TestCheckHelmTemplate(t *testing.T) {
	helm := tool(t, "GRACEFUL_HELM3")
	env := helmEnv(t)
	args := []string{"template", "shop", chart, "--namespace", "prod", "--kube-version", "1.33.0"}
	manifests := run(t, env, "", helm, args...).must(t)

	found := run(t, nil, manifests, graceful, "check", "--provider=aws", "--output=json", "-")
	if code := exitCode(found.err); code != 1 {
		t.Fatalf("want exit 1 (findings), got %d: %s", code, found.stderr)
	}
	var report struct {
		Objects []struct {
			Source   string
			Kind     string
			Findings []struct{ Code string }
		}
	}
	if err := json.Unmarshal([]byte(found.stdout), &report); err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, o := range report.Objects {
		for _, f := range o.Findings {
			codes[f.Code] = o.Source
		}
	}
	if codes["GS201"] != "web/templates/deployment.yaml" || codes["GS203"] != "web/templates/service.yaml" {
		t.Errorf("want GS201 on the Deployment and GS203 on the Service, by their # Source: files; got %v", codes)
	}

	// SARIF names Helm's template files.
	sarif := run(t, nil, manifests, graceful, "check", "--provider=aws", "--output=sarif")
	if !strings.Contains(sarif.stdout, `"uri": "web/templates/deployment.yaml"`) {
		t.Errorf("SARIF lacks the template's file:\n%s", sarif.stdout)
	}

	fixed := run(t, env, "", helm, append(args, "--post-renderer", graceful, "--post-renderer-args", "render",
		"--post-renderer-args", "--profile=auto", "--post-renderer-args", "--provider=aws", "--post-renderer-args", "--pdb")...).must(t)
	if !strings.Contains(fixed, "kind: PodDisruptionBudget") {
		t.Errorf("render --pdb as Helm's post-renderer added no PodDisruptionBudget:\n%s", fixed)
	}
	clean := run(t, nil, fixed, graceful, "check", "--provider=aws")
	if code := exitCode(clean.err); code != 0 {
		t.Errorf("after graceful render the chart should be clean, got exit %d:\n%s", code, clean.stdout)
	}

	bad := run(t, nil, "kind: [", graceful, "check")
	if code := exitCode(bad.err); code != 2 {
		t.Errorf("unreadable input: want exit 2, got %d", code)
	}
}

// TestCheckKustomizeValidator: graceful check as an exec KRM function under
// the real kustomize. In validators: a finding fails the build with check's
// report. kustomize 5.8 rejects every exec validator that succeeds (its
// function runner adds config.kubernetes.io/path to the items, and the
// validator check then sees them changed: kustomize#5036), so a clean run
// goes in transformers:, where check passes the items on unchanged.
func TestCheckKustomizeValidator(t *testing.T) {
	kustomize := tool(t, "GRACEFUL_KUSTOMIZE")
	dir, write := kustomizeDir(t)
	write("check.yaml", functionConfig("check", "[check]", "  provider: aws\n"))
	write("kustomization.yaml", "resources: [resources.yaml]\nvalidators: [check.yaml]\n")
	failed := kustomizeBuild(t, kustomize, dir)
	if failed.err == nil || !strings.Contains(failed.stderr, "GS201") || !strings.Contains(failed.stderr, "GS203") {
		t.Fatalf("want the build to fail with check's findings, got %v:\n%s", failed.err, failed.stderr)
	}

	// kustomize#5036: a validator that succeeds is refused. When kustomize
	// fixes it, this fails: then say so in the README.
	write("kustomization.yaml", "resources: [resources.yaml]\nvalidators: [check.yaml]\n")
	write("check.yaml", strings.Replace(readText(t, filepath.Join(dir, "check.yaml")), "args: [check]", "args: [check, --fail-on=error]", 1))
	passing := kustomizeBuild(t, kustomize, dir)
	if passing.err == nil || !strings.Contains(passing.stderr, "validator shouldn't modify the resource map") {
		t.Errorf("kustomize now accepts a passing exec validator (kustomize#5036 fixed?): %v\n%s", passing.err, passing.stderr)
	}

	// As a transformer, a passing check leaves the build exactly as without it.
	write("kustomization.yaml", "resources: [resources.yaml]\ntransformers: [check.yaml]\n")
	with := kustomizeBuild(t, kustomize, dir).must(t)
	write("kustomization.yaml", "resources: [resources.yaml]\n")
	without := run(t, nil, "", kustomize, "build", dir).must(t)
	if with != without {
		t.Errorf("check changed the items:\n%s\nwant:\n%s", with, without)
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
