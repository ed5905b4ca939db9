package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/graceful-dev/graceful/profiles"
	"github.com/graceful-dev/graceful/render"
)

// addSelectionFlags registers the flags that decide what render changes;
// `render` and `patches` share them.
func (o *renderOptions) addSelectionFlags(f *pflag.FlagSet) {
	f.StringVar(&o.profile, "profile", "", "profile for workloads that no annotation or rule decides (auto: picked by image); list them with: graceful profiles")
	f.StringVar(&o.configFile, "config", "", "GracefulShutdown config file with settings and rules")
	addProfilesFlag(f, &o.profileFiles)
	f.StringSliceVar(&o.providers, "provider", nil, "cloud load balancer(s) whose drain annotations to set: alibaba, aws, aws-lbc, tencent, huawei (gcp, azure: explained only)")
	f.StringVar(&o.kubeVersion, "kube-version", "", "target Kubernetes version; decides the native sleep action (default "+render.DefaultKubeVersion+")")
	f.BoolVar(&o.stopSignalField, "stop-signal-field", false, "set lifecycle.stopSignal (feature gate ContainerStopSignals, Kubernetes 1.33+) instead of sending the signal from the hook")
	f.BoolVar(&o.replacePreStop, "replace-prestop", false, "replace existing preStop hooks instead of keeping them")
}

// addProfilesFlag registers --profiles, the user's ShutdownProfile files.
func addProfilesFlag(f *pflag.FlagSet, paths *[]string) {
	f.StringArrayVar(paths, "profiles", nil, "a ShutdownProfile file, or a directory of them: your own profiles, next to the built-in ones (repeatable)")
}

// loadProfiles is the built-in profiles with those of --profiles; a
// profile's name given there (--profiles nginx) was meant for --profile.
func loadProfiles(paths []string) (*profiles.Catalog, error) {
	catalog, err := profiles.Load(paths...)
	if err == nil {
		return catalog, nil
	}
	for _, p := range paths {
		if _, isName := profiles.Get(p); isName {
			if _, statErr := os.Stat(p); statErr != nil {
				return nil, fmt.Errorf("--profiles: %w; --profiles reads ShutdownProfile files: did you mean --profile %s?", err, p)
			}
		}
	}
	return nil, prefixLines("--profiles: ", err)
}

// loadSelection reads --profiles and --config: the catalog of the built-in
// profiles with those of the files, and the config (nil without --config),
// whose own profiles (spec.profiles) come on top.
func loadSelection(files []string, configFile string) (*profiles.Catalog, *render.Config, error) {
	catalog, err := loadProfiles(files)
	if err != nil || configFile == "" {
		return catalog, nil, err
	}
	data, err := os.ReadFile(configFile)
	if err != nil {
		return nil, nil, fmt.Errorf("--config %w", pathError(configFile, err))
	}
	config, err := render.LoadConfig(data, configFile, catalog)
	if err != nil {
		return nil, nil, prefixLines("config "+configFile+": ", err)
	}
	return catalog, config, nil
}

// allProfiles is every profile --profiles and --config make usable.
func allProfiles(files []string, configFile string) (*profiles.Catalog, error) {
	catalog, config, err := loadSelection(files, configFile)
	if err != nil || config == nil {
		return catalog, err
	}
	return config.Profiles(catalog)
}

// completeProfile completes --profile with every profile the command's
// --profiles and --config make usable (the built-ins where they cannot be
// read), and auto and none.
func completeProfile(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	// cobra parses the flags twice before it completes one: an array
	// flag holds each path twice.
	files, _ := cmd.Flags().GetStringArray("profiles")
	var once []string
	for _, f := range files {
		if !slices.Contains(once, f) {
			once = append(once, f)
		}
	}
	configFile, _ := cmd.Flags().GetString("config")
	names := profiles.Names()
	if catalog, err := allProfiles(once, configFile); err == nil {
		names = catalog.Names()
	}
	return append(names, profiles.Auto, profiles.None), cobra.ShellCompDirectiveNoFileComp
}

// prefixLines starts every line of err with prefix: errors joined one a
// line (a config's, the profile files') each name where they are.
func prefixLines(prefix string, err error) error { return &prefixedError{prefix, err} }

type prefixedError struct {
	prefix string
	err    error
}

func (e *prefixedError) Error() string {
	return e.prefix + strings.ReplaceAll(e.err.Error(), "\n", "\n"+e.prefix)
}

func (e *prefixedError) Unwrap() error { return e.err }
