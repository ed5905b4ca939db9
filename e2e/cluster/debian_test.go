package cluster

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestAddTree(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "usr/lib/empty"), 0o755)
	os.MkdirAll(filepath.Join(dir, "usr/sbin"), 0o755)
	os.WriteFile(filepath.Join(dir, "usr/sbin/server"), []byte("x"), 0o755)
	os.WriteFile(filepath.Join(dir, "usr/sbin/mine"), []byte("tree"), 0o644)
	os.Symlink("server", filepath.Join(dir, "usr/sbin/alias"))
	img := &Image{Data: map[string][]byte{"/usr/sbin/mine": []byte("data")}}
	if err := img.AddTree(dir); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"/usr/sbin/server": filepath.Join(dir, "usr/sbin/server")}; !reflect.DeepEqual(img.Files, want) {
		t.Errorf("Files = %v, want %v (the image's own Data wins over the tree)", img.Files, want)
	}
	if want := map[string]string{"/usr/sbin/alias": "server"}; !reflect.DeepEqual(img.Symlinks, want) {
		t.Errorf("Symlinks = %v, want %v", img.Symlinks, want)
	}
	if want := []string{"/usr", "/usr/lib", "/usr/lib/empty", "/usr/sbin"}; !reflect.DeepEqual(img.Dirs, want) {
		t.Errorf("Dirs = %v, want %v", img.Dirs, want)
	}
}

func TestAptInst(t *testing.T) {
	out := "NOTE: simulation\nInst libc6 (2.36-9+deb12u14 Debian-Security:12/stable-security [amd64])\nConf libc6 (2.36-9)\nInst haproxy (2.6.12-1+deb12u4 Debian:12.13/stable [amd64])\n"
	var got []string
	for _, m := range aptInst.FindAllStringSubmatch(out, -1) {
		got = append(got, m[1]+"="+m[2])
	}
	if want := []string{"libc6=2.36-9+deb12u14", "haproxy=2.6.12-1+deb12u4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
