package render

import "github.com/graceful-dev/graceful/profiles"

// Catalog is where render finds profiles: by name for annotations, rules and
// --profile, and by image for --profile auto. Every lookup in render goes
// through Renderer.catalog, so profiles from files need only a new value there.
type Catalog interface {
	// Get returns the named profile.
	Get(name string) (*profiles.Profile, bool)
	// Lookup is Get with an error that lists the valid names.
	Lookup(name string) (*profiles.Profile, error)
	// FittingImage returns the profiles whose image patterns fit image, sorted by name.
	FittingImage(image string) []*profiles.Profile
}

// builtinCatalog is the profiles embedded in graceful.
type builtinCatalog struct{}

func (builtinCatalog) Get(name string) (*profiles.Profile, bool)     { return profiles.Get(name) }
func (builtinCatalog) Lookup(name string) (*profiles.Profile, error) { return profiles.Lookup(name) }
func (builtinCatalog) FittingImage(image string) []*profiles.Profile {
	return profiles.FittingImage(image)
}
