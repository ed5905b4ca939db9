package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// DebianRootfs returns a directory holding pkgs and everything they depend
// on (not what they recommend), from this machine's apt sources (Debian
// bookworm), unpacked with dpkg -x: no maintainer script runs, so what a
// postinst would set up (alternatives, users) is the image's to provide.
// APT resolves the dependencies as for an empty system (an empty dpkg
// status); the .debs and the unpacked tree are cached under cache, the tree
// keyed by every package's version, so a new Debian update builds a new one.
func DebianRootfs(cache string, pkgs ...string) (string, error) {
	status := filepath.Join(cache, "empty-status")
	debs := filepath.Join(cache, "debs")
	if err := os.MkdirAll(filepath.Join(debs, "partial"), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(status, nil, 0o644); err != nil {
		return "", err
	}
	apt := func(extra ...string) *exec.Cmd {
		args := []string{"-q", "-o", "Dir::State::status=" + status, "-o", "Dir::Cache::archives=" + debs,
			"-o", "Debug::NoLocking=1", "-o", "APT::Get::AllowUnauthenticated=false"}
		args = append(args, extra...)
		args = append(args, "install", "--no-install-recommends", "-y")
		cmd := exec.Command("apt-get", append(args, pkgs...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd
	}
	sim, err := apt("-s").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("apt-get -s install %s: %v\n%s", strings.Join(pkgs, " "), err, sim)
	}
	var want []string // name=version
	for _, m := range aptInst.FindAllStringSubmatch(string(sim), -1) {
		want = append(want, m[1]+"="+m[2])
	}
	if len(want) == 0 {
		return "", fmt.Errorf("apt-get -s install %s: nothing to install?\n%s", strings.Join(pkgs, " "), sim)
	}
	sort.Strings(want)
	sum := sha256.Sum256([]byte(strings.Join(want, "\n")))
	dir := filepath.Join(cache, "rootfs-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	if out, err := apt("--download-only").CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get --download-only install %s: %v\n%s", strings.Join(pkgs, " "), err, out)
	}
	tmp, err := os.MkdirTemp(cache, "rootfs-tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for _, nv := range want {
		name, version, _ := strings.Cut(nv, "=")
		// apt names a file NAME_VERSION_ARCH.deb, the epoch's colon as %3a.
		files, _ := filepath.Glob(filepath.Join(debs, name+"_"+strings.ReplaceAll(version, ":", "%3a")+"_*.deb"))
		if len(files) != 1 {
			return "", fmt.Errorf("%s %s: %d .deb files in %s", name, version, len(files), debs)
		}
		if out, err := exec.Command("dpkg-deb", "-x", files[0], tmp).CombinedOutput(); err != nil {
			return "", fmt.Errorf("dpkg-deb -x %s: %v\n%s", files[0], err, out)
		}
	}
	// The loader's cache, which ldconfig in libc-bin's trigger would write.
	if out, err := exec.Command("ldconfig", "-r", tmp).CombinedOutput(); err != nil {
		return "", fmt.Errorf("ldconfig -r %s: %v\n%s", tmp, err, out)
	}
	if err := os.WriteFile(filepath.Join(tmp, "etc", "debian-packages"), []byte(strings.Join(want, "\n")+"\n"), 0o644); err != nil {
		return "", err
	}
	return dir, os.Rename(tmp, dir)
}

// aptInst is a package `apt-get -s install` would unpack, and its version.
var aptInst = regexp.MustCompile(`(?m)^Inst (\S+) \((\S+) `)

// AddTree adds every file, symlink and directory under dir to the image at
// the same path below /; Data and Files added before win over the tree's.
func (img *Image) AddTree(dir string) error {
	if img.Files == nil {
		img.Files = map[string]string{}
	}
	if img.Symlinks == nil {
		img.Symlinks = map[string]string{}
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		p := "/" + filepath.ToSlash(rel)
		if p == "/." {
			return nil
		}
		if _, ok := img.Data[p]; ok {
			return nil
		}
		if _, ok := img.Files[p]; ok {
			return nil
		}
		switch {
		case d.IsDir():
			img.Dirs = append(img.Dirs, p)
		case d.Type()&fs.ModeSymlink != 0:
			if _, ok := img.Symlinks[p]; ok {
				return nil
			}
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			img.Symlinks[p] = target
		case d.Type().IsRegular():
			img.Files[p] = path
		}
		return nil
	})
}
