package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/graceful-dev/graceful/internal/plural"
	"github.com/graceful-dev/graceful/patches"
)

// errStale is the exit of --check when the committed patches differ.
var errStale = errors.New("the committed patches are stale")

// patchesOptions are the flags of `graceful patches`.
type patchesOptions struct {
	renderOptions
	output    string
	outputDir string
	check     string
}

func newPatchesCmd() *cobra.Command {
	o := &patchesOptions{}
	cmd := &cobra.Command{
		Use:   "patches [PATH|-]...",
		Short: "Write the changes render would make as kustomize patches (Flux postRenderers, kustomize)",
		Long: `Write the changes render would make as kustomize patches, one per changed
object, for hosts that run no executable: a Flux HelmRelease's
spec.postRenderers, or a kustomization. Run it on the chart's output and commit
the result; run it again whenever the chart, its version or its values change
(--check tells whether the committed patches are stale).

  helm template shop ./chart -f values.yaml | graceful patches --profile nginx --output flux
  helm template shop ./chart | graceful patches --profile nginx --output-dir k8s/graceful
  helm template shop ./chart | graceful patches --profile nginx --check helmrelease.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.paths = args
			return o.run(cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	o.addSelectionFlags(f)
	f.StringVarP(&o.output, "output", "o", "flux", "shape of the patches on stdout: flux (HelmRelease spec.postRenderers) or kustomize (a kustomization's patches:)")
	f.StringVar(&o.outputDir, "output-dir", "", "write one file per patch and a kustomization.yaml (a kustomize Component) into this directory instead")
	f.StringVar(&o.check, "check", "", "compare with the patches committed in this file or directory (HelmRelease, kustomization, --output-dir); exit 1 when they differ")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "do not print the summary on stderr")
	f.BoolVar(&o.strict, "strict", false, "fail (exit 3, nothing written) when there is any warning, as render --strict")
	return cmd
}

func (o *patchesOptions) run(stdin io.Reader, stdout, stderr io.Writer) error {
	if o.output != "flux" && o.output != "kustomize" {
		return fmt.Errorf("--output %q: want flux or kustomize", o.output)
	}
	r, err := o.renderer()
	if err != nil {
		return err
	}
	if r, err = r.WithoutPDB(); err != nil && !o.quiet {
		fmt.Fprintf(stderr, "graceful patches: %v\n", err)
	}
	inputs, err := readInputs(o.paths, stdin, "patches")
	if err != nil {
		return err
	}
	ps, report, err := patches.Generate(r, inputs)
	if err != nil {
		return err
	}
	if !o.quiet && o.check == "" {
		report.WriteSummary(stderr)
	}
	if report.Documents == 0 {
		// An empty stream is most often a failed command before graceful
		// (a pipe without pipefail): say so even under --quiet or --check.
		fmt.Fprintln(stderr, "graceful: the input holds no documents, so there are no patches: if a command before graceful failed, do not commit this")
	}
	switch {
	case o.check != "":
		committed, err := patches.Read(o.check)
		if err != nil {
			return fmt.Errorf("--check %w", pathError(o.check, err))
		}
		diffs := patches.Compare(committed, ps)
		if len(diffs) == 0 {
			fmt.Fprintf(stderr, "%s: %s, up to date\n", o.check, plural.Count(len(ps), "patch", "patches"))
			return nil
		}
		fmt.Fprintf(stderr, "%s: regenerate with graceful patches:\n  %s\n", o.check, strings.Join(diffs, "\n  "))
		return errStale
	case o.outputDir != "":
		return patches.WriteDir(o.outputDir, ps)
	case o.output == "kustomize":
		return patches.WriteKustomize(stdout, ps)
	default:
		return patches.WriteFlux(stdout, ps)
	}
}
