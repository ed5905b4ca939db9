package transformers

import (
	"go.yaml.in/yaml/v3"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/profiles"
)

// Env sets the profile's in-app settings as environment variables. A variable
// the container already has, by name, is the user's and is kept.
type Env struct{}

var _ Transformer = Env{}

func (Env) Transform(pod *Pod, s *Settings) ([]Finding, error) {
	if len(s.Profile.Env) == 0 {
		return nil, nil
	}
	var out []Finding
	for _, c := range pod.Containers {
		field := c.Path + ".env"
		env := node.Get(c.Node, "env")
		if !node.IsNull(env) && !node.IsSeq(env) {
			return nil, fieldError(field, "expected a sequence")
		}
		have := map[string]*yaml.Node{}
		if env != nil {
			for _, item := range env.Content {
				have[node.GetStr(item, "name")] = item
			}
		}
		for _, v := range s.Profile.Env {
			value := profiles.ExpandEnvValue(v.Value, s.DrainSeconds)
			if item := have[v.Name]; item != nil {
				if got := node.GetStr(item, "value"); got != value {
					out = append(out, warning(field+"[name="+v.Name+"]", "kept the container's %s=%q; the %s profile sets %q",
						v.Name, got, s.Profile.Name, value))
				}
				continue
			}
			if node.IsNull(env) {
				env = node.NewSeq()
				node.Set(c.Node, "env", env)
			}
			env.Content = append(env.Content, node.NewMap("name", v.Name, "value", value))
			f := changed(field+"[name="+v.Name+"]", "%s", value)
			f.Proposed = value
			out = append(out, f)
		}
	}
	return out, nil
}
