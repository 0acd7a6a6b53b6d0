// Package logjson writes a server's log lines cheaply: Handler is a
// slog.Handler that writes exactly what slog.JSONHandler writes, byte for
// byte, at a fraction of the cost for the flat records a server logs once
// per request, and Buffer batches the lines into few writes.
//
// Measured with callgrind on `otapub serve` under load, slog.JSONHandler
// spent about 6,000 instructions on each access line (a third of what the
// server does beyond net/http), most of it escaping strings one rune at a
// time. Here a record whose attributes are plain strings, integers,
// booleans and durations, with ASCII text that needs no escaping, is
// appended in one pass; every other record, and every handler with groups,
// pre-set attributes, ReplaceAttr or AddSource, is written by the
// slog.JSONHandler inside. A differential fuzz test holds the two to the
// same bytes.
package logjson

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Handler writes JSON lines; see the package comment.
type Handler struct {
	json slog.Handler // the reference, for everything the fast path declines
	out  io.Writer    // safe for concurrent use
	// fast is false once groups or attributes are preset, or when options
	// change the output; then json writes every record.
	fast bool
}

// New returns a handler writing to w with opts, as slog.NewJSONHandler(w, opts) would.
// Give it a *Buffer to batch the lines into few writes.
func New(w io.Writer, opts *slog.HandlerOptions) *Handler {
	if opts == nil {
		opts = &slog.HandlerOptions{}
	}
	out := w
	if _, safe := w.(*Buffer); !safe {
		out = &lockedWriter{w: w}
	}
	return &Handler{
		json: slog.NewJSONHandler(out, opts),
		out:  out,
		fast: opts.ReplaceAttr == nil && !opts.AddSource,
	}
}

// Enabled reports whether records at level are written.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.json.Enabled(ctx, level)
}

// WithAttrs returns a handler that adds attrs to every record.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &Handler{json: h.json.WithAttrs(attrs), out: h.out}
}

// WithGroup returns a handler that puts later attributes in a group.
// slog.JSONHandler opens even an empty group, so this does too.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{json: h.json.WithGroup(name), out: h.out}
}

// Handle writes r as one line.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if !h.fast {
		return h.json.Handle(ctx, r)
	}
	bp := buffers.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooled {
			buffers.Put(bp)
		}
	}()
	line, ok := appendRecord((*bp)[:0], r)
	*bp = line
	if !ok {
		return h.json.Handle(ctx, r)
	}
	_, err := h.out.Write(line)
	return err
}

const maxPooled = 16 << 10

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendRecord appends r as slog.JSONHandler writes it, or reports false
// when r holds something only the JSONHandler writes the same way.
func appendRecord(buf []byte, r slog.Record) ([]byte, bool) {
	buf = append(buf, '{')
	if !r.Time.IsZero() {
		buf = append(buf, `"time":"`...)
		var ok bool
		if buf, ok = appendTime(buf, r.Time.Round(0)); !ok {
			return buf, false
		}
		buf = append(buf, `",`...)
	}
	buf = append(buf, `"level":`...)
	buf, ok := appendString(buf, r.Level.String())
	if !ok {
		return buf, false
	}
	buf = append(buf, `,"msg":`...)
	if buf, ok = appendString(buf, r.Message); !ok {
		return buf, false
	}
	r.Attrs(func(a slog.Attr) bool {
		buf, ok = appendAttr(buf, a)
		return ok
	})
	if !ok {
		return buf, false
	}
	return append(buf, "}\n"...), true
}

// appendTime appends t as time.RFC3339Nano does, or reports false for a
// year slog.JSONHandler writes otherwise (before 0 or after 9999). The
// text of the second and the zone is formatted, and the year checked, once
// per second and location (a server logs thousands of lines in each);
// only the fraction is new per line.
func appendTime(buf []byte, t time.Time) ([]byte, bool) {
	sec, loc := t.Unix(), t.Location()
	c := lastSecond.Load()
	if c == nil || c.sec != sec || c.loc != loc {
		if y := t.Year(); y < 0 || y >= 10000 {
			return buf, false
		}
		c = &secondText{sec: sec, loc: loc}
		whole := t.Truncate(time.Second)
		c.date = whole.AppendFormat(nil, "2006-01-02T15:04:05")
		c.zone = whole.AppendFormat(nil, "Z07:00")
		lastSecond.Store(c)
	}
	buf = append(buf, c.date...)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i > 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := len(frac)
		for frac[n-1] == '0' { // RFC3339Nano drops trailing zeros
			n--
		}
		buf = append(buf, frac[:n]...)
	}
	return append(buf, c.zone...), true
}

type secondText struct {
	sec        int64
	loc        *time.Location
	date, zone []byte
}

var lastSecond atomic.Pointer[secondText]

// appendAttr appends ,"key":value for the kinds whose encoding is plain.
func appendAttr(buf []byte, a slog.Attr) ([]byte, bool) {
	if a.Key == "" { // skipped or inlined by slog's rules
		return buf, false
	}
	buf = append(buf, ',')
	buf, ok := appendString(buf, a.Key)
	if !ok {
		return buf, false
	}
	buf = append(buf, ':')
	switch v := a.Value; v.Kind() {
	case slog.KindString:
		return appendString(buf, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(buf, v.Int64(), 10), true
	case slog.KindUint64:
		return strconv.AppendUint(buf, v.Uint64(), 10), true
	case slog.KindBool:
		return strconv.AppendBool(buf, v.Bool()), true
	case slog.KindDuration: // nanoseconds, as json.Marshal writes them
		return strconv.AppendInt(buf, int64(v.Duration()), 10), true
	}
	return buf, false // floats, times, any, groups and LogValuers
}

// appendString appends s quoted, or reports false when s needs escaping.
func appendString(buf []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if !plain[s[i]] {
			return buf, false
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"'), true
}

// plain holds the bytes slog.JSONHandler copies unescaped: printable ASCII
// but for the quote and the backslash. Other bytes take the slow path,
// which also checks UTF-8 and escapes U+2028 and U+2029.
var plain = func() (t [256]bool) {
	for b := 0x20; b < 0x80; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// lockedWriter serialises the lines of the fast path and the JSONHandler.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
