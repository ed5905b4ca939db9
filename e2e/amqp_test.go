package e2e

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// amqpConn is the little of AMQP 0-9-1 (the spec's wire format, no client
// library) the rabbitmq stop proof needs: log in as guest on channel 1,
// delete and declare durable queues, publish persistent messages, count a
// queue.
type amqpConn struct {
	c        net.Conn
	r        *bufio.Reader
	w        *bufio.Writer
	frameMax int
}

func amqpDial(addr string) (*amqpConn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	a := &amqpConn{c: c, r: bufio.NewReader(c), w: bufio.NewWriterSize(c, 1<<16)}
	a.w.WriteString("AMQP\x00\x00\x09\x01")
	if err := a.w.Flush(); err != nil {
		return nil, err
	}
	if _, err := a.expect(10, 10); err != nil { // Connection.Start
		return nil, err
	}
	// Start-Ok: no client properties, PLAIN guest/guest.
	a.method(0, 10, 11, table(), shortstr("PLAIN"), longstr("\x00guest\x00guest"), shortstr("en_US"))
	if err := a.w.Flush(); err != nil {
		return nil, err
	}
	tune, err := a.expect(10, 30)
	if err != nil {
		return nil, err
	}
	a.frameMax = int(binary.BigEndian.Uint32(tune[2:6]))
	a.method(0, 10, 31, tune[0:2], tune[2:6], []byte{0, 0}) // Tune-Ok, no heartbeat
	a.method(0, 10, 40, shortstr("/"), shortstr(""), []byte{0})
	if err := a.w.Flush(); err != nil {
		return nil, err
	}
	if _, err := a.expect(10, 41); err != nil {
		return nil, err
	}
	a.method(1, 20, 10, shortstr(""))
	if err := a.w.Flush(); err != nil {
		return nil, err
	}
	if _, err := a.expect(20, 11); err != nil {
		return nil, err
	}
	return a, nil
}

// declare declares a durable queue (or, passive, finds it) and returns its
// message count.
func (a *amqpConn) declare(queue string, passive bool) (int, error) {
	bits := byte(2) // durable
	if passive {
		bits = 1
	}
	a.method(1, 50, 10, []byte{0, 0}, shortstr(queue), []byte{bits}, table())
	if err := a.w.Flush(); err != nil {
		return 0, err
	}
	ok, err := a.expect(50, 11)
	if err != nil {
		return 0, err
	}
	n := int(ok[0])
	return int(binary.BigEndian.Uint32(ok[1+n:])), nil
}

// remove deletes a queue (if it exists) with its messages.
func (a *amqpConn) remove(queue string) error {
	a.method(1, 50, 40, []byte{0, 0}, shortstr(queue), []byte{0})
	if err := a.w.Flush(); err != nil {
		return err
	}
	_, err := a.expect(50, 41)
	return err
}

// publish sends body to queue through the default exchange, persistent
// (delivery-mode 2), without waiting for the broker.
func (a *amqpConn) publish(queue string, body []byte) {
	a.method(1, 60, 40, []byte{0, 0}, shortstr(""), shortstr(queue), []byte{0})
	h := make([]byte, 15)
	binary.BigEndian.PutUint16(h[0:], 60)
	binary.BigEndian.PutUint64(h[4:], uint64(len(body)))
	binary.BigEndian.PutUint16(h[12:], 0x1000) // delivery-mode present
	h[14] = 2
	a.frame(2, 1, h)
	for len(body) > 0 {
		n := min(len(body), a.frameMax-8)
		a.frame(3, 1, body[:n])
		body = body[n:]
	}
}

func (a *amqpConn) close() error {
	a.method(0, 10, 50, []byte{0, 200}, shortstr(""), []byte{0, 0, 0, 0})
	a.w.Flush()
	_, err := a.expect(10, 51)
	a.c.Close()
	return err
}

func (a *amqpConn) method(ch uint16, class, method uint16, args ...[]byte) {
	p := binary.BigEndian.AppendUint16(nil, class)
	p = binary.BigEndian.AppendUint16(p, method)
	for _, x := range args {
		p = append(p, x...)
	}
	a.frame(1, ch, p)
}

func (a *amqpConn) frame(typ byte, ch uint16, payload []byte) {
	var h [7]byte
	h[0] = typ
	binary.BigEndian.PutUint16(h[1:], ch)
	binary.BigEndian.PutUint32(h[3:], uint32(len(payload)))
	a.w.Write(h[:])
	a.w.Write(payload)
	a.w.WriteByte(0xCE)
}

// expect reads frames until a method frame, which must be class.method, and
// returns its arguments; a Close from the server is an error.
func (a *amqpConn) expect(class, method uint16) ([]byte, error) {
	a.c.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		var h [7]byte
		if _, err := io.ReadFull(a.r, h[:]); err != nil {
			return nil, err
		}
		p := make([]byte, binary.BigEndian.Uint32(h[3:])+1)
		if _, err := io.ReadFull(a.r, p); err != nil {
			return nil, err
		}
		if h[0] != 1 {
			continue // heartbeats
		}
		c, m := binary.BigEndian.Uint16(p[0:]), binary.BigEndian.Uint16(p[2:])
		if c == class && m == method {
			return p[4 : len(p)-1], nil
		}
		if (c == 10 || c == 20) && m == 40 {
			n := int(p[6])
			return nil, fmt.Errorf("amqp: closed by the server: %d %s", binary.BigEndian.Uint16(p[4:]), p[7:7+n])
		}
		return nil, fmt.Errorf("amqp: want %d.%d, got %d.%d", class, method, c, m)
	}
}

func shortstr(s string) []byte { return append([]byte{byte(len(s))}, s...) }
func longstr(s string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...)
}
func table() []byte { return []byte{0, 0, 0, 0} }
