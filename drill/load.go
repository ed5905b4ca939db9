// Package drill proves a rolling update drops no requests: it sends bounded
// load to one URL while a Deployment restarts, and counts what failed, by
// class. The test cluster's drill (e2e) and `graceful drill` both use it.
package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Class is what went wrong with a request.
type Class string

const (
	Refused   Class = "refused"   // connection refused: nothing listened
	Reset     Class = "reset"     // connection reset (or broken pipe)
	Closed    Class = "closed"    // the connection closed before the answer (EOF)
	Truncated Class = "truncated" // the answer's body ended early
	Status5xx Class = "5xx"       // the server answered 5xx
	Timeout   Class = "timeout"   // no answer in time
	Other     Class = "other"
)

// Classes in report order.
var Classes = []Class{Refused, Reset, Closed, Truncated, Status5xx, Timeout, Other}

// Load is the shape of the traffic.
type Load struct {
	URL        string        // base URL, e.g. http://127.0.0.1:30080
	SmallPath  string        // a short answer; "" = "/"
	BigPath    string        // a long download; "" = no downloads
	BigBytes   int64         // its expected size; 0 = trust Content-Length
	KeepAlive  int           // clients reusing one connection for short requests
	NewConn    int           // clients opening a new connection per request
	Downloads  int           // clients downloading BigPath again and again
	Rate       float64       // short requests per second, all clients together
	ReadRate   int64         // bytes a second each download reads; 0 = as fast as it comes
	ReqTimeout time.Duration // bound of one short request
	// DownloadTimeout bounds one download; 0 = twice its time at ReadRate
	// plus ReqTimeout, or 2 minutes without a ReadRate.
	DownloadTimeout time.Duration
	// TraceTimeouts keeps the local port of each short request that timed
	// out (Counts.TimedOut; see trace.go).
	TraceTimeouts bool
}

// Defaults for the drill's load. Short requests are paced so that 2 cores
// serve several drills at once; downloads read slowly so that they are in
// flight when a pod stops.
const (
	DefaultKeepAlive = 4
	DefaultNewConn   = 2
	DefaultDownloads = 3
	DefaultRate      = 100             // short requests per second in all
	DefaultTimeout   = 5 * time.Second // a short request on loopback takes ms
)

// Counts is what the load saw.
type Counts struct {
	Requests    int64 // short requests sent
	OK          int64
	Retried     int64 // short requests the client retried on a new connection after a reused one closed (succeeded or not)
	Downloads   int64 // downloads started
	DownloadsOK int64
	Failures    map[Class]int64
	Examples    map[Class]string // one error text per class
	TimedOut    []TimedOut       // with Load.TraceTimeouts
}

// Failed is every failed request and download.
func (c *Counts) Failed() int64 {
	var n int64
	for _, v := range c.Failures {
		n += v
	}
	return n
}

type counter struct {
	requests, ok, retried, downloads, downloadsOK atomic.Int64
	mu                                            sync.Mutex
	failures                                      map[Class]int64
	examples                                      map[Class]string
	timedOut                                      []TimedOut
}

func (c *counter) fail(class Class, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures[class]++
	if _, ok := c.examples[class]; !ok && err != nil {
		c.examples[class] = err.Error()
	}
}

func (c *counter) snapshot() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := Counts{Requests: c.requests.Load(), OK: c.ok.Load(), Retried: c.retried.Load(),
		Downloads: c.downloads.Load(), DownloadsOK: c.downloadsOK.Load(),
		Failures: map[Class]int64{}, Examples: map[Class]string{}}
	for k, v := range c.failures {
		out.Failures[k] = v
	}
	for k, v := range c.examples {
		out.Examples[k] = v
	}
	out.TimedOut = append([]TimedOut(nil), c.timedOut...)
	return out
}

// classify names a transport error.
func classify(err error) Class {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return Reset
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return Timeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		strings.Contains(err.Error(), "server closed"):
		return Closed
	}
	return Other
}

// running is load in progress.
type running struct {
	load   Load
	c      counter
	stop   chan struct{} // closed: start no new request
	wg     sync.WaitGroup
	cancel context.CancelFunc // cuts what is still in flight
}

// waitServing returns once url answered `want` short requests in a row
// (kube-proxy has the Service's endpoints), or fails after timeout. These
// requests are not counted.
func waitServing(ctx context.Context, url string, want int, timeout time.Duration) error {
	client := &http.Client{Transport: newTransport(false, DefaultTimeout), Timeout: DefaultTimeout, CheckRedirect: noRedirect}
	deadline := time.Now().Add(timeout)
	var last error
	for ok := 0; ok < want; {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not answer (%v)", url, last)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				err = statusError(resp.Status)
			}
		}
		if err != nil {
			last, ok = err, 0
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		ok++
	}
	return nil
}

// startLoad starts the clients; they run until stopLoad.
func startLoad(l Load) *running {
	if l.SmallPath == "" {
		l.SmallPath = "/"
	}
	if l.ReqTimeout == 0 {
		l.ReqTimeout = DefaultTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{load: l, stop: make(chan struct{}), cancel: cancel}
	r.c.failures, r.c.examples = map[Class]int64{}, map[Class]string{}
	clients := l.KeepAlive + l.NewConn
	interval := time.Second
	if l.Rate > 0 && clients > 0 {
		interval = time.Duration(float64(clients) / l.Rate * float64(time.Second))
	}
	for i := 0; i < clients; i++ {
		keepAlive := i < l.KeepAlive
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.smallClient(ctx, keepAlive, interval)
		}()
	}
	if l.BigPath != "" {
		for i := 0; i < l.Downloads; i++ {
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				r.downloadClient(ctx)
			}()
		}
	}
	return r
}

// stopLoad starts no new request, lets every request in flight finish
// (each is bounded by its own timeout), and returns the counts. abort cuts
// what is in flight instead (the drill itself failed).
func (r *running) stopLoad(abort bool) Counts {
	close(r.stop)
	if abort {
		r.cancel()
	}
	r.wg.Wait()
	r.cancel()
	return r.c.snapshot()
}

func (r *running) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

func newTransport(keepAlive bool, dialTimeout time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: dialTimeout}
	return &http.Transport{
		DialContext:         d.DialContext,
		DisableKeepAlives:   !keepAlive,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		Proxy:               nil, // never through a proxy: only the URL given
	}
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func (r *running) smallClient(ctx context.Context, keepAlive bool, interval time.Duration) {
	tr := newTransport(keepAlive, r.load.ReqTimeout)
	if r.load.TraceTimeouts {
		tr.DialContext = tracingDial(&net.Dialer{Timeout: r.load.ReqTimeout})
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: r.load.ReqTimeout, CheckRedirect: noRedirect}
	url := r.load.smallURL()
	next := time.Now()
	for !r.stopped() {
		var conns, port atomic.Int32
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { conns.Add(1); port.Store(connPort(info.Conn)) }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.WithValue(ctx, portKey{}, &port), trace), http.MethodGet, url, nil)
		r.c.requests.Add(1)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil && r.load.TraceTimeouts && classify(err) == Timeout {
			r.c.mu.Lock()
			r.c.timedOut = append(r.c.timedOut, TimedOut{LocalPort: int(port.Load()), Start: start, End: time.Now()})
			r.c.mu.Unlock()
		}
		if conns.Load() > 1 {
			// Go's transport retried the idempotent request on a new
			// connection after a reused one was closed: as browsers and
			// most HTTP clients do.
			r.c.retried.Add(1)
		}
		switch {
		case err != nil:
			r.c.fail(classify(err), err)
		default:
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch {
			case err != nil:
				r.c.fail(Truncated, err)
			case resp.StatusCode >= 500:
				r.c.fail(Status5xx, fmt.Errorf("%s", resp.Status))
			default:
				r.c.ok.Add(1)
			}
		}
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			select {
			case <-time.After(d):
			case <-r.stop:
			}
		} else {
			next = time.Now()
		}
	}
}

func (r *running) downloadClient(ctx context.Context) {
	tr := newTransport(false, r.load.ReqTimeout)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: noRedirect}
	url := strings.TrimSuffix(r.load.URL, "/") + r.load.BigPath
	for !r.stopped() {
		r.c.downloads.Add(1)
		start := time.Now()
		got, want, err := r.download(ctx, client, url)
		switch {
		case err != nil && got < 0:
			if _, ok := err.(statusError); ok {
				r.c.fail(Status5xx, err)
			} else {
				r.c.fail(classify(err), err)
			}
		case errors.Is(err, context.DeadlineExceeded):
			r.c.fail(Timeout, err)
		case err != nil:
			r.c.fail(Truncated, fmt.Errorf("after %d of %d bytes, %v: %w", got, want, time.Since(start).Round(time.Millisecond), err))
		default:
			r.c.downloadsOK.Add(1)
		}
		if err != nil {
			// do not hammer a dead address
			select {
			case <-time.After(200 * time.Millisecond):
			case <-r.stop:
			}
		}
	}
}

// download reads url at ReadRate; got < 0: no answer at all.
func (r *running) download(ctx context.Context, client *http.Client, url string) (got, want int64, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	// A silent server is a timeout, not a hang: bound the whole download.
	want = r.load.BigBytes
	resp, err := client.Do(req)
	if err != nil {
		return -1, want, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		return -1, want, statusError(resp.Status)
	}
	if want == 0 {
		want = resp.ContentLength
	}
	timer := time.AfterFunc(r.load.downloadLimit(want), cancel)
	defer timer.Stop()
	buf := make([]byte, 32<<10)
	start := time.Now()
	for {
		n, rerr := resp.Body.Read(buf)
		got += int64(n)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if ctx.Err() != nil {
				return got, want, fmt.Errorf("no end within %v: %w", r.load.downloadLimit(want), context.DeadlineExceeded)
			}
			return got, want, rerr
		}
		if r.load.ReadRate > 0 {
			if d := time.Duration(float64(got)/float64(r.load.ReadRate)*float64(time.Second)) - time.Since(start); d > 0 {
				time.Sleep(d)
			}
		}
	}
	if want >= 0 && got != want {
		return got, want, io.ErrUnexpectedEOF
	}
	return got, want, nil
}

// downloadLimit bounds one download of size bytes.
func (l Load) downloadLimit(size int64) time.Duration {
	if l.DownloadTimeout > 0 {
		return l.DownloadTimeout
	}
	if l.ReadRate <= 0 || size <= 0 {
		return 2 * time.Minute
	}
	return 2*time.Duration(float64(size)/float64(l.ReadRate)*float64(time.Second)) + DefaultTimeout
}

type statusError string

func (s statusError) Error() string { return string(s) }

// smallURL is the URL of the short answer: URL without its trailing slash,
// then SmallPath.
func (l Load) smallURL() string {
	return strings.TrimSuffix(l.URL, "/") + l.SmallPath
}
