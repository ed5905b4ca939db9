package main

import (
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// asKubectlPlugin makes usage and help say `kubectl graceful` when kubectl
// runs the binary as a plugin: it finds plugins on PATH by their file name,
// kubectl-graceful, and starts them under that name.
func asKubectlPlugin(root *cobra.Command, argv0 string) {
	if strings.HasPrefix(filepath.Base(argv0), "kubectl-") {
		if root.Annotations == nil {
			root.Annotations = map[string]string{}
		}
		root.Annotations[cobra.CommandDisplayNameAnnotation] = "kubectl graceful"
	}
}
