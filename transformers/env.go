package transformers

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/profiles"
)

// Env sets the profile's in-app settings as environment variables. A setting
// the user made in the container, under any spelling (the env var itself, a
// --property=value argument, a -Dproperty=value JVM option, the JSON env), is
// the user's and is kept. Env vars outrank the application's own files, so
// adding one would override them. The user's drain time becomes the drain
// the grace period is budgeted for; Env therefore runs before GracePeriod.
type Env struct{}

var _ Transformer = Env{}

func (Env) Transform(pod *Pod, s *Settings) ([]Finding, error) {
	if len(s.Profile.Env) == 0 {
		return nil, nil
	}
	var out []Finding
	// The user's drain: the longest any chosen container asks for.
	userDrain := -1
	for _, c := range pod.Containers {
		for _, v := range s.Profile.Env {
			if !v.Drain {
				continue
			}
			set, ok, err := userSetting(c, s.Profile, v)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			secs, parsed := ParseSpringDuration(set.value)
			if !parsed {
				out = append(out, warning(CodeUnreadableDrain, c.Path, "cannot read the %s the user set (%s = %q); the grace period is budgeted for the %s profile's drain of %d s",
					v.Property, set.spelling, set.value, s.Profile.Name, s.DrainSeconds))
				continue
			}
			userDrain = max(userDrain, secs)
		}
	}
	if userDrain >= 0 {
		s.DrainSeconds = userDrain
	}
	for _, c := range pod.Containers {
		field := c.Path + ".env"
		env := node.Get(c.Node, "env")
		if !node.IsNull(env) && !node.IsSeq(env) {
			return nil, fieldError(field, "expected a sequence")
		}
		for _, v := range s.Profile.Env {
			value := profiles.ExpandEnvValue(v.Value, s.DrainSeconds)
			set, ok, err := userSetting(c, s.Profile, v)
			if err != nil {
				return nil, err
			}
			if ok {
				setting := v.Property
				if setting == "" {
					setting = v.Name
				}
				switch {
				case v.Drain && set.value != "(valueFrom)":
					out = append(out, note(CodeUserDrain, field,
						"kept the user's %s = %q (%s); the grace period is budgeted around its %d s", setting, set.value, set.spelling, s.DrainSeconds))
				case !v.Drain && set.value != value:
					// The application will not do what the profile is for.
					out = append(out, warning(CodeEnvKept, field, "kept the user's %s = %q (%s); the %s profile would set %q",
						setting, set.value, set.spelling, s.Profile.Name, value))
				}
				continue
			}
			if node.IsNull(env) {
				env = node.NewSeq()
				node.Set(c.Node, "env", env)
			}
			env.Content = append(env.Content, node.NewMap("name", v.Name, "value", value))
			f := changed(CodeEnvSet, field+"[name="+v.Name+"]", "%s", value)
			f.Proposed = value
			out = append(out, f)
		}
	}
	return out, nil
}

// setting is a value the user set, and where.
type setting struct{ value, spelling string }

var (
	argSetting = lazyRegexp(`(?:^|[\s"'])--([A-Za-z0-9._-]+)=("[^"]*"|'[^']*'|[^\s"']+)`)
	sysSetting = lazyRegexp(`(?:^|[\s"'])-D([A-Za-z0-9._-]+)=("[^"]*"|'[^']*'|[^\s"']+)`)
)

// userSetting finds v in the container under any spelling the application reads.
func userSetting(c Container, p *profiles.Profile, v profiles.EnvVar) (setting, bool, error) {
	env := node.Get(c.Node, "env")
	if node.IsSeq(env) {
		for _, item := range env.Content {
			if node.GetStr(item, "name") != v.Name {
				continue
			}
			if node.Get(item, "valueFrom") != nil {
				return setting{value: "(valueFrom)", spelling: "env " + v.Name + " from valueFrom"}, true, nil
			}
			return setting{value: node.GetStr(item, "value"), spelling: "env " + v.Name}, true, nil
		}
	}
	if v.Property == "" {
		return setting{}, false, nil
	}
	want := propertyKey(v.Property)
	find := func(re *regexp.Regexp, text, where, prefix string) (setting, bool) {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			if propertyKey(m[1]) == want {
				return setting{value: strings.Trim(m[2], `"'`), spelling: where + " " + prefix + m[1]}, true
			}
		}
		return setting{}, false
	}
	for _, field := range []string{"command", "args"} {
		if seq := node.Get(c.Node, field); node.IsSeq(seq) {
			for _, a := range seq.Content {
				if s, ok := find(argSetting(), a.Value, field, "--"); ok {
					return s, true, nil
				}
				if s, ok := find(sysSetting(), a.Value, field, "-D"); ok {
					return s, true, nil
				}
			}
		}
	}
	if !node.IsSeq(env) {
		return setting{}, false, nil
	}
	for _, item := range env.Content {
		name, value := node.GetStr(item, "name"), node.GetStr(item, "value")
		for _, opts := range p.SystemPropertyEnvs {
			if name == opts {
				if s, ok := find(sysSetting(), value, "env "+name, "-D"); ok {
					return s, true, nil
				}
			}
		}
		if name == p.JSONPropertyEnv && p.JSONPropertyEnv != "" && value != "" {
			var doc any
			if err := json.Unmarshal([]byte(value), &doc); err != nil {
				continue // the application fails on it too; not graceful's to judge
			}
			if val, key, ok := findJSON(doc, "", want); ok {
				return setting{value: val, spelling: "env " + name + " " + key}, true, nil
			}
		}
	}
	return setting{}, false, nil
}

// propertyKey is a property name in relaxed-binding form: lower case, with
// no dashes or underscores (timeout-per-shutdown-phase = timeoutPerShutdownPhase).
func propertyKey(name string) string {
	return strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(name))
}

func findJSON(doc any, prefix, want string) (value, key string, ok bool) {
	m, isMap := doc.(map[string]any)
	if !isMap {
		return "", "", false
	}
	for k, v := range m {
		full := k
		if prefix != "" {
			full = prefix + "." + k
		}
		if propertyKey(full) == want {
			return fmt.Sprint(v), full, true
		}
		if val, key, ok := findJSON(v, full, want); ok {
			return val, key, true
		}
	}
	return "", "", false
}

var (
	simpleDuration = lazyRegexp(`^\s*\+?(\d+)\s*(ns|us|ms|s|m|h|d)?\s*$`)
	isoDuration    = lazyRegexp(`^\+?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)
)

// ParseSpringDuration reads a duration as Spring Boot does (30s, 1m, 500ms,
// PT30S; a bare number is milliseconds) and returns whole seconds, rounded up.
func ParseSpringDuration(s string) (int, bool) {
	if m := simpleDuration().FindStringSubmatch(strings.ToLower(s)); m != nil {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return 0, false
		}
		unit := map[string]time.Duration{"ns": time.Nanosecond, "us": time.Microsecond, "": time.Millisecond, "ms": time.Millisecond,
			"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
		return seconds(float64(n) * unit.Seconds())
	}
	if m := isoDuration().FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s))); m != nil && s != "P" && !strings.HasSuffix(strings.ToUpper(s), "T") {
		total := 0.0
		for i, unit := range []float64{86400, 3600, 60, 1} {
			if m[i+1] != "" {
				f, _ := strconv.ParseFloat(m[i+1], 64)
				total += f * unit
			}
		}
		return seconds(total)
	}
	return 0, false
}

func seconds(f float64) (int, bool) {
	if f > float64(profiles.MaxDrainSeconds) {
		return 0, false
	}
	return int(math.Ceil(f)), true
}
