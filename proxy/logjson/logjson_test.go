package logjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

var when = time.Date(2026, 11, 22, 13, 41, 21, 123456789, time.UTC)

// same asserts that New and slog.NewJSONHandler write the same bytes for r
// through the handler that prepare derives from each.
func same(t testing.TB, opts *slog.HandlerOptions, prepare func(slog.Handler) slog.Handler, r slog.Record) {
	t.Helper()
	var want, got bytes.Buffer
	ref := prepare(slog.NewJSONHandler(&want, opts))
	ours := prepare(New(&got, opts))
	ctx := context.Background()
	if ref.Enabled(ctx, r.Level) != ours.Enabled(ctx, r.Level) {
		t.Fatalf("Enabled(%v) differs", r.Level)
	}
	errRef, errOurs := ref.Handle(ctx, r.Clone()), ours.Handle(ctx, r.Clone())
	if (errRef == nil) != (errOurs == nil) {
		t.Fatalf("errors differ: slog %v, logjson %v", errRef, errOurs)
	}
	if got.String() != want.String() {
		t.Fatalf("logjson wrote\n%s\nslog.JSONHandler wrote\n%s", got.String(), want.String())
	}
}

func record(tm time.Time, level slog.Level, msg string, attrs ...slog.Attr) slog.Record {
	r := slog.NewRecord(tm, level, msg, 0)
	r.AddAttrs(attrs...)
	return r
}

func asIs(h slog.Handler) slog.Handler { return h }

type valuer struct{}

func (valuer) LogValue() slog.Value { return slog.StringValue("resolved") }

func TestMatchesJSONHandler(t *testing.T) {
	access := []slog.Attr{slog.String("method", "GET"), slog.String("path", "/windows/x86_64/1.0.0"),
		slog.Int("status", 200), slog.Int64("bytes", 607), slog.Duration("dur", 41*time.Microsecond)}
	tests := []struct {
		name string
		r    slog.Record
	}{
		{"access line", record(when, slog.LevelInfo, "request", access...)},
		{"monotonic clock stripped", record(time.Now(), slog.LevelWarn, "request", access...)},
		{"no time", record(time.Time{}, slog.LevelInfo, "request", access...)},
		{"whole second", record(when.Truncate(time.Second), slog.LevelInfo, "m")},
		{"trailing zeros", record(when.Truncate(time.Millisecond), slog.LevelInfo, "m")},
		{"one nanosecond", record(when.Truncate(time.Second).Add(1), slog.LevelInfo, "m")},
		{"other zone", record(when.In(time.FixedZone("CET", 3600)), slog.LevelInfo, "m")},
		{"same second, other zone", record(when.In(time.FixedZone("", -5*3600-30*60)), slog.LevelInfo, "m")},
		{"local zone", record(when.Local(), slog.LevelInfo, "m")},
		{"before 1970", record(time.Date(1969, 12, 31, 23, 59, 59, 5e8, time.UTC), slog.LevelInfo, "m")},
		{"year 0", record(time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC), slog.LevelInfo, "m")},
		{"no attributes", record(when, slog.LevelError, "shutting down")},
		{"custom level", record(when, slog.LevelInfo+2, "m")},
		{"negative level", record(when, slog.LevelDebug-3, "m")},
		{"every plain kind", record(when, slog.LevelInfo, "m", slog.Int64("i", math.MinInt64), slog.Uint64("u", math.MaxUint64),
			slog.Bool("t", true), slog.Bool("f", false), slog.Duration("d", -time.Hour), slog.String("empty", ""))},
		{"many attributes", record(when, slog.LevelInfo, "m", append(access, access...)...)},
		{"quote in path", record(when, slog.LevelInfo, "request", slog.String("path", `/a"b`))},
		{"backslash", record(when, slog.LevelInfo, `C:\dist`)},
		{"control bytes", record(when, slog.LevelInfo, "a\nb\tc\x00\x1f\x7f")},
		{"html characters stay", record(when, slog.LevelInfo, "<a href='x'>&</a>")},
		{"utf-8", record(when, slog.LevelInfo, "héllo ✓", slog.String("k", "日本"))},
		{"invalid utf-8", record(when, slog.LevelInfo, "bad \xff byte")},
		{"line separators", record(when, slog.LevelInfo, "a\u2028b\u2029c")},
		{"odd key", record(when, slog.LevelInfo, "m", slog.String(`k"ey`, "v"))},
		{"empty key", record(when, slog.LevelInfo, "m", slog.String("", "v"), slog.Any("", nil))},
		{"float", record(when, slog.LevelInfo, "m", slog.Float64("f", 1.5), slog.Float64("nan", math.NaN()))},
		{"time value", record(when, slog.LevelInfo, "m", slog.Time("at", when))},
		{"year out of range", record(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), slog.LevelInfo, "m")},
		{"error value", record(when, slog.LevelInfo, "m", slog.Any("err", errors.New(`no "such" file`)))},
		{"any value", record(when, slog.LevelInfo, "m", slog.Any("list", []int{1, 2}))},
		{"group", record(when, slog.LevelInfo, "m", slog.Group("g", slog.Int("a", 1), slog.String("b", "x")))},
		{"empty group", record(when, slog.LevelInfo, "m", slog.Group("g"))},
		{"log valuer", record(when, slog.LevelInfo, "m", slog.Any("v", valuer{}))},
		{"plain then not", record(when, slog.LevelInfo, "m", slog.Int("a", 1), slog.Float64("b", 2))},
	}
	handlers := []struct {
		name    string
		opts    *slog.HandlerOptions
		prepare func(slog.Handler) slog.Handler
	}{
		{"plain", nil, asIs},
		{"level warn", &slog.HandlerOptions{Level: slog.LevelWarn}, asIs},
		{"with attrs", nil, func(h slog.Handler) slog.Handler { return h.WithAttrs([]slog.Attr{slog.String("app", "demo")}) }},
		{"with no attrs", nil, func(h slog.Handler) slog.Handler { return h.WithAttrs(nil) }},
		{"with group", nil, func(h slog.Handler) slog.Handler { return h.WithGroup("req") }},
		{"with empty group", nil, func(h slog.Handler) slog.Handler { return h.WithGroup("") }},
		{"replace attr", &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}, asIs},
		{"add source", &slog.HandlerOptions{AddSource: true}, asIs},
	}
	for _, h := range handlers {
		for _, tt := range tests {
			t.Run(h.name+"/"+tt.name, func(t *testing.T) { same(t, h.opts, h.prepare, tt.r) })
		}
	}
}

// FuzzMatchesJSONHandler holds the fast path to slog.JSONHandler's bytes
// for any text and numbers:
//
//	go test ./proxy/logjson -fuzz FuzzMatchesJSONHandler
func FuzzMatchesJSONHandler(f *testing.F) {
	f.Add("request", "path", "/windows/x86_64/1.0.0", int64(200), uint64(607), int64(41000), true, 0, int64(1795344483))
	f.Add("a\u2028b", `k"`, "\xff", int64(-1), uint64(0), int64(0), false, 2, int64(0))
	f.Add("", "", "", int64(0), uint64(0), int64(0), false, -4, int64(-62135596800))
	f.Add("m", "k", "v", int64(0), uint64(0), int64(999999999), false, 0, int64(-1))
	f.Fuzz(func(t *testing.T, msg, key, s string, i int64, u uint64, d int64, b bool, level int, unix int64) {
		// A zone from the numbers: UTC, Local, or a fixed offset
		// (seconds included, which RFC 3339 rounds away).
		loc := time.UTC
		switch level % 3 {
		case 1:
			loc = time.Local
		case 2:
			loc = time.FixedZone("", int(i%(18*3600)))
		}
		tm := time.Unix(unix, d).In(loc)
		r := record(tm, slog.Level(level), msg, slog.String(key, s), slog.Int64(key+"i", i),
			slog.Uint64("u", u), slog.Duration("d", time.Duration(d)), slog.Bool("b", b), slog.String("s", s))
		same(t, nil, asIs, r)
	})
}

// TestConcurrentLines writes from many goroutines through both paths and
// expects every line whole.
func TestConcurrentLines(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(New(&out, nil))
	var wg sync.WaitGroup
	const writers, each = 8, 200
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if i%2 == 0 {
					log.Info("request", "path", "/windows/x86_64/1.0.0", "g", g, "i", i)
				} else {
					log.Info("slow \u2028 path", "f", 1.5, "g", g, "i", i)
				}
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != writers*each {
		t.Fatalf("%d lines, want %d", len(lines), writers*each)
	}
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
	}
}

// TestWriteError passes the writer's error back, as slog.JSONHandler does.
func TestWriteError(t *testing.T) {
	h := New(failingWriter{}, nil)
	if err := h.Handle(context.Background(), record(when, slog.LevelInfo, "m")); !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("Handle: %v, want %v", err, io.ErrShortWrite)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

// BenchmarkAccessLine compares one access line through slog.JSONHandler
// and through this package:
//
//	go test ./proxy/logjson -bench AccessLine -benchmem
func BenchmarkAccessLine(b *testing.B) {
	for _, h := range []struct {
		name string
		h    slog.Handler
	}{
		{"slog.JSONHandler", slog.NewJSONHandler(io.Discard, nil)},
		{"logjson", New(io.Discard, nil)},
	} {
		b.Run(h.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				r := slog.NewRecord(when, slog.LevelInfo, "request", 0)
				r.AddAttrs(slog.String("method", "GET"), slog.String("path", "/windows/x86_64/1.0.0"),
					slog.Int("status", 200), slog.Int64("bytes", 607), slog.Duration("dur", 41*time.Microsecond))
				_ = h.h.Handle(ctx, r)
			}
		})
	}
}

// TestBuffer: lines from many goroutines arrive whole through a Buffer,
// by the flusher within its interval and the rest at Close.
func TestBuffer(t *testing.T) {
	var mu sync.Mutex
	var out bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	})
	b := NewBuffer(w, 10*time.Millisecond)
	log := slog.New(New(b, nil))
	log.Info("first")
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := out.Len()
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the flusher never wrote the first line")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				log.Info("request", "path", strings.Repeat("p", 200), "g", g, "i", i)
			}
		})
	}
	wg.Wait()
	check := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	check(b.Close())
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 1+8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 1+8*500)
	}
	for _, l := range lines {
		var v map[string]any
		check(json.Unmarshal([]byte(l), &v))
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
