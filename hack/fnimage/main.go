// Command fnimage writes graceful's KRM function image as an OCI image
// layout in a tar file, without Docker or a registry: one layer holding
// only the static binary, which is the entrypoint. Import it with
// `ctr image import`, or push it with any OCI tool (skopeo, crane, oras).
//
//	CGO_ENABLED=0 go build -o bin/graceful-static ./cmd/graceful
//	go run ./hack/fnimage -binary bin/graceful-static -name ghcr.io/graceful-dev/graceful:v0.1.0 -o bin/graceful-image.tar
//
// The same binary gives the same image, byte for byte (fixed times, no
// gzip name), so its digest can be published next to the release.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"
)

func main() {
	binary := flag.String("binary", "bin/graceful-static", "the static graceful binary (CGO_ENABLED=0)")
	name := flag.String("name", "ghcr.io/graceful-dev/graceful:dev", "image reference recorded in the layout (ctr image import uses it)")
	out := flag.String("o", "bin/graceful-image.tar", "the OCI layout tar to write")
	arch := flag.String("arch", runtime.GOARCH, "the binary's architecture")
	flag.Parse()
	if err := build(*binary, *name, *arch, *out); err != nil {
		fmt.Fprintln(os.Stderr, "fnimage:", err)
		os.Exit(1)
	}
}

// epoch is every timestamp in the image: reproducible digests.
var epoch = time.Unix(0, 0).UTC()

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int               `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type blob struct {
	data   []byte
	digest string
}

func newBlob(data []byte) blob {
	return blob{data, fmt.Sprintf("sha256:%x", sha256.Sum256(data))}
}

func (b blob) descriptor(mediaType string) descriptor {
	return descriptor{MediaType: mediaType, Digest: b.digest, Size: len(b.data)}
}

func tarFiles(files []tarFile) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if f.dir {
			hdr = &tar.Header{Name: f.name, Mode: f.mode, ModTime: epoch, Typeflag: tar.TypeDir, Format: tar.FormatPAX}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	err := tw.Close()
	return buf.Bytes(), err
}

type tarFile struct {
	name string
	mode int64
	data []byte
	dir  bool
}

func build(binary, name, arch, out string) error {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return err
	}
	// The layer: the binary at /graceful, and an empty /tmp.
	layerTar, err := tarFiles([]tarFile{{name: "graceful", mode: 0o755, data: bin}, {name: "tmp/", mode: 0o1777, dir: true}})
	if err != nil {
		return err
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if _, err := zw.Write(layerTar); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	layer := newBlob(gz.Bytes())
	config, err := json.Marshal(map[string]any{
		"architecture": arch,
		"os":           "linux",
		"created":      epoch.Format(time.RFC3339),
		"config": map[string]any{
			"Entrypoint": []string{"/graceful"},
			"User":       "65532:65532",
			"WorkingDir": "/",
			"Labels":     map[string]string{"org.opencontainers.image.source": "https://github.com/graceful-dev/graceful"},
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{fmt.Sprintf("sha256:%x", sha256.Sum256(layerTar))}},
	})
	if err != nil {
		return err
	}
	cfg := newBlob(config)
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        cfg.descriptor("application/vnd.oci.image.config.v1+json"),
		"layers":        []descriptor{layer.descriptor("application/vnd.oci.image.layer.v1.tar+gzip")},
	})
	if err != nil {
		return err
	}
	man := newBlob(manifest)
	md := man.descriptor("application/vnd.oci.image.manifest.v1+json")
	// containerd names an imported image by io.containerd.image.name; other
	// tools read org.opencontainers.image.ref.name.
	md.Annotations = map[string]string{"io.containerd.image.name": name, "org.opencontainers.image.ref.name": name}
	index, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []descriptor{md}})
	if err != nil {
		return err
	}
	files := []tarFile{
		{name: "oci-layout", mode: 0o644, data: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{name: "index.json", mode: 0o644, data: index},
		{name: "blobs/", mode: 0o755, dir: true},
		{name: "blobs/sha256/", mode: 0o755, dir: true},
	}
	for _, b := range []blob{layer, cfg, man} {
		files = append(files, tarFile{name: "blobs/sha256/" + b.digest[len("sha256:"):], mode: 0o644, data: b.data})
	}
	layout, err := tarFiles(files)
	if err != nil {
		return err
	}
	return os.WriteFile(out, layout, 0o644)
}
