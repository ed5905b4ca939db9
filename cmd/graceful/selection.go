package main

import (
	"fmt"
	"os"
	"strings"

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
