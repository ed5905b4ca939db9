package drill

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
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

// TestTraceTimeouts: a timed-out request is kept with the local port of its
// connection, as the server saw it, for keep-alive and new connections.
func TestTraceTimeouts(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]bool{}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, port, _ := net.SplitHostPort(r.RemoteAddr)
		p, _ := strconv.Atoi(port)
		mu.Lock()
		seen[p] = true
		mu.Unlock()
		<-release // never answers in time
	}))
	defer srv.Close()
	defer close(release)
	l := startLoad(Load{URL: srv.URL, KeepAlive: 1, NewConn: 1, Rate: 10, ReqTimeout: 300 * time.Millisecond, TraceTimeouts: true})
	time.Sleep(time.Second)
	c := l.stopLoad(false)
	if c.Failures[Timeout] == 0 || int64(len(c.TimedOut)) != c.Failures[Timeout] {
		t.Fatalf("%d timeouts, %d traced", c.Failures[Timeout], len(c.TimedOut))
	}
	mu.Lock()
	defer mu.Unlock()
	for _, to := range c.TimedOut {
		if !seen[to.LocalPort] || !to.End.After(to.Start) {
			t.Errorf("timed out on port %d, which the server did not see (%v)", to.LocalPort, seen)
		}
	}
}

func TestAttribute(t *testing.T) {
	start := time.Now()
	r := &Report{Start: start, PodIPs: map[string]string{"10.0.0.1": "old", "10.0.0.2": "new"},
		Timeline: []Event{{At: 5 * time.Second, Pod: "old", What: "terminating"}, {At: 9 * time.Second, Pod: "old", What: "gone"}}}
	at := func(from, to int) TimedOut {
		return TimedOut{Start: start.Add(time.Duration(from) * time.Second), End: start.Add(time.Duration(to) * time.Second)}
	}
	for _, c := range []struct {
		to   TimedOut
		ip   string
		live bool
	}{
		{at(1, 4), "10.0.0.1", true},    // the old pod, before it was told to stop
		{at(1, 6), "10.0.0.1", false},   // still waiting when it began to stop
		{at(10, 20), "10.0.0.1", false}, // sent to it after it was gone: a stale route
		{at(10, 20), "10.0.0.2", true},
		{at(1, 4), "", false}, // unknown: counts as lost
		{at(1, 4), "10.9.9.9", false},
	} {
		if a := r.Attribute(c.to, c.ip); a.Live != c.live {
			t.Errorf("%+v to %s: live %v, want %v", c.to, c.ip, a.Live, c.live)
		}
	}
}
