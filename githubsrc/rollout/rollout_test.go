package rollout

import (
	"fmt"
	"math"
	"testing"
)

func TestParsePercent(t *testing.T) {
	for in, want := range map[string]uint32{"0": 0, "100": Scale, "10": 100_000, "12.5": 125_000, "0.0001": 1, "99.9999": 999_999, "5%": 50_000, " 7 ": 70_000} {
		got, err := ParsePercent(in)
		if err != nil || got != want {
			t.Errorf("ParsePercent(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "101", "100.0001", "1.23456", "ten", "1e2", ".5", "0x10"} {
		if got, err := ParsePercent(bad); err == nil {
			t.Errorf("ParsePercent(%q) = %d, want an error", bad, got)
		}
	}
}

func TestNotes(t *testing.T) {
	for _, tc := range []struct {
		notes   string
		state   State
		clean   string
		percent string
	}{
		{"Fixes.", State{}, "Fixes.", ""},
		{"Fixes.\n\n<!-- otapub:rollout percent=12.5 -->", State{Set: true, Share: 125_000}, "Fixes.", "12.5"},
		{"<!-- otapub:rollout percent=40 halted -->", State{Set: true, Share: 400_000, Halted: true}, "", "40"},
		{"Top\r\n<!-- otapub:rollout percent=100 -->\r\nBottom", State{Set: true, Share: Scale}, "Top\nBottom", "100"},
		{"Fixes.\n<!-- otapub:rollout percent=lots -->", State{Set: true, Halted: true}, "Fixes.", "0"},
		{"Fixes.\n<!-- otapub:rollout percent=10", State{Set: true, Halted: true}, "Fixes.", "0"},
		{"Fixes.\n<!-- otapub:rollout halted -->", State{Set: true, Halted: true}, "Fixes.", "0"},
		// Hand-written spellings are rollout lines too, never notes.
		{"Fixes.\n<!--otapub:rollout percent=10-->", State{Set: true, Share: 100_000}, "Fixes.", "10"},
		{"Fixes.\n<!--  OTAPUB:Rollout percent=10 -->", State{Set: true, Share: 100_000}, "Fixes.", "10"},
		{"A <!-- a comment --> B", State{}, "A <!-- a comment --> B", ""},
		// Two lines: both taken out; agreeing, their state; not, a halt.
		{"A\n<!-- otapub:rollout percent=20 -->\nB\n<!-- otapub:rollout percent=20 -->", State{Set: true, Share: 200_000}, "A\nB", "20"},
		{"A\n<!-- otapub:rollout percent=20 -->\nB\n<!-- otapub:rollout percent=30 -->", State{Set: true, Halted: true}, "A\nB", "0"},
		// A line missing its "-->" ends with its line: the notes after it stay.
		{"Intro\n<!-- otapub:rollout percent=50\nMore notes.", State{Set: true, Halted: true}, "Intro\nMore notes.", "0"},
	} {
		st, clean := Split(tc.notes)
		if st != tc.state || clean != tc.clean {
			t.Errorf("Split(%q) = %+v, %q; want %+v, %q", tc.notes, st, clean, tc.state, tc.clean)
		}
		if tc.percent != "" && st.Percent() != tc.percent {
			t.Errorf("Split(%q).Percent() = %s, want %s", tc.notes, st.Percent(), tc.percent)
		}
	}
	// Join then Split gives the state back and keeps the notes as they were.
	for _, st := range []State{{}, {Set: true, Share: 1}, {Set: true, Share: 333_333, Halted: true}, {Set: true, Share: Scale}} {
		for _, notes := range []string{"", "Fixes.", "Fixes.\n\n<!-- otapub:rollout percent=3 -->\n"} {
			got, clean := Split(Join(notes, st))
			_, want := Split(notes)
			if got != st || clean != want {
				t.Errorf("Split(Join(%q, %+v)) = %+v, %q", notes, st, got, clean)
			}
		}
	}
}

func TestBucket(t *testing.T) {
	devices := make([]string, 10_000)
	for i := range devices {
		devices[i] = fmt.Sprintf("device-%08x-%d", i*2654435761, i)
	}
	in := func(st State, tag string) map[string]bool {
		out := map[string]bool{}
		for _, d := range devices {
			if st.Includes("demo", tag, d) {
				out[d] = true
			}
		}
		return out
	}
	ten := in(State{Set: true, Share: 100_000}, "v1.2.0")
	// 10,000 devices at 10 %: 1,000 ± 3σ, σ = √(10,000 · 0.1 · 0.9) = 30.
	if n := len(ten); math.Abs(float64(n)-1000) > 90 {
		t.Errorf("%d of 10,000 devices at 10%%, want 1,000 ± 90", n)
	}
	thirty := in(State{Set: true, Share: 300_000}, "v1.2.0")
	for d := range ten {
		if !thirty[d] {
			t.Fatalf("widening 10%% → 30%% dropped %s", d)
		}
	}
	if again := in(State{Set: true, Share: 100_000}, "v1.2.0"); len(again) != len(ten) {
		t.Error("the same devices got different answers on a second pass")
	}
	if other := in(State{Set: true, Share: 100_000}, "v1.3.0"); overlap(ten, other) > 200 {
		t.Errorf("the next release's 10%% shares %d devices with this one's: buckets must differ per release", overlap(ten, other))
	}
	if n := len(in(State{Set: true, Share: 500_000, Halted: true}, "v1.2.0")); n != 0 {
		t.Errorf("a halted rollout reached %d devices", n)
	}
	if n := len(in(State{}, "v1.2.0")); n != len(devices) {
		t.Errorf("no rollout reached %d devices, want all", n)
	}
	if Bucket("ab", "c", "d") == Bucket("a", "bc", "d") {
		t.Error("fields run together")
	}
	// Pinned: the bucket of a device never changes between otapub versions.
	if got, pinned := Bucket("demo", "v1.2.0", "device-1"), uint32(601190); got != pinned {
		t.Errorf("Bucket changed: %d, was %d; replicas on different versions would disagree", got, pinned)
	}
	st := State{Set: true, Share: 100_000}
	if n := testing.AllocsPerRun(100, func() { st.Includes("demo", "v1.2.0", "device-1") }); n != 0 {
		t.Errorf("Includes allocates %v times", n)
	}
}

func overlap(a, b map[string]bool) int {
	n := 0
	for k := range a {
		if b[k] {
			n++
		}
	}
	return n
}
