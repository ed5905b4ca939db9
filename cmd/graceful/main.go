// Command graceful makes Kubernetes workloads shut down without dropping
// requests: a CLI over YAML files, a Helm post-renderer and a kustomize KRM
// function. This package only parses flags; the work is in package render.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/graceful-dev/graceful/render"
)

// version is set by the Makefile (-ldflags "-X main.version=...").
var version = ""

func main() {
	if err := newRootCmd(os.Stdin, os.Stdout, os.Stderr).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "graceful:", err)
		os.Exit(exitCode(err))
	}
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "graceful",
		Short: "Make Kubernetes workloads shut down without dropping requests",
		Long: `graceful adds what a workload needs to stop without dropping requests: a preStop
delay, the right stop signal, a grace period that covers both, in-app settings,
and connection draining on cloud load balancers, by named profile.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		// Without a command, graceful is a KRM function: kustomize runs it
		// with a ResourceList on stdin and no arguments.
		RunE: func(cmd *cobra.Command, _ []string) error {
			if isTerminal(cmd.InOrStdin()) {
				return cmd.Help()
			}
			data, err := io.ReadAll(cmd.InOrStdin())
			if err != nil {
				return err
			}
			if !render.IsResourceList(data) {
				return fmt.Errorf("stdin is not a KRM ResourceList; to rewrite manifests, run `graceful render`")
			}
			return render.RunFunction(bytes.NewReader(data), cmd.OutOrStdout(), render.Options{})
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newRenderCmd(), newProfilesCmd(), newDrillCmd())
	return root
}

// Exit codes, for hosts that hide stderr (Helm 4): 2 is a manifest graceful
// cannot read, 1 anything else (flags, config, files).
const (
	exitFailure  = 1
	exitBadInput = 2
)

func exitCode(err error) int {
	var docErr *render.DocumentError
	if errors.As(err, &docErr) {
		return exitBadInput
	}
	return exitFailure
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func versionString() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "dev"
}
