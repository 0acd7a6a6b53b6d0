package proxy

import (
	"fmt"
	"testing"
)

// TestCountersGrow: counts stay right as a set moves from its small
// slice to a map, and a key is made once.
func TestCountersGrow(t *testing.T) {
	var c counters[string]
	made := 0
	for round := 1; round <= 3; round++ {
		for i := range 20 {
			c.inc(fmt.Sprint("v", i), func(k string) (string, [2]string) { made++; return k, [2]string{k} })
		}
		got := map[string]uint64{}
		c.each(func(k string, n *count) {
			if n.labels[0] != k {
				t.Errorf("%s: labels %v", k, n.labels)
			}
			got[k] = n.n.Load()
		})
		if len(got) != 20 {
			t.Fatalf("round %d: %d keys, want 20", round, len(got))
		}
		for k, n := range got {
			if n != uint64(round) {
				t.Errorf("round %d: %s counted %d", round, k, n)
			}
		}
	}
	if made != 20 {
		t.Errorf("keys made %d times, want 20", made)
	}
	if tb := c.t.Load(); tb.m == nil || len(tb.small) != 0 {
		t.Errorf("20 keys: %d in the slice, map %v; want them all in the map past %d", len(tb.small), tb.m != nil, smallCounters)
	}
	var few counters[string]
	few.inc("one", func(k string) (string, [2]string) { return k, [2]string{} })
	if tb := few.t.Load(); tb.m != nil || len(tb.small) != 1 {
		t.Errorf("one key: want it in the slice, not a map")
	}
}
