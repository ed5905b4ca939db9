// Command pause is the sandbox ("pause") container of the drill's test
// cluster: it holds the pod's namespaces, reaps orphans and exits on
// SIGTERM/SIGINT, like registry.k8s.io/pause. Built static (CGO_ENABLED=0)
// and imported under that name, so no registry is needed.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s == syscall.SIGCHLD {
			for {
				var ws syscall.WaitStatus
				if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
					break
				}
			}
			continue
		}
		os.Exit(0)
	}
}
