package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
)

// drillBinary runs `graceful drill`: a separate binary, so that client-go
// does not slow down the start of every `graceful render`.
const drillBinary = "graceful-drill"

func newDrillCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "drill deployment/NAME --url URL [flags]",
		Short:              "Restart a Deployment under load and count the requests that failed (runs graceful-drill)",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := findDrill()
			if err != nil {
				return err
			}
			return syscall.Exec(path, append([]string{path}, args...), os.Environ())
		},
	}
}

// findDrill: graceful-drill next to this binary, else on PATH.
func findDrill() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), drillBinary)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(drillBinary); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("graceful drill needs the %s binary next to graceful or on PATH (make build builds both)", drillBinary)
}
