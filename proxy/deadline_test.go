package proxy

import (
	"errors"
	"net"
	"slices"
	"testing"
	"time"
)

// fakeConn records the deadlines really set on it.
type fakeConn struct {
	net.Conn
	reads, writes []time.Time
	fail          error
}

func (c *fakeConn) SetReadDeadline(t time.Time) error {
	c.reads = append(c.reads, t)
	return c.fail
}

func (c *fakeConn) SetWriteDeadline(t time.Time) error {
	c.writes = append(c.writes, t)
	return c.fail
}

func (c *fakeConn) Read(p []byte) (int, error)  { return len(p), nil }
func (c *fakeConn) Write(p []byte) (int, error) { return len(p), nil }

func TestCoarseDeadlines(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	past := time.Unix(1, 0)
	const slack = time.Second
	type step struct {
		set  *time.Time // SetReadDeadline(*set), or a read when nil
		want []time.Time
	}
	set := func(t time.Time, want ...time.Time) step { return step{set: &t, want: want} }
	read := func(want ...time.Time) step { return step{want: want} }
	tests := []struct {
		name  string
		steps []step
	}{
		{"first deadline is set", []step{set(at(15*time.Second), at(15*time.Second))}},
		{"a later one within the slack keeps the armed one", []step{
			set(at(15*time.Second), at(15*time.Second)), set(at(15*time.Second + slack)), read()}},
		{"an earlier one within the slack keeps it too", []step{
			set(at(15*time.Second), at(15*time.Second)), set(at(15*time.Second - slack))}},
		{"beyond the slack it moves", []step{
			set(at(15*time.Second), at(15*time.Second)), set(at(16*time.Second+1), at(16*time.Second+1)),
			set(at(time.Second), at(time.Second))}},
		{"the past always interrupts", []step{
			set(at(15*time.Second), at(15*time.Second)), set(past, past)}},
		{"clearing waits for the next read", []step{
			set(at(15*time.Second), at(15*time.Second)), set(time.Time{}), read(time.Time{}), read()}},
		{"a clear undone before any read costs nothing", []step{
			set(at(30*time.Second), at(30*time.Second)), set(time.Time{}), set(at(30*time.Second + time.Millisecond)), read()}},
		{"a clear then a distant deadline sets only that", []step{
			set(past, past), set(time.Time{}), set(at(120*time.Second), at(120*time.Second)), read()}},
		{"clearing nothing is nothing", []step{set(time.Time{}), read()}},
		// What net/http does on a kept-alive connection: header deadline,
		// request deadline, clear for the background read, its abort,
		// clear, idle, next header; then the next request 1ms on.
		{"net/http's keep-alive round", []step{
			set(at(15*time.Second), at(15*time.Second)), read(), set(at(15*time.Second + 50*time.Microsecond)),
			set(time.Time{}), read(time.Time{}),
			set(past, past), set(time.Time{}),
			set(at(120*time.Second), at(120*time.Second)), read(),
			set(at(15*time.Second+time.Millisecond), at(15*time.Second+time.Millisecond)), read(),
			set(at(15*time.Second + 2*time.Millisecond)), read(),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := &fakeConn{}
			c := newCoarseConn(fc, slack)
			for i, s := range tt.steps {
				fc.reads = nil
				if s.set != nil {
					if err := c.SetReadDeadline(*s.set); err != nil {
						t.Fatal(err)
					}
				} else if _, err := c.Read(make([]byte, 1)); err != nil {
					t.Fatal(err)
				}
				if !slices.EqualFunc(fc.reads, s.want, time.Time.Equal) {
					t.Fatalf("step %d: real deadlines %v, want %v", i, fc.reads, s.want)
				}
			}
		})
	}
}

// TestCoarseWriteDeadlines: the write side under load moves its deadline
// once per slack, not twice per request, and a clear reaches the next write.
func TestCoarseWriteDeadlines(t *testing.T) {
	t.Parallel()
	fc := &fakeConn{}
	c := newCoarseConn(fc, time.Second)
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for i := range 2000 { // 2000 requests 1ms apart
		now := t0.Add(time.Duration(i) * time.Millisecond)
		_ = c.SetWriteDeadline(now.Add(30 * time.Second))
		_, _ = c.Write([]byte("answer"))
		_ = c.SetWriteDeadline(time.Time{})
	}
	if len(fc.writes) != 2 {
		t.Fatalf("%d real write deadlines for 2000 requests over 2s, want 2: %v", len(fc.writes), fc.writes)
	}
	_, _ = c.Write([]byte("late"))
	if last := fc.writes[len(fc.writes)-1]; !last.IsZero() {
		t.Fatalf("write after a clear ran under deadline %v", last)
	}
}

func TestCoarseDeadlineErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	fc := &fakeConn{}
	c := newCoarseConn(fc, time.Second)
	_ = c.SetWriteDeadline(time.Now().Add(time.Minute))
	_ = c.SetWriteDeadline(time.Time{})
	fc.fail = boom
	if _, err := c.Write([]byte("x")); !errors.Is(err, boom) {
		t.Fatalf("Write after a failing clear: %v, want %v", err, boom)
	}
	if err := c.SetDeadline(time.Now().Add(time.Hour)); !errors.Is(err, boom) {
		t.Fatalf("SetDeadline: %v, want %v", err, boom)
	}
}
