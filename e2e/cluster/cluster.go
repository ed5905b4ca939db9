package cluster

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Cluster is a running hack/cluster.sh cluster.
type Cluster struct {
	Kubeconfig string
	Kubectl    string
	Dir        string
	Ctr        []string // the ctr command line for the cluster's containerd
}

var downOnce sync.Once

// Up starts the cluster (cleaning a previous run's leftovers first), builds
// and imports the images, and stops the cluster when the test ends, or when
// the test binary gets SIGINT/SIGTERM (go test's timeout, a Ctrl-C), so a
// failed run leaves no process behind.
func Up(t *testing.T, root string) *Cluster {
	t.Helper()
	script := filepath.Join(root, "hack", "cluster.sh")
	down := func() {
		downOnce.Do(func() {
			cmd := exec.Command(script, "down")
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			cmd.Run()
		})
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		if s, ok := <-sigs; ok {
			down()
			signal.Reset()
			p, _ := os.FindProcess(os.Getpid())
			p.Signal(s)
		}
	}()
	t.Cleanup(func() {
		signal.Stop(sigs)
		close(sigs)
		if os.Getenv("GRACEFUL_CLUSTER_KEEP") == "" {
			down()
		}
	})
	var out, errOut bytes.Buffer
	// The watchdog stops the cluster even if this process dies without
	// running cleanups (a panic, go test's -timeout, SIGKILL).
	// GRACEFUL_CLUSTER_KEEP leaves the cluster up for a look afterwards.
	cmd := exec.Command(script, "up", "--owner", strconv.Itoa(os.Getpid()))
	if os.Getenv("GRACEFUL_CLUSTER_KEEP") != "" {
		cmd = exec.Command(script, "up")
	}
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("hack/cluster.sh up: %v\n%s", err, errOut.String())
	}
	c := &Cluster{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "KUBECONFIG":
			c.Kubeconfig = v
		case "KUBECTL":
			c.Kubectl = v
		case "CLUSTER_DIR":
			c.Dir = v
		case "CTR":
			c.Ctr = strings.Fields(v)
		}
	}
	if err := BuildImages(root, t.TempDir(), c.Ctr); err != nil {
		t.Fatal(err)
	}
	return c
}
