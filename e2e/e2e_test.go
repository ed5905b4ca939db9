// Package e2e runs graceful inside its real hosts: the helm 3 and helm 4
// binaries, kustomize, and a kube-apiserver that must accept what graceful
// writes. The binaries come from hack/tools.sh, named by environment
// variables (hack/test.sh sets them). Without them the tests skip, except in
// CI (CI=true), where a missing binary is a failure.
package e2e

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the expected outputs in e2e/testdata")

// root is the repository root.
var root = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}()

// graceful is bin/graceful, the binary `make build` writes and the Helm 4
// plugin runs; TestMain builds it when GRACEFUL_BIN does not name it.
var graceful = filepath.Join(root, "bin", "graceful")

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv("GRACEFUL_BIN") == "" {
		build := exec.Command("go", "build", "-o", graceful, "./cmd/graceful")
		build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
		build.Env = append(os.Environ(), "CGO_ENABLED=0") // static, as make build
		if err := build.Run(); err != nil {
			os.Exit(1)
		}
	} else {
		graceful = os.Getenv("GRACEFUL_BIN")
	}
	os.Exit(m.Run())
}

// tool is the path of a pinned tool binary from the environment.
func tool(t *testing.T, env string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: run the tests with hack/test.sh (make test)", env)
		}
		t.Skipf("%s is not set: run the tests with hack/test.sh (make test)", env)
	}
	return path
}

// result is what a command did.
type result struct {
	stdout, stderr string
	err            error
}

// run runs a command in the repository root with extra environment.
func run(t *testing.T, env []string, stdin string, name string, args ...string) result {
	t.Helper()
	return runIn(t, root, env, stdin, name, args...)
}

// runIn runs a command in dir with extra environment.
func runIn(t *testing.T, dir string, env []string, stdin string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return result{out.String(), errOut.String(), err}
}

func (r result) must(t *testing.T) string {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%v\nstderr:\n%s", r.err, r.stderr)
	}
	return r.stdout
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(root, "e2e", "testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); go test ./e2e -update accepts:\n%s", name, diff)
	}
}
