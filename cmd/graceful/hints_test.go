package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlagHints: an unknown flag on the root suggests the render command
// with the same arguments (a Helm 3 post-renderer without render); on a
// command, the nearest flag and its help.
func TestFlagHints(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--profile=nginx", "--provider=aws"}, []string{"did you mean `graceful render --profile=nginx --provider=aws`?", "Helm 3: pass --post-renderer-args render first"}},
		{[]string{"--nonsense"}, []string{"unknown flag: --nonsense", "Run 'graceful --help'"}},
		{[]string{"render", "--stric"}, []string{"did you mean --strict?", "See 'graceful render --help'"}},
		{[]string{"patches", "--outptu-dir", "x"}, []string{"did you mean --output-dir?", "See 'graceful patches --help'"}},
		{[]string{"completion", "bsh"}, []string{`unknown shell "bsh"`, "bash, fish, powershell, zsh"}},
	} {
		_, _, err := execute("", tc.args...)
		if err == nil {
			t.Errorf("%v: no error", tc.args)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: %q lacks %q", tc.args, err, w)
			}
		}
	}
}

// TestKubectlHints: under kubectl the hints name `kubectl graceful`.
func TestKubectlHints(t *testing.T) {
	for _, args := range [][]string{{"rendr"}, {"--profile=nginx"}, {"render", "--stric"}} {
		var out, errOut bytes.Buffer
		root := newRootCmd(strings.NewReader(""), &out, &errOut, args)
		asKubectlPlugin(root, "/usr/local/bin/kubectl-graceful")
		err := root.Execute()
		if err == nil || !strings.Contains(err.Error(), "kubectl graceful") || strings.Contains(err.Error(), "'graceful") || strings.Contains(err.Error(), "`graceful") {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// TestProfilesAutoNone: auto and none are explained, not "unknown profile";
// a {drain} placeholder is shown expanded.
func TestProfilesAutoNone(t *testing.T) {
	for name, want := range map[string]string{"auto": "picks, for each workload", "none": "leaves a workload unchanged"} {
		out, _, err := execute("", "profiles", name)
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("profiles %s: %q %v", name, out, err)
		}
	}
	out, _, err := execute("", "profiles", "spring-boot")
	if err != nil || strings.Contains(out, "{drain}") || !strings.Contains(out, "TIMEOUTPERSHUTDOWNPHASE=25s (the drain, 25 s; with a rule's grace period: grace − delay − 5 s)") {
		t.Errorf("profiles spring-boot: %s %v", out, err)
	}
}

// TestPathErrors: a missing path, a missing config and a Helm chart
// directory get plain messages.
func TestPathErrors(t *testing.T) {
	chart := writeTree(t, map[string]string{"Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n", "templates/d.yaml": "metadata:\n  name: {{ .Release.Name }}\n"})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"render", "--profile=nginx", "missing.yaml"}, "missing.yaml: no such file or directory"},
		{[]string{"patches", "--profile=nginx", "missing.yaml"}, "missing.yaml: no such file or directory"},
		{[]string{"render", "--config", "nope.yaml"}, "--config nope.yaml: no such file or directory"},
		{[]string{"render", "--profile=nginx", chart}, chart + " is a Helm chart: render it first, e.g. `helm template NAME " + chart + " | graceful render -`"},
		{[]string{"patches", "--profile=nginx", chart}, "| graceful patches -`"},
	} {
		_, _, err := execute("", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "stat ") {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestInPlaceSymlink: --in-place writes through a symlink to its target and
// keeps the link.
func TestInPlaceSymlink(t *testing.T) {
	dir := writeTree(t, map[string]string{"real/web.yaml": deployment})
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(filepath.Join("real", "web.yaml"), link); err != nil {
		t.Fatal(err)
	}
	if _, _, err := execute("", "render", "--in-place", "--profile=nginx", link); err != nil {
		t.Fatal(err)
	}
	info, err := os.Lstat(link)
	if err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", info.Mode(), err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "real/web.yaml"))
	if !strings.Contains(string(data), "preStop") {
		t.Errorf("target not rewritten:\n%s", data)
	}
}

// TestPatchesStrictAndEmpty: patches takes --strict as render does, and
// empty input says so even though it prints a valid, empty shape.
func TestPatchesStrictAndEmpty(t *testing.T) {
	if _, _, err := execute(deployment, "patches", "--profile=tidb", "--strict"); err == nil || exitCode(err) != exitStrict {
		t.Errorf("patches --strict: %v", err)
	}
	out, stderr, err := execute("", "patches", "--profile=nginx", "--quiet")
	if err != nil || !strings.Contains(out, "patches: []") || !strings.Contains(stderr, "no documents, so there are no patches") {
		t.Errorf("empty: %q %q %v", out, stderr, err)
	}
}

// TestPatchesUndrainedNote: patches says, as render does, that a load
// balancer Service was not drained for want of --provider.
func TestPatchesUndrainedNote(t *testing.T) {
	_, stderr, err := execute(deployment+"---\n"+service, "patches", "--profile=nginx")
	if err != nil || !strings.Contains(stderr, "Service web (type LoadBalancer) selects a profiled workload but is not drained: pass --provider") {
		t.Errorf("%q %v", stderr, err)
	}
}
