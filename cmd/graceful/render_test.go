package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n"
	service    = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: LoadBalancer\n  selector: {app: web}\n"
	configMap  = "# untouched\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestInPlace: a directory is read recursively (.yaml, .yml, .json only), the
// files are rendered together, and only changed files are written, keeping
// their mode.
func TestInPlace(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"app/deployment.yaml": deployment,
		"app/service.yml":     service,
		"app/config.yaml":     configMap,
		"README.md":           "not yaml: [",
		"values.txt":          "not yaml: [",
	})
	before, _ := os.Stat(filepath.Join(dir, "app/config.yaml"))
	stdout, stderr, err := execute("", "render", "--in-place", "--profile=nginx", "--provider=aws", dir)
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "" {
		t.Errorf("--in-place wrote to stdout: %s", stdout)
	}
	if !strings.Contains(stderr, "2 of 3 documents changed") {
		t.Errorf("summary: %s", stderr)
	}
	read := func(name string) string { data, _ := os.ReadFile(filepath.Join(dir, name)); return string(data) }
	if !strings.Contains(read("app/deployment.yaml"), "seconds: 5") {
		t.Error("deployment not rewritten")
	}
	if !strings.Contains(read("app/service.yml"), "aws-load-balancer-connection-draining-timeout") {
		t.Error("service in another file not drained")
	}
	after, _ := os.Stat(filepath.Join(dir, "app/config.yaml"))
	if read("app/config.yaml") != configMap || !after.ModTime().Equal(before.ModTime()) {
		t.Error("an unchanged file was written")
	}
	if info, _ := os.Stat(filepath.Join(dir, "app/deployment.yaml")); info.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", info.Mode().Perm())
	}
	again, _, err := execute("", "render", "--in-place", "--profile=nginx", "--provider=aws", dir)
	if err != nil || again != "" {
		t.Fatal(err)
	}
	if !strings.Contains(read("app/deployment.yaml"), "seconds: 5") || strings.Count(read("app/deployment.yaml"), "preStop") != 1 {
		t.Error("second run changed the files")
	}
}

// TestFilesToStdout: several files become one stream, separated by `---`.
func TestFilesToStdout(t *testing.T) {
	dir := writeTree(t, map[string]string{"a.yaml": configMap, "b.yaml": "---\n" + configMap, "c.json": `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}}`})
	stdout, _, err := execute("", "render", "-q", filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml"), filepath.Join(dir, "c.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := configMap + "---\n" + configMap + "---\n" + `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}}`
	if stdout != want {
		t.Errorf("got:\n%q\nwant:\n%q", stdout, want)
	}
}

// TestErrorWritesNothing: a bad document in one file leaves every file as it was.
func TestErrorWritesNothing(t *testing.T) {
	dir := writeTree(t, map[string]string{"a.yaml": deployment, "b.yaml": "- not an object\n"})
	_, _, err := execute("", "render", "--in-place", "--profile=nginx", dir)
	if err == nil || !strings.Contains(err.Error(), "b.yaml") {
		t.Fatalf("error %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "a.yaml")); string(data) != deployment {
		t.Error("a.yaml was written despite the error")
	}
	if code := exitCode(err); code != exitBadInput {
		t.Errorf("exit code %d", code)
	}
	if _, _, err := execute("", "render", "--in-place", "-"); err == nil {
		t.Error("--in-place with stdin accepted")
	}
}

func TestVersionAndStdinFunction(t *testing.T) {
	out, _, err := execute("", "--version")
	if err != nil || !strings.HasPrefix(out, "graceful version ") {
		t.Errorf("--version: %q %v", out, err)
	}
	if _, _, err := execute(deployment); err == nil || !strings.Contains(err.Error(), "not a KRM ResourceList") {
		t.Errorf("plain stream without a command: %v", err)
	}
}

// TestPathsWithoutManifests: a path that yields no manifests is an error
// naming it; empty stdin is not (Helm may pass an empty stream) but says so.
func TestPathsWithoutManifests(t *testing.T) {
	dir := writeTree(t, map[string]string{"empty/README.md": "# none", "comments.yaml": "# only a comment\n---\n"})
	for _, p := range []string{filepath.Join(dir, "empty"), filepath.Join(dir, "comments.yaml")} {
		_, _, err := execute("", "render", "--profile=nginx", p)
		if err == nil || !strings.Contains(err.Error(), p+": ") || exitCode(err) != exitFailure {
			t.Errorf("%s: error %v", p, err)
		}
	}
	stdout, stderr, err := execute("", "render", "--profile=nginx")
	if err != nil || stdout != "" || !strings.Contains(stderr, "no documents in the input") {
		t.Errorf("empty stdin: %q %q %v", stdout, stderr, err)
	}
}

// TestHelmPluginArguments: under Helm 4, plugin.yaml already runs `render`;
// the Helm 3 habit `--post-renderer-args render` is skipped, a path is refused.
func TestHelmPluginArguments(t *testing.T) {
	stdout, _, err := execute(deployment, "render", "--quiet", "--helm-plugin", "render", "--profile=generic-http")
	if err != nil || !strings.Contains(stdout, "seconds: 5") {
		t.Errorf("positional render: %v\n%s", err, stdout)
	}
	_, _, err = execute(deployment, "render", "--quiet", "--helm-plugin", "./chart")
	if err == nil || !strings.Contains(err.Error(), `remove "./chart" from --post-renderer-args`) {
		t.Errorf("path under Helm 4: %v", err)
	}
	data, _ := os.ReadFile("../../plugin.yaml")
	if !strings.Contains(string(data), "--helm-plugin") {
		t.Error("plugin.yaml does not pass --helm-plugin")
	}
}

// TestStrict: warnings fail the run with exit 3 and nothing on stdout.
func TestStrict(t *testing.T) {
	stdout, _, err := execute(deployment, "render", "--strict")
	if err == nil || stdout != "" || exitCode(err) != exitStrict || !strings.Contains(err.Error(), "no workload selected a profile") {
		t.Errorf("stdout %q, error %v", stdout, err)
	}
	if _, _, err := execute(deployment, "render", "--strict", "--profile=nginx"); err != nil {
		t.Errorf("a run without warnings failed: %v", err)
	}
}

// TestSuggestionsAndCompletion: a mistyped command gets a suggestion, and
// --profile and --provider complete their values.
func TestSuggestionsAndCompletion(t *testing.T) {
	if _, _, err := execute("", "rendr"); err == nil || !strings.Contains(err.Error(), "did you mean render?") {
		t.Errorf("rendr: %v", err)
	}
	out, _, err := execute("", "__complete", "render", "--profile", "")
	if err != nil || !strings.Contains(out, "nginx\n") || !strings.Contains(out, "spring-boot\n") {
		t.Errorf("profile completion: %q %v", out, err)
	}
	// User profiles complete where --profiles or --config names them.
	out, _, err = execute("", "__complete", "explain", "--profiles", "../../testdata/profiles-list/profiles/ledger.yaml", "--profile", "")
	if err != nil || !strings.Contains(out, "ledger\n") || !strings.Contains(out, "auto\n") {
		t.Errorf("profile completion with --profiles: %q %v", out, err)
	}
	out, _, err = execute("", "__complete", "profiles", "--config", "../../testdata/profiles-list-config/config.yaml", "")
	if err != nil || !strings.Contains(out, "nginx-slow-lb\n") || strings.Contains(out, "auto\n") {
		t.Errorf("profiles NAME completion with --config: %q %v", out, err)
	}
	out, _, err = execute("", "__complete", "render", "--provider", "aws,")
	if err != nil || !strings.Contains(out, "aws,aws-lbc\n") {
		t.Errorf("provider completion: %q %v", out, err)
	}
	if out, _, err := execute("", "completion", "bash"); err != nil || !strings.Contains(out, "bash completion") {
		t.Errorf("completion bash: %v", err)
	}
}
