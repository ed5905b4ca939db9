package drill

import (
	"context"
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// A short request that times out was either lost (sent to a pod that was
// going or gone: a stale route) or only slow (a live pod, or the machine,
// too busy to answer in time). The client cannot tell; the kernel's
// connection tracking can: it records where the NodePort sent each
// connection. With Load.TraceTimeouts every connection's local port is
// known before it connects, and each timed-out request is kept with it,
// so that the caller can look the port up (conntrack -p tcp --sport PORT)
// and match the pod IP to the drill's timeline.

// TimedOut is a short request that timed out.
type TimedOut struct {
	LocalPort  int
	Start, End time.Time
}

// portKey carries a request's port holder to the dialer.
type portKey struct{}

// tracingDial binds each new connection to an ephemeral port before it
// connects, and tells the request's holder which one.
func tracingDial(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		holder, _ := ctx.Value(portKey{}).(*atomic.Int32)
		dd := *d
		dd.Control = func(network, _ string, c syscall.RawConn) error {
			var err error
			c.Control(func(fd uintptr) {
				var sa syscall.Sockaddr = &syscall.SockaddrInet4{}
				if network == "tcp6" {
					sa = &syscall.SockaddrInet6{}
				}
				if err = syscall.Bind(int(fd), sa); err != nil {
					return
				}
				if got, gerr := syscall.Getsockname(int(fd)); gerr == nil && holder != nil {
					switch a := got.(type) {
					case *syscall.SockaddrInet4:
						holder.Store(int32(a.Port))
					case *syscall.SockaddrInet6:
						holder.Store(int32(a.Port))
					}
				}
			})
			return err
		}
		return dd.DialContext(ctx, network, addr)
	}
}

// connPort is the local port of a connection, 0 if not TCP.
func connPort(c net.Conn) int32 {
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		return int32(a.Port)
	}
	return 0
}

// Attribution is where a timed-out request went.
type Attribution struct {
	TimedOut
	PodIP, Pod string
	// Live: the pod was neither terminating nor gone at any time before
	// the request ended, so no shutdown can have lost it: it was slow.
	Live bool
}

// Attribute matches a timed-out request, sent to podIP (from the kernel's
// connection tracking; "" if unknown), to the report's pods and timeline.
func (r *Report) Attribute(to TimedOut, podIP string) Attribution {
	a := Attribution{TimedOut: to, PodIP: podIP, Pod: r.PodIPs[podIP]}
	if a.Pod == "" {
		return a
	}
	a.Live = true
	for _, e := range r.Timeline {
		if e.Pod == a.Pod && (e.What == "terminating" || e.What == "gone") && !r.Start.Add(e.At).After(to.End) {
			a.Live = false
		}
	}
	return a
}
