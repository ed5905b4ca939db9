package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/graceful-dev/graceful/explain"
	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/timeline"
	"github.com/graceful-dev/graceful/transformers"
)

// explainOptions are the flags of `graceful explain`.
type explainOptions struct {
	renderOptions
	asIs   bool
	output string
}

func newExplainCmd() *cobra.Command {
	o := &explainOptions{}
	cmd := &cobra.Command{
		Use:   "explain [PATH|-]...",
		Short: "Show, per workload, what happens when its pods stop: after render, or as the input stands",
		Long: `Show the shutdown timeline of each workload: the deletion at 0 s, the endpoint
removal, the preStop delay, the stop signal and where it comes from, the
application's drain, SIGKILL at the end of the grace period, the load
balancers' drain and the Istio sidecar's exit, with every conflict marked
(GS301-GS306; GS306: a piece graceful check finds broken, which the timeline
does not count on).

By default the manifests are rendered first, with the same flags as render
(but --profile auto by default, as in check), and the timeline is the one the
pods will have after render. --as-is explains the input unchanged (render's
choice of profile still says how each application drains).

  helm template shop ./chart | graceful explain --profile auto
  graceful explain k8s/ --as-is --output svg > shutdown.svg`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.paths = args
			return o.run(cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	o.addSelectionFlags(f)
	// The same default as check's: explain shows the shutdown check judges.
	f.Lookup("profile").DefValue = profiles.Auto
	o.profile = profiles.Auto
	f.BoolVar(&o.asIs, "as-is", false, "explain the input as it stands, not as render would write it")
	f.StringVarP(&o.output, "output", "o", "text", "text, json or svg (a picture: one row per workload)")
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"text", "json", "svg"}, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("profile", completeProfile)
	_ = cmd.RegisterFlagCompletionFunc("provider", completeList(transformers.ProviderNames()))
	return cmd
}

func (o *explainOptions) run(stdin io.Reader, stdout io.Writer) error {
	write := map[string]func(*timeline.Report, io.Writer) error{
		"text": (*timeline.Report).WriteText, "json": (*timeline.Report).WriteJSON, "svg": (*timeline.Report).WriteSVG,
	}[o.output]
	if write == nil {
		return fmt.Errorf("--output %q: want text, json or svg", o.output)
	}
	opts, err := o.options()
	if err != nil {
		return err
	}
	if _, err := render.New(opts); err != nil { // every flag checked before any input is read
		return err
	}
	inputs, err := readInputs(o.paths, stdin, "explain")
	if err != nil {
		return err
	}
	limitMemory(inputs)
	rep, err := explain.Run(explain.Options{Render: opts, AsIs: o.asIs, Selection: o.selection()}, inputs)
	if err != nil {
		return err
	}
	return write(rep, stdout)
}

// selection says how profiles are chosen for workloads no annotation or
// rule decides, as the reader needs it to compare with check and render.
func (o *explainOptions) selection() string {
	s := "--profile " + o.profile
	if o.profile == profiles.Auto {
		s += " (a profile by image; the default, as graceful check's)"
	}
	if len(o.profileFiles) > 0 {
		s += "; the built-in profiles and those of --profiles " + strings.Join(o.profileFiles, ", ")
	}
	if o.configFile != "" {
		s += "; rules and spec.profiles of " + o.configFile
	}
	return s + "; the annotation graceful.dev/profile wins"
}
