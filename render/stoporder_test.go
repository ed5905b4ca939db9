package render

import (
	"strings"
	"testing"
)

func TestParseStopAfter(t *testing.T) {
	for _, c := range []struct{ in, err string }{
		{"php=nginx", ""},
		{" php = nginx , nginx=envoy", ""},
		{"a=b,a=c", ""},
		{"php", "not LATER=EARLIER"},
		{"=nginx", "not LATER=EARLIER"},
		{"php=php", "cannot stop after itself"},
		{"a=b,b=a", "cycle (a after b after a)"},
		{"a=b,b=c,c=a", "cycle (a after b after c after a)"},
	} {
		_, err := parseStopAfter(c.in)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("parseStopAfter(%q) = %v, want %q", c.in, err, c.err)
		}
	}
}
