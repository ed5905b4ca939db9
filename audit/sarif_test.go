package audit

import (
	"testing"

	"github.com/graceful-dev/graceful/render"
)

// TestArtifact: a file under the working directory is a URI relative to
// SRCROOT; any other is a file:// URI, never a bare absolute path.
func TestArtifact(t *testing.T) {
	for file, want := range map[string]sarifArtifact{
		"k8s/web.yaml":          {URI: "k8s/web.yaml", URIBaseID: srcRoot},
		"/repo/k8s/my web.yaml": {URI: "k8s/my%20web.yaml", URIBaseID: srcRoot},
		"../other/web.yaml":     {URI: "file:///other/web.yaml"},
		"/elsewhere/web.yaml":   {URI: "file:///elsewhere/web.yaml"},
		"/repo/../repo2/x.yaml": {URI: "file:///repo2/x.yaml"},
		"..data/web.yaml":       {URI: "..data/web.yaml", URIBaseID: srcRoot},
	} {
		got, _ := artifact(render.Ref{File: file}, "/repo")
		if got != want {
			t.Errorf("%s: %+v, want %+v", file, got, want)
		}
	}
}
