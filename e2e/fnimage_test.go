package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFunctionImage builds the KRM function image (hack/fnimage: the static
// binary alone), imports it into a containerd of its own, and runs it as
// kustomize and kpt run a container function: a ResourceList on the
// container's stdin, the result on its stdout, no network. The output must
// be what the binary writes when run directly.
func TestFunctionImage(t *testing.T) {
	containerd := tool(t, "GRACEFUL_CONTAINERD")
	ctrBin := filepath.Join(filepath.Dir(containerd), "ctr")
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("containerd needs root")
		}
		t.Skip("containerd needs root")
	}
	work := t.TempDir()
	static := filepath.Join(work, "graceful-static")
	build := exec.Command("go", "build", "-trimpath", "-o", static, "./cmd/graceful")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, out)
	}
	image := filepath.Join(work, "image.tar")
	const ref = "ghcr.io/graceful-dev/graceful:e2e"
	run(t, nil, "", "go", "run", "./hack/fnimage", "-binary", static, "-name", ref, "-o", image).must(t)

	ctr, address := startContainerd(t, containerd, ctrBin)
	ctr("image", "import", image)

	resourceList := func(spec string) string {
		items, err := os.ReadFile(filepath.Join(root, "examples", "kustomize", "resources.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n  apiVersion: graceful.dev/v1alpha1\n  kind: GracefulShutdown\n  metadata: {name: shutdown}\n  spec:\n" + spec + "items:\n")
		for _, doc := range strings.Split(string(items), "\n---\n") {
			if strings.TrimSpace(doc) == "" || !strings.Contains(doc, "kind:") {
				continue
			}
			b.WriteString("  - " + strings.ReplaceAll(strings.TrimSpace(doc), "\n", "\n    ") + "\n")
		}
		return b.String()
	}
	for i, c := range []struct {
		name, spec string
		exit       int
	}{
		{"nginx", "    provider: aws\n    rules:\n      - match: {kinds: [Deployment]}\n        profile: nginx\n", 0},
		{"bad config", "    rules:\n      - match: {kinds: [Deployment]}\n        profile: nginx\n        preStopDelaySeconds: -3\n", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := resourceList(c.spec)
			direct := run(t, nil, in, static)
			stdout, code := ctrRun(t, ctrBin, ctr, address, ref, fmt.Sprintf("fn-%d", i), in)
			if stdout != direct.stdout || code != c.exit || exitCode(direct.err) != c.exit {
				t.Errorf("container: exit %d, stdout:\n%s\ndirect: exit %d, stdout:\n%s", code, stdout, exitCode(direct.err), direct.stdout)
			}
			if !strings.Contains(stdout, "kind: ResourceList") {
				t.Errorf("no ResourceList on stdout:\n%s", stdout)
			}
		})
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// startContainerd runs a containerd of the test's own (root, state and
// socket in a temporary directory, no CRI), stopped by its PID at the end.
// It returns a function that runs ctr against it.
func startContainerd(t *testing.T, containerd, ctrBin string) (ctr func(args ...string) string, address string) {
	t.Helper()
	// A short path: a unix socket path has at most 107 bytes.
	dir, err := os.MkdirTemp("", "gfn")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "containerd.sock")
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
[ttrpc]
  address = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc")
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	daemon := exec.Command(containerd, "--config", filepath.Join(dir, "config.toml"))
	daemon.Stdout, daemon.Stderr = logFile, logFile
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	ctr = func(args ...string) string {
		t.Helper()
		out, err := exec.Command(ctrBin, append([]string{"--address", sock, "--namespace", "graceful-e2e"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ctr %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	t.Cleanup(func() {
		_ = daemon.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = daemon.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = daemon.Process.Kill()
			<-done
		}
		logFile.Close()
		// Snapshots may still be mounted under root.
		mounts, _ := os.ReadFile("/proc/self/mounts")
		for _, line := range strings.Split(string(mounts), "\n") {
			if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], dir+"/") {
				_ = syscall.Unmount(f[1], syscall.MNT_DETACH)
			}
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
			t.Logf("containerd log (tail):\n%s", lastLines(string(log), 30))
		}
		_ = os.RemoveAll(dir)
	})
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if exec.Command(ctrBin, "--address", sock, "version").Run() == nil {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatal("containerd did not start")
		}
	}
	return ctr, sock
}

// ctrRun runs the image with in on its stdin and returns its stdout and
// exit code. ctr (1.6) closes the container's stdin at EOF only once the
// task exists (it sets its stdin closer after creating the task): the input
// is written when the task is running.
func ctrRun(t *testing.T, ctrBin string, ctr func(...string) string, address, ref, id, in string) (string, int) {
	t.Helper()
	// ctr 1.6 arranges to pass on the end of stdin only some time after the
	// task runs; an end that comes sooner is lost and the function waits
	// for input forever. Each attempt waits for RUNNING and a margin; an
	// attempt that still hangs is retried under a new id (ctr's race, not
	// graceful's: the output is compared in full either way).
	for attempt := 1; ; attempt++ {
		stdout, code, ok := ctrRunOnce(t, ctrBin, ctr, address, ref, fmt.Sprintf("%s-%d", id, attempt), in)
		if ok {
			return stdout, code
		}
		if attempt == 3 {
			t.Fatalf("the function did not finish in %d attempts", attempt)
		}
		t.Logf("attempt %d: ctr lost the end of stdin; again", attempt)
	}
}

// stdinMargin is how long after the task runs the test closes its stdin.
const stdinMargin = 500 * time.Millisecond

func ctrRunOnce(t *testing.T, ctrBin string, ctr func(...string) string, address, ref, id, in string) (stdout string, code int, ok bool) {
	t.Helper()
	cmd := exec.Command(ctrBin, "--address", address, "--namespace", "graceful-e2e", "run", "--rm", ref, id)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	running := func() bool {
		for _, line := range strings.Split(ctr("task", "ls"), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == id && f[2] == "RUNNING" {
				return true
			}
		}
		return false
	}
	for start := time.Now(); !running(); time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			_ = cmd.Process.Kill()
			t.Fatalf("the task did not start: %s", stderr.String())
		}
	}
	time.Sleep(stdinMargin)
	if _, err := stdin.Write([]byte(in)); err != nil {
		t.Fatal(err)
	}
	stdin.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		_ = exec.Command(ctrBin, "--address", address, "--namespace", "graceful-e2e", "task", "kill", "-s", "SIGKILL", id).Run()
		return "", 0, false
	}
	if err != nil && exitCode(err) <= 0 {
		t.Fatalf("ctr run: %v\n%s", err, stderr.String())
	}
	return out.String(), exitCode(err), true
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
