package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRejectsBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"svc/web", "--url", "http://127.0.0.1:1"},
		{"deployment/web"},
		{},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != exitError {
			t.Errorf("%q: exit %d, want %d (%s)", args, code, exitError, errOut.String())
		}
		if !strings.Contains(errOut.String(), "graceful drill:") {
			t.Errorf("%q: no error message: %q", args, errOut.String())
		}
	}
}
