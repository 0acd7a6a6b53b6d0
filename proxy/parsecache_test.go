package proxy

import (
	"errors"
	"strconv"
	"testing"
)

func TestParseCache(t *testing.T) {
	t.Parallel()
	var c parseCache[int]
	calls := 0
	parse := func(v int, err error) func() (int, error) {
		return func() (int, error) { calls++; return v, err }
	}
	if v, _ := c.get("a", parse(1, nil)); v != 1 {
		t.Fatalf("first get = %d", v)
	}
	if v, _ := c.get("a", parse(2, nil)); v != 1 || calls != 1 {
		t.Fatalf("second get = %d after %d parses, want the kept 1 after 1", v, calls)
	}
	boom := errors.New("boom")
	for range 2 {
		if _, err := c.get("bad", parse(0, boom)); !errors.Is(err, boom) {
			t.Fatalf("failing parse: %v", err)
		}
	}
	if calls != 3 {
		t.Fatalf("%d parses, want failures parsed every time (3)", calls)
	}
	c.get("", parse(5, nil))
	c.get("", parse(5, nil))
	if calls != 5 {
		t.Fatalf("%d parses, want the empty key parsed every time (5)", calls)
	}
	for i := range 2 * maxCached {
		c.get(strconv.Itoa(i), parse(i, nil))
	}
	if n := len(*c.m.Load()); n != maxCached {
		t.Fatalf("%d kept, want at most %d", n, maxCached)
	}
}
