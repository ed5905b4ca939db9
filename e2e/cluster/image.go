// Package cluster starts the drill's single-node Kubernetes (hack/cluster.sh)
// for a test, stops it however the test ends, and builds the images the
// drill runs without any registry: one-layer OCI-layout tars imported into
// the cluster's containerd.
package cluster

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
)

// Image is a one-layer image: files from this machine plus generated ones.
type Image struct {
	Name       string            // e.g. registry.k8s.io/pause:3.10
	Files      map[string]string // path in the image -> path on this machine
	Data       map[string][]byte // path in the image -> contents
	Symlinks   map[string]string // path in the image -> target
	Dirs       []string          // empty directories to create
	Entrypoint []string
	Env        []string
	StopSignal string // the image's STOPSIGNAL; "" = the runtime's SIGTERM
}

// AddBinary adds a dynamically linked binary at the same path, with the
// shared libraries ldd lists for it (a static binary has none).
func (img *Image) AddBinary(path string) error {
	if img.Files == nil {
		img.Files = map[string]string{}
	}
	img.Files[path] = path
	out, err := exec.Command("ldd", path).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "not a dynamic executable") {
			return nil
		}
		return fmt.Errorf("ldd %s: %v: %s", path, err, out)
	}
	for _, m := range lddPath.FindAllStringSubmatch(string(out), -1) {
		lib := m[1]
		img.Files[lib] = lib
		// The loader may be named through a symlink (/lib64/ld-linux...).
		if real, err := filepath.EvalSymlinks(lib); err == nil && real != lib {
			img.Files[real] = real
			if img.Symlinks == nil {
				img.Symlinks = map[string]string{}
			}
			delete(img.Files, lib)
			img.Symlinks[lib] = real
		}
	}
	return nil
}

var lddPath = regexp.MustCompile(`(?m)(/[^\s]+) \(0x`)

// AddBusybox adds Debian's busybox-static as /bin/busybox with sh, sleep,
// kill and cat, which graceful's hooks run.
func (img *Image) AddBusybox() {
	if img.Files == nil {
		img.Files = map[string]string{}
	}
	if img.Symlinks == nil {
		img.Symlinks = map[string]string{}
	}
	img.Files["/bin/busybox"] = "/bin/busybox"
	for _, name := range []string{"sh", "sleep", "kill", "cat", "ls", "ps"} {
		img.Symlinks["/bin/"+name] = "busybox"
	}
}

// WriteOCI writes the image as an OCI-layout tar that
// `ctr image import` understands.
func (img *Image) WriteOCI(path string) error {
	layer, err := img.layer()
	if err != nil {
		return err
	}
	layerDigest := digest(layer)
	cfg := map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"config": map[string]any{
			"Entrypoint": img.Entrypoint,
			"Env":        append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, img.Env...),
			"StopSignal": img.StopSignal,
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layerDigest}},
	}
	cfgJSON, _ := json.Marshal(cfg)
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(cfgJSON), "size": len(cfgJSON)},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layerDigest, "size": len(layer)}},
	})
	tag := img.Name[strings.LastIndex(img.Name, ":")+1:]
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"manifests": []any{map[string]any{
			"mediaType": "application/vnd.oci.image.manifest.v1+json",
			"digest":    digest(manifest), "size": len(manifest),
			"platform": map[string]string{"architecture": runtime.GOARCH, "os": "linux"},
			"annotations": map[string]string{
				"io.containerd.image.name":          img.Name,
				"org.opencontainers.image.ref.name": tag,
			},
		}},
	})
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	add := func(name string, data []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
		tw.Write(data)
	}
	add("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	add("index.json", index)
	for _, blob := range [][]byte{layer, cfgJSON, manifest} {
		add("blobs/sha256/"+strings.TrimPrefix(digest(blob), "sha256:"), blob)
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// layer is the image's one uncompressed layer, in a stable order.
func (img *Image) layer() ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	mkdirs := func(p string) {
		var parents []string
		for d := filepath.Dir(p); d != "/" && !dirs[d]; d = filepath.Dir(d) {
			parents = append(parents, d)
			dirs[d] = true
		}
		for i := len(parents) - 1; i >= 0; i-- {
			tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(parents[i], "/") + "/", Mode: 0o755, Typeflag: tar.TypeDir})
		}
	}
	for _, d := range img.Dirs {
		mkdirs(d + "/x")
	}
	for _, p := range sortedKeys(img.Files) {
		data, err := os.ReadFile(img.Files[p])
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(img.Files[p])
		if err != nil {
			return nil, err
		}
		mkdirs(p)
		tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(p, "/"), Mode: int64(st.Mode().Perm()), Size: int64(len(data)), Typeflag: tar.TypeReg})
		tw.Write(data)
	}
	for _, p := range sortedKeys(img.Data) {
		mkdirs(p)
		tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(p, "/"), Mode: 0o644, Size: int64(len(img.Data[p])), Typeflag: tar.TypeReg})
		tw.Write(img.Data[p])
	}
	for _, p := range sortedKeys(img.Symlinks) {
		mkdirs(p)
		tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(p, "/"), Linkname: img.Symlinks[p], Mode: 0o777, Typeflag: tar.TypeSymlink})
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
