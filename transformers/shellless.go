package transformers

import (
	"path"
	"strings"

	"github.com/graceful-dev/graceful/profiles"
)

// shellless is an image family without /bin/sh (or sleep, kill), as data:
// render warns before it writes an exec hook there, check reports one.
// sure is false where some tags of the family do have a shell.
type shellless struct {
	// repo is a repository pattern as profiles.ImageMatches reads it, or a
	// prefix of the reference ending in "/" (a registry path); contains,
	// where set, is a word anywhere in the reference instead
	// (prometheus:v3-distroless, example.com/distroless/app).
	repo, contains string
	// shellTags are tag substrings of the variants that have a shell.
	shellTags []string
	sure      bool
	why       string
}

var shelllessImages = []shellless{
	{repo: "gcr.io/distroless/", shellTags: []string{"debug"}, sure: true, why: "is distroless (no shell, no sleep; only the :debug tags have busybox)"},
	{contains: "distroless", shellTags: []string{"debug"}, sure: true, why: "is a distroless build (no shell)"},
	{repo: "paketobuildpacks/run-tiny*", sure: true, why: "is Paketo's tiny run image (no shell)"},
	{repo: "paketo-buildpacks/run-tiny*", sure: true, why: "is Paketo's tiny run image (no shell)"},
	{repo: "cgr.dev/chainguard/", shellTags: []string{"-dev", "dev"}, why: "is a Chainguard image, which has no shell except in its -dev variants"},
	{repo: "*/static", why: "looks like a static (scratch-like) base image"},
}

// ShelllessImage says why an image may have no shell, "" if nothing says
// so; sure is false where only some variants lack one.
func ShelllessImage(image string) (sure bool, why string) {
	if image == "" {
		return false, ""
	}
	ref := profiles.ParseImage(image)
	for _, s := range shelllessImages {
		var matched bool
		switch {
		case s.contains != "":
			matched = strings.Contains(image, s.contains)
		case strings.HasSuffix(s.repo, "/"):
			matched = strings.HasPrefix(image, s.repo)
		default:
			matched = profiles.ImageMatches(ref.Repository, s.repo)
		}
		if !matched {
			continue
		}
		for _, t := range s.shellTags {
			if strings.Contains(ref.Tag, t) {
				return false, ""
			}
		}
		return s.sure, s.why
	}
	return false, ""
}

// baseTools are programs a shell-less image lacks as surely as the shell.
var baseTools = map[string]bool{"sleep": true, "kill": true, "curl": true, "wget": true, "pkill": true, "killall": true, "busybox": true}

// ShelllessLacks reports whether a hook's program (its argv[0]) is one a
// shell-less image does not have: a shell or a base tool.
func ShelllessLacks(program string) bool {
	return isShell(program) || baseTools[path.Base(program)]
}
