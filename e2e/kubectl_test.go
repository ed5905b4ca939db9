package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestKubectlPlugin: the real kubectl finds graceful on PATH as
// kubectl-graceful, runs it with the same output as graceful itself, and
// help names the command `kubectl graceful`.
func TestKubectlPlugin(t *testing.T) {
	kubectl := tool(t, "GRACEFUL_KUBECTL")
	bin := t.TempDir()
	if err := os.Symlink(graceful, filepath.Join(bin, "kubectl-graceful")); err != nil {
		t.Fatal(err)
	}
	// Only the plugin's directory and the system's on PATH, and a home
	// without a kubeconfig: nothing of the machine's own kubectl setup.
	env := []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + t.TempDir(), "KUBECONFIG="}

	list := run(t, env, "", kubectl, "plugin", "list").must(t)
	if !strings.Contains(list, filepath.Join(bin, "kubectl-graceful")) {
		t.Errorf("kubectl plugin list does not find kubectl-graceful:\n%s", list)
	}
	args := []string{"render", "--profile", "nginx", "--provider", "aws", "examples/manifests/web.yaml"}
	viaKubectl := run(t, env, "", kubectl, append([]string{"graceful"}, args...)...)
	direct := run(t, nil, "", graceful, args...)
	if viaKubectl.must(t) != direct.must(t) || viaKubectl.stderr != direct.stderr {
		t.Errorf("kubectl graceful differs from graceful:\n%s\n%s\nvs\n%s\n%s", viaKubectl.stdout, viaKubectl.stderr, direct.stdout, direct.stderr)
	}
	if direct.stdout == "" {
		t.Error("no output")
	}
	help := run(t, env, "", kubectl, "graceful", "render", "--help").must(t)
	if !strings.Contains(help, "kubectl graceful render [PATH|-]...") {
		t.Errorf("help does not say `kubectl graceful render`:\n%s", help)
	}
	if plain := run(t, nil, "", graceful, "render", "--help").must(t); strings.Contains(plain, "kubectl graceful") {
		t.Errorf("graceful's own help says kubectl:\n%s", plain)
	}
}

// TestKrewManifest: plugins/graceful.yaml has what krew requires of a
// plugin manifest (pkg/index/validation in kubernetes-sigs/krew).
func TestKrewManifest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "plugins", "graceful.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			Version          string `yaml:"version"`
			Homepage         string `yaml:"homepage"`
			ShortDescription string `yaml:"shortDescription"`
			Description      string `yaml:"description"`
			Platforms        []struct {
				Selector struct {
					MatchLabels map[string]string `yaml:"matchLabels"`
				} `yaml:"selector"`
				URI    string `yaml:"uri"`
				Sha256 string `yaml:"sha256"`
				Bin    string `yaml:"bin"`
			} `yaml:"platforms"`
		} `yaml:"spec"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	check := func(ok bool, what string) {
		t.Helper()
		if !ok {
			t.Errorf("krew manifest: %s", what)
		}
	}
	check(m.APIVersion == "krew.googlecontainertools.github.com/v1alpha2", "apiVersion")
	check(m.Kind == "Plugin", "kind Plugin")
	check(m.Metadata.Name == "graceful", "metadata.name graceful (the plugin is called as kubectl graceful)")
	check(regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(m.Spec.Version), "spec.version vX.Y.Z")
	check(m.Spec.ShortDescription != "" && len(m.Spec.ShortDescription) <= 50, "spec.shortDescription, at most 50 characters")
	check(m.Spec.Homepage != "" && m.Spec.Description != "", "spec.homepage and spec.description")
	check(len(m.Spec.Platforms) > 0, "spec.platforms")
	for i, p := range m.Spec.Platforms {
		check(p.Selector.MatchLabels["os"] != "" && p.Selector.MatchLabels["arch"] != "", "platform selector os and arch")
		check(strings.HasPrefix(p.URI, "https://") && strings.Contains(p.URI, m.Spec.Version), "platform uri: https, of this version")
		check(regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(p.Sha256), "platform sha256: 64 hex digits")
		check(p.Bin == "kubectl-graceful", "platform bin kubectl-graceful")
		_ = i
	}
}
