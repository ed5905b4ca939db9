package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/graceful-dev/graceful/profiles"
)

func newProfilesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "profiles",
		Short: "List the profiles and their settings",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "PROFILE\tPRESTOP DELAY\tSTOP SIGNAL\tDRAIN\tGRACE PERIOD\tIMAGES\tDESCRIPTION")
			for _, name := range profiles.Names() {
				p, _ := profiles.Get(name)
				images := strings.Join(p.Images, ",")
				if images == "" {
					images = "(any)"
				}
				fmt.Fprintf(w, "%s\t%ds\t%s\t%ds\t%ds\t%s\t%s\n", p.Name, p.PreStopDelaySeconds, p.StopSignal,
					p.DrainSeconds, p.TerminationGracePeriodSeconds, images, p.Description)
			}
			return w.Flush()
		},
	}
}
