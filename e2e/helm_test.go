package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graceful-dev/graceful/internal/promises"
)

const chart = "testdata/charts/web"

// helmEnv keeps each Helm run's plugins, config and cache in a fresh folder.
func helmEnv(t *testing.T) []string {
	dir := t.TempDir()
	return []string{
		"HELM_DATA_HOME=" + filepath.Join(dir, "data"),
		"HELM_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"HELM_CACHE_HOME=" + filepath.Join(dir, "cache"),
	}
}

// The chart's test hook is selected by a rule, to show which Helm hands
// hooks to its post-renderer: Helm 3 does not, Helm 4 does.
const hookRule = "e2e/testdata/select-hook.yaml"

// TestHelm3PostRenderer: examples/helm3/run.sh, `helm template
// --post-renderer ./bin/graceful` as the README shows it for Helm 3.
func TestHelm3PostRenderer(t *testing.T) {
	helm := tool(t, "GRACEFUL_HELM3")
	env := append(helmEnv(t), "HELM="+helm)
	args := []string{"template", "shop", chart, "--namespace", "prod", "--kube-version", "1.33.0"}
	plain := run(t, env, "", helm, args...).must(t)
	out := run(t, env, "", "examples/helm3/run.sh", "--post-renderer-args", "--config="+hookRule).must(t)
	golden(t, "helm3.yaml", out)

	// The main manifests keep every document, and the hook comes out untouched.
	if err := promises.Check([]byte(plain), []byte(out)); err != nil {
		t.Error(err)
	}
	hook := "# Source: web/templates/tests/test-connection.yaml"
	if tail(plain, hook) != tail(out, hook) {
		t.Error("Helm 3 post-rendered the hook")
	}

	// An error stops Helm, and Helm shows graceful's message.
	bad := run(t, env, "", helm, append(args, "--post-renderer", graceful,
		"--post-renderer-args", "render", "--post-renderer-args", "--profile=ngnix")...)
	if bad.err == nil || !strings.Contains(bad.stderr, `unknown profile "ngnix"`) {
		t.Errorf("want helm to fail with graceful's message, got %v:\n%s", bad.err, bad.stderr)
	}
}

// TestHelm4Plugin: examples/helm4/run.sh, `helm plugin install .` then
// `--post-renderer graceful` as the README shows it for Helm 4. Hooks are
// post-rendered too, and Helm's postrender-filename annotation survives, so
// --output-dir writes the chart's file names.
func TestHelm4Plugin(t *testing.T) {
	helm := tool(t, "GRACEFUL_HELM4")
	if filepath.Clean(graceful) != filepath.Join(root, "bin", "graceful") {
		t.Fatalf("the plugin runs bin/graceful; GRACEFUL_BIN is %s", graceful)
	}
	env := append(helmEnv(t), "HELM="+helm)
	out := run(t, env, "", "examples/helm4/run.sh", "--post-renderer-args", "--config="+hookRule).must(t)
	golden(t, "helm4.yaml", out)
	list := run(t, env, "", helm, "plugin", "list").must(t)
	if !strings.Contains(list, "graceful") || !strings.Contains(list, "postrenderer/v1") {
		t.Fatalf("plugin not registered:\n%s", list)
	}
	args := []string{"template", "shop", chart, "--post-renderer", "graceful", "--post-renderer-args", "--profile=nginx"}
	if !strings.Contains(tail(out, "# Source: web/templates/tests/test-connection.yaml"), "preStop") {
		t.Error("Helm 4 did not post-render the hook")
	}

	dir := t.TempDir()
	run(t, env, "", helm, append(args, "--output-dir", dir)...).must(t)
	for _, f := range []string{"deployment.yaml", "service.yaml", "configmap.yaml", "tests/test-connection.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, "web", "templates", f)); err != nil {
			t.Errorf("--output-dir lost the file name of %s: %v", f, err)
		}
	}

	// The Helm 3 habit: `--post-renderer-args render` arrives as a positional
	// argument after plugin.yaml's own `render`; graceful skips it.
	habit := run(t, env, "", helm, "template", "shop", chart, "--post-renderer", "graceful",
		"--post-renderer-args", "render", "--post-renderer-args", "--profile=nginx").must(t)
	if !strings.Contains(habit, "seconds: 5") {
		t.Errorf("--post-renderer-args render under Helm 4:\n%s", habit)
	}
	// --strict makes a warning fail the release, as Helm 4 shows no warnings.
	strict := run(t, env, "", helm, "template", "shop", chart, "--post-renderer", "graceful", "--post-renderer-args", "--strict")
	if strict.err == nil || !strings.Contains(strict.stderr, `plugin "graceful" exited with error`) {
		t.Errorf("--strict with no profile selected: %v\n%s", strict.err, strict.stderr)
	}

	// Helm 4 hides the plugin's stderr: the failure is the exit status.
	bad := run(t, env, "", helm, "template", "shop", chart, "--post-renderer", "graceful",
		"--post-renderer-args", "--profile=ngnix")
	if bad.err == nil || !strings.Contains(bad.stderr, `plugin "graceful" exited with error`) {
		t.Errorf("want helm to fail naming the plugin, got %v:\n%s", bad.err, bad.stderr)
	}
}

// TestHelmUserProfiles: a user's ShutdownProfile (base: nginx) through
// --post-renderer-args, under Helm 3 (the binary) and Helm 4 (the plugin,
// which appends --post-renderer-args to plugin.yaml's args unexpanded).
// Neither Helm sets the post-renderer's working directory: a relative
// --profiles path is relative to where helm runs, not to the chart.
func TestHelmUserProfiles(t *testing.T) {
	helm3, helm4 := tool(t, "GRACEFUL_HELM3"), tool(t, "GRACEFUL_HELM4")
	work := t.TempDir()
	profile, err := os.ReadFile(filepath.Join(root, "e2e", "testdata", "profiles", "nginx-slow-lb.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(work, "team"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "team", "shutdown.yaml"), profile, 0o644); err != nil {
		t.Fatal(err)
	}
	template := []string{"template", "shop", filepath.Join(root, chart), "--namespace", "prod", "--kube-version", "1.33.0"}
	userArgs := []string{"--post-renderer-args", "--profiles=team/shutdown.yaml", "--post-renderer-args", "--profile=nginx-slow-lb"}

	env3 := helmEnv(t)
	args3 := append(append(slices.Clone(template), "--post-renderer", graceful, "--post-renderer-args", "render"), userArgs...)
	out3 := runIn(t, work, env3, "", helm3, args3...).must(t)
	golden(t, "helm3-user-profile.yaml", out3)

	env4 := helmEnv(t)
	run(t, env4, "", helm4, "plugin", "install", root).must(t)
	args4 := append(append(slices.Clone(template), "--post-renderer", "graceful"), userArgs...)
	out4 := runIn(t, work, env4, "", helm4, args4...).must(t)
	golden(t, "helm4-user-profile.yaml", out4)

	for name, out := range map[string]string{"Helm 3": out3, "Helm 4": out4} {
		if !strings.Contains(out, "seconds: 15") || !strings.Contains(out, "terminationGracePeriodSeconds: 40") {
			t.Errorf("%s: the user's profile (15 s delay, 40 s grace) did not apply:\n%s", name, out)
		}
	}
	// From another directory the same relative path names nothing: both fail.
	if bad := run(t, env3, "", helm3, args3...); bad.err == nil || !strings.Contains(bad.stderr, "team/shutdown.yaml") {
		t.Errorf("Helm 3 from the repository root: want graceful to fail on team/shutdown.yaml, got %v:\n%s", bad.err, bad.stderr)
	}
	if bad := run(t, env4, "", helm4, args4...); bad.err == nil {
		t.Errorf("Helm 4 from the repository root: want the plugin to fail, got:\n%s", bad.stdout)
	}
}

// tail is the text of a stream from the line that starts a document's source on.
func tail(stream, source string) string {
	i := strings.Index(stream, source)
	if i < 0 {
		return ""
	}
	rest := stream[i:]
	if j := strings.Index(rest, "\n---"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// TestHelm4PluginKeepsHelm3Working: examples/helm4/run.sh, run without a
// HELM_DATA_HOME, installs the plugin into a folder of Helm 4's own, so Helm 3
// (which cannot load a Helm 4 plugin) keeps working; the link is named after
// the checkout's directory, and `helm plugin uninstall graceful` removes it.
func TestHelm4PluginKeepsHelm3Working(t *testing.T) {
	helm3, helm4 := tool(t, "GRACEFUL_HELM3"), tool(t, "GRACEFUL_HELM4")
	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_DATA_HOME=", "XDG_CONFIG_HOME=", "XDG_CACHE_HOME=", "HELM_DATA_HOME=",
		"HELM_CONFIG_HOME=" + filepath.Join(home, "config"), "HELM_CACHE_HOME=" + filepath.Join(home, "cache")}
	run(t, append(env, "HELM="+helm4), "", "examples/helm4/run.sh").must(t)
	if list := run(t, env, "", helm3, "plugin", "list"); list.err != nil {
		t.Fatalf("Helm 3 broke after examples/helm4/run.sh: %v\n%s", list.err, list.stderr)
	}
	link := filepath.Join(home, ".local", "share", "helm4", "plugins", filepath.Base(root))
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("plugin link %s: %v", link, err)
	}
	helm4Data := "HELM_DATA_HOME=" + filepath.Join(home, ".local", "share", "helm4")
	run(t, append(env, helm4Data), "", helm4, "plugin", "uninstall", "graceful").must(t)
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Errorf("uninstall left %s: %v", link, err)
	}
}
