package main

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graceful-dev/graceful/internal/promises"
)

var update = flag.Bool("update", false, "rewrite the expected files of the golden cases")

// TestGolden runs every case in testdata/<case>/ through the real command:
//
//	input.yaml    the stream, read from stdin
//	command       optional, the command instead of render: "profiles", or
//	              empty for graceful itself (a KRM function)
//	args          optional flags, one per line; $CASE is the case's directory
//	config.yaml   optional, passed as --config
//	expected.yaml stdout, for a case that succeeds
//	summary.txt   stderr, for a case that succeeds
//	error.txt     for a case that fails: each line a regexp the error must match
//
// Every successful render case is rendered a second time from its own output,
// which must come back byte for byte, and is checked against the output promises.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("../../testdata/*/input.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	for _, in := range dirs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) { runCase(t, dir) })
	}
}

// caseArgs is a golden case's command line: base, then the flags of its
// args file (one a line; $CASE is the case's directory), then --config
// config.yaml where the case has one.
func caseArgs(dir string, base ...string) []string {
	args := slices.Clone(base)
	if data, err := os.ReadFile(filepath.Join(dir, "args")); err == nil {
		args = append(args, strings.Fields(strings.ReplaceAll(string(data), "$CASE", dir))...)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.yaml")); err == nil {
		args = append(args, "--config", filepath.Join(dir, "config.yaml"))
	}
	return args
}

func runCase(t *testing.T, dir string) {
	input := readFile(t, filepath.Join(dir, "input.yaml"))
	args := []string{"render"}
	if data, err := os.ReadFile(filepath.Join(dir, "command")); err == nil {
		args = strings.Fields(string(data))
	}
	isRender := len(args) > 0 && args[0] == "render"
	args = caseArgs(dir, args...)
	stdout, stderr, err := execute(input, args...)

	errorFile := filepath.Join(dir, "error.txt")
	if _, statErr := os.Stat(errorFile); statErr == nil {
		if err == nil {
			t.Fatalf("want an error, got none; stdout:\n%s", stdout)
		}
		if isRender && stdout != "" {
			t.Errorf("an error must leave stdout empty, got:\n%s", stdout)
		}
		if !isRender { // a KRM function reports its error in the ResourceList too
			compareGolden(t, filepath.Join(dir, "expected.yaml"), stdout)
		}
		for _, line := range strings.Split(strings.TrimSpace(readFile(t, errorFile)), "\n") {
			if !regexp.MustCompile(line).MatchString(err.Error()) {
				t.Errorf("error %q does not match %q", err, line)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("graceful %s: %v", strings.Join(args, " "), err)
	}
	compareGolden(t, filepath.Join(dir, "expected.yaml"), stdout)
	compareGolden(t, filepath.Join(dir, "summary.txt"), stderr)
	if !isRender {
		return
	}

	if err := promises.Check([]byte(input), []byte(stdout)); err != nil {
		t.Error(err)
	}
	again, _, err := execute(stdout, args...)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if again != stdout {
		t.Errorf("second run changed the output (-first +second):\n%s", cmp.Diff(stdout, again))
	}
}

func execute(stdin string, args ...string) (stdout, stderr string, err error) {
	// render sets the process's memory limit from its input, as graceful
	// runs once per process; tests run many commands in one process.
	defer debug.SetMemoryLimit(math.MaxInt64)
	var out, errOut bytes.Buffer
	cmd := newRootCmd(strings.NewReader(stdin), &out, &errOut, append([]string{}, args...)) // never os.Args: the test binary's flags
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readFile(t, path)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s differs (-want +got), run go test ./cmd/graceful -update to accept:\n%s", path, diff)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
