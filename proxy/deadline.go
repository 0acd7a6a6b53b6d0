package proxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// With its four timeouts set, net/http moves a kept-alive connection's
// deadlines eight times per request: the read deadline to the request's
// end, to none (for its background read), to the past (to stop that
// read), to none, to the idle limit and to the next header's limit; the
// write deadline to the response's end and to none. Each move re-arms a
// runtime timer under the poller's lock, which callgrind put at about
// 2,000 instructions a check, a sixth of the server's cost beyond
// net/http's own.
//
// A coarseConn moves the real deadline only when it must:
//   - a new deadline within the slack of the armed one keeps the armed one,
//     so a timeout may fire up to the slack early or late: a sixteenth of
//     the shortest timeout, at most a second (noise on limits of 15 s);
//   - clearing is lazy: the armed deadline stays until the next Read or
//     Write on that side, which clears it first. net/http clears only
//     when no I/O is pending on that side, so no operation runs under a
//     deadline its caller removed.
//
// That leaves four real moves per request under load: none before the
// background read, the past, the idle limit, the header limit.
func deadlineSlack(shortest time.Duration) time.Duration {
	return min(shortest/16, time.Second)
}

// coarseListener hands out coarseConns.
type coarseListener struct {
	net.Listener
	slack time.Duration
}

func (l coarseListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newCoarseConn(c, l.slack), nil
}

// coarseConn wraps a connection; see deadlineSlack.
type coarseConn struct {
	net.Conn
	read, write deadline
}

func newCoarseConn(c net.Conn, slack time.Duration) *coarseConn {
	cc := &coarseConn{Conn: c}
	cc.read = deadline{set: c.SetReadDeadline, slack: slack}
	cc.write = deadline{set: c.SetWriteDeadline, slack: slack}
	return cc
}

func (c *coarseConn) Read(p []byte) (int, error) {
	if err := c.read.settle(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *coarseConn) Write(p []byte) (int, error) {
	if err := c.write.settle(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// ReadFrom keeps the connection's sendfile path for file downloads.
func (c *coarseConn) ReadFrom(r io.Reader) (int64, error) {
	if err := c.write.settle(); err != nil {
		return 0, err
	}
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

// CloseWrite keeps net/http's graceful close of a connection whose
// request body it did not read.
func (c *coarseConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *coarseConn) SetDeadline(t time.Time) error {
	return errors.Join(c.read.move(t), c.write.move(t))
}

func (c *coarseConn) SetReadDeadline(t time.Time) error  { return c.read.move(t) }
func (c *coarseConn) SetWriteDeadline(t time.Time) error { return c.write.move(t) }

// deadline is one side's deadline.
type deadline struct {
	set   func(time.Time) error // the real connection's setter
	slack time.Duration
	mu    sync.Mutex
	armed time.Time // the real deadline; zero for none
	// clear is set when the caller removed the deadline but the real
	// one is still armed; the next I/O clears it.
	clear atomic.Bool
}

// move asks for deadline t (zero for none).
func (d *deadline) move(t time.Time) error {
	d.mu.Lock()
	if t.IsZero() {
		d.clear.Store(!d.armed.IsZero())
		d.mu.Unlock()
		return nil
	}
	d.clear.Store(false)
	if !d.armed.IsZero() {
		if off := t.Sub(d.armed); -d.slack <= off && off <= d.slack {
			d.mu.Unlock()
			return nil
		}
	}
	err := d.set(t)
	if err == nil {
		d.armed = t
	}
	d.mu.Unlock()
	return err
}

// settle applies a pending clear before I/O.
func (d *deadline) settle() error {
	if !d.clear.Load() {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.clear.Load() {
		return nil
	}
	if err := d.set(time.Time{}); err != nil {
		return err
	}
	d.armed = time.Time{}
	d.clear.Store(false)
	return nil
}
