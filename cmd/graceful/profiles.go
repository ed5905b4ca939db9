package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/graceful-dev/graceful/profiles"
)

func newProfilesCmd() *cobra.Command {
	var sources bool
	var files []string
	var configFile string
	cmd := &cobra.Command{
		Use:   "profiles [NAME]",
		Short: "List the profiles and their settings, or show one in detail",
		Long: "Without NAME: one line per profile. With NAME: every setting of that profile, what the user may set in the\n" +
			"application, and the sources its facts come from. --sources lists every profile's sources.\n" +
			"--profiles adds your own ShutdownProfile files, --config a GracefulShutdown's spec.profiles, and an ORIGIN column.",
		Args: cobra.MaximumNArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
			names, directive := completeProfile(cmd, args, prefix)
			return names[:len(names)-2], directive // auto and none are not profiles
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			catalog, err := allProfiles(files, configFile)
			if err != nil {
				return err
			}
			switch {
			case len(args) == 1 && args[0] == profiles.Auto:
				fmt.Fprintf(out, "%s is not a profile: --profile %s (or the annotation or a rule's profile: %s) picks, for each workload,\n"+
					"the profile whose images fit its containers (the IMAGES column of graceful profiles), and leaves alone\n"+
					"a workload that fits none or several.\n", profiles.Auto, profiles.Auto, profiles.Auto)
				return nil
			case len(args) == 1 && args[0] == profiles.None:
				fmt.Fprintf(out, "%s is not a profile: it leaves a workload unchanged. Put the annotation graceful.dev/profile: %s on a\n"+
					"workload, or a rule's profile: %s, to keep graceful away from it while --profile applies to the rest.\n", profiles.None, profiles.None, profiles.None)
				return nil
			case len(args) == 1:
				p, err := catalog.Lookup(args[0])
				if err != nil {
					return err
				}
				printProfile(out, p)
				return nil
			case sources:
				for _, name := range catalog.Names() {
					p, _ := catalog.Get(name)
					for _, s := range p.Sources {
						fmt.Fprintf(out, "%s: %s\n", p.Name, s)
					}
				}
				return nil
			}
			return printProfiles(out, catalog)
		},
	}
	cmd.Flags().BoolVar(&sources, "sources", false, "list every profile's sources, one line each")
	addProfilesFlag(cmd.Flags(), &files)
	cmd.Flags().StringVar(&configFile, "config", "", "a GracefulShutdown config: its own profiles (spec.profiles) are listed too")
	return cmd
}

// printProfiles lists the catalog; with profiles of the user's, an ORIGIN
// column says where each came from (a column that says built-in on every
// line says nothing).
func printProfiles(out io.Writer, catalog *profiles.Catalog) error {
	names := catalog.Names()
	withOrigin := slices.ContainsFunc(names, func(n string) bool {
		p, _ := catalog.Get(n)
		return p.Origin != profiles.BuiltinOrigin
	})
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	header := "PROFILE\tPRESTOP DELAY\tSTOP SIGNAL\tDRAIN\tGRACE PERIOD\tIMAGES\tDESCRIPTION"
	if withOrigin {
		header = "PROFILE\tORIGIN\t" + strings.TrimPrefix(header, "PROFILE\t")
	}
	fmt.Fprintln(w, header)
	for _, name := range names {
		p, _ := catalog.Get(name)
		images := strings.Join(p.Images, ",")
		if images == "" {
			images = "(any)"
		}
		origin := ""
		if withOrigin {
			origin = p.Origin + "\t"
		}
		fmt.Fprintf(w, "%s\t%s%ds\t%s\t%ds\t%ds\t%s\t%s\n", p.Name, origin, p.PreStopDelaySeconds, p.StopSignal,
			p.DrainSeconds, p.TerminationGracePeriodSeconds, images, p.Description)
	}
	return w.Flush()
}

// printProfile shows one profile with everything an SRE needs to check its reasoning.
func printProfile(out io.Writer, p *profiles.Profile) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(out, "%-22s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	line("profile", "%s", p.Name)
	line("origin", "%s", p.Origin)
	if p.Base != "" {
		line("base", "%s (the fields the file gives replace its, lists whole)", p.Base)
	}
	line("description", "%s", p.Description)
	images := strings.Join(p.Images, ", ")
	if images == "" {
		images = "(none: applies to the containers it is given, never chosen by --profile auto)"
	}
	line("images", "%s", images)
	line("preStop delay", "%d s", p.PreStopDelaySeconds)
	line("drain", "%d s", p.DrainSeconds)
	if p.HeadroomSeconds > 0 {
		line("headroom", "%d s", p.HeadroomSeconds)
	}
	line("grace period", "%d s", p.TerminationGracePeriodSeconds)
	// As render decides (transformers' preStopHook): validation refuses a
	// signal other than SIGTERM without signalPID1, so nothing else is true.
	delivery := "the kubelet's own SIGTERM"
	if p.SignalPID1 {
		delivery = "the preStop hook sends it to PID 1 after the delay and waits for the exit, on a container whose image fits (or that you name) where PID 1 is the application; lifecycle.stopSignal instead with --stop-signal-field"
		var known []string
		for _, k := range p.ImageStopSignals {
			images := strings.Join(k.Images, ", ")
			if k.TagPattern != "" {
				images += " tags " + k.TagPattern
			}
			if k.MinVersion != "" {
				images += " " + k.MinVersion + "+"
			}
			known = append(known, images)
		}
		if len(known) > 0 {
			delivery += "; a delay alone where the image stops with it already (STOPSIGNAL): " + strings.Join(known, "; ")
		}
	}
	line("stop signal", "%s (%s)", p.StopSignal, delivery)
	if len(p.DrainingSignals) > 0 {
		if p.DrainingSignalsSeconds > 0 {
			line("also drains on", "%s (at most %d s)", strings.Join(p.DrainingSignals, ", "), p.DrainingSignalsSeconds)
		} else {
			line("also drains on", "%s", strings.Join(p.DrainingSignals, ", "))
		}
	}
	if len(p.ForbiddenSignals) > 0 {
		line("never", "%s", strings.Join(p.ForbiddenSignals, ", "))
	}
	for _, c := range p.Requires {
		line("requires", "%s", c.Message)
	}
	for _, c := range p.UnsafeWhen {
		line("left alone when", "%s", c.Message)
	}
	for _, d := range p.DrainFlags {
		where := "command and args"
		if d.Env != "" {
			where = "env " + d.Env
		}
		line("drain read from", "%s matching %s", where, d.Pattern)
	}
	for _, e := range p.Env {
		value := e.Value
		if strings.Contains(value, "{drain}") {
			// The placeholder is the drain seconds: show what it becomes.
			rest := "grace − delay"
			if p.HeadroomSeconds > 0 {
				rest += fmt.Sprintf(" − %d s", p.HeadroomSeconds)
			}
			value = profiles.ExpandEnvValue(value, p.DrainSeconds) + fmt.Sprintf(" (the drain, %d s; with a rule's grace period: %s)", p.DrainSeconds, rest)
		}
		line("sets env", "%s=%s", e.Name, value)
	}
	if p.TakesLoadBalancerDrain() {
		line("load balancer drain", "yes (--provider)")
	} else {
		line("load balancer drain", "no: %s", p.NoLoadBalancerDrain)
	}
	for _, n := range p.Notes {
		line("note", "%s", n)
	}
	for _, s := range p.Sources {
		line("source", "%s", s)
	}
}
