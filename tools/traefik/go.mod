module github.com/graceful-dev/graceful/tools/traefik

go 1.26.8

// Only pins the version (and, in go.sum, the module's hash): hack/tools.sh
// builds ./cmd/traefik inside a copy of this module so that Traefik's own
// go.mod, with its replace directives, applies. `go mod tidy` here would
// drop the line; bump it by hand and take the hashes from
// `go mod download -json github.com/traefik/traefik/v3@vX.Y.Z` (Sum, GoModSum).
require github.com/traefik/traefik/v3 v3.7.10
