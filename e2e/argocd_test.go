package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// cmpGenerate runs examples/argocd/plugin.yaml's generate command as Argo
// CD's CMP server does (cmpserver/plugin/plugin.go, runCommand): command[0]
// executed with command[1:] and args, in the Application's source
// directory, with the sidecar's environment plus the request's (build
// variables, ARGOCD_ENV_*, PARAM_*); stdout is the manifests, with its
// last newline trimmed; stderr only goes into the error.
func cmpGenerate(t *testing.T, appDir string, env []string) (string, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "examples", "argocd", "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var plugin struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Spec       struct {
			Generate struct {
				Command []string `yaml:"command"`
				Args    []string `yaml:"args"`
			} `yaml:"generate"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(data, &plugin); err != nil {
		t.Fatal(err)
	}
	if plugin.APIVersion != "argoproj.io/v1alpha1" || plugin.Kind != "ConfigManagementPlugin" || len(plugin.Spec.Generate.Command) == 0 {
		t.Fatalf("plugin.yaml is not a ConfigManagementPlugin with spec.generate.command")
	}
	c := plugin.Spec.Generate
	cmd := exec.Command(c.Command[0], append(c.Command[1:], c.Args...)...)
	cmd.Dir, cmd.Env = appDir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: stderr.Bytes()}
	}
	return strings.TrimSuffix(stdout.String(), "\n"), nil
}

// TestArgoCDPlugin: the CMP's generate on testdata/charts/web gives what
// `helm template | graceful render` gives, with its settings from the
// Application's plugin env or from its parameters.
func TestArgoCDPlugin(t *testing.T) {
	helm := tool(t, "GRACEFUL_HELM3")
	// The sidecar: sh, helm and graceful on PATH, nothing else of ours.
	bin := t.TempDir()
	for name, target := range map[string]string{"helm": helm, "graceful": graceful} {
		if err := os.Symlink(target, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	home := t.TempDir()
	sidecar := []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + home, "HELM_CACHE_HOME=" + home, "HELM_CONFIG_HOME=" + home, "HELM_DATA_HOME=" + home}
	// The repo server hands the plugin a copy of the Application's source.
	app := filepath.Join(t.TempDir(), "charts", "web")
	if err := os.CopyFS(app, os.DirFS(filepath.Join(root, chart))); err != nil {
		t.Fatal(err)
	}
	build := []string{"ARGOCD_APP_NAME=shop", "ARGOCD_APP_NAMESPACE=prod", "ARGOCD_APP_REVISION=0123abc",
		"ARGOCD_APP_SOURCE_PATH=charts/web", "KUBE_VERSION=1.33", "KUBE_API_VERSIONS=v1,apps/v1"}

	// What the plugin must print: helm template for the cluster's
	// version, through graceful render.
	want := func(kube string, args ...string) string {
		manifests := run(t, sidecar, "", helm, "template", "shop", chart, "--namespace", "prod", "--kube-version", kube+".0").must(t)
		args = append([]string{"render", "--quiet", "--kube-version", kube}, args...)
		return strings.TrimSuffix(run(t, nil, manifests, graceful, args...).must(t), "\n")
	}
	cases := []struct {
		name string
		env  []string
		kube string
		args []string
	}{
		{"plugin env", []string{"ARGOCD_ENV_GRACEFUL_PROFILE=nginx", "ARGOCD_ENV_GRACEFUL_PROVIDER=aws"},
			"1.33", []string{"--profile", "nginx", "--provider", "aws"}},
		// Parameters win over the plugin env and over KUBE_VERSION.
		{"parameters", []string{`ARGOCD_APP_PARAMETERS=[{"name":"profile","string":"spring-boot"},{"name":"kube-version","string":"1.29"}]`,
			"PARAM_PROFILE=spring-boot", "PARAM_KUBE_VERSION=1.29", "ARGOCD_ENV_GRACEFUL_PROFILE=nginx"},
			"1.29", []string{"--profile", "spring-boot"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := append(append(append([]string{}, sidecar...), build...), c.env...)
			got, err := cmpGenerate(t, app, env)
			if err != nil {
				t.Fatalf("generate: %v: %s", err, err.(*exec.ExitError).Stderr)
			}
			want := want(c.kube, c.args...)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("CMP generate differs from helm template | graceful render (-want +got):\n%s", diff)
			}
			if !strings.Contains(got, "preStop") {
				t.Errorf("no preStop hook in the output:\n%s", got)
			}
		})
	}

	// A bad setting fails the generate, with graceful's message on stderr
	// (Argo CD shows it in the UI) and nothing on stdout.
	env := append(append(append([]string{}, sidecar...), build...), "ARGOCD_ENV_GRACEFUL_PROFILE=nginxx")
	if out, err := cmpGenerate(t, app, env); err == nil || !strings.Contains(string(err.(*exec.ExitError).Stderr), "nginxx") || out != "" {
		t.Errorf("want a failed generate naming the profile, got %v, stdout %q", err, out)
	}
}
