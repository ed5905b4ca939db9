package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/graceful-dev/graceful/explain"
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
(GS301-GS305).

By default the manifests are rendered first, with the same flags as render,
and the timeline is the one the pods will have after render. --as-is explains
the input unchanged (render's choice of profile still says how each
application drains).

  helm template shop ./chart | graceful explain --profile auto
  graceful explain k8s/ --as-is --output svg > shutdown.svg`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.paths = args
			return o.run(cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	o.addSelectionFlags(f)
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
	r, err := render.New(opts)
	if err != nil {
		return err
	}
	inputs, err := readInputs(o.paths, stdin, "explain")
	if err != nil {
		return err
	}
	limitMemory(inputs)
	rep, err := explain.Run(r, inputs, o.asIs, opts.ProviderNames())
	if err != nil {
		return err
	}
	return write(rep, stdout)
}
