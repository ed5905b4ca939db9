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
	"strings"

	"github.com/spf13/cobra"

	"github.com/graceful-dev/graceful/render"
)

// version is set by the Makefile (-ldflags "-X main.version=...").
var version = ""

func main() {
	root := newRootCmd(os.Stdin, os.Stdout, os.Stderr, os.Args[1:])
	if cmd, err := root.ExecuteC(); err != nil {
		fmt.Fprintln(os.Stderr, root.DisplayName()+":", err)
		if cmd != nil && cmd.Name() == "check" {
			os.Exit(checkExitCode(err))
		}
		os.Exit(exitCode(err))
	}
}

// newRootCmd builds the command line for args; flag errors quote them back.
func newRootCmd(stdin io.Reader, stdout, stderr io.Writer, args []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "graceful",
		Short: "Make Kubernetes workloads shut down without dropping requests",
		Long: `graceful adds what a workload needs to stop without dropping requests: a preStop
delay, the right stop signal, a grace period that covers both, in-app settings,
and connection draining on cloud load balancers, by named profile.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// The root takes no arguments; a word is a mistyped command. Cobra
		// suggests commands only for a root without RunE, so say it here.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, " or ") + "?"
			}
			return errors.New(msg + "\nRun '" + cmd.CommandPath() + " --help' for the commands")
		},
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
			limitMemory([]render.Input{{Data: data}})
			return render.RunFunction(bytes.NewReader(data), cmd.OutOrStdout(), render.Options{})
		},
	}
	root.SuggestionsMinimumDistance = 2
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newRenderCmd(), newCheckCmd(), newExplainCmd(), newProfilesCmd(), newPatchesCmd(), newDrillCmd())
	root.SetFlagErrorFunc(flagError(args))
	strictCompletion(root)
	asKubectlPlugin(root, os.Args[0])
	root.SetArgs(args)
	return root
}

// Exit codes, for hosts that hide stderr (Helm 4): 2 is a manifest graceful
// cannot read, 3 warnings that --strict made fatal, 1 anything else (flags,
// config, files).
const (
	exitFailure  = 1
	exitBadInput = 2
	exitStrict   = 3
)

func exitCode(err error) int {
	var docErr *render.DocumentError
	var strictErr *render.StrictError
	switch {
	case errors.As(err, &docErr):
		return exitBadInput
	case errors.As(err, &strictErr):
		return exitStrict
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
