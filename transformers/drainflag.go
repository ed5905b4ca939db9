package transformers

import (
	"github.com/graceful-dev/graceful/internal/node"
)

// DrainFlag reads the drain time the user gave the application on its
// command line (sidekiq -t 60, gunicorn --graceful-timeout 90): the grace
// period must cover that, not the profile's default. It changes nothing
// itself; it runs before GracePeriod and Mesh.
type DrainFlag struct{}

var _ Transformer = DrainFlag{}

func (DrainFlag) Transform(pod *Pod, s *Settings) ([]Finding, error) {
	if len(s.Profile.DrainFlags) == 0 {
		return nil, nil
	}
	var out []Finding
	longest, found := 0, false
	for _, c := range pod.Containers {
		argv, env := ContainerArgv(c), ContainerEnv(c)
		for i := range s.Profile.DrainFlags {
			secs, spelling, ok := s.Profile.DrainFlags[i].Seconds(argv, env)
			if !ok {
				continue
			}
			out = append(out, note(CodeUserDrain, c.Path,
				"container %q drains for %d s (%s): the grace period is budgeted around it", c.Name, secs, spelling))
			if !found || secs > longest {
				longest, found = secs, true
			}
			break
		}
	}
	if found {
		s.DrainSeconds = longest
	}
	return out, nil
}

// ContainerArgv is a container's command and args.
func ContainerArgv(c Container) []string {
	var argv []string
	for _, field := range []string{"command", "args"} {
		if seq := node.Get(c.Node, field); node.IsSeq(seq) {
			for _, a := range seq.Content {
				argv = append(argv, a.Value)
			}
		}
	}
	return argv
}

// ContainerEnv is a container's env values; one set from elsewhere
// (valueFrom) counts as set, with the value "(valueFrom)".
func ContainerEnv(c Container) map[string]string {
	env := map[string]string{}
	for _, item := range envItems(c.Node) {
		value := node.GetStr(item, "value")
		if node.Get(item, "valueFrom") != nil {
			value = "(valueFrom)"
		}
		env[node.GetStr(item, "name")] = value
	}
	return env
}
