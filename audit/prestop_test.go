package audit

import (
	"testing"

	"github.com/graceful-dev/graceful/internal/node"
	"github.com/graceful-dev/graceful/transformers"
)

func TestHookPatterns(t *testing.T) {
	for script, want := range map[string]bool{
		"sleep 5; kill -QUIT 1":                 true,
		"kill -s QUIT 1 && wait":                true,
		"kill 1":                                true,
		"while kill -0 1; do sleep 1; done":     true,
		"test -e /proc/1/cmdline":               true,
		"kill -QUIT 10":                         false,
		"pkill -QUIT nginx":                     false,
		"sleep 1; kill -TERM $(pidof app)":      false,
		"/usr/bin/curl -X POST localhost:1/q 1": false,
	} {
		if got := pid1.MatchString(script); got != want {
			t.Errorf("pid1 %q: got %v, want %v", script, got, want)
		}
	}
	// GS208 reads the quit as explain does (transformers.ReadPreStop).
	for script, want := range map[string]bool{
		"nginx -s quit":                 true,
		"/usr/sbin/nginx -c /x -s quit": true,
		"kill -QUIT 1":                  true,
		"kill -3 1":                     true,
		"kill -s SIGQUIT 1":             true,
		"nginx -s reload":               false,
		"kill -QUIT 12":                 false,
		"kill -TERM 1":                  false,
	} {
		c := node.NewMap("lifecycle", node.NewMap("preStop", node.NewMap("exec", node.NewMap("command", node.NewSeq("sh", "-c", script)))))
		if got := transformers.ReadPreStop(c).Signal == "SIGQUIT"; got != want {
			t.Errorf("quit %q: got %v, want %v", script, got, want)
		}
	}
}
