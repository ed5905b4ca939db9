package audit

import (
	"strings"

	"github.com/graceful-dev/graceful/profiles"
)

// shellless is an image family without /bin/sh (or sleep, kill): as data,
// conservative. sure is false where some tags of the family do have one.
type shellless struct {
	// repo is a repository pattern as profiles.ImageMatches reads it, or a
	// prefix of the reference ending in "/" (a registry path).
	repo string
	// shellTags are tag substrings of the variants that have a shell.
	shellTags []string
	sure      bool
	why       string
}

var shelllessImages = []shellless{
	{repo: "gcr.io/distroless/", shellTags: []string{"debug"}, sure: true, why: "is distroless (no shell, no sleep; only the :debug tags have busybox)"},
	{repo: "*distroless*", shellTags: []string{"debug"}, sure: true, why: "is a distroless build (no shell)"},
	{repo: "paketobuildpacks/run-tiny*", sure: true, why: "is Paketo's tiny run image (no shell)"},
	{repo: "paketo-buildpacks/run-tiny*", sure: true, why: "is Paketo's tiny run image (no shell)"},
	{repo: "cgr.dev/chainguard/", shellTags: []string{"-dev", "dev"}, why: "is a Chainguard image, which has no shell except in its -dev variants"},
	{repo: "*/static", why: "looks like a static (scratch-like) base image"},
}

// shelllessImage says why an image may have no shell, "" if nothing says so.
func shelllessImage(image string) (sure bool, why string) {
	if image == "" {
		return false, ""
	}
	ref := profiles.ParseImage(image)
	tag := ref.Tag
	for _, s := range shelllessImages {
		matched := false
		if strings.HasSuffix(s.repo, "/") {
			matched = strings.HasPrefix(image, s.repo)
		} else {
			matched = profiles.ImageMatches(ref.Repository, s.repo)
		}
		if !matched {
			continue
		}
		for _, t := range s.shellTags {
			if strings.Contains(tag, t) {
				return false, ""
			}
		}
		return s.sure, s.why
	}
	return false, ""
}
