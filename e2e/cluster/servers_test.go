package cluster

import (
	"strings"
	"testing"
)

// A Server's host file names a binary through an environment variable that
// make drill-servers sets; unset, the build must say which, not add "".
func TestExpandSet(t *testing.T) {
	t.Setenv("GRACEFUL_TEST_BIN", "/opt/bin/tool")
	t.Setenv("GRACEFUL_TEST_EMPTY", "")
	if got, err := expandSet("$GRACEFUL_TEST_BIN"); err != nil || got != "/opt/bin/tool" {
		t.Errorf("expandSet($GRACEFUL_TEST_BIN) = %q, %v", got, err)
	}
	if got, err := expandSet("${GRACEFUL_TEST_BIN}.d/x"); err != nil || got != "/opt/bin/tool.d/x" {
		t.Errorf("expandSet(${GRACEFUL_TEST_BIN}.d/x) = %q, %v", got, err)
	}
	if _, err := expandSet("$GRACEFUL_TEST_EMPTY/x"); err == nil || !strings.Contains(err.Error(), "GRACEFUL_TEST_EMPTY is not set") {
		t.Errorf("expandSet of an empty variable: err = %v, want GRACEFUL_TEST_EMPTY is not set", err)
	}
}

// Every Server's host files name their binary through a variable, so that
// no machine-specific path is committed.
func TestServerFilesNameVariables(t *testing.T) {
	for name, s := range Servers {
		for p, host := range s.Files {
			if !strings.HasPrefix(host, "$") {
				t.Errorf("%s: Files[%s] = %q, want a $VARIABLE (set by make drill-servers)", name, p, host)
			}
		}
	}
}
