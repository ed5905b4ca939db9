package cluster

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestBuildImages imports the drill's images into a running cluster's
// containerd (GRACEFUL_CLUSTER_CTR="ctr --address ... -n k8s.io").
func TestBuildImages(t *testing.T) {
	ctr := os.Getenv("GRACEFUL_CLUSTER_CTR")
	if ctr == "" {
		t.Skip("GRACEFUL_CLUSTER_CTR not set")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	if err := BuildImages(root, t.TempDir(), strings.Fields(ctr)); err != nil {
		t.Fatal(err)
	}
}
