package cluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Image names in the test cluster. NginxQuit stands in for the official
// nginx image, whose STOPSIGNAL is SIGQUIT (from 1.19.5); NginxTerm is
// Debian's nginx with the runtime's default SIGTERM (like older Bitnami
// images). Both run Debian's nginx binary.
const (
	Pause      = "registry.k8s.io/pause:3.10"
	NginxTerm  = "graceful.test/nginx-debian:1.22.1"
	NginxQuit  = "docker.io/library/nginx:1.27.3"
	TestServer = "graceful.test/testserver:1"
	// BigBytes is the size of /big, the long download, in both servers,
	// sent at BigRate bytes a second (nginx: limit_rate 1m): 10 s.
	BigBytes = 10 << 20
	BigRate  = 1 << 20
)

// nginxConf serves / (short), /healthz and /big on 8080; logs to stderr.
const nginxConf = `daemon off;
master_process on;
worker_processes 2;
user nobody nogroup;
error_log stderr warn;
pid /run/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_timeout 65s;
  server {
    listen 8080;
    root /srv;
    location = / { default_type text/plain; return 200 "ok\n"; }
    location = /healthz { default_type text/plain; return 200 "ok\n"; }
    location = /big { limit_rate 1m; }
  }
}
`

// BuildImages builds the drill's images (the Go programs with `go build`
// into dir) and imports them with ctr into the cluster's containerd.
func BuildImages(root, dir string, ctr []string) error {
	bins := map[string]string{}
	for _, name := range []string{"pause", "testserver"} {
		out := filepath.Join(dir, name)
		build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./e2e/"+name)
		build.Dir = root
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./e2e/%s: %v\n%s", name, err, b)
		}
		bins[name] = out
	}
	passwd := map[string][]byte{
		"/etc/passwd": []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
		"/etc/group":  []byte("root:x:0:\nnogroup:x:65534:\n"),
	}
	big := bytes.Repeat([]byte("graceful"), BigBytes/8)
	nginx := func(name, stop string) (*Image, error) {
		img := &Image{Name: name, StopSignal: stop, Entrypoint: []string{"/usr/sbin/nginx"},
			Data: map[string][]byte{"/etc/nginx/nginx.conf": []byte(nginxConf), "/srv/big": big},
			// Debian's build opens these paths before reading the config.
			Dirs: []string{"/var/log/nginx", "/var/lib/nginx/body", "/var/lib/nginx/proxy", "/var/lib/nginx/fastcgi",
				"/var/lib/nginx/uwsgi", "/var/lib/nginx/scgi", "/run", "/tmp"}}
		for k, v := range passwd {
			img.Data[k] = v
		}
		img.AddBusybox()
		return img, img.AddBinary("/usr/sbin/nginx")
	}
	images := []*Image{
		{Name: Pause, Files: map[string]string{"/pause": bins["pause"]}, Entrypoint: []string{"/pause"}},
		{Name: TestServer, Files: map[string]string{"/testserver": bins["testserver"]}, Entrypoint: []string{"/testserver"},
			Data: passwd, Dirs: []string{"/tmp"}, Env: []string{fmt.Sprintf("BIG_BYTES=%d", BigBytes), fmt.Sprintf("BIG_RATE=%d", BigRate)}},
	}
	images[1].AddBusybox()
	for _, n := range []struct{ name, stop string }{{NginxTerm, ""}, {NginxQuit, "SIGQUIT"}} {
		img, err := nginx(n.name, n.stop)
		if err != nil {
			return err
		}
		images = append(images, img)
	}
	return Import(dir, ctr, images...)
}

// Import writes each image as an OCI tar into dir and imports it with ctr.
func Import(dir string, ctr []string, images ...*Image) error {
	for _, img := range images {
		path := filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_").Replace(img.Name)+".tar")
		if err := img.WriteOCI(path); err != nil {
			return fmt.Errorf("%s: %v", img.Name, err)
		}
		args := append(append([]string{}, ctr[1:]...), "image", "import", path)
		if b, err := exec.Command(ctr[0], args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ctr image import %s: %v\n%s", img.Name, err, b)
		}
		os.Remove(path)
	}
	return nil
}
