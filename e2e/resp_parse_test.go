package e2e

import (
	"bufio"
	"strings"
	"testing"
)

// The replies the drills read, as Redis writes them.
func TestReadReply(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"+OK\r\n", "OK", ""},
		{":100000\r\n", "100000", ""},
		{"$5\r\nhello\r\n", "hello", ""},
		{"$-1\r\n", "", ""},
		{"*2\r\n$1\r\na\r\n:2\r\n", "a\n2", ""},
		{"-ERR unknown command\r\n", "", "redis: ERR unknown command"},
		{"$9\r\nshort\r\n", "", "unexpected EOF"},
	} {
		got, err := readReply(bufio.NewReader(strings.NewReader(tc.in)))
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %s", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
