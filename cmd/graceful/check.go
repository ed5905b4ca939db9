package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/graceful-dev/graceful/audit"
	"github.com/graceful-dev/graceful/internal/plural"
	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/transformers"
)

// checkOptions are the flags of `graceful check`: render's selection (the
// fix is what render would write with it), the output format and the
// severity that fails.
type checkOptions struct {
	renderOptions
	output string
	failOn string
	ignore []string
}

// findingsError is check's "findings at or above --fail-on": exit 1. Every
// other failure of check (flags, config, paths, unreadable input) exits 2, as
// a linter's do: a CI step that tolerates findings must still stop there.
type findingsError struct {
	count     int
	threshold transformers.Severity
}

func (e *findingsError) Error() string {
	return fmt.Sprintf("%s with findings at or above %s (--fail-on)", plural.Count(e.count, "object", "objects"), e.threshold)
}

func newCheckCmd() *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check [PATH|-]...",
		Short: "Audit manifests: what will drop requests when pods stop, and the fix",
		Long: `Audit Kubernetes manifests without changing them: per object, what will drop
requests on a rolling update or a node drain, with a code (GS2xx), the file and
line, and the fix graceful render would write with the same flags.

PATH is a file or a directory (read recursively: .yaml, .yml, .json); "-" or no
PATH reads stdin, e.g. helm template output. Given a KRM ResourceList on stdin,
check is a kustomize validator: the items go out unchanged, the findings in results.

Exit status: 0 no finding at or above --fail-on, 1 some, 2 no check at all: a
bad flag, config or path, or a manifest graceful cannot read (1 is only ever
findings, unlike render's 1 for a bad flag or config).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.paths = args
			return o.run(cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	o.addSelectionFlags(f)
	f.Lookup("profile").DefValue = profiles.Auto
	o.profile = profiles.Auto
	f.StringVarP(&o.output, "output", "o", "text", "output format: text, json or sarif")
	f.StringVar(&o.failOn, "fail-on", "warning", "exit 1 when a finding is at or above this severity: info, warning or error")
	f.StringSliceVar(&o.ignore, "ignore", nil, "check codes not to report, e.g. GS201,GS209 (repeatable); one object's: the annotation "+render.CheckIgnoreAnnotation)
	_ = cmd.RegisterFlagCompletionFunc("output", completeList([]string{"text", "json", "sarif"}))
	_ = cmd.RegisterFlagCompletionFunc("profile", completeProfile)
	_ = cmd.RegisterFlagCompletionFunc("fail-on", completeList([]string{"info", "warning", "error"}))
	return cmd
}

func (o *checkOptions) run(stdin io.Reader, stdout, stderr io.Writer) error {
	threshold, err := audit.ParseSeverity(o.failOn)
	if err != nil {
		return fmt.Errorf("--fail-on: %w", err)
	}
	switch o.output {
	case "text", "json", "sarif":
	default:
		return fmt.Errorf("--output: %q is not a format: text, json or sarif", o.output)
	}
	ropts, err := o.options()
	if err != nil {
		return err
	}
	if _, err := render.New(ropts); err != nil { // every flag checked before any input is read
		return err
	}
	ignore, err := audit.ParseIgnore(o.ignore)
	if err != nil {
		return fmt.Errorf("--ignore: %w", err)
	}
	opts := audit.Options{Render: ropts, Ignore: ignore}
	inputs, err := readInputs(o.paths, stdin, "check")
	if err != nil {
		return err
	}
	if len(o.paths) == 0 && len(inputs) == 1 && render.IsResourceList(inputs[0].Data) {
		var out bytes.Buffer
		report, err := audit.RunValidator(inputs[0].Data, &out, opts)
		if err != nil {
			return err
		}
		if _, err := stdout.Write(out.Bytes()); err != nil {
			return err
		}
		if report.Fails(threshold) {
			// kustomize shows a function's stderr only when it fails.
			_ = report.WriteText(stderr)
			return &findingsError{report.Failing(threshold), threshold}
		}
		return nil
	}
	limitMemory(inputs)
	report, err := audit.Check(inputs, opts)
	if err != nil {
		return err
	}
	switch o.output {
	case "json":
		err = report.WriteJSON(stdout)
	case "sarif":
		wd, _ := os.Getwd()
		err = report.WriteSARIF(stdout, audit.SARIFOptions{BaseDir: wd, Version: versionString()})
	default:
		err = report.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if report.Fails(threshold) {
		return &findingsError{report.Failing(threshold), threshold}
	}
	return nil
}

// checkExitCode: 1 findings at or above --fail-on, 2 anything that kept
// check from reading its input or flags.
func checkExitCode(err error) int {
	var findings *findingsError
	if errors.As(err, &findings) {
		return exitFailure
	}
	return exitBadInput
}
