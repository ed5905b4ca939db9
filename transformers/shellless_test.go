package transformers

import "testing"

func TestShelllessImage(t *testing.T) {
	for image, want := range map[string]string{
		"gcr.io/distroless/static-debian12":                   "sure",
		"gcr.io/distroless/base:debug":                        "",
		"quay.io/prometheus/node-exporter:v1.12.1-distroless": "sure",
		"example.com/distroless/pingcap/tidb:v8":              "sure",
		"envoyproxy/envoy-distroless:v1.32-latest":            "sure",
		"paketobuildpacks/run-tiny:latest":                    "sure",
		"cgr.dev/chainguard/nginx:latest":                     "maybe",
		"cgr.dev/chainguard/nginx:latest-dev":                 "",
		"example.com/base/static:1":                           "maybe",
		"nginx:1.27":                                          "",
		"":                                                    "",
	} {
		sure, why := ShelllessImage(image)
		got := map[bool]string{true: "sure", false: "maybe"}[sure]
		if why == "" {
			got = ""
		}
		if got != want {
			t.Errorf("%q: got %q (%s), want %q", image, got, why, want)
		}
	}
	if !ShelllessLacks("/bin/sh") || !ShelllessLacks("sleep") || ShelllessLacks("/nginx") {
		t.Error("ShelllessLacks")
	}
}
