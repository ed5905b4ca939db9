package drill

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testBig = 16 << 20

func testServer() *httptest.Server {
	chunk := []byte(strings.Repeat("x", 64<<10))
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/big" {
			w.Write([]byte("ok\n"))
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(testBig))
		for left := testBig; left > 0; left -= len(chunk) {
			if _, err := w.Write(chunk[:min(left, len(chunk))]); err != nil {
				return
			}
		}
	}))
}

func TestLoadHealthyServer(t *testing.T) {
	srv := testServer()
	defer srv.Close()
	l := startLoad(Load{URL: srv.URL, BigPath: "/big", BigBytes: testBig, KeepAlive: 2, NewConn: 1, Downloads: 2,
		Rate: 50, ReadRate: 8 << 20})
	time.Sleep(2 * time.Second)
	c := l.stopLoad(false)
	if c.Failed() != 0 || c.Requests < 50 || c.DownloadsOK < 2 {
		t.Fatalf("%+v", c)
	}
	t.Logf("%+v", c)
}

// The check can fail: a server that goes away while downloads are in flight
// and requests keep coming.
func TestLoadServerGoesAway(t *testing.T) {
	srv := testServer()
	l := startLoad(Load{URL: srv.URL, BigPath: "/big", BigBytes: testBig, KeepAlive: 2, NewConn: 1, Downloads: 2,
		Rate: 50, ReadRate: 8 << 20})
	time.Sleep(time.Second)
	srv.CloseClientConnections()
	srv.Close()
	time.Sleep(time.Second)
	c := l.stopLoad(false)
	if c.Failures[Refused] == 0 || c.Failures[Truncated] == 0 {
		t.Fatalf("want refused and truncated: %+v", c)
	}
	t.Logf("%+v", c)
}
