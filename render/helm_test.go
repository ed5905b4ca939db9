package render_test

import (
	"bytes"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/postrender"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"

	"github.com/graceful-dev/graceful/internal/promises"
	"github.com/graceful-dev/graceful/render"
)

// graceful's Go form is a Helm 3 post-renderer.
var _ postrender.PostRenderer = render.PostRenderer{}

// installDryRun renders the test chart with the Helm v3 SDK, as `helm install
// --dry-run` does, with the given post-renderer (nil for none).
func installDryRun(t *testing.T, pr postrender.PostRenderer) string {
	t.Helper()
	chart, err := loader.Load("../testdata/charts/web")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &action.Configuration{
		Releases:     storage.Init(driver.NewMemory()),
		Capabilities: chartutil.DefaultCapabilities,
		Log:          func(string, ...interface{}) {},
	}
	install := action.NewInstall(cfg)
	install.DryRun, install.ClientOnly, install.Replace = true, true, true
	install.ReleaseName, install.Namespace = "shop", "prod"
	install.KubeVersion = &chartutil.KubeVersion{Version: "v1.33.0", Major: "1", Minor: "33"}
	install.PostRenderer = pr
	rel, err := install.Run(chart, map[string]interface{}{})
	if err != nil {
		t.Fatal(err)
	}
	return rel.Manifest
}

func TestHelmSDKInstall(t *testing.T) {
	r, err := render.New(render.Options{Profile: "nginx", Providers: []string{"aws"}})
	if err != nil {
		t.Fatal(err)
	}
	plain := installDryRun(t, nil)
	out := installDryRun(t, render.PostRenderer{Renderer: r})

	for _, want := range []string{
		"# Source: web/templates/deployment.yaml",
		"sleep:\n                seconds: 5", // nginx:1.27.3 stops with SIGQUIT by itself
		`service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout: "30"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("manifest lacks %q:\n%s", want, out)
		}
	}
	// Helm 3 re-splits the post-rendered stream; every document is still there
	// and the ConfigMap is untouched.
	if err := promises.Check([]byte(plain), []byte(out)); err != nil {
		t.Error(err)
	}
	cm := "# A document graceful leaves alone, byte for byte.\napiVersion: v1\nkind: ConfigMap\n"
	if !strings.Contains(plain, cm) || !strings.Contains(out, cm) {
		t.Error("the ConfigMap changed")
	}
}

// TestHelmSDKError: bad input makes the post-renderer fail: Helm must stop with graceful's
// error, naming the document.
func TestHelmSDKError(t *testing.T) {
	r, _ := render.New(render.Options{Profile: "nginx"})
	_, err := render.PostRenderer{Renderer: r}.Run(bytes.NewBufferString("---\n# Source: web/templates/bad.yaml\n- a\n"))
	if err == nil || !strings.Contains(err.Error(), "web/templates/bad.yaml") {
		t.Fatalf("error %v", err)
	}
}
