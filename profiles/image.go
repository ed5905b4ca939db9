package profiles

import (
	"path"
	"slices"
	"strconv"
	"strings"
)

// ImageRef is an image reference split into its parts. A reference without
// a registry is on docker.io, and a one-part repository there is library/NAME.
type ImageRef struct {
	Registry, Repository, Tag, Digest string
}

// ParseImage splits an image reference. It never fails; a malformed
// reference yields its best guess.
func ParseImage(image string) ImageRef {
	var ref ImageRef
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image, ref.Digest = image[:i], image[i+1:]
	}
	if i := strings.LastIndexByte(image, ':'); i >= 0 && !strings.Contains(image[i:], "/") {
		image, ref.Tag = image[:i], image[i+1:]
	}
	ref.Registry = "docker.io"
	if i := strings.IndexByte(image, '/'); i >= 0 {
		host := image[:i]
		if strings.ContainsAny(host, ".:") || host == "localhost" {
			ref.Registry, image = host, image[i+1:]
		}
	}
	if ref.Registry == "index.docker.io" || ref.Registry == "registry-1.docker.io" {
		ref.Registry = "docker.io"
	}
	if ref.Registry == "docker.io" && !strings.Contains(image, "/") {
		image = "library/" + image
	}
	ref.Repository = image
	return ref
}

// KnownStopSignal returns the STOPSIGNAL the profile knows the image to
// have, or "" when it cannot know.
func (p *Profile) KnownStopSignal(image string) string {
	ref := ParseImage(image)
	for _, k := range p.ImageStopSignals {
		if k.known(ref) {
			return k.Signal
		}
	}
	return ""
}

func (k ImageStopSignal) known(ref ImageRef) bool {
	if !slices.Contains(k.Registries, ref.Registry) || !slices.Contains(k.Images, ref.Repository) {
		return false
	}
	tag := ref.Tag
	if tag == "" {
		if ref.Digest != "" {
			return false // a digest alone says nothing of the version
		}
		tag = "latest"
	}
	if ok, _ := path.Match(k.TagPattern, tag); k.TagPattern != "" && !ok {
		return false
	}
	// stable, stable-alpine, mainline-bookworm-perl: a named tag and its variants.
	if slices.Contains(k.Tags, tag) || slices.Contains(k.Tags, strings.SplitN(tag, "-", 2)[0]) {
		return true
	}
	if k.MinVersion == "" {
		return false
	}
	// 1.27.3, 1.25-alpine, 1.27.3-bookworm-perl: the version is before the first dash.
	v, ok := parseVersion(strings.SplitN(tag, "-", 2)[0])
	min, _ := parseVersion(k.MinVersion)
	return ok && compareVersions(v, min) >= 0
}

// parseVersion reads 1, 1.25 or 1.19.5; missing parts are 0, so "1.19" is
// below "1.19.5": a tag that may name an older release is not trusted.
func parseVersion(s string) ([3]int, bool) {
	var v [3]int
	parts := strings.Split(s, ".")
	if len(parts) > 3 || s == "" {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

func compareVersions(a, b [3]int) int {
	for i := range a {
		if a[i] != b[i] {
			return a[i] - b[i]
		}
	}
	return 0
}
